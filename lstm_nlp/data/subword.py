"""Subword tokenization: a Hugging Face ``tokenizers`` BPE or WordPiece model trained on the training texts.

The trained model is one JSON document (``tokenizer.json``), saved with the model bundle so that
prediction splits words exactly as training did.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from itertools import islice
from pathlib import Path
from typing import Literal

from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, trainers

from lstm_nlp.errors import ConfigError, DataFormatError

SubwordKind = Literal["bpe", "wordpiece"]
UNK_PIECE = "[UNK]"
CONTINUATION = "##"  # prefix of pieces that continue a word (both kinds), so word boundaries survive
TOKENIZER_FILE = "tokenizer.json"


class SubwordTokenizer:
    """Splits text into subword pieces with a trained ``tokenizers.Tokenizer``.

    Use :meth:`train` to learn one from texts, :meth:`save` / :meth:`load` to keep it.

    Args:
        tokenizer: A BPE or WordPiece ``tokenizers.Tokenizer``.
    """

    def __init__(self, tokenizer: Tokenizer):
        kind = type(tokenizer.model).__name__.lower()
        if kind not in ("bpe", "wordpiece"):
            raise ConfigError(f"expected a BPE or WordPiece tokenizer, got a {type(tokenizer.model).__name__} model")
        self.tokenizer = tokenizer
        self.kind: SubwordKind = kind  # type: ignore[assignment]

    @classmethod
    def train(
        cls,
        texts: Iterable[str],
        *,
        kind: SubwordKind = "bpe",
        vocab_size: int = 16000,
        min_frequency: int = 2,
        lower: bool = True,
        batch_size: int = 1000,
    ) -> SubwordTokenizer:
        """Learns a subword vocabulary from ``texts``.

        Text is NFKC-normalized (and lower-cased), split on whitespace and punctuation, then
        words are cut into pieces; pieces inside a word carry the ``##`` prefix.

        Args:
            texts: Training texts (an iterable is consumed once).
            kind: ``"bpe"`` or ``"wordpiece"``.
            vocab_size: Target number of pieces, ``[UNK]`` and the alphabet included.
            min_frequency: Minimum count of a merge (BPE) / piece (WordPiece).
            lower: Lower-case before splitting.
            batch_size: Texts handed to the trainer at a time.
        """
        if kind not in ("bpe", "wordpiece"):
            raise ConfigError(f"subword kind must be 'bpe' or 'wordpiece', got {kind!r}")
        if vocab_size < 2:
            raise ConfigError(f"subword vocab_size must be >= 2, got {vocab_size}")
        if kind == "bpe":
            model = models.BPE(unk_token=UNK_PIECE, continuing_subword_prefix=CONTINUATION)
            trainer = trainers.BpeTrainer(vocab_size=vocab_size, min_frequency=min_frequency, show_progress=False,
                                          special_tokens=[UNK_PIECE], continuing_subword_prefix=CONTINUATION)
        else:
            model = models.WordPiece(unk_token=UNK_PIECE, continuing_subword_prefix=CONTINUATION)
            trainer = trainers.WordPieceTrainer(vocab_size=vocab_size, min_frequency=min_frequency,
                                                show_progress=False, special_tokens=[UNK_PIECE],
                                                continuing_subword_prefix=CONTINUATION)
        tokenizer = Tokenizer(model)
        steps = [normalizers.NFKC()] + ([normalizers.Lowercase()] if lower else [])
        tokenizer.normalizer = normalizers.Sequence(steps)
        tokenizer.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
        tokenizer.decoder = decoders.WordPiece(prefix=CONTINUATION)
        tokenizer.train_from_iterator(_batches(texts, batch_size), trainer=trainer)
        if tokenizer.get_vocab_size() <= 1:
            raise DataFormatError("cannot train a subword tokenizer: the training texts are empty")
        return cls(tokenizer)

    @property
    def vocab_size(self) -> int:
        """Number of pieces the model knows (``[UNK]`` included)."""
        return self.tokenizer.get_vocab_size()

    def __call__(self, text: str) -> list[str]:
        """Pieces of one text (an empty text gives ``[]``)."""
        return self.tokenizer.encode(text).tokens

    def pipe(self, texts: Iterable[str], batch_size: int = 1000) -> Iterator[list[str]]:
        """Pieces of many texts, encoded ``batch_size`` at a time (in parallel by ``tokenizers``)."""
        for batch in _batches(texts, batch_size):
            for encoding in self.tokenizer.encode_batch(batch):
                yield encoding.tokens

    # ------------------------------------------------------------------ files
    def to_str(self) -> str:
        """The whole model as a JSON string (what :meth:`save` writes)."""
        return self.tokenizer.to_str()

    @classmethod
    def from_str(cls, data: str, source: str = "<string>") -> SubwordTokenizer:
        """Rebuilds a tokenizer from :meth:`to_str` output."""
        try:
            return cls(Tokenizer.from_str(data))
        except Exception as err:  # tokenizers raises a bare Exception on malformed JSON
            raise DataFormatError(f"not a valid tokenizers JSON file ({err})", source) from None

    def save(self, path: str | os.PathLike) -> None:
        """Writes the model as ``tokenizer.json``-style JSON."""
        Path(path).write_text(self.to_str(), encoding="utf-8")

    @classmethod
    def load(cls, path: str | os.PathLike) -> SubwordTokenizer:
        """Reads a file written by :meth:`save`."""
        try:
            text = Path(path).read_text(encoding="utf-8")
        except FileNotFoundError:
            raise DataFormatError("subword tokenizer file not found", path) from None
        except UnicodeDecodeError as err:
            raise DataFormatError(f"not a valid tokenizers JSON file (not UTF-8 text: byte {err.start})",
                                  path) from None
        return cls.from_str(text, source=str(path))


def _batches(texts: Iterable[str], size: int) -> Iterator[list[str]]:
    iterator = iter(texts)
    while batch := list(islice(iterator, size)):
        yield batch
