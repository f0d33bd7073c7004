"""ForecastPipeline: metrics against baselines, predict_lines, CSV evaluation data, plots and bundles."""

import numpy as np
import pytest
import torch

from lstm_nlp.data.series import Scaler, make_windows, synthetic_series
from lstm_nlp.errors import DataFormatError
from lstm_nlp.models import Forecaster, ForecasterConfig, naive_forecast
from lstm_nlp.pipelines import ForecastPipeline, load_pipeline, pipeline_class


@pytest.fixture
def pipeline():
    model = Forecaster(ForecasterConfig(window=12, horizon=4, hidden_size=6), scaler=Scaler(10.0, 3.0)).eval()
    return ForecastPipeline(model, period=6, column="load")


def test_registered_for_the_cli():
    assert pipeline_class("forecaster") is ForecastPipeline


def test_evaluate_reports_model_and_baselines_in_raw_units(pipeline):
    values = synthetic_series(60, period=6)
    metrics = pipeline.evaluate(values)
    history, targets = make_windows(values, 12, 4)
    assert metrics["windows"] == len(history) == 60 - 16 + 1
    predictions = pipeline.model.forecast(history)
    assert metrics["mae"] == pytest.approx((predictions - targets).abs().mean().item(), rel=1e-5)
    naive_error = naive_forecast(history, 4) - targets
    assert metrics["naive_last_mae"] == pytest.approx(naive_error.abs().mean().item(), rel=1e-5)
    assert metrics["naive_last_rmse"] == pytest.approx(naive_error.square().mean().sqrt().item(), rel=1e-5)
    assert {"seasonal_naive_mae", "seasonal_naive_rmse", "rmse"} <= set(metrics)
    assert "seasonal_naive" in metrics["report"]


def test_predict_lines_one_output_per_input_line(pipeline, caplog):
    lines = ["1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12", "", "4 5 6"]
    out = list(pipeline.predict_lines(lines))
    assert len(out) == 3 and out[1] == ""
    first = [float(v) for v in out[0].split()]
    assert len(first) == 4
    assert np.allclose(first, pipeline.model.forecast(np.arange(1.0, 13.0)).numpy(), atol=1e-4)
    assert len(out[2].split()) == 4  # a history shorter than the window still gets a forecast...
    assert "line 3: 3 value(s), fewer than the model's window of 12" in caplog.text  # ...and a warning


@pytest.mark.parametrize("line, message", [
    ("1 2 abc", "line 2: 'abc' is not a number"),
    ("hello", "line 2: 'hello' is not a number"),
    ("1 2 1e308", "line 2: '1e308' is not a finite number"),
    ("1 nan 2", "line 2: 'nan' is not a finite number"),
])
def test_predict_lines_refuses_what_is_not_a_history(pipeline, line, message):
    """These used to print an empty line (or ``nan``) with exit 0."""
    with pytest.raises(DataFormatError, match=message):
        list(pipeline.predict_lines(["1 2 3", line]))


def test_read_labelled_uses_the_training_column(tmp_path, pipeline):
    path = tmp_path / "s.csv"
    path.write_text("t,load\n" + "\n".join(f"{i},{v}" for i, v in enumerate(range(20))) + "\n")
    assert pipeline.read_labelled(path, tag_column=None).tolist() == list(map(float, range(20)))
    path.write_text("t,load\n" + "\n".join(f"{i},{v}" for i, v in enumerate(range(10))) + "\n")
    with pytest.raises(DataFormatError, match="at least 16"):
        pipeline.read_labelled(path)


def test_plot_writes_a_png(tmp_path, pipeline):
    pipeline.plot(synthetic_series(60, period=6), tmp_path / "f.png", start=100)
    assert (tmp_path / "f.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_bundle_round_trip_keeps_task_settings(tmp_path, pipeline):
    pipeline.save_pretrained(tmp_path / "model")
    loaded = load_pipeline(tmp_path / "model")
    assert isinstance(loaded, ForecastPipeline)
    assert (loaded.period, loaded.column, loaded.model.scaler) == (6, "load", Scaler(10.0, 3.0))
    history = torch.randn(3, 12)
    assert torch.equal(loaded.predict(history), pipeline.predict(history))
