"""Forecasting head and the regression loss: a summary vector per sequence -> the next ``horizon`` values.

Used by :class:`~lstm_nlp.models.Forecaster`. The per-time-step regression models of the LSTM
tutorials (``RegLSTM``) are in :mod:`lstm_nlp.modules.regression`, teaching code that builds on this.
"""

from __future__ import annotations

from typing import Literal

import torch
from torch import nn

from lstm_nlp.errors import ConfigError
from lstm_nlp.modules.dropout import Dropout
from lstm_nlp.modules.fixed_order import FixedOrderLinear

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
        self.dropout = Dropout(dropout)
        self.projection = FixedOrderLinear(input_dim, horizon)

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
