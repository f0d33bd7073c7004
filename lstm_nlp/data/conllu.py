"""CoNLL-U reader (Universal Dependencies) -> ``datasets.Dataset`` with ``tokens`` / ``tags``."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from datasets import Dataset

from lstm_nlp.data.conll_blocks import CONLLU_COLUMNS, Block, ColumnCountError, read_blocks
from lstm_nlp.data.textfiles import is_hub_id, iter_lines, load_hub_dataset, sniff_format, sniff_table
from lstm_nlp.errors import DataFormatError

TagColumn = Literal["upos", "xpos"]
_EXPECTED = ("expected CoNLL-U: 10 tab-separated columns (ID FORM LEMMA UPOS XPOS FEATS HEAD DEPREL DEPS MISC), "
             "one token a line, a blank line between sentences")


def read_conllu(path: str | os.PathLike, tag_column: TagColumn = "upos") -> Dataset:
    """Reads a CoNLL-U file into a dataset of sentences.

    Comment lines (``#``), multiword-token lines (ids like ``3-4``) and empty nodes (``5.1``)
    are skipped; ``.gz`` files are read transparently.

    Args:
        path: A ``.conllu`` file (or ``.conllu.gz``).
        tag_column: ``"upos"`` (column 4) or ``"xpos"`` (column 5, e.g. Penn tags).

    Returns:
        A dataset with columns ``tokens: list[str]`` and ``tags: list[str]``.

    Raises:
        DataFormatError: a file that is not CoNLL-U at all (JSON, CSV with a header, binary data,
            a column file with another column count, plain text: named in the message), wrong
            column count, a token id that is not a positive integer, ``3-4`` or ``5.1`` (``-1``,
            ``0``, ``x``), a token without a tag, or no sentences at all, with the file and line
            in the message.
    """
    if tag_column not in CONLLU_COLUMNS:
        raise DataFormatError(f"tag_column must be 'upos' or 'xpos', got {tag_column!r}", path)
    kind = sniff_format(path) if os.path.isfile(path) else None
    if kind is not None:
        raise DataFormatError(f"not a CoNLL-U file: it looks like {kind}; {_EXPECTED}", path)
    sentences: list[list[str]] = []
    tags: list[list[str]] = []
    try:
        for block in read_blocks((line for _, line in iter_lines(path)), kind="conllu", source=str(path)):
            if block.tokens:
                sentences.append(block.tokens)
                tags.append([_tag(block, index, tag_column, path) for index in block.token_lines])
    except ColumnCountError:
        kind = sniff_table(path, width=10)
        if kind is not None:
            raise DataFormatError(f"not a CoNLL-U file: it looks like {kind}; {_EXPECTED}", path) from None
        raise
    if not sentences:
        raise DataFormatError("no sentences found (empty file?)", path)
    return Dataset.from_dict({"tokens": sentences, "tags": tags})


def _tag(block: Block, index: int, tag_column: TagColumn, path: str | os.PathLike) -> str:
    """The ``tag_column`` field of the block's line ``index``; a missing tag (``_``) is an error."""
    fields = block.lines[index].rstrip(" ").split("\t")
    tag = fields[CONLLU_COLUMNS[tag_column]].strip()
    if tag in ("", "_"):
        raise DataFormatError(f"token {fields[1]!r} has no {tag_column.upper()} tag", path,
                              block.first_line + index)
    return tag


def load_tagging_dataset(
    source: str | os.PathLike,
    *,
    tag_column: TagColumn = "upos",
    split: str = "train",
) -> Dataset:
    """Loads a tagging dataset from a local CoNLL-U file or a Hugging Face hub id.

    Args:
        source: A path to a ``.conllu`` file, or a hub id such as
            ``"universal_dependencies:en_ewt"`` (``id:config``) whose rows have ``tokens``
            and a ``upos`` / ``xpos`` column (ints with ClassLabel names, or strings).
        tag_column: Which tag column to use.
        split: Hub split name (ignored for local files).

    Returns:
        A dataset with ``tokens`` and ``tags`` columns.

    Raises:
        DataFormatError: a missing path (never looked up on the hub: see
            :func:`lstm_nlp.data.textfiles.is_hub_id` for the rule), a bad file (see
            :func:`read_conllu`), or a hub id that cannot be loaded (within seconds when offline:
            see :func:`lstm_nlp.data.textfiles.load_hub_dataset`).
    """
    if Path(source).exists():
        return read_conllu(source, tag_column=tag_column)
    if not is_hub_id(source):
        raise DataFormatError("file not found", source)
    return _load_hub_tagging(str(source), tag_column=tag_column, split=split)


def _load_hub_tagging(source: str, *, tag_column: str, split: str) -> Dataset:
    dataset = load_hub_dataset(source, split=split, local_hint="a local .conllu file")
    if "tokens" not in dataset.column_names or tag_column not in dataset.column_names:
        raise DataFormatError(
            f"hub dataset has columns {dataset.column_names}; expected 'tokens' and {tag_column!r}", source)
    feature = dataset.features[tag_column]
    names = getattr(getattr(feature, "feature", None), "names", None)

    def to_strings(batch: dict) -> dict:
        column = batch[tag_column]
        return {"tags": [[names[t] for t in row] if names else [str(t) for t in row] for row in column]}

    dataset = dataset.map(to_strings, batched=True, remove_columns=[c for c in dataset.column_names if c != "tokens"])
    return dataset.filter(lambda row: len(row["tokens"]) > 0)
