"""Every benchmark runs end to end in --smoke mode on the bundled sample (so they do not rot).

The figures of a smoke run mean nothing; the real runs are ``benchmarks/run_all.py`` (docs/benchmarks.md).
"""

import json
import os
import subprocess
import sys

import pytest


@pytest.mark.slow
@pytest.mark.parametrize("name", ["training", "training_imdb", "encoder", "padding", "inference", "time_to_accuracy",
                                  "vs_spacy", "predict_cli"])
def test_benchmark_smoke_run_writes_sections_and_metrics(name, tmp_path, repo_root):
    out = tmp_path / f"{name}.json"
    env = {**os.environ, "LSTM_NLP_BENCH_CACHE": str(tmp_path / "cache")}
    done = subprocess.run([sys.executable, str(repo_root / "benchmarks" / f"bench_{name}.py"), "--smoke",
                           "--repeats", "1", "--json", str(out)], cwd=repo_root, env=env, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(out.read_text())
    assert result["name"] == name and result["smoke"] is True
    assert result["sections"] and all("|---" in s["markdown"] for s in result["sections"])
    assert result["metrics"]["peak_rss_mb"] > 0
    assert result["threads"] == 1  # the benchmarks' --threads default


@pytest.mark.slow
def test_run_all_renders_the_report_with_acceptance_table(tmp_path, repo_root):
    report = tmp_path / "benchmarks.md"
    done = subprocess.run([sys.executable, str(repo_root / "benchmarks" / "run_all.py"), "--smoke", "--only",
                           "padding", "encoder", "--output", str(report)], cwd=repo_root, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    text = report.read_text()
    assert "## Acceptance" in text and "Padding efficiency" in text and "torch " in text


@pytest.mark.slow
def test_sharing_benchmark_runs_a_pair_of_recipes_and_prints_the_table(tmp_path, repo_root):
    table = tmp_path / "sharing.md"
    done = subprocess.run([sys.executable, str(repo_root / "benchmarks" / "bench_sharing.py"), "--smoke", "--rows",
                           "1+1", "--output", str(table)], cwd=repo_root, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    rows = [line for line in table.read_text().splitlines() if line.startswith("| solo auto") or line.startswith("| 1+1")]
    assert len(rows) == 2 and all(float(row.split("|")[2]) > 0 for row in rows)


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
