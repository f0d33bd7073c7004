"""Opening the files users have: plain or gzip, BOM or not, CRLF or LF; naming a file's format when
it is not the one expected; telling a local path from a Hugging Face hub id, and loading hub ids
without half a minute of retries when offline."""

from __future__ import annotations

import collections
import contextlib
import gzip
import json
import os
import re
import socket
import stat
import threading
import urllib.parse
import urllib.request
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import BinaryIO

from lstm_nlp.errors import DataFormatError
from lstm_nlp.schema import FILE_KINDS

#: Longest line a data file may have (bytes): far beyond any CoNLL token line or JSON-lines review,
#: and a bound on what one line of a file without line ends (a disk image, ``/dev/zero``) can take.
MAX_LINE_BYTES = 64 * 2**20
#: Deepest nesting of arrays/objects checked JSON data may have.
MAX_JSON_DEPTH = 100
#: Integers in JSON data with more digits are refused (no label or count needs them).
MAX_JSON_INT_DIGITS = 30
#: What a reader may do with bytes that are not UTF-8: refuse them (the default) or, on request, replace them.
ENCODING_ERRORS = ("strict", "replace")
BOM_BYTES = b"\xef\xbb\xbf"


def check_data_path(path: str | os.PathLike, *, folder_ok: bool = True) -> None:
    """Refuses a data path that exists but is neither a regular file nor (with ``folder_ok``) a folder.

    A FIFO, ``/dev/zero`` or a socket would block a reader or never end.

    Raises:
        DataFormatError: ``expected a data file or folder, found a character device``.
    """
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return  # missing: the reader's own "file not found"
    if stat.S_ISREG(mode) or (folder_ok and stat.S_ISDIR(mode)):
        return
    found = FILE_KINDS.get(stat.S_IFMT(mode), "something that is not a regular file")
    raise DataFormatError(f"expected a data file{' or folder' if folder_ok else ''}, found {found}", path)


def iter_lines(path: str | os.PathLike) -> Iterator[tuple[int, str]]:
    """Yields ``(line_number, line)`` with line endings and a UTF-8 BOM removed.

    ``.gz`` files are decompressed transparently. Only regular files are read, and lines of at
    most :data:`MAX_LINE_BYTES`.

    Args:
        path: A text file, optionally gzip-compressed.

    Raises:
        DataFormatError: a missing file, a folder, FIFO or device, invalid UTF-8 or a line over
            :data:`MAX_LINE_BYTES` (naming the file and line).
    """
    path = Path(path)
    if not path.exists():
        raise DataFormatError("file not found", path)
    if path.is_dir():
        raise DataFormatError("expected a file, found a directory", path)
    check_data_path(path, folder_ok=False)
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as handle:
            for number, raw in enumerate(iter(lambda: handle.readline(MAX_LINE_BYTES + 1), b""), start=1):
                if len(raw) > MAX_LINE_BYTES:
                    raise DataFormatError(f"the line is longer than {MAX_LINE_BYTES:,} bytes; is this a text file?",
                                          path, number)
                if number == 1 and raw.startswith(BOM_BYTES):
                    raw = raw[3:]
                yield number, decode_line(raw, path, number).rstrip("\r\n")
    except (OSError, EOFError) as err:  # e.g. a truncated or fake .gz file
        raise DataFormatError(f"cannot read file ({err})", path) from None


def decode_line(raw: bytes, path: str | os.PathLike, number: int, *, errors: str = "strict") -> str:
    """One line's bytes as text: the rule of every reader (data files, ``lstm-nlp predict`` input).

    Args:
        raw: The line's bytes.
        path: What the error names as the file (a path, ``stdin``).
        number: The 1-based line number.
        errors: ``"strict"`` (the default everywhere) or ``"replace"`` (U+FFFD for each bad byte;
            only on request, ``lstm-nlp predict --encoding-errors replace``).

    Raises:
        DataFormatError: ``PATH:LINE: invalid UTF-8 at byte N of the line`` (N counted from 0).
    """
    try:
        return raw.decode("utf-8", errors)
    except UnicodeDecodeError as err:
        raise DataFormatError(f"invalid UTF-8 at byte {err.start} of the line", path, number) from None


def invalid_utf8(path: str | os.PathLike, data: bytes, err: UnicodeDecodeError) -> DataFormatError:
    """The error of a whole file's ``data`` that failed to decode: names the line and the byte in it,
    as :func:`decode_line` does for a line."""
    line_start = data.rfind(b"\n", 0, err.start) + 1
    return DataFormatError(f"invalid UTF-8 at byte {err.start - line_start} of the line", path,
                           data.count(b"\n", 0, err.start) + 1)


class Utf8Lines:
    """A text stream over a binary one that decodes each line by itself (:func:`decode_line`), so that
    invalid UTF-8 stops the reader naming the line and the byte, as the data-file readers do.

    It has what the prediction readers use of a text stream: ``readline(limit)`` (``limit`` in
    characters, as for a text stream), iteration, ``name``, ``close()`` and ``detach()``. Lines end
    at ``\\n`` only; a UTF-8 byte-order mark at the start is dropped.

    Args:
        binary: The byte stream (a file opened ``"rb"``, ``sys.stdin.buffer``).
        name: What errors call the input (its path, ``stdin``).
        errors: ``"strict"`` or ``"replace"`` (see :func:`decode_line`).
    """

    def __init__(self, binary: BinaryIO, name: str, *, errors: str = "strict"):
        if errors not in ENCODING_ERRORS:
            raise DataFormatError(f"errors must be one of {', '.join(ENCODING_ERRORS)}, got {errors!r}")
        self._binary, self.name, self._errors = binary, name, errors
        self._number = 0

    def tell(self) -> int:
        """Bytes of the underlying stream read so far (for a progress bar)."""
        return self._binary.tell()

    def readline(self, limit: int = -1) -> str:
        """The next line with its ``\\n`` ('' at the end); at most ``limit`` characters of a longer line."""
        # A character is at most 4 bytes: a line cut at this bound has more than `limit` characters.
        bound = 4 * limit + 4 if limit is not None and limit >= 0 else -1
        raw = self._binary.readline(bound)
        if not raw:
            return ""
        self._number += 1
        if self._number == 1 and raw.startswith(BOM_BYTES):
            raw = raw[3:]
        if bound >= 0 and len(raw) >= bound and not raw.endswith(b"\n"):
            return raw.decode("utf-8", "replace")[:limit]  # too long: the caller refuses it by its length
        return decode_line(raw, self.name, self._number, errors=self._errors)

    def __iter__(self) -> Iterator[str]:
        return iter(self.readline, "")

    def close(self) -> None:
        self._binary.close()

    def detach(self) -> BinaryIO:
        """Leaves the binary stream open (``sys.stdin.buffer``) and returns it."""
        return self._binary


def count_text_lines(path: str | os.PathLike) -> int:
    """Checks that a text file (optionally ``.gz``) is valid UTF-8 and counts its non-blank lines.

    Readers that hand files to libraries which report encoding problems without a line number
    (or not at all: Arrow's JSON reader keeps invalid UTF-8) call this first.

    Raises:
        DataFormatError: missing file, a directory, or invalid UTF-8 (naming the line).
    """
    return sum(1 for _, line in iter_lines(path) if line.strip())


def parse_json_value(text: str | bytes):
    """Parses JSON data, refusing what no data file needs and Python parses badly.

    Raises:
        ValueError: not JSON (``json.JSONDecodeError``), nesting deeper than :data:`MAX_JSON_DEPTH`, or an
            integer with more than :data:`MAX_JSON_INT_DIGITS` digits (Python's ``int()`` is quadratic in them).
    """
    def bounded_int(digits: str) -> int:
        if len(digits.lstrip("-")) > MAX_JSON_INT_DIGITS:
            raise ValueError(f"a number with {len(digits.lstrip('-')):,} digits (at most {MAX_JSON_INT_DIGITS})")
        return int(digits)

    try:
        value = json.loads(text, parse_int=bounded_int)
    except RecursionError:
        raise ValueError(f"nested too deeply (more than {MAX_JSON_DEPTH} levels of arrays or objects)") from None
    if _depth(value) > MAX_JSON_DEPTH:
        raise ValueError(f"nested too deeply (more than {MAX_JSON_DEPTH} levels of arrays or objects)")
    return value


def _depth(value) -> int:
    """Nesting depth of a parsed JSON value (a scalar: 0), iteratively."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, (list, dict)):
            deepest = max(deepest, depth)
            if depth > MAX_JSON_DEPTH:
                return depth
            stack.extend((child, depth + 1) for child in (item.values() if isinstance(item, dict) else item))
    return deepest


def check_json_lines(path: str | os.PathLike) -> None:
    """Checks that every non-blank line of a JSON-lines file is one JSON object.

    Also refuses what Python's and Arrow's readers handle badly: nesting deeper than
    :data:`MAX_JSON_DEPTH` and integers with more than :data:`MAX_JSON_INT_DIGITS` digits.

    Raises:
        DataFormatError: the first line that is not a JSON object, with the file and line.
    """
    for number, line in iter_lines(path):
        if not line.strip():
            continue
        try:
            value = parse_json_value(line)
        except json.JSONDecodeError as err:
            raise DataFormatError(f"invalid JSON ({err.msg} at column {err.colno}); expected one JSON object "
                                  "per line", path, number) from None
        except ValueError as err:
            raise DataFormatError(f"JSON that cannot be data: {err}", path, number) from None
        if not isinstance(value, dict):
            raise DataFormatError(f"expected one JSON object per line, found a {type(value).__name__}",
                                  path, number)


# ====================================================================== what a file looks like
_BINARY_MAGIC = ((b"PAR1", "a Parquet file"), (b"PK\x03\x04", "a zip archive"), (b"\x1f\x8b", "a gzip file"),
                 (b"ARROW1", "an Arrow file"), (b"\x89HDF", "an HDF5 file"), (b"\x80", "a Python pickle"))


def sniff_format(path: str | os.PathLike) -> str | None:
    """Names the format a file's start clearly shows, for "this is not the format expected" errors.

    Looks at the first 64 KiB (decompressed for ``.gz``) only, and names a format only when the
    evidence is unambiguous, so that a reader can call it before parsing:

    * binary data (a NUL byte or invalid UTF-8, with the magic bytes of Parquet, zip, gzip
      without ``.gz``, Arrow, HDF5, pickle; also under a ``.gz`` name): ``"a Parquet file"``,
      ..., or ``"binary data"`` for other data with NUL bytes;
    * the first non-blank line is a JSON object or array (``{...}`` / ``[...]``, or a lone ``{``
      or ``[``): ``"JSON lines"`` or ``"JSON"``.

    Args:
        path: An existing file.

    Returns:
        A short description such as ``"JSON lines"``, or ``None`` when nothing is clear.
    """
    path = Path(path)
    try:
        with open(path, "rb") as handle:
            head = handle.read(65536)
        if path.suffix == ".gz" and head.startswith(b"\x1f\x8b"):
            with gzip.open(path, "rb") as handle:
                head = handle.read(65536)
    except (OSError, EOFError):
        return None  # iter_lines reports unreadable files with their own message
    try:
        head.decode("utf-8")
        text = True
    except UnicodeDecodeError as err:
        text = err.start >= len(head) - 3  # a character cut by the 64 KiB limit
    if b"\x00" in head or not text:  # binary (latin-1 text, with no NUL, is left to iter_lines' message)
        for magic, name in _BINARY_MAGIC:
            if head.startswith(magic):
                return name
        if b"\x00" in head:
            return "binary data"
    first = next((line.strip() for line in head.decode("utf-8", "replace").splitlines() if line.strip()), "")
    return _json_kind(first)


def _json_kind(first: str) -> str | None:
    """``"JSON lines"`` / ``"JSON"`` when a file's first non-blank line is a JSON object / array (or a lone
    ``{`` / ``[``), else ``None``."""
    first = first.lstrip("\ufeff").strip()
    if first in ("{", "["):
        return "JSON"
    if first.startswith(("{", "[")):
        try:
            value = json.loads(first, parse_int=str)  # no int(): a 5000-digit number stays cheap
        except (ValueError, RecursionError):
            return None
        if isinstance(value, dict):
            return "JSON lines"
        if isinstance(value, list):
            return "JSON"
    return None


#: The kinds of input :func:`sniff_lines` tells apart, as errors name them.
INPUT_KINDS = {"conllu": "CoNLL-U (10 tab-separated columns, one token a line)",
               "conll": "CoNLL columns (whitespace-separated columns, one token a line)",
               "jsonl": "JSON lines", "json": "JSON", "text": "plain text (one sentence a line)"}
#: Lines :func:`sniff_lines` is given: the start of a file or of stdin.
SNIFF_LINES = 200
_CONLLU_ID = re.compile(r"[0-9]+(-[0-9]+|\.[0-9]+)?")


def sniff_lines(lines: Sequence[str]) -> str | None:
    """What the first lines of an input look like: the one format sniffing of ``lstm-nlp predict`` and of
    the CoNLL readers (``evaluate``, the recipes).

    Returns a key of :data:`INPUT_KINDS`, or ``None`` when the lines do not say clearly (too few, or
    nothing typical), so that only clear cases are refused:

    * ``"jsonl"`` / ``"json"``: the first non-blank line is a JSON object / array;
    * ``"conllu"``: 80% of the lines that are not ``#`` comments have 10 tab-separated fields and
      a CoNLL-U id (``3``, ``3-4``, ``5.1``) first;
    * ``"conll"``: 90% of at least 3 lines have the same number (2 or more) of whitespace-separated
      columns, and blank lines cut them into sentences of several lines;
    * ``"text"``: at least 5 lines, and no column count shared by 80% of them.

    Args:
        lines: The first lines (at most :data:`SNIFF_LINES` are looked at), with or without line ends.
    """
    lines = [line.rstrip("\r\n") for line in lines[:SNIFF_LINES]]
    rows = [line for line in lines if line.strip()]
    if not rows:
        return None
    json_kind = _json_kind(rows[0])
    if json_kind is not None:
        return "jsonl" if json_kind == "JSON lines" else "json"
    tokens = [row for row in rows if not row.lstrip("\ufeff").startswith("#")]
    if not tokens:
        return None
    if sum(_is_conllu_row(row) for row in tokens) >= 0.8 * len(tokens):
        return "conllu"
    common, share = collections.Counter(len(row.split()) for row in tokens).most_common(1)[0]
    if common >= 2 and len(tokens) >= 3 and share >= 0.9 * len(tokens) and _sentence_blocks(lines):
        return "conll"
    if len(tokens) >= 5 and share < 0.8 * len(tokens):
        return "text"
    return None


def _is_conllu_row(line: str) -> bool:
    fields = line.split("\t")
    return len(fields) == 10 and bool(_CONLLU_ID.fullmatch(fields[0].lstrip("\ufeff")))


def _sentence_blocks(lines: Sequence[str]) -> bool:
    """Whether blank lines cut ``lines`` into blocks of two or more lines on average (sentences, not paragraphs)."""
    blocks = [block for block in "\n".join(lines).split("\n\n") if block.strip()]
    blank = any(not line.strip() for line in lines)
    return blank and sum(block.strip("\n").count("\n") + 1 for block in blocks) >= 2 * len(blocks)


def sniff_file(path: str | os.PathLike) -> str | None:
    """:func:`sniff_lines` of a file's first lines (``None`` for a file that cannot be read as text)."""
    lines = []
    try:
        for _, line in iter_lines(path):
            lines.append(line)
            if len(lines) >= SNIFF_LINES:
                break
    except DataFormatError:
        return None  # the reader reports it with its own message
    return sniff_lines(lines)


def input_kind_problem(kind: str | None, input_format: str, source: str, *, tagger: bool = True) -> str | None:
    """Why input that looks like ``kind`` (:func:`sniff_lines`) is not ``--input-format input_format``
    (``text``, ``tokens``, ``conll``, ``conllu``), or ``None`` when it may be.

    The check ``lstm-nlp predict`` makes before predicting, so that a CoNLL-U file read as ``conll``
    (comment lines tagged as tokens) or JSON read as text stops with what the input looks like.
    ``tagger=False``: a model that reads only text lines (a text classifier).
    """
    read_as = "text" if input_format == "tokens" else input_format
    if kind is None or kind == read_as:
        return None
    if not tagger:
        return (f"{source} looks like {INPUT_KINDS[kind]}; this model reads one text a line (plain text, not JSON "
                "or CoNLL)")
    advice = {"conllu": "give --input-format conllu", "conll": "give --input-format conll",
              "text": "give --input-format text (or tokens)",
              "jsonl": "predict reads text lines, CoNLL or CoNLL-U: write one sentence a line (--input-format "
                       "text or tokens)", "json": "predict reads text lines, CoNLL or CoNLL-U: write one sentence "
                                                 "a line (--input-format text or tokens)"}[kind]
    return f"{source} looks like {INPUT_KINDS[kind]}, not --input-format {input_format}; {advice}"


def sniff_table(path: str | os.PathLike, *, width: int) -> str | None:
    """Explains a column-count mismatch when the file as a whole is not a column file.

    Called by the CoNLL readers when a line's column count differs from the expected ``width``.
    Looks at the first 1,000 non-blank, non-comment lines (``#``) and answers:

    * ``"CSV/TSV with a header row (text, label)"`` when the first line is a header (2 to 20
      comma- or tab-separated names, no field with a space) and the next line has as many
      separators;
    * ``"a column file with 4 columns on most lines, not 10"`` when 80% of at least 5 lines
      share another whitespace-separated column count;
    * ``"plain text (N of M lines do not have W columns)"`` when more than half of the lines
      have a different whitespace-separated column count (with at least 5 lines to judge),

    else ``None`` (a column file with a few bad lines: the caller reports the line).

    Args:
        path: An existing file.
        width: The expected number of whitespace-separated columns.
    """
    lines = []
    for _, line in iter_lines(path):
        if line.strip() and not line.startswith("#"):
            lines.append(line)
            if len(lines) >= 1000:
                break
    if not lines:
        return None
    first = lines[0].strip()
    for separator in (",", "\t"):
        names = [name.strip().strip('"') for name in first.split(separator)]
        if 2 <= len(names) <= 20 and all(name and " " not in name and name[0].isalpha() for name in names):
            if len(lines) > 1 and lines[1].count(separator) >= len(names) - 1:
                return f"CSV/TSV with a header row ({', '.join(names)})"
    if len(lines) < 5:
        return None  # too few lines to judge the file: the caller reports the line
    counts = collections.Counter(len(line.split()) for line in lines)
    common, share = counts.most_common(1)[0]
    if common != width and common >= 2 and share >= 0.8 * len(lines):
        return f"a column file with {common} columns on most lines, not {width}"
    other = len(lines) - counts[width]
    if other * 2 > len(lines):
        return f"plain text ({other} of {len(lines)} lines do not have {width} columns)"
    return None


# ====================================================================== local path or hub id
_DATA_SUFFIXES = {".txt", ".tsv", ".csv", ".json", ".jsonl", ".conll", ".conllu", ".parquet", ".arrow", ".gz",
                  ".bz2", ".xz", ".zip", ".zst", ".iob", ".bio", ".tok"}
_HUB_ID = re.compile(r"[A-Za-z0-9][\w.-]*(/[A-Za-z0-9][\w.-]*)?(:[\w.-]+)?")
_TRUE = {"1", "ON", "YES", "TRUE"}


def is_hub_id(source: str | os.PathLike) -> bool:
    """Tells a Hugging Face hub id from a local path that does not exist (yet).

    The rule: ``source`` is a hub id only when it does not exist locally and

    * has the hub's shape: ``name`` or ``owner/name``, optionally ``:config``, made of letters,
      digits, ``_``, ``-`` and ``.`` (so no second ``/``, no ``\\``, no space, no leading ``.``,
      ``/`` or ``~``);
    * does not end in a data-file suffix (``.txt``, ``.tsv``, ``.csv``, ``.json``, ``.jsonl``,
      ``.conll``, ``.conllu``, ``.parquet``, ``.arrow``, ``.gz``, ``.zip``, ...);
    * and, for ``owner/name``, ``owner`` is not an existing local folder.

    Anything else is a path, so a mistyped file name is reported as a missing file, never
    looked up on the hub. Examples: ``stanfordnlp/imdb``, ``conll2003`` and
    ``universal_dependencies:en_ewt`` are hub ids; ``missing.tsv``, ``./imdb``, ``data/x/y``
    and ``~/imdb`` are paths.
    """
    text = os.fspath(source)
    if os.path.exists(text) or not _HUB_ID.fullmatch(text):
        return False
    name = text.partition(":")[0]
    if Path(name).suffix.lower() in _DATA_SUFFIXES:
        return False
    owner = name.partition("/")[0]
    return "/" not in name or not Path(owner).is_dir()


def hub_offline() -> bool:
    """Whether offline mode is on: ``HF_HUB_OFFLINE`` / ``HF_DATASETS_OFFLINE`` / ``TRANSFORMERS_OFFLINE``
    in the environment now, or ``huggingface_hub.constants.HF_HUB_OFFLINE`` / ``datasets.config.HF_HUB_OFFLINE``."""
    if any(os.environ.get(name, "").upper() in _TRUE
           for name in ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE", "TRANSFORMERS_OFFLINE")):
        return True
    from datasets import config
    from huggingface_hub import constants

    return bool(constants.HF_HUB_OFFLINE or config.HF_HUB_OFFLINE)


def hub_unreachable(timeout: float = 2.5) -> str | None:
    """One quick check that the hub endpoint (or the HTTPS proxy) accepts a TCP connection.

    Name resolution and connecting run in a daemon thread, so a hanging DNS lookup also
    counts against ``timeout``.

    Returns:
        ``None`` when it is reachable, else why not (e.g. ``"huggingface.co:443: timed out"``).
    """
    from huggingface_hub import constants

    url = urllib.parse.urlsplit(constants.ENDPOINT)
    proxy = urllib.request.getproxies().get(url.scheme)
    if proxy and not urllib.request.proxy_bypass(url.hostname or ""):
        url = urllib.parse.urlsplit(proxy if "://" in proxy else f"http://{proxy}")
    address = (url.hostname or "", url.port or (443 if url.scheme == "https" else 80))
    outcome: list[str | None] = []

    def connect() -> None:
        try:
            socket.create_connection(address, timeout=timeout).close()
            outcome.append(None)
        except OSError as err:
            outcome.append(str(err) or type(err).__name__)

    worker = threading.Thread(target=connect, daemon=True)
    worker.start()
    worker.join(timeout)
    reason = outcome[0] if outcome else "timed out"
    return None if reason is None else f"{address[0]}:{address[1]}: {reason}"


@contextlib.contextmanager
def _offline_mode() -> Iterator[None]:
    from datasets import config
    from huggingface_hub import constants

    saved = constants.HF_HUB_OFFLINE, config.HF_HUB_OFFLINE
    constants.HF_HUB_OFFLINE = config.HF_HUB_OFFLINE = True
    try:
        yield
    finally:
        constants.HF_HUB_OFFLINE, config.HF_HUB_OFFLINE = saved


def load_hub_dataset(source: str, *, split: str, cache_dir: str | None = None, local_hint: str):
    """``datasets.load_dataset`` for a hub id, failing within seconds when the hub cannot be reached.

    Offline mode (see :func:`hub_offline`) or a failed :func:`hub_unreachable` check loads in
    ``datasets``' offline mode, from the local cache only, instead of retrying the network for
    half a minute.

    Args:
        source: The hub id: ``owner/name`` or ``name``, optionally with ``:config``.
        split: The split to load.
        cache_dir: ``datasets``' cache folder (default: its own).
        local_hint: What to pass instead, for the error message (e.g. ``"a local .conllu file"``).

    Returns:
        The ``datasets.Dataset``.

    Raises:
        DataFormatError: ``not a local file or folder, and loading it as a Hugging Face hub dataset
            (split 'train') failed (...); offline, pass ...``, naming why the hub was not tried.
    """
    from datasets import load_dataset

    offline = "offline mode is on (HF_HUB_OFFLINE)" if hub_offline() else None
    if offline is None:
        unreachable = hub_unreachable()
        offline = None if unreachable is None else f"the hub is not reachable: {unreachable}"
    try:
        with _offline_mode() if offline else contextlib.nullcontext():
            path, _, name = source.partition(":")
            return load_dataset(path, **({"name": name} if name else {}), split=split, cache_dir=cache_dir)
    except Exception as err:  # ConnectionError, LocalEntryNotFoundError, DatasetNotFoundError, ...
        where = f"; {offline}, and the dataset is not in the local cache" if offline else ""
        raise DataFormatError(
            f"not a local file or folder, and loading it as a Hugging Face hub dataset (split {split!r}) "
            f"failed ({type(err).__name__}: {err}){where}; offline, pass {local_hint}", source) from None
