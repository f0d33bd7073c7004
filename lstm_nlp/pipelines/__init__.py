"""Pipelines: a trained model with its vocabularies, used by recipes and the CLI."""

from __future__ import annotations

import os

import torch

from lstm_nlp.pipelines.forecasting import ForecastPipeline
from lstm_nlp.pipelines.tagging import TaggingPipeline
from lstm_nlp.serialization import read_header
from lstm_nlp.errors import BundleError

#: model_type in config.json -> the pipeline class that loads it.
PIPELINES = {"sequence_tagger": TaggingPipeline}
PIPELINES["forecaster"] = ForecastPipeline


def load_pipeline(directory: str | os.PathLike, *, device: str | torch.device = "cpu"):
    """Loads any bundle directory into the pipeline class for its ``model_type``."""
    model_type = read_header(directory)["model_type"]
    if model_type not in PIPELINES:
        raise BundleError(f"{directory}: unknown model_type {model_type!r}; known: {sorted(PIPELINES)}")
    return PIPELINES[model_type].from_pretrained(directory, device=device)


__all__ = ["PIPELINES", "TaggingPipeline", "load_pipeline"]
__all__ += ["ForecastPipeline"]

from lstm_nlp.pipelines.classification import ClassificationPipeline  # noqa: E402

PIPELINES["text_classifier"] = ClassificationPipeline
__all__ += ["ClassificationPipeline"]
