"""Annotation tools' formats: Label Studio and doccano records in and out, spans by character offsets.

Out (what ``lstm-nlp rank`` writes, their *import* formats, with the model's pre-annotations):

* Label Studio: a task ``{"data": {"text": ...}, "predictions": [{"model_version", "score", "result":
  [...]}]}``; a tagger's result items are ``labels`` regions ``{"value": {"start", "end", "text",
  "labels": [TYPE]}}``, a classifier's one ``choices`` item ``{"value": {"choices": [LABEL]}}``.
* doccano: ``{"text": ..., "label": [[start, end, "TYPE"], ...]}`` (sequence labelling) or
  ``{"text": ..., "label": ["LABEL"]}`` (text classification).

In (:func:`read_annotations`, their *export* formats): Label Studio's JSON export (a list of tasks
with ``annotations[].result[]``; ``completions`` of versions before 1.0 too) or JSON-MIN export, and
doccano's JSONL export (``label`` or ``labels`` as above, or ``entities`` with ``start_offset`` /
``end_offset``). Spans become BIO (IOB2) tags over the tokens of spaCy's blank English tokenizer, the
tokenizer of every other reader, giving the ``tokens``/``tags`` columns of the CoNLL readers; class
labels give the ``text``/``label`` columns of the text classification readers.

Offsets count Unicode code points (Python ``str`` indices), as current Label Studio and doccano
exports do. Label Studio before its emoji fix counted UTF-16 code units (JavaScript string
indices), which differ after any character outside the Basic Multilingual Plane (most emoji): a
Label Studio region whose ``text`` does not match the code-point slice but matches the UTF-16 one is
read by UTF-16 offsets. A span is trimmed of surrounding whitespace (a selection often takes the
space after a word); its ends must then fall on token boundaries.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Collection, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lstm_nlp.errors import DataFormatError

if TYPE_CHECKING:
    from datasets import Dataset

logger = logging.getLogger("lstm_nlp")

#: The formats of :func:`read_annotations` and of ``lstm-nlp rank --format``.
ANNOTATION_FORMATS = ("label-studio", "doccano")
CharSpan = tuple[int, int, str]  # (start, end exclusive, type), in code points


# ---------------------------------------------------------------------- tokens and offsets
def token_offsets(text: str) -> list[tuple[int, int]]:
    """``(start, end)`` code-point offsets of the tokens of spaCy's blank English tokenizer (spaces dropped),
    the tokens :class:`~lstm_nlp.data.tokenizers.SpacyTokenizer` gives for the same text."""
    # spaCy's own tokens keep their offsets (.idx)
    from lstm_nlp.data.tokenizers import _blank_pipeline

    return [(t.idx, t.idx + len(t.text)) for t in _blank_pipeline("en").tokenizer(text) if not t.is_space]


def spaced_offsets(tokens: Sequence[str]) -> tuple[str, list[tuple[int, int]]]:
    """Pre-tokenized tokens as one text, joined by single spaces, and each token's offsets in it."""
    offsets, position = [], 0
    for token in tokens:
        offsets.append((position, position + len(token)))
        position += len(token) + 1
    return " ".join(tokens), offsets


def spans_to_tags(text: str, spans: Iterable[CharSpan], *, where: str = "record",
                  offsets: Sequence[tuple[int, int]] | None = None) -> tuple[list[str], list[str]]:
    """``(tokens, IOB2 tags)`` of ``text`` with character ``spans`` (trimmed of surrounding whitespace).

    Args:
        text: The annotated text.
        spans: ``(start, end exclusive, type)`` in code points.
        where: What error messages call the record (``record 3 (id 17)``).
        offsets: The tokens' offsets (default: :func:`token_offsets`).

    Raises:
        DataFormatError: a span outside the text, empty once trimmed, overlapping another, or with an
            end inside a token.
    """
    offsets = token_offsets(text) if offsets is None else offsets
    starts = {start: i for i, (start, _) in enumerate(offsets)}
    ends = {end: i for i, (_, end) in enumerate(offsets)}
    tags = ["O"] * len(offsets)
    previous: tuple[int, int, str] | None = None
    for start, end, kind in sorted(spans, key=lambda s: (s[0], s[1])):
        if not (0 <= start < end <= len(text)):
            raise DataFormatError(f"{where}: span [{start}, {end}) {kind!r} is outside its text of {len(text)} "
                                  "characters")
        raw = (start, end)
        while start < end and text[start].isspace():
            start += 1
        while end > start and text[end - 1].isspace():
            end -= 1
        if start == end:
            raise DataFormatError(f"{where}: span [{raw[0]}, {raw[1]}) {kind!r} holds only whitespace")
        if previous is not None and start < previous[1]:
            raise DataFormatError(f"{where}: span [{start}, {end}) {text[start:end]!r} {kind!r} overlaps span "
                                  f"[{previous[0]}, {previous[1]}) {text[previous[0]:previous[1]]!r} "
                                  f"{previous[2]!r}; BIO tags hold one span per token")
        for edge, index, side in ((start, starts, "starts"), (end, ends, "ends")):
            if edge not in index:
                token = next((o for o in offsets if o[0] < edge < o[1]), None)
                inside = f" inside the token {text[token[0]:token[1]]!r}" if token else ""
                raise DataFormatError(f"{where}: span [{start}, {end}) {text[start:end]!r} {kind!r} {side} at "
                                      f"character {edge}{inside}, not at a token boundary (spaCy English "
                                      "tokens); extend the span to whole tokens")
        first, last = starts[start], ends[end]
        tags[first] = f"B-{kind}"
        for i in range(first + 1, last + 1):
            tags[i] = f"I-{kind}"
        previous = (start, end, kind)
    return [text[a:b] for a, b in offsets], tags


def utf16_to_code_points(text: str, offset: int) -> int | None:
    """The code-point index of UTF-16 code-unit ``offset`` in ``text`` (``None``: inside a surrogate pair or
    past the end)."""
    units = 0
    for index, char in enumerate(text):
        if units == offset:
            return index
        units += 2 if ord(char) > 0xFFFF else 1
        if units > offset:
            return None
    return len(text) if units == offset else None


# ---------------------------------------------------------------------- import formats (rank writes these)
def label_studio_task(text: str, *, spans: Sequence[tuple[int, int, str, float]] = (), choice: str | None = None,
                      score: float, model_version: str, data: dict | None = None, from_name: str = "label",
                      to_name: str = "text", task_id: int = 0) -> dict:
    """A Label Studio task with the model's pre-annotation: ``spans`` (``(start, end, type, probability)``,
    code points) for a tagger, or ``choice`` for a classifier; ``score`` is the prediction's confidence
    (Label Studio sorts tasks by it)."""
    if choice is not None:
        result = [{"id": f"t{task_id}_0", "from_name": from_name, "to_name": to_name, "type": "choices",
                   "value": {"choices": [choice]}}]
    else:
        result = [{"id": f"t{task_id}_{k}", "from_name": from_name, "to_name": to_name, "type": "labels",
                   "value": {"start": start, "end": end, "text": text[start:end], "labels": [kind]},
                   "score": round(probability, 6)}
                  for k, (start, end, kind, probability) in enumerate(spans)]
    return {"data": {"text": text, **(data or {})},
            "predictions": [{"model_version": model_version, "score": round(score, 6), "result": result}]}


def doccano_record(text: str, *, spans: Sequence[tuple[int, int, str, float]] = (), choice: str | None = None,
                   meta: dict | None = None) -> dict:
    """A doccano import record: ``label`` holds ``[start, end, type]`` spans, or ``[choice]`` for a classifier;
    ``meta`` keys are added beside them (doccano keeps extra keys as the example's metadata)."""
    label: list = [choice] if choice is not None else [[start, end, kind] for start, end, kind, _ in spans]
    return {"text": text, "label": label, **(meta or {})}


# ---------------------------------------------------------------------- export formats (read back)
def read_annotations(path: str | os.PathLike, *, labels: Collection[str] | None = None,
                     text_field: str = "text") -> Dataset:
    """Reads a Label Studio or doccano export into the columns the readers give.

    Args:
        path: A Label Studio JSON (or JSON-MIN) export, or a doccano JSONL export (see the module docstring).
        labels: The entity types (``PER``; ``B-PER``/``I-PER`` tags are read as their type) or class names
            allowed; another one is an error naming the record. ``None``: any.
        text_field: The key of Label Studio's ``data`` (and JSON-MIN records) holding the text.

    Returns:
        A ``datasets.Dataset`` with ``tokens`` and ``tags`` (IOB2; spaCy blank English tokens) for span
        annotations, or ``text`` and ``label`` for class labels. Label Studio tasks without an annotation
        (or with every one cancelled) are left out and counted in the log; each task's first
        annotation that is not cancelled is read.

    Raises:
        DataFormatError: a file in neither format, or a record with a span off token boundaries, overlapping
            spans, an unknown label, or both spans and class labels; the message names the record (its
            position and id).
    """
    from datasets import Dataset

    path = Path(path)
    records = list(_records(path))
    rows, kinds = _annotated_rows(records, path, _allowed_types(labels), text_field)
    if {"spans", "classes"} <= kinds:
        raise DataFormatError("some records have spans and others class labels; read one task at a time", path)
    if "classes" in kinds:
        return Dataset.from_dict(_class_columns(rows, path))
    return Dataset.from_dict(_span_columns(rows, path))


def _allowed_types(labels: Collection[str] | None) -> set[str] | None:
    """``labels`` as entity types or class names (``B-PER``/``I-PER`` -> ``PER``); ``None``: any."""
    if labels is None:
        return None
    return {label.split("-", 1)[1] if label[:2] in ("B-", "I-", "E-", "S-", "L-", "U-") else label
            for label in labels}


def _annotated_rows(records: list[tuple[int, int | None, dict]], path: Path, allowed: set[str] | None,
                    text_field: str) -> tuple[list[tuple], set[str | None]]:
    """``(index, line, where, text, spans, classes)`` of each annotated record, checked, and the kinds seen.

    Tasks without an annotation are left out and counted in the log.
    """
    rows, kinds, skipped = [], set(), 0
    for index, line, record in records:
        where = _where(index, record)
        try:
            parsed = _parse(record, where, text_field)
        except DataFormatError as err:
            raise DataFormatError(str(err), path, line) from None
        if parsed is None:
            skipped += 1
            continue
        text, spans, classes = parsed
        _check_labels(spans, classes, allowed, where, path, line)
        kinds.add("spans" if spans else "classes" if classes else None)
        rows.append((index, line, where, text, spans, classes))
    if skipped:
        logger.warning("%s: %d task(s) without an annotation left out", path, skipped)
    return rows, kinds


def _check_labels(spans: list[CharSpan], classes: list[str], allowed: set[str] | None, where: str, path: Path,
                  line: int | None) -> None:
    """A record's labels are allowed, and it has spans or one class label (not both)."""
    for name in [kind for _, _, kind in spans] + classes:
        if allowed is not None and name not in allowed:
            raise DataFormatError(f"{where}: label {name!r} is not one of {', '.join(sorted(allowed))}",
                                  path, line)
    if spans and classes:
        raise DataFormatError(f"{where}: has both spans and class labels; read one task at a time", path, line)
    if classes and len(classes) != 1:
        raise DataFormatError(f"{where}: has {len(classes)} class labels ({', '.join(classes)}); a text "
                              "classifier takes one per text", path, line)


def _class_columns(rows: list[tuple], path: Path) -> dict[str, list]:
    """``text`` and ``label`` of class-labelled rows (each must have its label)."""
    unlabelled = next((r for r in rows if not r[5]), None)
    if unlabelled is not None:
        raise DataFormatError(f"{unlabelled[2]}: has no class label (the others have one)", path, unlabelled[1])
    return {"text": [r[3] for r in rows], "label": [r[5][0] for r in rows]}


def _span_columns(rows: list[tuple], path: Path) -> dict[str, list]:
    """``tokens`` and IOB2 ``tags`` of span-annotated rows."""
    tokens, tags = [], []
    for _, line, where, text, spans, _ in rows:
        try:
            sentence, sequence = spans_to_tags(text, spans, where=where)
        except DataFormatError as err:
            raise DataFormatError(str(err), path, line) from None
        tokens.append(sentence)
        tags.append(sequence)
    return {"tokens": tokens, "tags": tags}


def _records(path: Path) -> Iterable[tuple[int, int | None, dict]]:
    """``(0-based record index, line number or None, record)`` of a JSON list or a JSONL file."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise DataFormatError("no such file", path) from None
    except UnicodeDecodeError as err:
        raise DataFormatError(f"not UTF-8 text (byte {err.start})", path) from None
    if not text.strip():
        raise DataFormatError("empty file; expected a Label Studio JSON export or a doccano JSONL export", path)
    if text.lstrip().startswith("["):
        try:
            data = json.loads(text)
        except json.JSONDecodeError as err:
            raise DataFormatError(f"invalid JSON: {err.msg}", path, err.lineno) from None
        for index, record in enumerate(data):
            yield index, None, _object(record, index, path, None)
        return
    index = 0
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as err:
            raise DataFormatError(f"invalid JSON: {err.msg} (a doccano JSONL export has one object a line)",
                                  path, number) from None
        yield index, number, _object(record, index, path, number)
        index += 1


def _object(record: Any, index: int, path: Path, line: int | None) -> dict:
    if not isinstance(record, dict):
        raise DataFormatError(f"record {index}: expected a JSON object, got {type(record).__name__}", path, line)
    return record


def _where(index: int, record: dict) -> str:
    return f"record {index}" + (f" (id {record['id']})" if "id" in record else "")


def _parse(record: dict, where: str, text_field: str) -> tuple[str, list[CharSpan], list[str]] | None:
    """``(text, spans, class labels)`` of one exported record (``None``: a task nobody annotated)."""
    if isinstance(record.get("data"), dict):  # Label Studio JSON export
        text = _text(record["data"], where, text_field)
        annotations = record.get("annotations", record.get("completions"))
        if not isinstance(annotations, list):
            raise DataFormatError(f"{where}: a Label Studio task without an 'annotations' list")
        kept = [a for a in annotations if isinstance(a, dict) and not a.get("was_cancelled")]
        if not kept:
            return None
        return (text, *_label_studio_results(kept[0].get("result", []), text, where))
    text = _text(record, where, text_field)
    if isinstance(record.get("entities"), list):  # doccano export with relations
        return text, [_doccano_entity(e, where) for e in record["entities"]], []
    key = "label" if "label" in record else "labels" if "labels" in record else None
    if key is None:
        raise DataFormatError(f"{where}: neither a Label Studio task ('data', 'annotations') nor a doccano record "
                              "('text' with 'label', 'labels' or 'entities')")
    values = record[key]
    if not isinstance(values, list):
        raise DataFormatError(f"{where}: '{key}' must be a list, got {type(values).__name__}")
    if all(isinstance(v, dict) for v in values) and values and "labels" in values[0]:  # Label Studio JSON-MIN
        return (text, *_label_studio_results([{"type": "labels", "value": v} for v in values], text, where))
    spans, classes = [], []
    for value in values:
        if isinstance(value, str):
            classes.append(value)
        elif isinstance(value, list) and len(value) == 3 and all(isinstance(v, int) for v in value[:2]):
            spans.append((value[0], value[1], str(value[2])))
        else:
            raise DataFormatError(f"{where}: label {value!r} is neither [start, end, type] nor a class name")
    return text, spans, classes


def _text(data: dict, where: str, field: str) -> str:
    text = data.get(field)
    if not isinstance(text, str):
        raise DataFormatError(f"{where}: no text in field {field!r} (keys: {', '.join(map(str, data))})")
    return text


def _doccano_entity(entity: Any, where: str) -> CharSpan:
    try:
        return int(entity["start_offset"]), int(entity["end_offset"]), str(entity["label"])
    except (KeyError, TypeError, ValueError):
        raise DataFormatError(f"{where}: entity {entity!r} needs start_offset, end_offset and label") from None


def _label_studio_results(results: list, text: str, where: str) -> tuple[list[CharSpan], list[str]]:
    spans, classes = [], []
    for result in results:
        kind, value = result.get("type"), result.get("value") or {}
        if kind == "choices":
            classes += [str(c) for c in value.get("choices", [])]
        elif kind == "labels":
            names = value.get("labels") or []
            if len(names) != 1:
                raise DataFormatError(f"{where}: region {value.get('start')}-{value.get('end')} has {len(names)} "
                                      "labels; BIO tags hold one type per span")
            start, end = _label_studio_offsets(value, text, where)
            spans.append((start, end, str(names[0])))
        # other result types (relations, text areas, ratings) carry no span or class: ignored
    return spans, classes


def _label_studio_offsets(value: dict, text: str, where: str) -> tuple[int, int]:
    """A region's offsets in code points; UTF-16 offsets (Label Studio before its emoji fix) are recognised
    by the region's ``text``."""
    start, end = value.get("start"), value.get("end")
    if not isinstance(start, int) or not isinstance(end, int):
        raise DataFormatError(f"{where}: region {value!r} has no integer start and end (a text region's "
                              "character offsets)")
    quoted = value.get("text")
    if quoted is None or text[start:end] == quoted:
        return start, end
    start16, end16 = utf16_to_code_points(text, start), utf16_to_code_points(text, end)
    if start16 is not None and end16 is not None and text[start16:end16] == quoted:
        return start16, end16
    raise DataFormatError(f"{where}: region [{start}, {end}) says its text is {quoted!r} but the task's text "
                          f"there is {text[start:end]!r} (offsets count code points; the text was edited?)")
