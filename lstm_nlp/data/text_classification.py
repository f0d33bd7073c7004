"""Text classification data: readers, a validation split, and cached tokenization / numericalization.

This replaces torchtext.legacy's ``datasets.IMDB.splits`` + ``Field(tokenize='spacy')`` +
``build_vocab``. Every reader returns a ``datasets.Dataset`` with two columns:

* ``text``: ``str``, never empty;
* ``label``: ``str`` (integer labels are mapped through ``label_names`` or written as digits).

Sources: the original ``aclImdb/`` folder layout, JSON lines / CSV / parquet files with ``text``
and ``label`` columns (read with ``Dataset.from_json`` / ``from_csv`` / ``from_parquet``, which
cache Arrow files), or a Hugging Face hub id such as ``stanfordnlp/imdb``.

Tokenizing and numericalizing go through ``Dataset.map`` with a fingerprint made of the input's
fingerprint and the tokenizer / vocabulary settings, so a second run reads the Arrow cache
instead of redoing the work: next to the source's own cache files when it has some, else under
``cache_dir`` when one is given (else in memory, uncached).
"""

from __future__ import annotations

import hashlib
import json
import os
import random
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from datasets import ClassLabel, Dataset

from lstm_nlp.data.textfiles import (
    BOM_BYTES,
    check_data_path,
    check_json_lines,
    count_text_lines,
    invalid_utf8,
    is_hub_id,
    load_hub_dataset,
    parse_json_value,
)
from lstm_nlp.data.tokenizers import TextTokenizer
from lstm_nlp.data.vocab import PAD, UNK, Vocab
from lstm_nlp.errors import ConfigError, DataFormatError
from lstm_nlp.outputs import output_dir_problem

_FORMATS = {".jsonl": "json", ".json": "json", ".csv": "csv", ".tsv": "csv", ".parquet": "parquet"}
_CACHE_VERSION = "1"  # bump when the cached columns change meaning


# ====================================================================== readers
def read_aclimdb(path: str | os.PathLike, *, split: str = "train") -> Dataset:
    """Reads the original ``aclImdb`` layout: ``{split}/{label}/*.txt``, one review per file.

    ``path`` may be the ``aclImdb`` root (then ``split`` picks ``train`` or ``test``) or a split
    folder itself. Each sub-folder holding ``.txt`` files is a label (``pos``, ``neg``); ``unsup``
    (unlabelled reviews) is ignored. Files are read in sorted order.

    Raises:
        DataFormatError: no reviews found, an unreadable or empty review file.
    """
    root = Path(path)
    folder = root / split if (root / split).is_dir() else root
    texts: list[str] = []
    labels: list[str] = []
    for label_dir in sorted(p for p in folder.iterdir() if p.is_dir() and p.name != "unsup"):
        for file in sorted(label_dir.glob("*.txt")):
            data = file.read_bytes().removeprefix(BOM_BYTES)  # a BOM some editors write
            try:
                text = data.decode("utf-8").replace("\r\n", "\n").replace("\r", "\n")  # as read_text() does
            except UnicodeDecodeError as err:
                raise invalid_utf8(file, data, err) from None
            if not text.strip():
                raise DataFormatError("empty review", file)
            texts.append(text)
            labels.append(label_dir.name)
    if not texts:
        raise DataFormatError(
            f"no reviews found: expected the aclImdb layout {split}/pos/*.txt and {split}/neg/*.txt "
            "(or pos/*.txt, neg/*.txt) under this folder", folder)
    return Dataset.from_dict({"text": texts, "label": labels})


def load_text_classification(
    source: str | os.PathLike,
    *,
    split: str = "train",
    label_names: Sequence[str] | None = None,
    text_column: str = "text",
    label_column: str = "label",
    cache_dir: str | os.PathLike | None = None,
) -> Dataset:
    """Loads labelled texts from a local folder or file, or from the Hugging Face hub.

    Args:
        source: An ``aclImdb`` folder, a ``.jsonl``/``.json``/``.csv``/``.tsv``/``.parquet`` file
            (optionally ``.gz``), or a hub id (``stanfordnlp/imdb``) when no such path exists.
            A missing path is an error, never a hub lookup: see
            :func:`lstm_nlp.data.textfiles.is_hub_id` for the rule (``missing.tsv``, ``./imdb``
            and ``a/b/c`` are paths). Offline, a hub id fails within seconds (see
            :func:`lstm_nlp.data.textfiles.load_hub_dataset`) unless it is in the local cache.
        split: ``aclImdb`` sub-folder or hub split.
        label_names: Names of integer labels (``label_names[i]`` for ``i``), e.g. ``("neg", "pos")``
            for IMDB's 0/1. Hub ``ClassLabel`` columns carry their own names. Without names,
            integers become their decimal strings.
        text_column: Column holding the text (renamed to ``text``).
        label_column: Column holding the label (renamed to ``label``).
        cache_dir: Where ``datasets`` keeps its Arrow caches (default: its own cache folder).

    Returns:
        A dataset with exactly the columns ``text`` (str) and ``label`` (str).

    Raises:
        DataFormatError: missing file or column, unknown format, an empty or null text, a null
            label, an integer label outside ``label_names``, a hub id that cannot be loaded.
    """
    path = Path(source)
    check_data_path(path)  # a FIFO or a device (/dev/zero) would block the reader or never end
    if path.is_dir():
        return read_aclimdb(path, split=split)
    problem = None if cache_dir is None else output_dir_problem(cache_dir, option="cache_dir", what="cache folder")
    if problem is not None:  # before datasets writes there and its error is taken for the data file's
        raise ConfigError(problem)
    cache = None if cache_dir is None else str(Path(cache_dir).expanduser() / "datasets")
    if path.is_file():
        dataset = _read_file(path, cache)
    elif is_hub_id(source):
        dataset = load_hub_dataset(str(source), split=split, cache_dir=cache,
                                   local_hint="a local aclImdb folder or jsonl/csv/parquet file")
    else:
        raise DataFormatError("file not found", source)
    return _normalize(dataset, source, text_column, label_column, label_names)


def _read_file(path: Path, cache_dir: str | None) -> Dataset:
    suffix = path.suffixes[-2] if path.suffix == ".gz" and len(path.suffixes) > 1 else path.suffix
    kind = _FORMATS.get(suffix.lower())
    if kind is None:
        raise DataFormatError(f"unknown file type {suffix!r}; expected one of {sorted(_FORMATS)}", path)
    if kind != "parquet":  # Arrow's readers give no line for bad UTF-8 (JSON even keeps it) or an empty file
        lines = count_text_lines(path)
        if lines <= (kind == "csv"):
            raise DataFormatError("no examples found (empty file?)" if not lines else
                                  "no examples found (only a header row)", path)
    if kind == "json":
        # Validated in Python first: pyarrow's JSON reader can crash the process (segfault) on
        # malformed input instead of raising (seen with random bytes in tests/reliability).
        _check_json_file(path)
    try:
        if kind == "json":
            return Dataset.from_json(str(path), cache_dir=cache_dir)
        if kind == "csv":
            return Dataset.from_csv(str(path), cache_dir=cache_dir, sep="\t" if suffix == ".tsv" else ",")
        return Dataset.from_parquet(str(path), cache_dir=cache_dir)
    except Exception as err:  # the builders raise many types (ArrowInvalid, DatasetGenerationError, ...)
        cause = err.__cause__ or err
        if suffix.lower() == ".jsonl":
            check_json_lines(path)  # names the first bad line, if a line is to blame
        raise DataFormatError(f"cannot read as {kind} ({type(cause).__name__}: {cause})", path) from None


def _check_json_file(path: Path) -> None:
    """A JSON array of objects or JSON lines (one object per line); else DataFormatError with the line."""
    if path.suffix.lower() == ".json":
        try:
            value = parse_json_value(path.read_bytes())
        except (json.JSONDecodeError, UnicodeDecodeError):
            value = None  # maybe JSON lines under a .json name: checked line by line below
        except ValueError as err:  # valid JSON, but nested too deeply or with a huge number
            raise DataFormatError(f"JSON that cannot be data: {err}", path) from None
        if isinstance(value, list):
            if not all(isinstance(row, dict) for row in value):
                raise DataFormatError("expected a JSON array of objects (or one JSON object per line)", path)
            return
        if isinstance(value, dict):
            return
    check_json_lines(path)


def _normalize(dataset: Dataset, source, text_column: str, label_column: str,
               label_names: Sequence[str] | None) -> Dataset:
    columns = dataset.column_names
    for wanted, role in ((text_column, "text"), (label_column, "label")):
        if wanted not in columns:
            raise DataFormatError(f"no {role} column {wanted!r}; the columns are {columns}", source)
    if text_column == label_column:
        raise ConfigError(f"text_column and label_column are both {text_column!r}")
    dataset = dataset.select_columns([text_column, label_column])
    dataset = dataset.rename_columns({c: n for c, n in ((text_column, "text"), (label_column, "label")) if c != n})
    if len(dataset) == 0:
        raise DataFormatError("no examples found (empty file?)", source)
    _check_texts(dataset, source)
    return _labels_as_strings(dataset, source, label_names)


def _arrow_column(dataset: Dataset, name: str) -> pa.ChunkedArray:
    column = dataset.with_format("arrow")[name]  # honours select()'s indices mapping
    return column if isinstance(column, pa.ChunkedArray) else pa.chunked_array([column])


def _first(flags) -> int:
    return pc.index(flags, True).as_py()


def _check_texts(dataset: Dataset, source) -> None:
    texts = _arrow_column(dataset, "text")
    if not pa.types.is_string(texts.type) and not pa.types.is_large_string(texts.type):
        raise DataFormatError(f"the text column must hold strings, found {texts.type}", source)
    if texts.null_count:
        raise DataFormatError(f"record {_first(pc.is_null(texts)) + 1} has no text (null)", source)
    empty = pc.equal(pc.utf8_length(pc.utf8_trim_whitespace(texts)), 0)
    if pc.any(empty).as_py():
        raise DataFormatError(f"record {_first(empty) + 1} has an empty text (empty review)", source)


def _labels_as_strings(dataset: Dataset, source, label_names: Sequence[str] | None) -> Dataset:
    feature = dataset.features["label"]
    labels = _arrow_column(dataset, "label")
    if labels.null_count:
        raise DataFormatError(f"record {_first(pc.is_null(labels)) + 1} has no label (null)", source)
    if pa.types.is_string(labels.type) or pa.types.is_large_string(labels.type):
        return dataset
    if not pa.types.is_integer(labels.type):
        raise DataFormatError(f"labels must be strings or integers, found {labels.type}", source)
    names = list(feature.names) if isinstance(feature, ClassLabel) else label_names
    if not names:  # no names (None, or [] from `--label-names ''`): integers as decimal strings
        negative = pc.less(labels, 0)
        if pc.any(negative).as_py():
            row = _first(negative)
            raise DataFormatError(f"record {row + 1} has label {labels[row].as_py()}; integer labels must be >= 0",
                                  source)
        # Cast, never a lookup table sized by the largest label (a label of 10**10 would allocate 10**10 names).
        return _cached_map(dataset, _decimal_batch, fingerprint=_hash(dataset._fingerprint, "labels-decimal"),
                           cache_dir=None, arrow=True, desc="label names")
    mapping = pa.array([str(n) for n in names])
    outside = pc.or_(pc.less(labels, 0), pc.greater_equal(labels, len(mapping)))
    if pc.any(outside).as_py():
        row = _first(outside)
        raise DataFormatError(f"record {row + 1} has label {labels[row].as_py()}, outside the label set "
                              f"{mapping.to_pylist()} (integer labels index the label names: the model's, or "
                              "a recipe's --label-names)", source)
    fingerprint = _hash(dataset._fingerprint, "labels", *mapping.to_pylist())
    return _cached_map(dataset, _names_batch, fingerprint=fingerprint, cache_dir=None, arrow=True,
                       fn_kwargs={"mapping": mapping}, desc="label names")


def _decimal_batch(table: pa.Table) -> pa.Table:
    index = table.schema.get_field_index("label")
    return table.set_column(index, "label", pc.cast(table.column("label"), pa.string()))


def _names_batch(table: pa.Table, mapping: pa.Array) -> pa.Table:
    index = table.schema.get_field_index("label")
    return table.set_column(index, "label", pc.take(mapping, table.column("label")))


# ====================================================================== validation split
def train_validation_split(dataset: Dataset, *, fraction: float = 0.1, seed: int = 0,
                           stratify: bool = True, option: str | None = None) -> tuple[Dataset, Dataset]:
    """Carves a seeded validation split out of ``dataset``.

    With ``stratify`` each label keeps its share: ``round(fraction * count)`` examples (at least
    one) of every label with two or more examples go to validation. Input order does not matter
    (files sorted by label are fine); both parts keep the original relative order.

    Args:
        option: How errors name ``fraction`` (a recipe's option, e.g. ``"--val-fraction"``).

    Returns:
        ``(train, validation)``.

    Raises:
        ConfigError: a fraction outside (0, 1), or one that leaves either part empty or a label
            with no training example.
    """
    if not 0.0 < fraction < 1.0:
        raise ConfigError(f"{option or 'validation fraction'} must be in (0, 1), got {fraction}")
    rng = random.Random(seed)
    groups: dict[str, list[int]] = {}
    keys = _arrow_column(dataset, "label").to_pylist() if stratify else [""] * len(dataset)
    for index, key in enumerate(keys):
        groups.setdefault(key, []).append(index)
    held: list[int] = []
    for key in sorted(groups):
        members = groups[key]
        rng.shuffle(members)
        if len(members) >= 2:
            count = max(1, round(fraction * len(members)))
            if count == len(members) and len(groups) > 1:  # that label could not be learnt
                raise ConfigError(f"{option or 'fraction'} {fraction:g} holds out all {count} examples of label "
                                  f"{key!r}, leaving none of them for training")
            held.extend(members[:count])
    if not held or len(held) == len(dataset):
        raise ConfigError(_split_problem(fraction, len(dataset), len(held), option))
    held_set = set(held)
    kept = [i for i in range(len(dataset)) if i not in held_set]
    return dataset.select(kept), dataset.select(sorted(held))


def _split_problem(fraction: float, total: int, held: int, option: str | None) -> str:
    """Why no validation split can be carved: all examples held out, or none (every label has one)."""
    if option is None:
        return f"cannot carve a {fraction:.0%} validation split out of {total} examples"
    if held:
        return f"{option} {fraction:g} leaves 0 of {total} examples for training"
    return f"{option} {fraction:g} holds out 0 of {total} examples (each label needs 2 or more for a validation split)"


# ====================================================================== cached processing
def tokenize_dataset(dataset: Dataset, tokenizer: TextTokenizer, *, num_proc: int | None = None,
                     batch_size: int = 1000, cache_dir: str | os.PathLike | None = None) -> Dataset:
    """Replaces the ``text`` column by ``tokens: list[str]`` (cached; see the module docstring).

    Args:
        dataset: A dataset with a ``text`` column.
        tokenizer: The tokenizer (its :meth:`TextTokenizer.fingerprint` keys the cache).
        num_proc: Worker processes for ``Dataset.map``.
        batch_size: Texts per ``map`` batch (and per spaCy ``pipe`` batch).
        cache_dir: Cache folder for datasets that have no cache files of their own.
    """
    if "text" not in dataset.column_names:
        raise DataFormatError(f"dataset has columns {dataset.column_names}; expected 'text'")
    fingerprint = _hash(dataset._fingerprint, "tokenize", tokenizer.fingerprint())
    return _cached_map(dataset, _tokenize_batch, fingerprint=fingerprint, cache_dir=cache_dir, batch_size=batch_size,
                       num_proc=num_proc, remove_columns=["text"], desc="tokenizing",
                       fn_kwargs={"tokenizer": tokenizer, "batch_size": batch_size})


def _tokenize_batch(batch: dict, tokenizer: TextTokenizer, batch_size: int) -> dict:
    return {"tokens": list(tokenizer.pipe(batch["text"], batch_size=batch_size))}


def build_vocab(dataset: Dataset, *, min_freq: int = 1, max_size: int | None = None,
                column: str = "tokens") -> Vocab:
    """Builds the word vocabulary from a tokenized dataset, counting in Arrow (fast on millions of tokens).

    Same result as ``Vocab.build(dataset[column], min_freq=..., max_size=...)``: ``<pad>``, ``<unk>``,
    then the kept tokens by decreasing count, ties alphabetical.
    """
    if min_freq < 1:
        raise ConfigError(f"min_freq must be >= 1, got {min_freq}")
    if max_size is not None and max_size < 0:
        raise ConfigError(f"max_size must be >= 0, got {max_size}")
    counted = pc.value_counts(pc.list_flatten(_arrow_column(dataset, column)))
    tokens = counted.field("values").to_pylist()
    counts = counted.field("counts").to_pylist()
    pairs = [(-c, t) for t, c in zip(tokens, counts) if c >= min_freq and t not in (PAD, UNK)]
    pairs.sort()
    kept = [t for _, t in pairs[:max_size]]  # pairs[:None] keeps all
    return Vocab([PAD, UNK, *kept])


def numericalize_dataset(dataset: Dataset, vocab: Vocab, *, max_length: int | None = None,
                         cache_dir: str | os.PathLike | None = None) -> Dataset:
    """Replaces ``tokens`` by ``token_ids: list[int32]``, truncated to ``max_length`` (cached).

    Unknown tokens get ``vocab.unk_id``. Rows may end up empty (a text with no tokens); callers
    decide what to do with them.
    """
    if max_length is not None and max_length < 1:
        raise ConfigError(f"max_length must be >= 1, got {max_length}")
    if vocab.unk_id is None:
        raise ConfigError("the word vocabulary needs an <unk> token")
    if "tokens" not in dataset.column_names:
        raise DataFormatError(f"dataset has columns {dataset.column_names}; expected 'tokens' (tokenize first)")
    fingerprint = _hash(dataset._fingerprint, "numericalize", json.dumps(vocab.to_dict()), str(max_length))
    return _cached_map(dataset, _numericalize_batch, fingerprint=fingerprint, cache_dir=cache_dir, arrow=True,
                       desc="numericalizing", fn_kwargs={"vocab": vocab, "max_length": max_length})


def _numericalize_batch(table: pa.Table, vocab: Vocab, max_length: int | None) -> pa.Table:
    tokens = table.column("tokens").combine_chunks()
    if max_length is not None:
        tokens = pc.list_slice(tokens, 0, max_length)
    flat = pc.list_flatten(tokens)
    known = pa.array(vocab.itos, type=flat.type)
    if vocab.lower:
        flat = pc.utf8_lower(flat)
    ids = pc.fill_null(pc.index_in(flat, value_set=known), vocab.unk_id).cast(pa.int32())
    lengths = pc.fill_null(pc.list_value_length(tokens), 0).to_numpy(zero_copy_only=False)
    offsets = pa.array(np.concatenate([[0], np.cumsum(lengths)]).astype(np.int32))
    token_ids = pa.ListArray.from_arrays(offsets, ids)
    return table.drop_columns(["tokens"]).append_column("token_ids", token_ids)


def _cached_map(dataset: Dataset, function, *, fingerprint: str, cache_dir, arrow: bool = False, **kwargs) -> Dataset:
    if arrow:
        dataset = dataset.with_format("arrow")
    kwargs.update(batched=True, new_fingerprint=fingerprint)
    if dataset.cache_files:  # file-backed: datasets caches next to the source's Arrow file
        result = dataset.map(function, load_from_cache_file=True, **kwargs)
    elif cache_dir is not None:
        folder = Path(cache_dir).expanduser()
        folder.mkdir(parents=True, exist_ok=True)
        name = f"{kwargs.get('desc', 'map').split()[0]}-{fingerprint}.arrow"
        result = dataset.map(function, load_from_cache_file=True, cache_file_name=str(folder / name), **kwargs)
    else:
        result = dataset.map(function, **kwargs)
    return result.with_format(None) if arrow else result


def _hash(*parts: str) -> str:
    digest = hashlib.sha256(_CACHE_VERSION.encode())
    for part in parts:
        digest.update(b"\0" + str(part).encode("utf-8"))
    return digest.hexdigest()[:32]
