"""Pretrained word vectors from text files (GloVe, word2vec ``.txt``, fastText ``.vec``; plain or ``.gz``).

One vector a line, ``word v1 v2 ... vD`` separated by spaces. word2vec and fastText files start
with a ``COUNT DIM`` header line, GloVe files do not; both are recognised. A few GloVe releases
have words containing spaces, so the *last* ``D`` fields are the vector and the rest is the word.

Typical use::

    vectors = read_vectors("glove.6B.100d.txt.gz", keep=set(words.itos) | lower_forms)
    words = extend_vocab(words, vectors)               # optional: add the vectors' words
    matrix, coverage = embedding_matrix(words, vectors)
    load_embedding(model.input_embedding(), matrix, freeze=True)
"""

from __future__ import annotations

import logging
import math
import os
from collections.abc import Container, Iterable
from dataclasses import dataclass

import torch
from torch import nn

from lstm_nlp.data.textfiles import iter_lines
from lstm_nlp.data.vocab import Vocab
from lstm_nlp.errors import ConfigError, DataFormatError

logger = logging.getLogger("lstm_nlp")


@dataclass
class Vectors:
    """Word vectors read from a file.

    Attributes:
        words: The words, in file order (first occurrence kept on duplicates).
        vectors: ``FloatTensor[len(words), dim]``.
        index: ``word -> row`` in ``vectors``.
    """

    words: list[str]
    vectors: torch.Tensor
    index: dict[str, int]

    @property
    def dim(self) -> int:
        return self.vectors.shape[1]

    def __len__(self) -> int:
        return len(self.words)

    def lookup(self, word: str) -> int | None:
        """Row of ``word``, falling back to its lower-cased form; ``None`` when absent."""
        row = self.index.get(word)
        return self.index.get(word.lower()) if row is None else row


@dataclass
class Coverage:
    """How much of a vocabulary the vectors cover (specials such as ``<pad>``/``<unk>`` excluded).

    Attributes:
        found: Vocabulary words that got a pretrained vector (exact or lower-cased match).
        total: Vocabulary words, specials excluded.
    """

    found: int
    total: int

    @property
    def ratio(self) -> float:
        return self.found / self.total if self.total else 0.0

    def __str__(self) -> str:
        return f"{self.found}/{self.total} words ({100 * self.ratio:.1f}%) have a pretrained vector"


def read_vectors(
    path: str | os.PathLike,
    *,
    keep: Container[str] | None = None,
    max_vectors: int | None = None,
) -> Vectors:
    """Reads a vectors text file.

    Args:
        path: The file (``.gz`` is decompressed on the fly).
        keep: Only keep these words (saves memory with large files; a word is kept when it or
            its lower-cased form is in ``keep``). ``None`` keeps every word.
        max_vectors: Read at most this many vector lines (files are usually sorted by frequency).

    Returns:
        The vectors (``float32``).

    Raises:
        DataFormatError: A line whose number of values differs from the header or the first
            line, a value that is not a number, or a file without vectors; with file and line.
    """
    dim: int | None = None
    words: list[str] = []
    rows: list[list[float]] = []
    index: dict[str, int] = {}
    seen = 0
    for number, line in iter_lines(path):
        fields = line.rstrip().split(" ")
        if number == 1 and len(fields) == 2 and all(f.isdigit() for f in fields):
            dim = int(fields[1])  # word2vec / fastText header "COUNT DIM"
            continue
        if not line.strip():
            continue
        if dim is None:
            dim = len(fields) - 1
            if dim < 1:
                raise DataFormatError(f"expected 'word v1 v2 ...', found {line[:80]!r}", path, number)
        if len(fields) < dim + 1:
            raise DataFormatError(f"expected a word and {dim} values, found {len(fields)} fields", path, number)
        if max_vectors is not None and seen >= max_vectors:
            break
        seen += 1
        word = " ".join(fields[: len(fields) - dim])
        if word in index or (keep is not None and word not in keep and word.lower() not in keep):
            continue
        try:
            values = [float(v) for v in fields[len(fields) - dim:]]
        except ValueError:
            raise DataFormatError(f"non-numeric value in the vector of {word!r}", path, number) from None
        index[word] = len(words)
        words.append(word)
        rows.append(values)
    if dim is None or (seen == 0 and not words):
        raise DataFormatError("no vectors found (empty file?)", path)
    vectors = torch.tensor(rows, dtype=torch.float32) if rows else torch.zeros(0, dim)
    logger.info("read %d vectors of size %d from %s (%d lines)", len(words), dim, path, seen)
    return Vectors(words, vectors, index)


def extend_vocab(vocab: Vocab, vectors: Vectors, *, max_new: int | None = None) -> Vocab:
    """A copy of ``vocab`` with the vectors' words it lacks appended (in the vectors' order).

    Words of the training vocabulary keep their ids, so a dataset already encoded with
    ``vocab`` stays valid. With a lower-casing vocabulary, the lower-cased words are added.

    Args:
        vocab: A token vocabulary.
        vectors: Pretrained vectors.
        max_new: Add at most this many words.
    """
    itos = list(vocab.itos)
    present = set(itos)
    added = 0
    for word in vectors.words:
        if max_new is not None and added >= max_new:
            break
        key = word.lower() if vocab.lower else word
        if key not in present:
            present.add(key)
            itos.append(key)
            added += 1
    return Vocab(itos, pad_token=vocab.pad_token, unk_token=vocab.unk_token, lower=vocab.lower)


def embedding_matrix(
    vocab: Vocab,
    vectors: Vectors,
    *,
    init_std: float | None = None,
    generator: torch.Generator | None = None,
) -> tuple[torch.Tensor, Coverage]:
    """An embedding matrix for ``vocab``: pretrained rows where available, random rows elsewhere.

    Args:
        vocab: The token vocabulary (row ``i`` is ``vocab.itos[i]``).
        vectors: Pretrained vectors; looked up by the exact word, then lower-cased.
        init_std: Standard deviation of the normal init of words without a vector (default:
            that of the pretrained values, so both kinds of rows have the same scale).
        generator: Random generator for reproducible init.

    Returns:
        ``(matrix, coverage)``: ``FloatTensor[len(vocab), vectors.dim]`` (zero row for ``<pad>``).
    """
    if init_std is None:
        init_std = float(vectors.vectors.std()) if vectors.vectors.numel() > 1 else 1.0
        init_std = init_std if math.isfinite(init_std) and init_std > 0 else 1.0
    matrix = torch.randn(len(vocab), vectors.dim, generator=generator) * init_std
    specials = {vocab.pad_token, vocab.unk_token} - {None}
    found = 0
    for row, word in enumerate(vocab.itos):
        if word in specials:
            continue
        source = vectors.lookup(word)
        if source is not None:
            matrix[row] = vectors.vectors[source]
            found += 1
    if vocab.pad_id is not None:
        matrix[vocab.pad_id] = 0.0
    return matrix, Coverage(found=found, total=len(vocab) - len(specials))


def load_embedding(embedding: nn.Embedding, matrix: torch.Tensor, *, freeze: bool = False) -> None:
    """Copies ``matrix`` into ``embedding`` and optionally freezes it.

    Args:
        embedding: The lookup table to fill (``num_embeddings`` = vocabulary size).
        matrix: ``FloatTensor[num_embeddings, embedding_dim]``.
        freeze: Stop gradient updates of the table (``requires_grad = False``).

    Raises:
        ConfigError: the shapes differ (e.g. ``embedding_dim`` is not the vectors' size).
    """
    if tuple(matrix.shape) != tuple(embedding.weight.shape):
        raise ConfigError(f"pretrained matrix has shape {tuple(matrix.shape)} but the embedding is "
                          f"{tuple(embedding.weight.shape)}; set embedding_dim to the vectors' size and "
                          "build the model with the (extended) vocabulary")
    with torch.no_grad():
        embedding.weight.copy_(matrix)
    embedding.weight.requires_grad_(not freeze)


def vocab_keep_set(vocab: Vocab, extra: Iterable[str] = ()) -> set[str]:
    """Words worth reading from a vectors file for ``vocab``: its entries plus ``extra``, also lower-cased."""
    words = set(vocab.itos) | set(extra)
    return words | {w.lower() for w in words}
