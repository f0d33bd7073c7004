"""The active learning benchmark runs end to end on the bundled sample (its figures mean nothing there)."""

import json
import subprocess
import sys

import pytest


@pytest.mark.slow
def test_active_learning_benchmark_trains_both_arms_and_writes_the_table(tmp_path, repo_root):
    out, table = tmp_path / "al.json", tmp_path / "al.md"
    done = subprocess.run([sys.executable, str(repo_root / "benchmarks" / "bench_active_learning.py"), "--smoke",
                           "--arms", "entropy", "random", "random-same-tokens", "--json", str(out), "--output",
                           str(table)], cwd=repo_root, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(out.read_text())
    assert result["name"] == "active_learning" and result["smoke"] is True
    (row,) = result["rows"]
    assert row["entropy"]["sentences"] == row["random"]["sentences"] == 24
    assert row["random-same-tokens"]["tokens"] >= row["entropy"]["tokens"] > 0
    assert all(0 <= value <= 1 for value in (row["start_f1"], *(row[arm]["f1"] for arm in result["arms"])))
    assert "| + 24 sentences by entropy |" in table.read_text() and "| median |" in table.read_text()
