"""Every benchmark runs end to end in --smoke mode on the bundled sample (so they do not rot).

The figures of a smoke run mean nothing; the real runs are ``benchmarks/run_all.py`` (docs/benchmarks.md).
"""

import json
import os
import subprocess
import sys

import pytest


@pytest.mark.slow
@pytest.mark.parametrize("name, script", [("training", ["bench_training.py", "--task", "pos"]),
                                          ("training_imdb", ["bench_training.py", "--task", "imdb"]),
                                          ("encoder", ["bench_encoder.py"]), ("inference", ["bench_inference.py"])])
def test_benchmark_smoke_run_writes_sections_metrics_and_targets(name, script, tmp_path, repo_root):
    out = tmp_path / f"{name}.json"
    env = {**os.environ, "LSTM_NLP_BENCH_CACHE": str(tmp_path / "cache")}
    done = subprocess.run([sys.executable, str(repo_root / "benchmarks" / script[0]), *script[1:], "--smoke",
                           "--repeats", "1", "--json", str(out)], cwd=repo_root, env=env, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(out.read_text())
    assert result["name"] == name and result["smoke"] is True
    assert result["sections"] and all("|---" in s["markdown"] for s in result["sections"])
    assert result["metrics"]["peak_rss_mb"] > 0
    assert result["targets"] and all(t["value"] is not None and t["met"] in (True, False) for t in result["targets"])
    assert result["threads"] == 1  # the benchmarks' --threads default


@pytest.mark.slow
def test_run_all_renders_the_report_with_acceptance_table(tmp_path, repo_root):
    report = tmp_path / "benchmarks.md"
    done = subprocess.run([sys.executable, str(repo_root / "benchmarks" / "run_all.py"), "--smoke", "--only",
                           "encoder", "training_imdb", "--output", str(report)], cwd=repo_root, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    text = report.read_text()
    assert "## Acceptance" in text and "Padding efficiency >= 97%, IMDB" in text and "torch " in text
    assert "`python benchmarks/bench_training.py --task imdb` regenerates this table." in text


@pytest.mark.slow
def test_probabilities_benchmark_prints_the_cost(tmp_path, repo_root):
    done = subprocess.run([sys.executable, str(repo_root / "benchmarks" / "bench_probabilities.py"), "--smoke",
                           "--repeats", "1", "--json", str(tmp_path / "p.json")], cwd=repo_root, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "cost:" in done.stdout and json.loads((tmp_path / "p.json").read_text())["cost"] > 0


@pytest.mark.slow
def test_calibration_benchmark_trains_the_samples_and_prints_ece_before_and_after(tmp_path, repo_root):
    table = tmp_path / "calibration.md"
    done = subprocess.run([sys.executable, str(repo_root / "benchmarks" / "bench_calibration.py"), "--smoke",
                           "--tasks", "pos", "--plots", str(tmp_path / "img"), "--output", str(table)],
                          cwd=repo_root, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    row = next(line for line in table.read_text().splitlines() if line.startswith("| pos | token"))
    ece_raw, ece_after = (float(cell) for cell in row.split("|")[6:8])
    assert 0 <= ece_raw <= 1 and 0 <= ece_after <= 1
    assert (tmp_path / "img" / "calibration_pos_token_cross-fitted.png").exists()
