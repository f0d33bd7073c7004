"""Pipelines: a trained model with what turns the user's data into its inputs and back (see ``base``).

Each task's pipeline is imported on first use, so that ``lstm-nlp predict`` with a tagger does not
load the classifier's or the forecaster's code.
"""

from __future__ import annotations

import importlib
import os
from typing import TYPE_CHECKING

import torch

from lstm_nlp.errors import BundleError
from lstm_nlp.serialization import read_header

#: model_type in config.json -> ``(module, class)`` of the pipeline that loads it.
PIPELINES = {
    "sequence_tagger": ("lstm_nlp.pipelines.tagging", "TaggingPipeline"),
    "text_classifier": ("lstm_nlp.pipelines.classification", "ClassificationPipeline"),
    "forecaster": ("lstm_nlp.pipelines.forecasting", "ForecastPipeline"),
}
_CLASSES = {cls: module for module, cls in PIPELINES.values()}
__all__ = ["PIPELINES", "TaskPipeline", "load_pipeline", *sorted(_CLASSES)]


def pipeline_class(model_type: str, *, source: str | os.PathLike = "bundle") -> type:
    """The pipeline class that loads bundles of ``model_type``."""
    if model_type not in PIPELINES:
        raise BundleError(f"{source}: unknown model_type {model_type!r}; known: {sorted(PIPELINES)}")
    module, name = PIPELINES[model_type]
    return getattr(importlib.import_module(module), name)


def load_pipeline(directory: str | os.PathLike, *, device: str | torch.device = "cpu"):
    """Loads any bundle directory into the pipeline class for its ``model_type``."""
    return pipeline_class(read_header(directory)["model_type"], source=directory).from_pretrained(
        directory, device=device)


def __getattr__(name: str):
    if name == "TaskPipeline":
        from lstm_nlp.pipelines.base import TaskPipeline

        return TaskPipeline
    if name not in _CLASSES:
        raise AttributeError(f"module 'lstm_nlp.pipelines' has no attribute {name!r}")
    value = getattr(importlib.import_module(_CLASSES[name]), name)
    globals()[name] = value
    return value


if TYPE_CHECKING:
    from lstm_nlp.pipelines.base import TaskPipeline
    from lstm_nlp.pipelines.classification import ClassificationPipeline
    from lstm_nlp.pipelines.forecasting import ForecastPipeline
    from lstm_nlp.pipelines.tagging import TaggingPipeline
