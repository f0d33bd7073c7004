"""Modules: tensors in, tensors out (they never see strings or vocabularies)."""

from lstm_nlp.modules.char_encoders import CharCNNEncoder, CharLSTMEncoder
from lstm_nlp.modules.crf import ConditionalRandomField, CRFHead, allowed_transitions
from lstm_nlp.modules.embedding import WordEmbedding
from lstm_nlp.modules.encoder import EncoderOutput, LSTMEncoder
from lstm_nlp.modules.heads import TokenClassificationHead
from lstm_nlp.modules.pooling import SequencePooler, final_states, masked_max, masked_mean
from lstm_nlp.modules.reference_lstm import ReferenceLSTM, ReferenceLSTMCell, lstm_cell
from lstm_nlp.modules.regression import ForecastHead, RegLSTM, RegressionOutput, SequenceRegressionHead, regression_loss

__all__ = [
    "CRFHead", "CharCNNEncoder", "CharLSTMEncoder", "ConditionalRandomField", "EncoderOutput", "ForecastHead",
    "LSTMEncoder", "ReferenceLSTM", "ReferenceLSTMCell", "RegLSTM", "RegressionOutput", "SequencePooler",
    "SequenceRegressionHead", "TokenClassificationHead", "WordEmbedding", "allowed_transitions", "final_states",
    "lstm_cell", "masked_max", "masked_mean", "regression_loss",
]
