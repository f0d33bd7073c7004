"""Models: compositions of modules, with ``save_pretrained`` / ``from_pretrained``."""

from lstm_nlp.models.classifier import ClassifierConfig, ClassifierOutput, TextClassifier
from lstm_nlp.models.forecaster import (
    Forecaster,
    ForecasterConfig,
    ForecastOutput,
    naive_forecast,
    seasonal_naive_forecast,
)
from lstm_nlp.models.tagger import SequenceTagger, TaggerConfig, TaggerOutput

__all__ = [
    "ClassifierConfig", "ClassifierOutput", "ForecastOutput", "Forecaster", "ForecasterConfig", "SequenceTagger",
    "TaggerConfig", "TaggerOutput", "TextClassifier", "naive_forecast", "seasonal_naive_forecast",
]
