"""The text of text-classifier predictions: its output formats (``tsv``, ``jsonl``), registered in
:mod:`lstm_nlp.data.output_formats` and shared by the PyTorch and the ONNX backends. Torch-free."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence

from lstm_nlp.data.output_formats import register_output_format, registered_formats, writer

TASK = "classifier"  # the classifier's name among the output formats (lstm_nlp.pipelines.tasks)


def classifier_writer(output_format: str | None = None) -> Callable[..., list[str]]:
    """The writer of ``output_format`` (default: the first registered), called with the class labels and each
    text's class probabilities; an unknown name is a :class:`~lstm_nlp.errors.ConfigError` naming the known ones."""
    return writer(TASK, output_format or next(iter(registered_formats(TASK))), title="text classifier")


def _best(row: Sequence[float]) -> int:
    return max(range(len(row)), key=row.__getitem__)


@register_output_format(TASK, "tsv", help="label<TAB>probability, the default")
def write_label_tsv(labels: Sequence[str], probabilities: Sequence[Sequence[float]]) -> list[str]:
    """``label<TAB>probability`` (4 digits) of the most probable class of each text."""
    return [f"{labels[best]}\t{row[best]:.4f}" for row, best in ((row, _best(row)) for row in probabilities)]


@register_output_format(TASK, "jsonl", help="label and every class's probability")
def write_label_jsonl(labels: Sequence[str], probabilities: Sequence[Sequence[float]]) -> list[str]:
    """A JSON object per text: the most probable ``label`` and every class's probability (6 digits)."""
    return [json.dumps({"label": labels[_best(row)],
                        "probabilities": {label: round(p, 6) for label, p in zip(labels, row)}})
            for row in probabilities]
