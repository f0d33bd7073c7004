"""Opening text files the way users have them: plain or gzip, BOM or not, CRLF or LF."""

from __future__ import annotations

import gzip
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
