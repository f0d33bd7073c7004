"""The recipes' calibration step: a fitted temperature is kept, one at an end of the range is not."""

import logging

import pytest

from lstm_nlp.recipe_kit.calibrate import calibrate_on_dev


class _Pipeline:
    def __init__(self, fitted):
        self.fitted, self.temperature = fitted, 1.0

    def fit_temperature(self, dev):
        self.temperature = self.fitted
        return self.fitted


def test_a_temperature_inside_the_range_is_kept(caplog):
    pipeline = _Pipeline(1.3)
    with caplog.at_level(logging.INFO, logger="lstm_nlp"):
        assert calibrate_on_dev(pipeline, dev=[{"label": 0}]) == 1.3
    assert pipeline.temperature == 1.3 and "temperature 1.300 fitted on dev" in caplog.text


@pytest.mark.parametrize("fitted, word", [(0.05, "right"), (20.0, "wrong")])
def test_a_fit_at_an_end_of_the_range_leaves_the_model_uncalibrated(caplog, fitted, word):
    pipeline = _Pipeline(fitted)
    with caplog.at_level(logging.INFO, logger="lstm_nlp"):
        assert calibrate_on_dev(pipeline, dev=[{"label": 0}]) is None
    assert pipeline.temperature == 1.0 and f"every dev prediction is {word}" in caplog.text


def test_no_dev_set_no_calibration():
    pipeline = _Pipeline(2.0)
    assert calibrate_on_dev(pipeline, None) is None and pipeline.temperature == 1.0
