"""Word embeddings."""

from __future__ import annotations

import torch
from torch import nn

from lstm_nlp.modules.dropout import Dropout


class WordEmbedding(nn.Module):
    """A lookup table of word vectors with dropout.

    Args:
        vocab_size: Number of rows (the word vocabulary size).
        embedding_dim: Vector size.
        padding_idx: Row kept at zero and never updated (``<pad>``).
        dropout: Dropout on the output vectors.
    """

    def __init__(self, vocab_size: int, embedding_dim: int, *, padding_idx: int | None = 0, dropout: float = 0.0):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, embedding_dim, padding_idx=padding_idx)
        self.dropout = Dropout(dropout)
        self.output_dim = embedding_dim

    def forward(self, token_ids: torch.Tensor) -> torch.Tensor:
        """Embeds ``token_ids: LongTensor[batch, seq]`` -> ``FloatTensor[batch, seq, embedding_dim]``."""
        return self.dropout(self.embedding(token_ids))
