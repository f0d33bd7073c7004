"""Modules: tensors in, tensors out (they never see strings or vocabularies).

The teaching code (``reference_lstm``: an LSTM written from the gate equations; ``regression``:
the tutorials' ``RegLSTM``) is imported only when one of its names is used, so it stays out of
the import path of the toolkit's models.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from lstm_nlp.modules.char_encoders import CharCNNEncoder, CharLSTMEncoder
from lstm_nlp.modules.crf import ConditionalRandomField, CRFHead, allowed_transitions
from lstm_nlp.modules.embedding import WordEmbedding
from lstm_nlp.modules.encoder import ENCODERS, EncoderOutput, LSTMEncoder, build_encoder
from lstm_nlp.modules.forecast_head import ForecastHead, regression_loss
from lstm_nlp.modules.gru_encoder import GRUEncoder  # registers the encoder "gru"
from lstm_nlp.modules.heads import TokenClassificationHead
from lstm_nlp.modules.pooling import SequencePooler, final_states, masked_max, masked_mean

_TEACHING = {"ReferenceLSTM": "reference_lstm", "ReferenceLSTMCell": "reference_lstm", "lstm_cell": "reference_lstm",
             "RegLSTM": "regression", "RegressionOutput": "regression", "SequenceRegressionHead": "regression"}

# a literal list (not built from _TEACHING), so linters see the imports above as re-exports
__all__ = [
    "CRFHead", "CharCNNEncoder", "CharLSTMEncoder", "ConditionalRandomField", "ENCODERS", "EncoderOutput",
    "ForecastHead", "GRUEncoder", "LSTMEncoder", "ReferenceLSTM", "ReferenceLSTMCell", "RegLSTM", "RegressionOutput",
    "SequencePooler", "SequenceRegressionHead", "TokenClassificationHead", "WordEmbedding", "allowed_transitions",
    "build_encoder", "final_states", "lstm_cell", "masked_max", "masked_mean", "regression_loss",
]


def __getattr__(name: str):
    if name not in _TEACHING:
        raise AttributeError(f"module 'lstm_nlp.modules' has no attribute {name!r}")
    return getattr(importlib.import_module(f"lstm_nlp.modules.{_TEACHING[name]}"), name)


if TYPE_CHECKING:
    from lstm_nlp.modules.reference_lstm import ReferenceLSTM, ReferenceLSTMCell, lstm_cell
    from lstm_nlp.modules.regression import RegLSTM, RegressionOutput, SequenceRegressionHead
