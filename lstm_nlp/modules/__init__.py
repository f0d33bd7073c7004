"""Modules: tensors in, tensors out (they never see strings or vocabularies)."""

from lstm_nlp.modules.embedding import WordEmbedding
from lstm_nlp.modules.encoder import EncoderOutput, LSTMEncoder
from lstm_nlp.modules.heads import TokenClassificationHead
from lstm_nlp.modules.reference_lstm import ReferenceLSTM, ReferenceLSTMCell, lstm_cell
from lstm_nlp.modules.regression import (
    ForecastHead, RegLSTM, RegressionOutput, SequenceRegressionHead, final_states, regression_loss,
)

__all__ = ["EncoderOutput", "LSTMEncoder", "TokenClassificationHead", "WordEmbedding"]
__all__ += ["ForecastHead", "ReferenceLSTM", "ReferenceLSTMCell", "RegLSTM", "RegressionOutput",
            "SequenceRegressionHead", "final_states", "lstm_cell", "regression_loss"]

# pooling.final_states is the same function as regression.final_states (exported above).
from lstm_nlp.modules.pooling import SequencePooler, masked_max, masked_mean  # noqa: E402

__all__ += ["SequencePooler", "masked_max", "masked_mean"]

from lstm_nlp.modules.char_encoders import CharCNNEncoder, CharLSTMEncoder  # noqa: E402
from lstm_nlp.modules.crf import CRFHead, ConditionalRandomField, allowed_transitions  # noqa: E402

__all__ += ["CRFHead", "CharCNNEncoder", "CharLSTMEncoder", "ConditionalRandomField", "allowed_transitions"]
