"""CoNLL column files (CoNLL-2000 chunking, CoNLL-2003 NER) -> ``datasets.Dataset`` with ``tokens`` / ``tags``.

One token a line, whitespace-separated columns (e.g. ``token POS chunk NER``), a blank line
between sentences, ``-DOCSTART-`` lines between documents. Also tag-scheme conversion between
IOB1 (``I-X`` opens an entity unless it follows another ``X``; ``B-X`` only splits two adjacent
entities of one type) and IOB2 / BIO (every entity opens with ``B-X``).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Literal

from datasets import Dataset

from lstm_nlp.data.textfiles import iter_lines
from lstm_nlp.errors import DataFormatError

DOCSTART = "-DOCSTART-"
TagScheme = Literal["iob1", "iob2", "none"]


def _split(tag: str) -> tuple[str, str]:
    """``"B-PER"`` -> ``("B", "PER")``; tags without a ``B-``/``I-`` prefix -> ``("O", "")``."""
    if len(tag) > 2 and tag[1] == "-" and tag[0] in "BI":
        return tag[0], tag[2:]
    return "O", ""


def iob1_to_iob2(tags: Sequence[str]) -> list[str]:
    """Rewrites IOB1 tags as IOB2: an ``I-X`` that starts an entity becomes ``B-X``.

    Also repairs invalid IOB2 (a stray ``I-X`` after ``O`` or another type becomes ``B-X``), and
    leaves valid IOB2 unchanged.
    """
    out: list[str] = []
    previous = ("O", "")
    for tag in tags:
        prefix, kind = _split(tag)
        if prefix == "I" and (previous[0] == "O" or previous[1] != kind):
            tag = f"B-{kind}"
        out.append(tag)
        previous = (prefix, kind)
    return out


def iob2_to_iob1(tags: Sequence[str]) -> list[str]:
    """Rewrites IOB2 tags as IOB1: ``B-X`` stays only right after another ``X`` entity, else ``I-X``."""
    out: list[str] = []
    previous = ("O", "")
    for tag in tags:
        prefix, kind = _split(tag)
        if prefix == "B" and not (previous[0] != "O" and previous[1] == kind):
            tag = f"I-{kind}"
        out.append(tag)
        previous = (prefix, kind)
    return out


def read_conll(
    path: str | os.PathLike,
    *,
    token_column: int = 0,
    tag_column: int = -1,
    scheme: TagScheme = "none",
) -> Dataset:
    """Reads a CoNLL column file into a dataset of sentences.

    Args:
        path: The file (``.gz`` is decompressed on the fly).
        token_column: 0-based column of the words.
        tag_column: 0-based column of the tags; negative counts from the end (``-1``: last).
        scheme: The file's tag scheme: ``"iob1"`` converts tags to IOB2 on reading;
            ``"iob2"`` and ``"none"`` keep them as they are.

    Returns:
        A dataset with columns ``tokens: list[str]`` and ``tags: list[str]``.

    Raises:
        DataFormatError: a line whose number of columns differs from the file's first token
            line, too few columns for ``token_column``/``tag_column``, or no sentences at all;
            with the file and line in the message.
    """
    if scheme not in ("iob1", "iob2", "none"):
        raise DataFormatError(f"scheme must be 'iob1', 'iob2' or 'none', got {scheme!r}", path)
    sentences: list[list[str]] = []
    tags: list[list[str]] = []
    words: list[str] = []
    labels: list[str] = []
    width: int | None = None
    width_line = 0

    def close_sentence() -> None:
        nonlocal words, labels
        if words:
            sentences.append(words)
            tags.append(iob1_to_iob2(labels) if scheme == "iob1" else labels)
            words, labels = [], []

    for number, line in iter_lines(path):
        fields = line.split()
        if not fields:
            close_sentence()
            continue
        if width is None:
            width, width_line = len(fields), number
            needed = max(token_column, tag_column if tag_column >= 0 else -tag_column - 1) + 1
            if width < needed:
                raise DataFormatError(f"found {width} column(s) but token_column={token_column} and "
                                      f"tag_column={tag_column} need {needed}", path, number)
            if tag_column % width == token_column % width:
                raise DataFormatError(f"found {width} column(s), so the tokens and the tags would both be column "
                                      f"{token_column % width}; expected 'token ... tag' columns", path, number)
        elif len(fields) != width:
            raise DataFormatError(f"expected {width} columns (as on line {width_line}), found {len(fields)}: "
                                  f"{line[:80]!r}", path, number)
        if fields[0] == DOCSTART:
            close_sentence()
            continue
        words.append(fields[token_column])
        labels.append(fields[tag_column])
    close_sentence()
    if not sentences:
        raise DataFormatError("no sentences found (empty file?)", path)
    return Dataset.from_dict({"tokens": sentences, "tags": tags})
