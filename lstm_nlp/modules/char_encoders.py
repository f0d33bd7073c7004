"""Character-level word encoders: a word's spelling -> one vector (Ma & Hovy's char-CNN, Lample's char-BiLSTM).

Both take ``char_ids: LongTensor[batch, seq, word_len]`` (character ids of each word, padded with
``padding_idx`` after the word; an all-padding row is a padding word) and return
``FloatTensor[batch, seq, output_dim]`` with zeros for padding words.

A batch repeats most of its words (``the``, ``,``...), so each encoder runs once per *distinct*
spelling in the batch (``torch.unique`` over the rows of ``char_ids``) and scatters the results
back; gradients flow to every occurrence.
"""

from __future__ import annotations

import functools

import torch
from torch import nn

from lstm_nlp.errors import ConfigError
from lstm_nlp.modules.dropout import Dropout
from lstm_nlp.modules.encoder import LSTMEncoder


def _unique_words(char_ids: torch.Tensor, padding_idx: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Distinct non-padding words of a batch.

    Args:
        char_ids: ``LongTensor[batch, seq, word_len]``.
        padding_idx: Character padding id.

    Returns:
        ``(words, inverse)``: ``LongTensor[n_unique, word_len]`` with no all-padding row, longest
        word first, and
        ``LongTensor[batch * seq]`` mapping every position to its row in ``words``, or to
        ``n_unique`` (one past the end) for padding words.
    """
    if char_ids.dim() != 3:
        raise ValueError(f"char_ids must be [batch, seq, word_len], got {tuple(char_ids.shape)}")
    flat = char_ids.reshape(-1, char_ids.shape[-1])  # [batch * seq, word_len]
    words, inverse = _unique_rows(flat)
    # Longest first, so LSTMEncoder's length grouping needs no permutation of the embedded words.
    lengths = (words != padding_idx).sum(dim=1)
    order = torch.argsort(lengths, descending=True, stable=True)
    rank = torch.empty_like(order)
    rank[order] = torch.arange(len(order), device=order.device)
    words, inverse = words.index_select(0, order), rank[inverse]
    if len(order) and int(lengths[order[-1]]) == 0:  # the padding word sorts last; dropped, its id is one past the end
        words = words[:-1]
    return words, inverse


def _unique_rows(rows: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """``torch.unique(rows, dim=0, return_inverse=True)`` (up to row order), several times faster.

    ``unique(dim=0)`` compares rows one pair at a time; here each row is hashed to one int64
    (a random linear hash, wrapping on overflow) and the 1-D hashes are uniqued. The result is
    checked against every input row, so a hash collision cannot merge two different words: it
    falls back to ``unique(dim=0)``.
    """
    multipliers = _hash_multipliers(rows.shape[1], rows.device)
    keys = (rows * multipliers).sum(dim=1)  # [n]; int64 arithmetic wraps, which is fine for a hash
    unique_keys, inverse = torch.unique(keys, return_inverse=True)
    first = torch.empty_like(unique_keys).scatter_(0, inverse, torch.arange(rows.shape[0], device=rows.device))
    words = rows.index_select(0, first)  # [n_unique, word_len]: one representative per hash
    if not torch.equal(words.index_select(0, inverse), rows):
        return torch.unique(rows, dim=0, return_inverse=True)
    return words, inverse


@functools.cache
def _hash_multipliers(width: int, device: torch.device) -> torch.Tensor:
    """``LongTensor[width]`` of fixed random odd multipliers (the same in every process), cached per device."""
    generator = torch.Generator().manual_seed(width)
    return (torch.randint(0, 2**62, (width,), generator=generator) * 2 + 1).to(device)


def _scatter_back(encoded: torch.Tensor, inverse: torch.Tensor, shape: torch.Size) -> torch.Tensor:
    """``encoded [n_unique, dim]`` -> ``[batch, seq, dim]``, zeros where ``inverse == n_unique``."""
    padded = torch.cat([encoded, encoded.new_zeros(1, encoded.shape[1])], dim=0)
    # index_select, not padded[inverse]: the latter's backward adds the repeated rows with parallel atomic adds on
    # CPU, in an order that changes from run to run with more than one thread (and ~20x slower)
    return padded.index_select(0, inverse).view(shape[0], shape[1], encoded.shape[1])  # [batch, seq, dim]


class CharCNNEncoder(nn.Module):
    """Char embeddings -> 1-D convolution -> max over the word's characters.

    Args:
        num_chars: Character vocabulary size.
        embedding_dim: Character vector size.
        num_filters: Convolution filters (the output size).
        kernel_size: Convolution width in characters (odd, so the output is centred).
        padding_idx: Character padding id.
        dropout: Dropout on the character vectors.
    """

    def __init__(self, num_chars: int, *, embedding_dim: int = 30, num_filters: int = 50, kernel_size: int = 3,
                 padding_idx: int = 0, dropout: float = 0.0):
        super().__init__()
        if num_chars < 2 or embedding_dim < 1 or num_filters < 1:
            raise ConfigError(f"CharCNNEncoder needs num_chars >= 2, embedding_dim >= 1 and num_filters >= 1; got "
                              f"{num_chars}, {embedding_dim}, {num_filters}")
        if kernel_size < 1 or kernel_size % 2 == 0:
            raise ConfigError(f"kernel_size must be odd and >= 1, got {kernel_size}")
        self.padding_idx = padding_idx
        self.embedding = nn.Embedding(num_chars, embedding_dim, padding_idx=padding_idx)
        self.dropout = Dropout(dropout)
        self.conv = nn.Conv1d(embedding_dim, num_filters, kernel_size, padding=kernel_size // 2)
        self.output_dim = num_filters

    def forward(self, char_ids: torch.Tensor) -> torch.Tensor:
        """Encodes words: ``LongTensor[batch, seq, word_len]`` -> ``FloatTensor[batch, seq, num_filters]``."""
        words, inverse = _unique_words(char_ids, self.padding_idx)
        if words.shape[0] == 0:
            return char_ids.new_zeros(*char_ids.shape[:2], self.output_dim, dtype=self.conv.weight.dtype)
        embedded = self.dropout(self.embedding(words))  # [n_unique, word_len, emb]
        convolved = self.conv(embedded.transpose(1, 2))  # [n_unique, filters, word_len]
        is_pad = (words == self.padding_idx).unsqueeze(1)  # [n_unique, 1, word_len]
        pooled = convolved.masked_fill(is_pad, float("-inf")).amax(dim=2)  # [n_unique, filters]
        return _scatter_back(pooled, inverse, char_ids.shape)


class CharLSTMEncoder(nn.Module):
    """Char embeddings -> BiLSTM over each word -> final forward and backward states concatenated.

    Args:
        num_chars: Character vocabulary size.
        embedding_dim: Character vector size.
        hidden_size: LSTM size per direction (the output has ``2 * hidden_size``).
        padding_idx: Character padding id.
        dropout: Dropout on the character vectors.
        impl: :class:`LSTMEncoder` implementation (``"auto"``, ``"packed"``, ``"dense"``).
    """

    def __init__(self, num_chars: int, *, embedding_dim: int = 25, hidden_size: int = 25, padding_idx: int = 0,
                 dropout: float = 0.0, impl: str = "auto"):
        super().__init__()
        if num_chars < 2 or embedding_dim < 1 or hidden_size < 1:
            raise ConfigError(f"CharLSTMEncoder needs num_chars >= 2, embedding_dim >= 1 and hidden_size >= 1; got "
                              f"{num_chars}, {embedding_dim}, {hidden_size}")
        self.padding_idx = padding_idx
        self.embedding = nn.Embedding(num_chars, embedding_dim, padding_idx=padding_idx)
        self.dropout = Dropout(dropout)
        self.lstm = LSTMEncoder(embedding_dim, hidden_size, bidirectional=True, impl=impl)
        self.output_dim = 2 * hidden_size

    def forward(self, char_ids: torch.Tensor) -> torch.Tensor:
        """Encodes words: ``LongTensor[batch, seq, word_len]`` -> ``FloatTensor[batch, seq, 2 * hidden_size]``."""
        words, inverse = _unique_words(char_ids, self.padding_idx)
        if words.shape[0] == 0:
            return char_ids.new_zeros(*char_ids.shape[:2], self.output_dim, dtype=self.embedding.weight.dtype)
        mask = words != self.padding_idx  # [n_unique, word_len]; padding follows the characters
        embedded = self.dropout(self.embedding(words))  # [n_unique, word_len, emb]
        h_n = self.lstm(embedded, mask=mask).h_n  # [2, n_unique, hidden]: forward, backward
        final = torch.cat([h_n[0], h_n[1]], dim=-1)  # [n_unique, 2 * hidden]
        return _scatter_back(final, inverse, char_ids.shape)
