"""Models: compositions of modules, with ``save_pretrained`` / ``from_pretrained``."""

from lstm_nlp.models.forecaster import (
    Forecaster, ForecasterConfig, ForecastOutput, naive_forecast, seasonal_naive_forecast,
)
from lstm_nlp.models.tagger import SequenceTagger, TaggerConfig, TaggerOutput

__all__ = ["SequenceTagger", "TaggerConfig", "TaggerOutput"]
__all__ += ["ForecastOutput", "Forecaster", "ForecasterConfig", "naive_forecast", "seasonal_naive_forecast"]

from lstm_nlp.models.classifier import ClassifierConfig, ClassifierOutput, TextClassifier  # noqa: E402

__all__ += ["ClassifierConfig", "ClassifierOutput", "TextClassifier"]
