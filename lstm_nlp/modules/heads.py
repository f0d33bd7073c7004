"""Output heads: from encoder features to label scores and a loss."""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from lstm_nlp.batch import IGNORE_INDEX
from lstm_nlp.errors import ConfigError
from lstm_nlp.modules.dropout import Dropout
from lstm_nlp.modules.fixed_order import FixedOrderLinear


def check_class_weights(weights: Sequence[float] | None, num_labels: int, *, where: str) -> tuple[float, ...] | None:
    """``weights`` as a tuple of ``num_labels`` finite numbers > 0 (``None`` stays ``None``).

    Raises:
        ConfigError: another length, or a weight that is not a finite number > 0 (``where`` names the field).
    """
    if weights is None:
        return None
    weights = tuple(float(w) for w in weights)
    if len(weights) != num_labels:
        raise ConfigError(f"{where} must have one weight per label ({num_labels}), got {len(weights)}")
    bad = [w for w in weights if not (math.isfinite(w) and w > 0)]
    if bad:
        raise ConfigError(f"{where}: every weight must be a finite number > 0, got {bad[0]!r}")
    return weights


def register_class_weights(module: nn.Module, weights: Sequence[float] | None) -> None:
    """Sets ``module.class_weights``: ``FloatTensor[num_labels]`` or ``None``, a buffer kept out of the
    state dict (the model config holds the values), so it follows the module's device."""
    tensor = None if weights is None else torch.tensor(list(weights), dtype=torch.float32)
    module.register_buffer("class_weights", tensor, persistent=False)


class TokenClassificationHead(nn.Module):
    """Per-token softmax classifier.

    Args:
        input_dim: Feature size per token.
        num_labels: Number of tags.
        dropout: Dropout on the features before the projection.
        class_weights: Optional weight per tag (``num_labels`` values) of the training loss: the
            cross-entropy becomes the weighted mean ``sum_t w[y_t] * CE_t / sum_t w[y_t]`` over real
            tokens. Predictions do not change.
    """

    def __init__(self, input_dim: int, num_labels: int, *, dropout: float = 0.0,
                 class_weights: Sequence[float] | None = None):
        super().__init__()
        self.dropout = Dropout(dropout)
        self.projection = FixedOrderLinear(input_dim, num_labels)
        register_class_weights(self, check_class_weights(class_weights, num_labels, where="class_weights"))

    def forward(
        self, features: torch.Tensor, *, mask: torch.Tensor, labels: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Scores every token.

        Args:
            features: ``FloatTensor[batch, seq, input_dim]``.
            mask: ``BoolTensor[batch, seq]``, True at real tokens.
            labels: Optional ``LongTensor[batch, seq]`` gold tag ids (``-100`` at padding).

        Returns:
            ``(logits, loss)``: ``FloatTensor[batch, seq, num_labels]`` and, when ``labels`` is given,
            the cross-entropy averaged over real tokens (weighted by ``class_weights`` when set; a
            scalar), else ``None``.
        """
        logits = self.projection(self.dropout(features))
        loss = None
        if labels is not None:
            labels = labels.masked_fill(~mask, IGNORE_INDEX)
            weight = None if self.class_weights is None else self.class_weights.float()
            loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]).float(), labels.reshape(-1),
                                   weight=weight, ignore_index=IGNORE_INDEX)
        return logits, loss

    def decode(self, logits: torch.Tensor, mask: torch.Tensor) -> list[list[int]]:
        """Best tag id per real token: ``logits [batch, seq, labels]`` -> one list per row."""
        best = logits.argmax(-1).tolist()  # one conversion, then plain list slices per row
        lengths = mask.sum(-1).tolist()
        return [row[:n] for row, n in zip(best, lengths)]
