"""Dropout whose mask is cheap to draw on CPU.

``nn.Dropout`` draws its mask with ``bernoulli_``, which on CPU makes one scalar draw per element:
forward and backward over a ``[32, 30, 256]`` activation take about 2.1 ms, against 0.6 ms with a
mask from ``torch.rand`` (vectorised). In the POS recipe's training step dropout was 12% of the time.
The semantics are ``nn.Dropout``'s (inverted dropout: kept values scaled by ``1 / (1 - p)``); other
devices keep ``F.dropout``, a fused kernel there.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


def dropout(inputs: torch.Tensor, p: float, training: bool) -> torch.Tensor:
    """Zeroes each element with probability ``p`` in training and scales the rest by ``1 / (1 - p)``."""
    if not training or p == 0.0:
        return inputs
    if inputs.device.type != "cpu":
        return F.dropout(inputs, p, training)
    if p >= 1.0:
        return inputs * 0.0
    keep = torch.rand(inputs.shape, device=inputs.device).ge_(p).div_(1.0 - p)  # float32 draws, also under bf16
    return inputs * keep.to(inputs.dtype)


class Dropout(nn.Dropout):
    """``nn.Dropout`` with :func:`dropout`'s faster CPU mask (same arguments, no state)."""

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        return dropout(inputs, self.p, self.training)
