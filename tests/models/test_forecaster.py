"""Forecaster: shapes, the last-value anchor, raw-unit forecasts, bundles and the naive baselines."""

import json

import numpy as np
import pytest
import torch

from lstm_nlp.data.series import Scaler
from lstm_nlp.errors import BundleError, ConfigError
from lstm_nlp.models import Forecaster, ForecasterConfig, naive_forecast, seasonal_naive_forecast

CONFIG = ForecasterConfig(window=8, horizon=3, hidden_size=6)


def test_forward_shapes_and_loss():
    model = Forecaster(CONFIG)
    history, targets = torch.randn(5, 8), torch.randn(5, 3)
    output = model(history, targets=targets)
    assert output.predictions.shape == (5, 3)
    assert output.loss.item() == pytest.approx((output.predictions - targets).abs().mean().item(), rel=1e-5)
    assert model(history).loss is None


def test_last_value_anchor_makes_forecasts_shift_with_the_level():
    model = Forecaster(CONFIG).eval()
    history = torch.randn(4, 8)
    shifted = model(history + 7.5).predictions
    assert torch.allclose(shifted, model(history).predictions + 7.5, atol=1e-5)
    unanchored = Forecaster(ForecasterConfig(window=8, horizon=3, hidden_size=6, anchor="none")).eval()
    assert not torch.allclose(unanchored(history + 7.5).predictions, unanchored(history).predictions + 7.5)


def test_masked_short_history_equals_the_short_history_alone():
    model = Forecaster(ForecasterConfig(window=8, horizon=3, hidden_size=6, encoder_impl="packed")).eval()
    history = torch.randn(2, 8)
    mask = torch.tensor([[True] * 8, [True] * 5 + [False] * 3])
    padded = model(history, mask=mask).predictions
    assert torch.allclose(padded[1], model(history[1:, :5]).predictions[0], atol=1e-6)
    assert torch.allclose(padded[0], model(history[:1]).predictions[0], atol=1e-6)


def test_forecast_works_in_raw_units():
    scaler = Scaler(mean=100.0, std=10.0)
    model = Forecaster(CONFIG, scaler=scaler).eval()
    raw = np.linspace(90, 110, 20)
    expected = model(scaler.transform(torch.tensor(raw[-8:], dtype=torch.float32))[None]).predictions[0]
    assert torch.allclose(model.forecast(raw), scaler.inverse_transform(expected), atol=1e-4)
    assert model.forecast(np.stack([raw, raw])).shape == (2, 3)


def test_save_and_load_give_identical_forecasts(tmp_path):
    model = Forecaster(CONFIG, scaler=Scaler(mean=3.0, std=2.0)).eval()
    model.save_pretrained(tmp_path / "bundle", meta={"column": "load"})
    header = json.loads((tmp_path / "bundle" / "config.json").read_text())
    assert header["model_type"] == "forecaster"
    assert header["meta"] == {"column": "load", "scaler": {"mean": 3.0, "std": 2.0}}
    loaded = Forecaster.from_pretrained(tmp_path / "bundle")
    assert loaded.config == CONFIG and loaded.scaler == model.scaler
    history = np.random.default_rng(0).normal(size=(4, 8))
    assert torch.equal(loaded.forecast(history), model.forecast(history))


def test_bundle_without_scaler_is_refused(tmp_path):
    Forecaster(CONFIG).save_pretrained(tmp_path / "bundle")
    config_path = tmp_path / "bundle" / "config.json"
    header = json.loads(config_path.read_text())
    del header["meta"]["scaler"]
    config_path.write_text(json.dumps(header))
    with pytest.raises(BundleError, match="meta.scaler"):
        Forecaster.from_pretrained(tmp_path / "bundle")


def test_config_is_checked():
    with pytest.raises(ConfigError, match="horizon"):
        ForecasterConfig(horizon=0)
    with pytest.raises(ConfigError, match="anchor"):
        ForecasterConfig(anchor="mean")


def test_naive_baselines():
    history = torch.arange(12.0)[None]  # one window: 0..11
    assert naive_forecast(history, 3).tolist() == [[11.0, 11.0, 11.0]]
    # period 4: the last season is 8, 9, 10, 11, repeated
    assert seasonal_naive_forecast(history, 6, 4).tolist() == [[8.0, 9.0, 10.0, 11.0, 8.0, 9.0]]
    assert seasonal_naive_forecast(history, 2, 12).tolist() == [[0.0, 1.0]]
    with pytest.raises(ConfigError, match="period"):
        seasonal_naive_forecast(history, 2, 13)
