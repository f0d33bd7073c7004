"""Opening text files the way users have them: plain or gzip, BOM or not, CRLF or LF."""

from __future__ import annotations

import gzip
import json
import os
from collections.abc import Iterator
from pathlib import Path

from lstm_nlp.errors import DataFormatError


def iter_lines(path: str | os.PathLike) -> Iterator[tuple[int, str]]:
    """Yields ``(line_number, line)`` with line endings and a UTF-8 BOM removed.

    ``.gz`` files are decompressed transparently. Invalid UTF-8 raises
    :class:`DataFormatError` naming the file and line.

    Args:
        path: A text file, optionally gzip-compressed.
    """
    path = Path(path)
    if not path.exists():
        raise DataFormatError("file not found", path)
    if path.is_dir():
        raise DataFormatError("expected a file, found a directory", path)
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as handle:
            for number, raw in enumerate(handle, start=1):
                if number == 1 and raw.startswith(b"\xef\xbb\xbf"):
                    raw = raw[3:]
                try:
                    line = raw.decode("utf-8")
                except UnicodeDecodeError as err:
                    raise DataFormatError(f"invalid UTF-8 at byte {err.start} of the line", path, number) from None
                yield number, line.rstrip("\r\n")
    except (OSError, EOFError) as err:  # e.g. a truncated or fake .gz file
        raise DataFormatError(f"cannot read file ({err})", path) from None


def count_text_lines(path: str | os.PathLike) -> int:
    """Checks that a text file (optionally ``.gz``) is valid UTF-8 and counts its non-blank lines.

    Readers that hand files to libraries which report encoding problems without a line number
    (or not at all: Arrow's JSON reader keeps invalid UTF-8) call this first.

    Raises:
        DataFormatError: missing file, a directory, or invalid UTF-8 (naming the line).
    """
    return sum(1 for _, line in iter_lines(path) if line.strip())


def check_json_lines(path: str | os.PathLike) -> None:
    """Checks that every non-blank line of a JSON-lines file is one JSON object.

    For error messages only (Arrow's JSON reader reports a 0-based row, not a line): call it
    after a parser has failed, to name the first bad line.

    Raises:
        DataFormatError: the first line that is not a JSON object, with the file and line.
    """
    for number, line in iter_lines(path):
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except json.JSONDecodeError as err:
            raise DataFormatError(f"invalid JSON ({err.msg} at column {err.colno}); expected one JSON object "
                                  "per line", path, number) from None
        if not isinstance(value, dict):
            raise DataFormatError(f"expected one JSON object per line, found a {type(value).__name__}",
                                  path, number)
