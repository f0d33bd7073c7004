"""``--class-weights auto|none|FILE``: a per-label weight vector for the training loss.

The vector is stored in the model config (``TaggerConfig.class_weights``,
``ClassifierConfig.class_weights``), so a saved bundle keeps it; it changes only the training loss,
never the predictions. Labels are the model's own: with BIO-type tags ``B-MISC`` and ``I-MISC`` are
two labels with their own counts and weights.

* ``none`` (default): no weights, the plain loss.
* ``auto``: smoothed inverse frequency, ``w_c = sqrt(N / (C * n_c))`` for a label seen ``n_c`` times
  among the ``N`` training labels (tokens, or texts for a classifier) of ``C`` labels, then scaled
  to mean 1 over the labels. The square root keeps a label 100x rarer at 10x the weight, not 100x.
* ``FILE``: a JSON object ``{"B-MISC": 2.0, ...}`` or lines ``label<TAB>weight`` (``#`` comments
  and blank lines skipped); labels not in the file get 1, used as given (not rescaled). A label
  the model does not have, or a weight that is not a finite number > 0, is a one-line error naming
  the file.
"""

from __future__ import annotations

import argparse
import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

from lstm_nlp.argtypes import class_weights_spec
from lstm_nlp.errors import DataFormatError
from lstm_nlp.schema import parse_json, read_regular_file

CLASS_WEIGHTS_HELP = ("weights of the labels in the training loss (predictions unchanged): none; auto = smoothed "
                      "inverse frequency sqrt(N / (C * n_label)) scaled to mean 1 (B-X and I-X counted apart); or a "
                      "file: JSON {label: weight} or label<TAB>weight lines, unlisted labels 1")


def add_class_weights_option(group: argparse._ActionsContainer) -> None:
    """Adds ``--class-weights`` (default ``none``) to a parser or argument group."""
    group.add_argument("--class-weights", type=class_weights_spec, default="none", metavar="auto|none|FILE",
                       help=CLASS_WEIGHTS_HELP)


def label_counts(examples: Iterable[Iterable[str] | str]) -> Counter:
    """How often each label occurs: tag sequences (one count per token) or single labels (one per text)."""
    counts: Counter = Counter()
    for item in examples:
        counts.update([str(item)] if isinstance(item, (str, int)) else (str(tag) for tag in item))
    return counts


def auto_class_weights(labels: Sequence[str], counts: Mapping[str, int]) -> tuple[float, ...]:
    """``sqrt(N / (C * n_c))`` per label in ``labels`` order, scaled to mean 1 (an unseen label counts as once seen)."""
    seen = [max(int(counts.get(label, 0)), 1) for label in labels]
    total = sum(seen)
    raw = [math.sqrt(total / (len(labels) * n)) for n in seen]
    mean = sum(raw) / len(raw)
    return tuple(w / mean for w in raw)


def read_class_weights(path: str | Path, labels: Sequence[str]) -> tuple[float, ...]:
    """The weights of a ``--class-weights`` file, in ``labels`` order (unlisted labels 1).

    Raises:
        DataFormatError: no such file, malformed JSON or lines, an unknown label, or a weight that
            is not a finite number > 0 (``PATH: ...``, one line).
    """
    try:
        text = read_regular_file(path, error=DataFormatError).decode("utf-8", errors="replace")
    except FileNotFoundError:
        raise DataFormatError("no such class weights file", path) from None
    pairs = _json_pairs(text, path) if text.lstrip().startswith("{") else _tsv_pairs(text, path)
    index = {label: i for i, label in enumerate(labels)}
    weights = [1.0] * len(labels)
    for label, value, line in pairs:
        if label not in index:
            known = ", ".join(labels[:12]) + (", ..." if len(labels) > 12 else "")
            raise DataFormatError(f"unknown label {label!r} (the model's labels: {known})", path, line)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value <= 0:
            raise DataFormatError(f"the weight of {label!r} must be a finite number > 0, got {value!r}", path, line)
        weights[index[label]] = float(value)
    return tuple(weights)


def _json_pairs(text: str, path) -> list[tuple[str, object, int | None]]:
    document = parse_json(text, source=path, error=DataFormatError)
    if not isinstance(document, dict):
        raise DataFormatError("expected a JSON object {label: weight}", path)
    return [(label, value, None) for label, value in document.items()]


def _tsv_pairs(text: str, path) -> list[tuple[str, object, int | None]]:
    pairs = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        columns = line.split("\t") if "\t" in line else line.split()
        if len(columns) != 2:
            raise DataFormatError("expected 'label<TAB>weight' (two columns) or a JSON object", path, number)
        try:
            value: object = float(columns[1])
        except ValueError:
            value = columns[1].strip()
        pairs.append((columns[0].strip(), value, number))
    return pairs


def class_weights_for(spec: str, labels: Sequence[str],
                      examples: Iterable[Iterable[str] | str]) -> tuple[float, ...] | None:
    """The weight vector that ``--class-weights spec`` means for ``labels`` (``None`` for ``none``).

    Args:
        spec: ``"none"``, ``"auto"`` or a file path (see the module docstring).
        labels: The model's labels in id order (``Vocab.itos``).
        examples: The training labels, as the model learns them: tag sequences or single labels
            (read only for ``auto``).
    """
    if spec == "none":
        return None
    if spec == "auto":
        return auto_class_weights(labels, label_counts(examples))
    return read_class_weights(spec, labels)
