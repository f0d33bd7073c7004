"""Pipelines: a trained model with what turns the user's data into its inputs and back (see ``base``).

Each task's pipeline is imported on first use, so that ``lstm-nlp predict`` with a tagger does not
load the classifier's or the forecaster's code; this package itself imports no torch (the tasks,
:mod:`lstm_nlp.pipelines.tasks`, are read by ``lstm-nlp --help`` and the ONNX backend).
"""

from __future__ import annotations

import importlib
import os
from typing import TYPE_CHECKING

from lstm_nlp.bundle_header import read_header
from lstm_nlp.errors import BundleError
from lstm_nlp.pipelines.tasks import TASKS, get_task

#: model_type in config.json -> ``(module, class)`` of the pipeline that loads it (from :data:`TASKS`).
PIPELINES: dict[str, tuple[str, str]] = {model_type: task.pipeline for model_type, task in TASKS.items()}
_CLASSES = {cls: module for module, cls in PIPELINES.values()}
__all__ = [
    "PIPELINES", "ClassificationPipeline", "ForecastPipeline", "TaggingPipeline", "TaskPipeline", "load_pipeline"]


def pipeline_class(model_type: str, *, source: str | os.PathLike = "bundle") -> type:
    """The pipeline class that loads bundles of ``model_type``."""
    module, name = get_task(model_type, source=source, error=BundleError).pipeline
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
    import torch

    from lstm_nlp.pipelines.base import TaskPipeline
    from lstm_nlp.pipelines.classification import ClassificationPipeline
    from lstm_nlp.pipelines.forecasting import ForecastPipeline
    from lstm_nlp.pipelines.tagging import TaggingPipeline
