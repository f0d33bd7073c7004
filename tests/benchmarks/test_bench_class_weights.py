"""The class weights benchmark runs end to end on the bundled sample (its figures mean nothing there)."""

import json
import subprocess
import sys

import pytest


@pytest.mark.slow
def test_class_weights_benchmark_trains_both_settings_and_writes_the_table(tmp_path, repo_root):
    out, table = tmp_path / "cw.json", tmp_path / "cw.md"
    done = subprocess.run([sys.executable, str(repo_root / "benchmarks" / "bench_class_weights.py"), "--smoke",
                           "--json", str(out), "--output", str(table)], cwd=repo_root, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(out.read_text())
    assert result["name"] == "class_weights" and result["smoke"] is True
    (row,) = result["rows"]
    for setting in ("none", "auto"):
        assert all(0 <= row[setting][kind] <= 1 for kind in ("PER", "LOC", "ORG", "MISC", "micro"))
    text = table.read_text()
    assert "| `auto` - `none` (median of per-seed differences) |" in text and "| MISC |" in text
    assert "1 torch thread(s)" in text
