"""Pipelines: a trained model with its vocabularies, used by recipes and the CLI."""

from lstm_nlp.pipelines.tagging import TaggingPipeline

__all__ = ["TaggingPipeline"]
