"""Reading bundle files without surprises: regular files of bounded size, JSON without unbounded
numbers or nesting, and one declarative type/range check per file.

Every failure is one line that names the file and, for a bad value, the field
(``bundle/config.json: config.hidden_size must be an integer in [1, 1048576], got 1e+300``).
Nothing here executes code from a file.

A schema is a ``{field: Field}`` dict. Model configs get theirs from the config dataclass
(:func:`dataclass_schema`: the field types, plus upper bounds on sizes); the other files
(a bundle's ``meta``, vocabularies) write theirs out.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import stat
import typing
from collections.abc import Mapping
from dataclasses import dataclass

from lstm_nlp.errors import BundleError

#: Largest JSON file of a bundle (config, vocabularies, tokenizer.json) that is read.
MAX_JSON_BYTES = 64 * 2**20
#: Integers in JSON with more digits are never converted (Python's int() is quadratic in them).
MAX_INT_DIGITS = 30
#: Default upper bound of an integer size in a model config (embedding_dim, hidden_size, ...).
MAX_DIM = 2**20
#: Upper bound of a vocabulary size in a model config.
MAX_VOCAB = 2**24
#: Upper bound of stacked layers in a model config.
MAX_LAYERS = 64
#: Longest list a `tuple[int, ...]` config field may hold (adaptive-softmax cutoffs).
MAX_TUPLE_ITEMS = 64
#: Largest model (parameters) a bundle's config may ask for: 8 GiB of float32 weights.
MAX_PARAMETERS = 2**31

#: What a path that is not a regular file is, for messages.
FILE_KINDS = {stat.S_IFDIR: "a directory", stat.S_IFIFO: "a FIFO (named pipe)", stat.S_IFCHR: "a character device",
               stat.S_IFBLK: "a block device", stat.S_IFSOCK: "a socket"}


class HugeNumber:
    """A JSON integer literal with more than :data:`MAX_INT_DIGITS` digits, kept unconverted."""

    def __init__(self, text: str):
        self.digits = len(text.lstrip("-"))

    def __repr__(self) -> str:
        return f"a {self.digits}-digit number"


def _int_or_marker(text: str) -> int | HugeNumber:
    return int(text) if len(text) <= MAX_INT_DIGITS else HugeNumber(text)


# ====================================================================== bounded reads
def check_regular_file(path: str | os.PathLike, *, error: type[Exception] = BundleError,
                       max_bytes: int | None = None) -> os.stat_result:
    """Checks, without opening it, that ``path`` is a regular file (a FIFO or a device would block or never end).

    Raises:
        FileNotFoundError: ``path`` does not exist (callers say what was expected there).
        error: a directory, FIFO, device or socket, or a file larger than ``max_bytes``.
    """
    info = os.stat(path)
    if not stat.S_ISREG(info.st_mode):
        kind = FILE_KINDS.get(stat.S_IFMT(info.st_mode), "not a regular file")
        raise error(f"{path}: expected a file, found {kind}")
    if max_bytes is not None and info.st_size > max_bytes:
        raise error(f"{path}: the file has {info.st_size:,} bytes, more than the {max_bytes:,} this file may have")
    return info


def read_regular_file(path: str | os.PathLike, *, max_bytes: int = MAX_JSON_BYTES,
                      error: type[Exception] = BundleError) -> bytes:
    """The bytes of a regular file of at most ``max_bytes``.

    The file is opened non-blocking and checked on the open descriptor, so a FIFO or device put
    in its place cannot hang the read or fill memory.

    Raises:
        FileNotFoundError: ``path`` does not exist.
        error: not a regular file, too large, or unreadable (the message names ``path``).
    """
    check_regular_file(path, error=error, max_bytes=max_bytes)
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        raise
    except OSError as err:
        raise error(f"{path}: cannot read the file ({err.strerror})") from None
    with open(fd, "rb") as handle:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):  # replaced between the check and the open
            raise error(f"{path}: expected a file, found {FILE_KINDS.get(stat.S_IFMT(info.st_mode), 'another kind')}")
        try:
            data = handle.read(max_bytes + 1)
        except OSError as err:
            raise error(f"{path}: cannot read the file ({err.strerror})") from None
    if len(data) > max_bytes:
        raise error(f"{path}: the file has more than the {max_bytes:,} bytes this file may have")
    return data


def parse_json(data: bytes | str, *, source: str | os.PathLike, error: type[Exception] = BundleError):
    """Parses JSON; an integer with more than :data:`MAX_INT_DIGITS` digits becomes a :class:`HugeNumber`.

    ``NaN`` / ``Infinity`` are parsed as floats: the schema check refuses them where a finite
    number belongs, naming the field.

    Raises:
        error: not UTF-8, not JSON, or nested too deeply for Python's parser (``source: not valid JSON (...)``).
    """
    try:
        text = data.decode("utf-8") if isinstance(data, bytes) else data
        return json.loads(text, parse_int=_int_or_marker)
    except UnicodeDecodeError as err:
        raise error(f"{source}: not valid JSON (not UTF-8 text: byte {err.start})") from None
    except json.JSONDecodeError as err:
        raise error(f"{source}: not valid JSON ({err})") from None
    except RecursionError:
        raise error(f"{source}: not valid JSON here (nested too deeply: arrays or objects inside each other more "
                    "than ~1000 levels)") from None


def read_json_file(path: str | os.PathLike, *, max_bytes: int = MAX_JSON_BYTES, error: type[Exception] = BundleError):
    """:func:`read_regular_file` then :func:`parse_json` (``FileNotFoundError`` passes through)."""
    return parse_json(read_regular_file(path, max_bytes=max_bytes, error=error), source=path, error=error)


# ====================================================================== schemas
_TYPE_NAMES = {int: "an integer", float: "a number", bool: "true or false", str: "a string", list: "a list",
               dict: "an object", type(None): "null"}


@dataclass(frozen=True)
class Field:
    """What one JSON field may hold.

    Attributes:
        kinds: Accepted JSON types among ``int``, ``float`` (ints are accepted too), ``bool``, ``str``,
            ``list``, ``dict`` and ``type(None)``.
        low: Smallest number allowed (inclusive).
        high: Largest number allowed (inclusive).
        choices: The strings allowed (``None``: any).
        items: Schema of each list item.
        fields: Schema of an object's fields (unknown fields are refused).
        required: The field must be present.
        max_items: Longest list allowed.
    """

    kinds: tuple[type, ...]
    low: float | None = None
    high: float | None = None
    choices: tuple[str, ...] | None = None
    items: Field | None = None
    fields: Mapping[str, Field] | None = None
    required: bool = False
    max_items: int | None = None

    def describe(self) -> str:
        parts = []
        for kind in self.kinds:
            text = _TYPE_NAMES[kind]
            if kind is str and self.choices is not None:
                text = "one of " + ", ".join(map(repr, self.choices))
            elif kind in (int, float) and (self.low is not None or self.high is not None):
                low = "-inf" if self.low is None else _number(self.low)
                high = "inf" if self.high is None else _number(self.high)
                text += f" in [{low}, {high}]"
            elif kind is float:
                text = "a finite number"
            elif kind is list and self.max_items is not None:
                text += f" of at most {self.max_items:,} items"
            parts.append(text)
        return " or ".join(parts)


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def _shown(value) -> str:
    if isinstance(value, HugeNumber):
        return repr(value)
    if isinstance(value, (list, tuple)):
        return f"a list of {len(value)}"
    if isinstance(value, dict):
        return "an object"
    text = json.dumps(value) if isinstance(value, (str, bool, type(None))) else repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _fits(value, field: Field) -> bool:
    kinds = field.kinds
    if value is None:
        return type(None) in kinds
    if isinstance(value, bool):
        return bool in kinds
    if isinstance(value, int):
        ok = int in kinds or float in kinds
    elif isinstance(value, float):
        ok = float in kinds and math.isfinite(value)
    elif isinstance(value, str):
        return str in kinds and (field.choices is None or value in field.choices)
    elif isinstance(value, list):
        return list in kinds and (field.max_items is None or len(value) <= field.max_items)
    elif isinstance(value, dict):
        return dict in kinds
    else:  # HugeNumber
        return False
    return ok and (field.low is None or value >= field.low) and (field.high is None or value <= field.high)


def check_fields(document, schema: Mapping[str, Field], *, source: str | os.PathLike, prefix: str = "",
                 error: type[Exception] = BundleError, what: str = "", allow_unknown: bool = False) -> dict:
    """Checks a JSON object against ``schema``: required fields present, no unknown field, each value fitting.

    Args:
        document: The parsed JSON value (expected to be an object).
        schema: ``{field: Field}``.
        source: The file, for messages.
        prefix: The object's place in the file, for messages (``"config."``).
        error: The exception type raised.
        what: What the object should be, for the "unknown field" message (e.g. ``"TaggerConfig"``).
        allow_unknown: Let fields outside ``schema`` through (they are ignored by the reader).

    Returns:
        ``document``, unchanged.

    Raises:
        error: ``SOURCE: PREFIXFIELD must be ..., got ...`` for the first field that does not fit.
    """
    where = prefix.rstrip(".") or "the file"
    if not isinstance(document, dict):
        raise error(f"{source}: {where} must be an object, got {_shown(document)}")
    unknown = sorted(set(document) - set(schema))
    if unknown and not allow_unknown:
        known = ", ".join(sorted(schema))
        raise error(f"{source} does not fit {what or where} (unknown field {prefix}{unknown[0]!s}; known: {known})")
    for name, field in schema.items():
        if name not in document:
            if field.required:
                raise error(f"{source}: {prefix}{name} is missing")
            continue
        check_value(document[name], field, source=source, name=f"{prefix}{name}", error=error)
    return document


def check_value(value, field: Field, *, source: str | os.PathLike, name: str,
                error: type[Exception] = BundleError) -> None:
    """Checks one value (and its items or fields) against ``field``; ``name`` is its place, for messages."""
    if not _fits(value, field):
        raise error(f"{source}: {name} must be {field.describe()}, got {_shown(value)}")
    if isinstance(value, list) and field.items is not None:
        for index, item in enumerate(value):
            check_value(item, field.items, source=source, name=f"{name}[{index}]", error=error)
    if isinstance(value, dict) and field.fields is not None:
        check_fields(value, field.fields, source=source, prefix=f"{name}.", error=error)


def dataclass_schema(cls: type, *, bounds: Mapping[str, tuple[float | None, float | None]] = ()) -> dict[str, Field]:
    """The schema of a config dataclass: each field's JSON type from its annotation.

    ``int`` fields (and each item of ``tuple[int, ...]`` fields, at most :data:`MAX_TUPLE_ITEMS`) are
    bounded to ``[0, MAX_DIM]`` unless ``bounds`` says otherwise, ``float`` fields to finite numbers,
    ``Literal[...]`` fields to their values, ``tuple[float, ...] | None`` fields (per-label vectors) to
    ``null`` or a list of at most :data:`MAX_VOCAB` finite numbers (``bounds`` applies to the items);
    fields without a default are required. The dataclass's own ``__post_init__`` still checks what the
    values mean.
    """
    hints = typing.get_type_hints(cls)
    bounds = dict(bounds)
    schema = {}
    for spec in dataclasses.fields(cls):
        hint = hints[spec.name]
        required = spec.default is dataclasses.MISSING and spec.default_factory is dataclasses.MISSING
        if typing.get_origin(hint) is typing.Literal:
            schema[spec.name] = Field((str,), choices=tuple(typing.get_args(hint)), required=required)
        elif hint is bool:
            schema[spec.name] = Field((bool,), required=required)
        elif hint is int:
            low, high = bounds.get(spec.name, (0, MAX_DIM))
            schema[spec.name] = Field((int,), low=low, high=high, required=required)
        elif hint is float:
            low, high = bounds.get(spec.name, (None, None))
            schema[spec.name] = Field((float,), low=low, high=high, required=required)
        elif hint is str:
            schema[spec.name] = Field((str,), required=required)
        elif hint == tuple[int, ...]:  # a JSON list of ints; bounds apply to each item
            low, high = bounds.get(spec.name, (0, MAX_DIM))
            schema[spec.name] = Field((list,), items=Field((int,), low=low, high=high), required=required,
                                      max_items=MAX_TUPLE_ITEMS)
        elif hint == tuple[float, ...] | None:
            low, high = bounds.get(spec.name, (None, None))
            schema[spec.name] = Field((list, type(None)), items=Field((float,), low=low, high=high),
                                      max_items=MAX_VOCAB, required=required)
        else:
            raise TypeError(f"{cls.__name__}.{spec.name}: no JSON schema for {hint!r}")
    return schema
