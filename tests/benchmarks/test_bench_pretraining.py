"""bench_pretraining.py --smoke: an ablation row with an LM warm start and the 1x/2x memory rows, on the sample."""

import json
import subprocess
import sys

import pytest


@pytest.mark.slow
def test_smoke_run_reports_a_warm_started_row_and_memory(tmp_path, repo_root):
    done = subprocess.run([sys.executable, str(repo_root / "benchmarks" / "bench_pretraining.py"), "--smoke"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout[done.stdout.index('{\n  "imdb"'):])
    assert "tensors copied" in result["imdb"]["init_from"] and len(result["imdb"]["group_lrs"]) == 3
    rows = result["memory"]["rows"]
    assert [r["repeat"] for r in rows] == [1, 2] and rows[1]["train_tokens"] == 2 * rows[0]["train_tokens"]
    assert all(r["peak_rss_mb"] > 0 for r in rows)
