"""CoNLL column files (CoNLL-2000 chunking, CoNLL-2003 NER) -> ``datasets.Dataset`` with ``tokens`` / ``tags``.

One token a line, whitespace-separated columns (e.g. ``token POS chunk NER``), a blank line
between sentences, ``-DOCSTART-`` lines between documents. Also tag-scheme conversion between
IOB1 (``I-X`` opens an entity unless it follows another ``X``; ``B-X`` only splits two adjacent
entities of one type) and IOB2 / BIO (every entity opens with ``B-X``).
"""

from __future__ import annotations

import os
from collections.abc import Sequence

from datasets import Dataset

from lstm_nlp.data.conll_blocks import read_blocks
from lstm_nlp.data.textfiles import INPUT_KINDS, iter_lines, sniff_file, sniff_format, sniff_table
from lstm_nlp.errors import DataFormatError
from lstm_nlp.tags import FILE_SCHEMES, convert_tags, split_tag

DOCSTART = "-DOCSTART-"
#: The ``scheme`` values of :func:`read_conll`: a file scheme of :mod:`lstm_nlp.tags`, or ``"none"`` (unchecked).
READ_SCHEMES: tuple[str, ...] = (*FILE_SCHEMES, "none")


def iob1_to_iob2(tags: Sequence[str]) -> list[str]:
    """Rewrites IOB1 tags as IOB2: an ``I-X`` that starts an entity becomes ``B-X``.

    Also repairs invalid IOB2 (a stray ``I-X`` after ``O`` or another type becomes ``B-X``), and
    leaves valid IOB2 unchanged (:func:`lstm_nlp.tags.convert_tags` from ``"iob1"`` to ``"iob2"``).
    """
    return _convert_keeping_others(tags, "iob1", "iob2")


def iob2_to_iob1(tags: Sequence[str]) -> list[str]:
    """Rewrites IOB2 tags as IOB1: ``B-X`` stays only right after another ``X`` entity, else ``I-X``."""
    return _convert_keeping_others(tags, "iob2", "iob1")


def _convert_keeping_others(tags: Sequence[str], source: str, target: str) -> list[str]:
    """:func:`~lstm_nlp.tags.convert_tags`, except that tags without a span prefix (``O``, ``NN``) stay as
    they were (they end a span either way)."""
    return [tag if split_tag(tag)[0] == "O" else new for tag, new in zip(tags, convert_tags(tags, source, target))]


def read_conll(
    path: str | os.PathLike,
    *,
    token_column: int = 0,
    tag_column: int = -1,
    scheme: str = "none",
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
    if scheme not in READ_SCHEMES:
        raise DataFormatError(f"scheme must be {' or '.join(map(repr, READ_SCHEMES))}, got {scheme!r}", path)
    _check_looks_like_conll(path)
    sentences: list[list[str]] = []
    tags: list[list[str]] = []
    first: tuple[int, int] | None = None  # the first token line's column count and number
    for block in read_blocks((line for _, line in iter_lines(path)), kind="conll", source=str(path)):
        words: list[str] = []
        labels: list[str] = []
        numbers: list[int] = []
        for offset, line in enumerate(block.lines):
            number, fields = block.first_line + offset, line.split()
            first = first or _check_first_line(path, fields, number, token_column, tag_column)
            if len(fields) != first[0]:
                _check_table(path, first[0])
                raise DataFormatError(f"expected {first[0]} columns (as on line {first[1]}), found {len(fields)}: "
                                      f"{line[:80]!r}", path, number)
            if fields[0] == DOCSTART:  # a document boundary also ends a sentence
                _add_sentence(sentences, tags, words, labels, scheme, path, numbers)
                words, labels, numbers = [], [], []
                continue
            words.append(fields[token_column])
            labels.append(fields[tag_column])
            numbers.append(number)
        _add_sentence(sentences, tags, words, labels, scheme, path, numbers)
    if not sentences:
        raise DataFormatError("no sentences found (empty file?)", path)
    return Dataset.from_dict({"tokens": sentences, "tags": tags})


def _check_first_line(path: str | os.PathLike, fields: list[str], number: int, token_column: int,
                      tag_column: int) -> tuple[int, int]:
    """``(column count, line number)`` of the first token line, whose columns must hold the tokens and the tags."""
    width = len(fields)
    needed = max(token_column, tag_column if tag_column >= 0 else -tag_column - 1) + 1
    if width < needed:
        _check_table(path, width)
        raise DataFormatError(f"found {width} column(s) but token_column={token_column} and "
                              f"tag_column={tag_column} need {needed}", path, number)
    if tag_column % width == token_column % width:
        _check_table(path, width)
        raise DataFormatError(f"found {width} column(s), so the tokens and the tags would both be column "
                              f"{token_column % width}; expected 'token ... tag' columns", path, number)
    return width, number


def _add_sentence(sentences: list, tags: list, words: list[str], labels: list[str], scheme: str,
                  path: str | os.PathLike, numbers: list[int]) -> None:
    """Appends a non-empty sentence, its tags converted (``iob1``) or checked (``iob2``; ``numbers``: their
    lines) on the way."""
    if not words:
        return
    if scheme == "iob2":
        _check_iob2(labels, path, numbers)
    sentences.append(words)
    tags.append(iob1_to_iob2(labels) if scheme == "iob1" else labels)


def _check_iob2(labels: list[str], path: str | os.PathLike, numbers: list[int]) -> None:
    previous: str | None = None
    for number, tag in zip(numbers, labels):
        prefix, kind = split_tag(tag)
        if prefix == "I" and (previous is None or split_tag(previous)[1] != kind):  # O has type ""
            _refuse_iob1(path, number, tag, previous)
        previous = tag


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
