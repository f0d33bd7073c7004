"""Regression on top of an LSTM: per-time-step outputs (the classic ``RegLSTM``) and multi-step forecasts.

* :class:`SequenceRegressionHead`: a linear layer applied at every time step (``[batch, seq, F]`` ->
  ``[batch, seq, output_size]``), loss averaged over real positions only.
* :class:`RegLSTM`: the tutorial model, ``LSTMEncoder`` outputs -> :class:`SequenceRegressionHead`.
* :class:`ForecastHead`: one summary vector per sequence -> the next ``horizon`` values.
* :func:`final_states`: the summary a forecaster wants, each direction's last state of the top layer
  taken from ``h_n`` (see ``docs/lstm-shapes.md`` for why not ``outputs[:, -1]``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import torch
from torch import nn

from lstm_nlp.errors import ConfigError
from lstm_nlp.modules.encoder import LSTMEncoder
from lstm_nlp.modules.pooling import final_states  # noqa: F401  (re-exported: forecasters use it)

RegressionLoss = Literal["l1", "mse"]


def regression_loss(
    predictions: torch.Tensor, targets: torch.Tensor, *, mask: torch.Tensor | None = None, kind: RegressionLoss = "l1"
) -> torch.Tensor:
    """Mean absolute (``"l1"``) or squared (``"mse"``) error over real positions.

    Args:
        predictions: ``FloatTensor[batch, ...]``.
        targets: Same shape as ``predictions``.
        mask: Optional ``BoolTensor`` broadcastable to ``predictions`` from the left
            (``[batch, seq]`` for ``[batch, seq, k]`` predictions), True where the loss counts.
        kind: ``"l1"`` or ``"mse"``.

    Returns:
        A scalar: the mean over every counted element (positions x output values).
    """
    if targets.shape != predictions.shape:
        raise ValueError(f"targets shape {tuple(targets.shape)} != predictions shape {tuple(predictions.shape)}")
    error = predictions.float() - targets.float()
    error = error.abs() if kind == "l1" else error.square()
    if mask is None:
        return error.mean()
    while mask.dim() < error.dim():
        mask = mask.unsqueeze(-1)
    weights = mask.expand_as(error).to(error.dtype)
    return (error * weights).sum() / weights.sum().clamp(min=1.0)


def _check_loss(loss: str) -> None:
    if loss not in ("l1", "mse"):
        raise ConfigError(f"loss must be 'l1' or 'mse', got {loss!r}")


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
        self.dropout = nn.Dropout(dropout)
        self.projection = nn.Linear(input_dim, output_size)

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


class ForecastHead(nn.Module):
    """One summary vector per sequence -> the next ``horizon`` values.

    Args:
        input_dim: Size of the summary vector (e.g. ``LSTMEncoder.output_dim``).
        horizon: Number of future values predicted.
        dropout: Dropout on the summary before the projection.
        loss: ``"l1"`` or ``"mse"``.
    """

    def __init__(self, input_dim: int, horizon: int, *, dropout: float = 0.0, loss: RegressionLoss = "l1"):
        super().__init__()
        _check_loss(loss)
        if horizon < 1:
            raise ConfigError(f"horizon must be >= 1, got {horizon}")
        self.loss = loss
        self.dropout = nn.Dropout(dropout)
        self.projection = nn.Linear(input_dim, horizon)

    def forward(
        self, summary: torch.Tensor, *, targets: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Forecasts.

        Args:
            summary: ``FloatTensor[batch, input_dim]``.
            targets: Optional ``FloatTensor[batch, horizon]``.

        Returns:
            ``(predictions, loss)``: ``FloatTensor[batch, horizon]`` and, with targets, the loss
            averaged over the batch and the horizon (scalar), else ``None``.
        """
        predictions = self.projection(self.dropout(summary))
        loss = None if targets is None else regression_loss(predictions, targets, kind=self.loss)
        return predictions, loss


__all__ = ["ForecastHead", "RegLSTM", "RegressionOutput", "SequenceRegressionHead", "final_states",
           "regression_loss"]
