"""Token and label vocabularies (what torchtext's ``Field.build_vocab`` / ``LabelField`` gave)."""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path

from lstm_nlp.errors import VocabError
from lstm_nlp.schema import Field, check_fields, read_json_file

PAD = "<pad>"
UNK = "<unk>"
#: What a vocabulary file holds (see :mod:`lstm_nlp.schema`).
VOCAB_SCHEMA = {
    "itos": Field((list,), items=Field((str,)), required=True),
    "pad_token": Field((str, type(None))),
    "unk_token": Field((str, type(None))),
    "lower": Field((bool,)),
}


class Vocab:
    """A bidirectional string <-> id mapping.

    Token vocabularies carry ``<pad>`` (id 0) and ``<unk>`` (id 1); label vocabularies carry no
    specials, so an unknown label raises :class:`VocabError` instead of being silently mapped.

    Args:
        itos: The strings in id order (specials included).
        pad_token: The padding string, or ``None``.
        unk_token: The unknown-token string, or ``None`` (then unknown strings raise).
        lower: Lower-case strings before lookup (the vocabulary was built lower-cased).
    """

    def __init__(
        self,
        itos: Sequence[str],
        *,
        pad_token: str | None = PAD,
        unk_token: str | None = UNK,
        lower: bool = False,
    ):
        self.itos: list[str] = list(itos)
        self.stoi: dict[str, int] = {}
        for index, token in enumerate(self.itos):
            if token in self.stoi:
                raise VocabError(f"duplicate entry {token!r} in vocabulary (ids {self.stoi[token]} and {index})")
            self.stoi[token] = index
        for special in (pad_token, unk_token):
            if special is not None and special not in self.stoi:
                raise VocabError(f"special token {special!r} is not in the vocabulary")
        self.pad_token = pad_token
        self.unk_token = unk_token
        self.lower = lower

    # ------------------------------------------------------------------ building
    @classmethod
    def build(
        cls,
        sequences: Iterable[Iterable[str]],
        *,
        min_freq: int = 1,
        max_size: int | None = None,
        lower: bool = False,
        specials: Sequence[str] = (PAD, UNK),
    ) -> Vocab:
        """Builds a token vocabulary from tokenized sequences.

        Args:
            sequences: Iterable of token lists.
            min_freq: Drop tokens seen fewer times than this.
            max_size: Keep at most this many non-special tokens (most frequent first; ties
                broken alphabetically so the result does not depend on input order).
            lower: Lower-case tokens before counting and lookup.
            specials: Special strings placed first; the first is padding, the second unknown.
        """
        if min_freq < 1:
            raise VocabError(f"min_freq must be >= 1, got {min_freq}")
        if max_size is not None and max_size < 0:
            raise VocabError(f"max_size must be >= 0, got {max_size}")
        counts: Counter[str] = Counter()
        for seq in sequences:
            counts.update(t.lower() for t in seq) if lower else counts.update(seq)
        for special in specials:
            counts.pop(special, None)
        kept = sorted((t for t, c in counts.items() if c >= min_freq), key=lambda t: (-counts[t], t))
        if max_size is not None:
            kept = kept[:max_size]
        pad = specials[0] if len(specials) > 0 else None
        unk = specials[1] if len(specials) > 1 else None
        return cls([*specials, *kept], pad_token=pad, unk_token=unk, lower=lower)

    @classmethod
    def build_labels(cls, sequences: Iterable[Iterable[str] | str]) -> Vocab:
        """Builds a label vocabulary (no specials), sorted for a stable id order.

        Args:
            sequences: Tag sequences (tagging) or single labels (classification).
        """
        labels: set[str] = set()
        for item in sequences:
            if isinstance(item, (str, int)):
                labels.add(str(item))
            else:
                labels.update(str(x) for x in item)
        return cls(sorted(labels), pad_token=None, unk_token=None)

    # ------------------------------------------------------------------ lookup
    def __len__(self) -> int:
        return len(self.itos)

    def __contains__(self, token: str) -> bool:
        return (token.lower() if self.lower else token) in self.stoi

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Vocab) and (self.itos, self.pad_token, self.unk_token, self.lower) == (
            other.itos, other.pad_token, other.unk_token, other.lower)

    def __repr__(self) -> str:
        return f"Vocab(size={len(self)}, pad={self.pad_token!r}, unk={self.unk_token!r}, lower={self.lower})"

    @property
    def pad_id(self) -> int | None:
        return None if self.pad_token is None else self.stoi[self.pad_token]

    @property
    def unk_id(self) -> int | None:
        return None if self.unk_token is None else self.stoi[self.unk_token]

    def index(self, token: str) -> int:
        """Id of ``token``; ``<unk>`` when unknown, or :class:`VocabError` without ``<unk>``."""
        key = token.lower() if self.lower else token
        found = self.stoi.get(key)
        if found is not None:
            return found
        if self.unk_token is None:
            known = ", ".join(self.itos[:20]) + (" ..." if len(self.itos) > 20 else "")
            raise VocabError(f"unknown label {token!r}; the vocabulary has: {known}")
        return self.stoi[self.unk_token]

    def encode(self, tokens: Iterable[str]) -> list[int]:
        """Maps strings to ids (see :meth:`index`)."""
        stoi, unk = self.stoi, self.unk_id
        if self.lower:
            tokens = (t.lower() for t in tokens)
        if unk is None:
            return [self.index(t) for t in tokens]
        return [stoi.get(t, unk) for t in tokens]

    def decode(self, ids: Iterable[int]) -> list[str]:
        """Maps ids back to strings."""
        try:
            return [self.itos[i] for i in ids]
        except IndexError:
            bad = next(i for i in ids if not 0 <= i < len(self.itos))
            raise VocabError(f"id {bad} is outside the vocabulary (size {len(self)})") from None

    # ------------------------------------------------------------------ files
    def to_dict(self) -> dict:
        return {"itos": self.itos, "pad_token": self.pad_token, "unk_token": self.unk_token, "lower": self.lower}

    @classmethod
    def from_dict(cls, data: dict, source: str = "<dict>") -> Vocab:
        """Rebuilds a vocabulary from :meth:`to_dict` output, checking every field's type (:data:`VOCAB_SCHEMA`).

        Raises:
            VocabError: not an object with an ``itos`` list of strings, a field of the wrong type
                (``"lower": "false"`` is not ``false``), or a special token missing from ``itos``.
        """
        if not isinstance(data, dict) or not isinstance(data.get("itos"), list):
            raise VocabError(f"{source}: not a vocabulary file (expected a JSON object with an 'itos' list)")
        check_fields(data, VOCAB_SCHEMA, source=source, error=VocabError, what="a vocabulary file")
        try:
            return cls(data["itos"], pad_token=data.get("pad_token"), unk_token=data.get("unk_token"),
                       lower=data.get("lower", False))
        except VocabError as err:
            raise VocabError(f"{source}: {err}") from None

    def save(self, path: str | os.PathLike) -> None:
        """Writes the vocabulary as JSON."""
        Path(path).write_text(json.dumps(self.to_dict(), ensure_ascii=False), encoding="utf-8")

    @classmethod
    def load(cls, path: str | os.PathLike) -> Vocab:
        """Reads a vocabulary written by :meth:`save`."""
        try:
            data = read_json_file(path, error=VocabError)  # a regular file of bounded size only
        except FileNotFoundError:
            raise VocabError(f"vocabulary file not found: {path}") from None
        return cls.from_dict(data, source=str(path))
