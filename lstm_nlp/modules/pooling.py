"""Pooling: one vector per sequence from an LSTM's outputs or final states, ignoring padding."""

from __future__ import annotations

from typing import Literal

import torch
from torch import nn

from lstm_nlp.errors import ConfigError

PoolingMethod = Literal["final", "mean", "max"]
POOLING_METHODS = ("final", "mean", "max")


def final_states(h_n: torch.Tensor, *, num_directions: int) -> torch.Tensor:
    """The last layer's final hidden states, directions concatenated (forward first).

    ``nn.LSTM`` (and :class:`~lstm_nlp.modules.LSTMEncoder`) lay ``h_n`` out layer-major:
    row ``layer * num_directions + direction``. The last layer's states are therefore the last
    ``num_directions`` rows, whatever the number of layers. (``h_n[-1]`` alone, a common tutorial
    line, is only the last layer's *backward* state of a BiLSTM.)

    Args:
        h_n: ``FloatTensor[num_layers * num_directions, batch, hidden]``.
        num_directions: 1 or 2.

    Returns:
        ``FloatTensor[batch, num_directions * hidden]``: the forward state after each row's last
        real token, then (BiLSTM) the backward state after its first token.
    """
    if num_directions not in (1, 2):
        raise ConfigError(f"num_directions must be 1 or 2, got {num_directions}")
    if h_n.dim() != 3 or h_n.shape[0] % num_directions:
        raise ValueError(f"h_n must be [layers * {num_directions}, batch, hidden], got {tuple(h_n.shape)}")
    last = h_n[-num_directions:]  # [num_directions, batch, hidden]
    return torch.cat(list(last), dim=-1)  # [batch, num_directions * hidden]


def masked_mean(features: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mean over real tokens: ``features [batch, seq, dim]``, ``mask [batch, seq]`` -> ``[batch, dim]``."""
    weights = mask.unsqueeze(-1).to(features.dtype)  # [batch, seq, 1]
    counts = weights.sum(1).clamp(min=1.0)  # [batch, 1]; a row without tokens gives zeros, not NaN
    return (features * weights).sum(1) / counts


def masked_max(features: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Element-wise max over real tokens: ``features [batch, seq, dim]`` -> ``[batch, dim]``.

    Padding is filled with the dtype's lowest value first, so it never wins (even where every
    real value is negative). A row without real tokens gives zeros.
    """
    filled = features.masked_fill(~mask.unsqueeze(-1), torch.finfo(features.dtype).min)
    pooled = filled.max(dim=1).values
    return pooled.masked_fill(~mask.any(dim=1, keepdim=True), 0.0)


class SequencePooler(nn.Module):
    """Reduces encoder outputs to one vector per sequence.

    Args:
        method: ``"final"`` (last layer's final states from ``h_n``), ``"mean"`` or ``"max"``
            (over the real tokens of the last layer's outputs).
        num_directions: Directions of the encoder (1 or 2), needed to read ``h_n``.
    """

    def __init__(self, method: PoolingMethod = "max", *, num_directions: int = 2):
        super().__init__()
        if method not in POOLING_METHODS:
            raise ConfigError(f"pooling must be one of {POOLING_METHODS}, got {method!r}")
        self.method = method
        self.num_directions = num_directions

    def forward(self, outputs: torch.Tensor, *, mask: torch.Tensor, h_n: torch.Tensor | None = None) -> torch.Tensor:
        """Pools one batch.

        Args:
            outputs: ``FloatTensor[batch, seq, dim]``, the encoder's per-token outputs.
            mask: ``BoolTensor[batch, seq]``, True at real tokens.
            h_n: ``FloatTensor[layers * directions, batch, dim / directions]``; required for ``"final"``.

        Returns:
            ``FloatTensor[batch, dim]``.
        """
        if self.method == "final":
            if h_n is None:
                raise ValueError("final-state pooling needs h_n")
            return final_states(h_n, num_directions=self.num_directions)
        if self.method == "mean":
            return masked_mean(outputs, mask)
        return masked_max(outputs, mask)

    def extra_repr(self) -> str:
        return f"method={self.method!r}, num_directions={self.num_directions}"
