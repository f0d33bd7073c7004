"""The forecasting recipe end to end (tiny settings), its CSV errors, the CLI, and (slow) the acceptance run."""

import contextlib
import io
import json
import re
from pathlib import Path

import numpy as np
import pytest

from lstm_nlp import cli
from lstm_nlp.data.series import synthetic_series
from lstm_nlp.errors import DataFormatError

TINY = ["--epochs", "2", "--window", "24", "--horizon", "6", "--hidden-size", "8", "--no-progress",
        "--device", "cpu"]


@pytest.fixture(scope="module")
def recipe(load_recipe):
    return load_recipe("forecast")


def _write_csv(path: Path, values, *, column="load") -> Path:
    path.write_text(f"step,{column}\n" + "\n".join(f"{i},{v}" for i, v in enumerate(values)) + "\n")
    return path


@pytest.fixture(scope="module")
def trained(tmp_path_factory, recipe):
    out = tmp_path_factory.mktemp("forecast")
    csv = _write_csv(out / "series.csv", synthetic_series(400, seed=5))
    stdout = io.StringIO()
    with contextlib.redirect_stdout(stdout):
        metrics = recipe.main(["--csv", str(csv), "--column", "load", "--output-dir", str(out), *TINY])
    return out, metrics, stdout.getvalue()


def test_training_log_counts_windows_not_tokens(tmp_path, recipe, caplog):
    with caplog.at_level("INFO", logger="lstm_nlp"), contextlib.redirect_stdout(io.StringIO()):
        recipe.main(["--output-dir", str(tmp_path), "--length", "300", *TINY])
    assert re.search(r"epoch 1: loss [\d.]+, \d+ windows/s", caplog.text) and "tokens/s" not in caplog.text


def test_recipe_writes_metrics_plot_and_bundle(trained):
    out, metrics, stdout = trained
    saved = json.loads((out / "metrics.json").read_text())
    assert set(saved) == {"dev", "test"}  # "dev", as the README names the split (it was "val")
    assert "== dev ==" in stdout and "== test ==" in stdout and set(json.loads(stdout.splitlines()[-1])) >= {"dev"}
    for key in ("mae", "rmse", "naive_last_mae", "naive_last_rmse", "seasonal_naive_mae", "seasonal_naive_rmse"):
        assert saved["test"][key] == pytest.approx(metrics["test"][key]), key
    assert saved["test"]["windows"] == 60 - 6 + 1  # 15% of 400 values, every 6-step window
    assert (out / "forecast.png").read_bytes()[:4] == b"\x89PNG"
    assert "seasonal_naive" in (out / "report_test.txt").read_text()
    config = json.loads((out / "model" / "config.json").read_text())
    assert config["model_type"] == "forecaster" and config["meta"]["column"] == "load"
    assert [json.loads(line)["epoch"] for line in (out / "metrics.jsonl").read_text().splitlines()] == [1, 2]


def test_cli_predict_and_evaluate_the_bundle(trained, tmp_path, capsys):
    out, *_ = trained
    histories = tmp_path / "histories.txt"
    histories.write_text("1,2,3,4,5\n\n")
    assert cli.main(["predict", "--model", str(out / "model"), "--input", str(histories)]) == 0
    lines = capsys.readouterr().out.split("\n")
    assert len(lines[0].split()) == 6 and lines[1] == ""
    assert cli.main(["evaluate", "--model", str(out / "model"), "--data", str(out / "series.csv")]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["windows"] == 400 - 30 + 1 and printed["mae"] > 0


@pytest.mark.parametrize("bad,message", [
    ("missing", r"series\.csv:8: missing value in column 'load'"),
    ("text", r"series\.csv:8: non-numeric value 'oops' in column 'load'"),
    ("short", r"has 20 values but at least 30 are needed"),
])
def test_bad_csv_gets_a_clear_error(tmp_path, bad, message, recipe):
    values = [str(v) for v in synthetic_series(20 if bad == "short" else 400)]
    if bad != "short":
        values[6] = "" if bad == "missing" else "oops"  # data row 7 = line 8 of the file
    csv = _write_csv(tmp_path / "series.csv", values)
    with pytest.raises(DataFormatError, match=message):
        recipe.main(["--csv", str(csv), "--column", "load", "--output-dir", str(tmp_path / "out"), *TINY])


def test_csv_needs_a_column_and_data_flags_are_neither_shown_nor_taken(tmp_path, capsys, recipe):
    with pytest.raises(SystemExit):
        recipe.main(["--csv", "x.csv"])
    assert "--column" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        recipe.main(["--help"])
    shown = capsys.readouterr().out
    assert "--csv" in shown and not re.search(r"--(train|dev|test|eval-train)(?![\w-])", shown)
    with pytest.raises(SystemExit):
        recipe.main(["--train", "x.csv"])
    assert "unrecognized arguments: --train" in capsys.readouterr().err


@pytest.mark.slow
def test_default_run_beats_both_naive_baselines(tmp_path, recipe):
    """The acceptance run (about 10 s on one CPU core): default settings on the generated series."""
    metrics = recipe.main(["--output-dir", str(tmp_path), "--no-progress", "--device", "cpu"])
    test = metrics["test"]
    assert test["mae"] < test["seasonal_naive_mae"] < test["naive_last_mae"]
    assert test["rmse"] < test["seasonal_naive_rmse"]
    assert np.isfinite(test["mae"])
