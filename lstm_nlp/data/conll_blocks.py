"""CoNLL and CoNLL-U sentences as blocks of lines, for tagging a file and writing it back.

Where the readers (:mod:`lstm_nlp.data.conll`, :mod:`lstm_nlp.data.conllu`) turn a labelled file
into a dataset, this module keeps every line of each sentence as it was, so that predictions can
be written into the same file format: the tag goes into one column (CoNLL-U: UPOS or XPOS) or is
added as a last column (CoNLL: ``token ... predicted``, what ``conlleval`` reads), and every
other byte stays as it was. Streams of any length are read one sentence at a time.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

from lstm_nlp.errors import DataFormatError

CONLLU_COLUMNS = {"upos": 3, "xpos": 4}
_WORD_ID = re.compile(r"[1-9][0-9]*")
_SKIPPED_ID = re.compile(r"[1-9][0-9]*-[1-9][0-9]*|[0-9]+\.[1-9][0-9]*")  # multiword token 3-4, empty node 5.1


@dataclass
class Block:
    """One sentence: its lines (without line ends) and which of them are tokens.

    Attributes:
        lines: Every line of the sentence (comments, multiword lines and ``-DOCSTART-`` included).
        token_lines: Indices into ``lines`` of the token lines, in order.
        tokens: The word of each token line.
        first_line: 1-based line number of ``lines[0]`` in the input (for error messages).
    """

    lines: list[str]
    token_lines: list[int]
    tokens: list[str]
    first_line: int


def read_blocks(lines: Iterable[str], *, kind: str, token_column: int = 0, source: str = "input") -> Iterator[Block]:
    """Splits a stream of lines (ends stripped) into sentence blocks at blank lines.

    Args:
        lines: The input, one line per item (``\\n`` / ``\\r\\n`` already removed).
        kind: ``"conllu"`` (tab-separated, 10 columns; comments, ``3-4`` and ``5.1`` lines kept but
            not tagged) or ``"conll"`` (whitespace columns; ``-DOCSTART-`` lines kept, not tagged).
        token_column: The word column of CoNLL files.
        source: What errors name as the file (its path, ``stdin``).

    Raises:
        DataFormatError: a token line with the wrong number of columns or a bad CoNLL-U id
            (named by its line number).
    """
    if kind not in ("conll", "conllu"):
        raise DataFormatError(f"kind must be 'conll' or 'conllu', got {kind!r}")
    block = Block([], [], [], 1)
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            if block.lines:
                yield block
            block = Block([], [], [], number + 1)
            continue
        if not block.lines:
            block.first_line = number
        block.lines.append(line)
        where = (source, number)
        word = _conllu_word(line, where) if kind == "conllu" else _conll_word(line, where, token_column)
        if word is not None:
            block.token_lines.append(len(block.lines) - 1)
            block.tokens.append(word)
    if block.lines:
        yield block


class ColumnCountError(DataFormatError):
    """A CoNLL-U token line without 10 tab-separated columns (a reader of a named file may then say what
    the file looks like instead: :func:`lstm_nlp.data.textfiles.sniff_table`)."""


def conllu_fields(line: str, where: tuple[str, int]) -> list[str] | None:
    """The 10 fields of a CoNLL-U word line; ``None`` for a comment, a multiword-token line (``3-4``) or
    an empty node (``5.1``).

    Raises:
        ColumnCountError: not 10 tab-separated columns (trailing spaces are ignored).
        DataFormatError: an id that is none of the above; both name ``where`` (file, line).
    """
    if line.startswith("#"):
        return None
    fields = line.rstrip(" ").split("\t")
    if len(fields) != 10:
        hint = "; the columns look space-separated, CoNLL-U needs tabs" if len(line.split()) >= 10 else ""
        raise ColumnCountError(f"expected 10 tab-separated CoNLL-U columns, found {len(fields)}{hint}: "
                               f"{line[:80]!r}", *where)
    if _WORD_ID.fullmatch(fields[0]):
        return fields
    if _SKIPPED_ID.fullmatch(fields[0]):
        return None
    raise DataFormatError(f"token id must be a positive integer (or a range 3-4 for a multiword token, a decimal "
                          f"5.1 for an empty node), got {fields[0]!r}", *where)


def _conllu_word(line: str, where: tuple[str, int]) -> str | None:
    fields = conllu_fields(line, where)
    return None if fields is None else fields[1]


def _conll_word(line: str, where: tuple[str, int], token_column: int) -> str | None:
    columns = line.split()
    if columns[0] == "-DOCSTART-":
        return None
    try:
        return columns[token_column]
    except IndexError:
        raise DataFormatError(f"no column {token_column} on this line ({len(columns)} columns)",
                              *where) from None


def write_block(block: Block, tags: Sequence[str], *, kind: str, column: str = "upos") -> str:
    """The sentence with its predicted tags, as text (lines joined by ``\\n``, no trailing blank line).

    Args:
        block: A sentence from :func:`read_blocks`.
        tags: One tag per token line.
        kind: ``"conllu"``: the tag replaces the ``column`` field (``"upos"`` or ``"xpos"``) of each
            token line; ``"conll"``: the tag is added as a last column, separated as the line's
            columns are (a tab if the line has one, else a space), and ``-DOCSTART-`` lines get
            ``O`` there, so that every line keeps the same number of columns (as conlleval writes).
        column: The CoNLL-U field that receives the tag.
    """
    if len(tags) != len(block.token_lines):
        raise ValueError(f"{len(tags)} tags for {len(block.token_lines)} tokens")
    lines = list(block.lines)
    if kind == "conll":
        tags = list(tags) + ["O"] * (len(lines) - len(block.token_lines))
        indices = block.token_lines + [i for i in range(len(lines)) if i not in set(block.token_lines)]
    else:
        indices = block.token_lines
    for index, tag in zip(indices, tags):
        if kind == "conllu":
            fields = lines[index].split("\t")
            fields[CONLLU_COLUMNS[column]] = tag
            lines[index] = "\t".join(fields)
        else:
            line = lines[index].rstrip()
            lines[index] = f"{line}{chr(9) if chr(9) in line else ' '}{tag}"
    return "\n".join(lines)
