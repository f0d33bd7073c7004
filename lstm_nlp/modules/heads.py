"""Output heads: from encoder features to label scores and a loss."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from lstm_nlp.batch import IGNORE_INDEX
from lstm_nlp.modules.dropout import Dropout
from lstm_nlp.modules.fixed_order import FixedOrderLinear


class TokenClassificationHead(nn.Module):
    """Per-token softmax classifier.

    Args:
        input_dim: Feature size per token.
        num_labels: Number of tags.
        dropout: Dropout on the features before the projection.
    """

    def __init__(self, input_dim: int, num_labels: int, *, dropout: float = 0.0):
        super().__init__()
        self.dropout = Dropout(dropout)
        self.projection = FixedOrderLinear(input_dim, num_labels)

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
            the cross-entropy averaged over real tokens (a scalar), else ``None``.
        """
        logits = self.projection(self.dropout(features))
        loss = None
        if labels is not None:
            labels = labels.masked_fill(~mask, IGNORE_INDEX)
            loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]).float(), labels.reshape(-1),
                                   ignore_index=IGNORE_INDEX)
        return logits, loss

    def decode(self, logits: torch.Tensor, mask: torch.Tensor) -> list[list[int]]:
        """Best tag id per real token: ``logits [batch, seq, labels]`` -> one list per row."""
        best = logits.argmax(-1).tolist()  # one conversion, then plain list slices per row
        lengths = mask.sum(-1).tolist()
        return [row[:n] for row, n in zip(best, lengths)]
