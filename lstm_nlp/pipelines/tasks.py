"""The tasks: one record per bundle ``model_type``, read by everything that treats the tasks differently.

The loader (:data:`lstm_nlp.pipelines.PIPELINES`), ``lstm-nlp predict`` (which options a model takes),
the ONNX export and backend, ``lstm-nlp serve`` and the spaCy component look a model's task up here
instead of switching on its class. A new task is one :class:`Task` in :data:`TASKS`; its output
formats are registered with its writers (:mod:`lstm_nlp.data.output_formats`), in the module it names.

Torch-free (``lstm-nlp --help`` and the ONNX backend read it).
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass

from lstm_nlp.data.output_formats import OutputFormat, registered_formats
from lstm_nlp.errors import ConfigError


@dataclass(frozen=True)
class Task:
    """What the toolkit needs to know about one kind of model.

    Attributes:
        model_type: The bundle's ``model_type`` (``config.json``).
        name: The task's key among the output formats (:func:`~lstm_nlp.data.output_formats.output_formats`).
        title: What messages call it ("tagger", "text classifier", ...).
        pipeline: ``(module, class)`` of the PyTorch pipeline that loads its bundles.
        predict_options: Keyword options of its ``format_predictions`` (``lstm-nlp predict``'s format options).
        writers: The module that registers its output formats (:mod:`lstm_nlp.data.output_formats`);
            ``None``: it has none (a forecaster writes its numbers).
        onnx_output: The exported graph's output, ``"scores"`` (per token) or ``"probabilities"`` (per
            text); ``None``: not exportable.
        onnx_pipeline: ``(module, class)`` of its ONNX-backend pipeline (``None``: not exportable).
        spacy_sets: What the spaCy component sets, ``"tags"`` (token attributes, ``doc.ents``) or ``"cats"``
            (``doc.cats``); ``None``: the component does not take it.
    """

    model_type: str
    name: str
    title: str
    pipeline: tuple[str, str]
    predict_options: tuple[str, ...] = ()
    writers: str | None = None
    onnx_output: str | None = None
    onnx_pipeline: tuple[str, str] | None = None
    spacy_sets: str | None = None

    def output_formats(self) -> dict[str, OutputFormat]:
        """Its output formats by name, the default first (importing :attr:`writers` registers them)."""
        if self.writers is None:
            return {}
        importlib.import_module(self.writers)
        return registered_formats(self.name)

    @property
    def servable(self) -> bool:
        """``lstm-nlp serve`` takes the tasks with output formats (it answers their ``jsonl`` records)."""
        return "output_format" in self.predict_options


#: model_type -> its task. The order is the order of messages and help texts.
TASKS: dict[str, Task] = {task.model_type: task for task in (
    Task("sequence_tagger", "tagger", "tagger", ("lstm_nlp.pipelines.tagging", "TaggingPipeline"),
         predict_options=("input_format", "output_format", "probabilities", "top_k"),
         writers="lstm_nlp.data.tag_writers", onnx_output="scores",
         onnx_pipeline=("lstm_nlp.export.onnx_backend", "OnnxTagger"), spacy_sets="tags"),
    Task("text_classifier", "classifier", "text classifier",
         ("lstm_nlp.pipelines.classification", "ClassificationPipeline"), predict_options=("output_format",),
         writers="lstm_nlp.data.class_writers", onnx_output="probabilities",
         onnx_pipeline=("lstm_nlp.export.onnx_backend", "OnnxClassifier"),
         spacy_sets="cats"),
    Task("forecaster", "forecaster", "forecaster", ("lstm_nlp.pipelines.forecasting", "ForecastPipeline")),
)}


def get_task(model_type: str, *, source: object = "bundle", error: type[Exception] = ConfigError) -> Task:
    """The task of ``model_type``; an unknown one is ``error`` (``source: unknown model_type ...``)."""
    if model_type not in TASKS:
        raise error(f"{source}: unknown model_type {model_type!r}; known: {sorted(TASKS)}")
    return TASKS[model_type]


def titles(tasks) -> str:
    """``"taggers and text classifiers"``: the plural titles of ``tasks``, for messages."""
    names = [f"{task.title}s" for task in tasks]
    return " and ".join(names) if len(names) < 3 else ", ".join(names[:-1]) + " and " + names[-1]
