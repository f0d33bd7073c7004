"""Modules: tensors in, tensors out (they never see strings or vocabularies)."""

from lstm_nlp.modules.embedding import WordEmbedding
from lstm_nlp.modules.encoder import EncoderOutput, LSTMEncoder
from lstm_nlp.modules.heads import TokenClassificationHead

__all__ = ["EncoderOutput", "LSTMEncoder", "TokenClassificationHead", "WordEmbedding"]
