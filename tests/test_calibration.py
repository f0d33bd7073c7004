"""Temperature fitting, ECE, Brier score and reliability diagrams."""

from __future__ import annotations

import math

import pytest
import torch

from lstm_nlp.calibration import (
    brier_score,
    calibration_metrics,
    check_temperature,
    expected_calibration_error,
    fit_temperature,
    plot_reliability,
    reliability_bins,
)
from lstm_nlp.errors import ConfigError


def test_ece_of_a_hand_worked_case():
    # bin (0.8, 0.8667]: confidences 0.85, 0.85 with 1 of 2 right -> |0.5 - 0.85| weighted 2/4;
    # bin (0.2, 0.2667]: 0.25, 0.25 with 0 of 2 right -> |0 - 0.25| weighted 2/4
    confidence, correct = [0.85, 0.85, 0.25, 0.25], [1, 0, 0, 0]
    assert expected_calibration_error(confidence, correct) == pytest.approx(0.5 * 0.35 + 0.5 * 0.25)
    assert brier_score(confidence, correct) == pytest.approx((0.15 ** 2 + 0.85 ** 2 + 2 * 0.25 ** 2) / 4)


def test_a_calibrated_predictor_has_an_ece_near_zero():
    generator = torch.Generator().manual_seed(0)
    confidence = torch.rand(200_000, generator=generator)
    correct = torch.rand(200_000, generator=generator) < confidence
    assert expected_calibration_error(confidence.tolist(), correct.tolist()) < 0.01


def test_bins_are_right_closed_and_zero_goes_to_the_first():
    table = reliability_bins([0.0, 1 / 15, 1.0], [0, 1, 1])
    assert table[0] == (pytest.approx(1 / 30), 0.5, 2) and table[-1] == (1.0, 1.0, 1) and len(table) == 15


@pytest.mark.parametrize("confidence, correct", [([1.2], [1]), ([-0.1], [0]), ([0.5, 0.5], [1])])
def test_bad_inputs_are_refused(confidence, correct):
    with pytest.raises(ConfigError):
        calibration_metrics(confidence, correct)


def test_a_probability_past_one_by_rounding_is_clipped_not_refused():
    assert calibration_metrics([1.0000001, 0.5], [1, 0])["mean_confidence"] == pytest.approx(0.75)


def test_empty_inputs_give_nan_not_an_error():
    metrics = calibration_metrics([], [])
    assert math.isnan(metrics["ece"]) and math.isnan(metrics["brier"]) and metrics["count"] == 0


@pytest.mark.parametrize("true_temperature", [0.5, 2.0, 4.0])
def test_fit_temperature_recovers_the_temperature_the_labels_were_drawn_at(true_temperature):
    generator = torch.Generator().manual_seed(1)
    logits = torch.randn(40_000, 5, generator=generator, dtype=torch.float64) * 3
    labels = torch.multinomial((logits / true_temperature).softmax(-1), 1, generator=generator).squeeze(1)
    fitted = fit_temperature(lambda t: float(torch.nn.functional.cross_entropy(logits / t, labels)))
    assert fitted == pytest.approx(true_temperature, rel=0.05)


@pytest.mark.parametrize("value", [0, -1, math.nan, math.inf, 100.0, True, "2"])
def test_check_temperature_refuses_what_cannot_be_one(value):
    with pytest.raises(ConfigError, match="temperature must be a number"):
        check_temperature(value)


def test_the_reliability_diagram_is_a_png(tmp_path):
    path = plot_reliability([0.9, 0.8, 0.3, 0.95], [1, 1, 0, 0], tmp_path / "r.png", title="test")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
