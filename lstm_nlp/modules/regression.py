"""Regression on top of an LSTM: per-time-step outputs (the classic ``RegLSTM``).

* :class:`SequenceRegressionHead`: a linear layer applied at every time step (``[batch, seq, F]`` ->
  ``[batch, seq, output_size]``), loss averaged over real positions only.
* :class:`RegLSTM`: the tutorial model, ``LSTMEncoder`` outputs -> :class:`SequenceRegressionHead`.

Teaching/seed code from the LSTM tutorials, kept out of the import path of the toolkit's models:
:class:`~lstm_nlp.models.Forecaster` uses :mod:`lstm_nlp.modules.forecast_head` (the loss and
``ForecastHead``, re-exported here for old imports).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from lstm_nlp.modules.dropout import Dropout
from lstm_nlp.modules.encoder import LSTMEncoder
from lstm_nlp.modules.fixed_order import FixedOrderLinear
from lstm_nlp.modules.forecast_head import ForecastHead, RegressionLoss, _check_loss, regression_loss
from lstm_nlp.modules.pooling import final_states  # noqa: F401  (re-exported for old imports)


class SequenceRegressionHead(nn.Module):
    """Per-time-step regression: a linear layer on every position's features.

    Args:
        input_dim: Feature size per position.
        output_size: Values predicted per position.
        dropout: Dropout on the features before the projection.
        loss: ``"l1"`` or ``"mse"``.
    """

    def __init__(self, input_dim: int, output_size: int = 1, *, dropout: float = 0.0, loss: RegressionLoss = "mse"):
        super().__init__()
        _check_loss(loss)
        self.loss = loss
        self.dropout = Dropout(dropout)
        self.projection = FixedOrderLinear(input_dim, output_size)

    def forward(
        self, features: torch.Tensor, *, mask: torch.Tensor, targets: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Predicts a value vector at every position.

        Args:
            features: ``FloatTensor[batch, seq, input_dim]``.
            mask: ``BoolTensor[batch, seq]``, True at real positions.
            targets: Optional ``FloatTensor[batch, seq, output_size]``.

        Returns:
            ``(predictions, loss)``: ``FloatTensor[batch, seq, output_size]`` and, with targets, the
            loss averaged over real positions and output values (scalar), else ``None``.
        """
        predictions = self.projection(self.dropout(features))
        loss = None if targets is None else regression_loss(predictions, targets, mask=mask, kind=self.loss)
        return predictions, loss


@dataclass
class RegressionOutput:
    """What :class:`RegLSTM` returns.

    Attributes:
        predictions: ``FloatTensor[batch, seq, output_size]`` (meaningless at padding).
        mask: ``BoolTensor[batch, seq]``.
        loss: Mean loss over real positions (scalar) when targets were given, else ``None``.
    """

    predictions: torch.Tensor
    mask: torch.Tensor
    loss: torch.Tensor | None = None


class RegLSTM(nn.Module):
    """The classic sequence-regression LSTM: LSTM outputs -> linear, at every time step.

    Unidirectional by default, so the prediction at ``t`` only sees inputs up to ``t``.

    Args:
        input_size: Features per time step.
        hidden_size: LSTM size per direction.
        output_size: Values predicted per time step.
        num_layers: Stacked LSTM layers.
        bidirectional: Let each prediction see the whole sequence.
        dropout: Dropout between LSTM layers and before the head.
        loss: ``"l1"`` or ``"mse"``.
        impl: :class:`LSTMEncoder` implementation (``"auto"``, ``"packed"``, ``"dense"``).
    """

    def __init__(self, input_size: int, hidden_size: int, output_size: int = 1, *, num_layers: int = 1,
                 bidirectional: bool = False, dropout: float = 0.0, loss: RegressionLoss = "mse",
                 impl: str = "auto"):
        super().__init__()
        self.encoder = LSTMEncoder(input_size, hidden_size, num_layers=num_layers, bidirectional=bidirectional,
                                   dropout=dropout, impl=impl)
        self.head = SequenceRegressionHead(self.encoder.output_dim, output_size, dropout=dropout, loss=loss)

    def forward(
        self, inputs: torch.Tensor, *, mask: torch.Tensor, targets: torch.Tensor | None = None
    ) -> RegressionOutput:
        """Predicts every time step of a padded batch.

        Args:
            inputs: ``FloatTensor[batch, seq, input_size]``.
            mask: ``BoolTensor[batch, seq]``, True at real steps (which come first in each row).
            targets: Optional ``FloatTensor[batch, seq, output_size]``.
        """
        features = self.encoder(inputs, mask=mask).outputs  # [batch, seq, output_dim]
        predictions, loss = self.head(features, mask=mask, targets=targets)
        return RegressionOutput(predictions, mask, loss)


__all__ = ["ForecastHead", "RegLSTM", "RegressionOutput", "SequenceRegressionHead", "final_states",
           "regression_loss"]
