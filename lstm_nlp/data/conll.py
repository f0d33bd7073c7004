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

from lstm_nlp.data.textfiles import INPUT_KINDS, iter_lines, sniff_file, sniff_format, sniff_table
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
            ``"iob2"`` keeps them and checks that every entity opens with ``B-X`` (an ``I-X`` after
            ``O``, at a sentence start or after another type is IOB1, and refused before anything
            trains); ``"none"`` keeps them unchecked (POS-like tags).

    Returns:
        A dataset with columns ``tokens: list[str]`` and ``tags: list[str]``.

    Raises:
        DataFormatError: a file that is not a CoNLL column file at all (JSON, CSV with a header,
            binary data, plain text: named in the message), a line whose number of columns
            differs from the file's first token line, too few columns for
            ``token_column``/``tag_column``, an IOB1 tag with ``scheme="iob2"``, or no sentences
            at all; with the file and line in the message.
    """
    if scheme not in ("iob1", "iob2", "none"):
        raise DataFormatError(f"scheme must be 'iob1', 'iob2' or 'none', got {scheme!r}", path)
    _check_looks_like_conll(path)
    sentences: list[list[str]] = []
    tags: list[list[str]] = []
    words: list[str] = []
    labels: list[str] = []
    width: int | None = None
    width_line = 0
    previous: str | None = None  # the previous tag in the sentence, for the IOB2 check

    def close_sentence() -> None:
        nonlocal words, labels, previous
        previous = None
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
                _check_table(path, width)
                raise DataFormatError(f"found {width} column(s) but token_column={token_column} and "
                                      f"tag_column={tag_column} need {needed}", path, number)
            if tag_column % width == token_column % width:
                _check_table(path, width)
                raise DataFormatError(f"found {width} column(s), so the tokens and the tags would both be column "
                                      f"{token_column % width}; expected 'token ... tag' columns", path, number)
        elif len(fields) != width:
            _check_table(path, width)
            raise DataFormatError(f"expected {width} columns (as on line {width_line}), found {len(fields)}: "
                                  f"{line[:80]!r}", path, number)
        if fields[0] == DOCSTART:
            close_sentence()
            continue
        tag = fields[tag_column]
        if scheme == "iob2":
            prefix, kind = _split(tag)
            if prefix == "I" and (previous is None or _split(previous)[1] != kind):  # O has type ""
                _refuse_iob1(path, number, tag, previous)
            previous = tag
        words.append(fields[token_column])
        labels.append(tag)
    close_sentence()
    if not sentences:
        raise DataFormatError("no sentences found (empty file?)", path)
    return Dataset.from_dict({"tokens": sentences, "tags": tags})


_EXPECTED = ("expected a CoNLL column file: whitespace-separated columns 'token ... tag', one token a line, "
             "a blank line between sentences")


def _check_looks_like_conll(path: str | os.PathLike) -> None:
    """Refuses, before parsing, a file whose start shows another format (JSON, binary)."""
    if os.path.isfile(path):
        kind = sniff_format(path)
        if kind is not None:
            raise DataFormatError(f"not a CoNLL column file: it looks like {kind}; {_EXPECTED}", path)
        if sniff_file(path) == "conllu":  # its comment lines would otherwise be read as tokens
            raise DataFormatError(f"not a CoNLL column file: it looks like {INPUT_KINDS['conllu']}; CoNLL-U files "
                                  "are read as CoNLL-U when their name ends in .conllu (or .conllu.gz)", path)


def _check_table(path: str | os.PathLike, width: int) -> None:
    """On a column-count error: refuses the whole file when it is clearly not a column file."""
    kind = sniff_table(path, width=width)
    if kind is not None:
        raise DataFormatError(f"not a CoNLL column file: it looks like {kind}; {_EXPECTED}", path)


def _refuse_iob1(path: str | os.PathLike, line: int, tag: str, previous: str | None) -> None:
    after = "at the start of a sentence" if previous is None else f"after {previous!r}"
    raise DataFormatError(
        f"tag {tag!r} {after} starts an entity, which IOB2 does not allow (IOB2 would have 'B-{tag[2:]}'): "
        "the tags look like IOB1. Read the file with scheme=\"iob1\" (the recipes and lstm-nlp evaluate: "
        "--scheme iob1)", path, line)
