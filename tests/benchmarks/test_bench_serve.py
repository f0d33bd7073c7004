"""benchmarks/bench_serve.py end to end in --smoke mode (bundled sample, a tiny bundle, seconds)."""

from __future__ import annotations

import subprocess
import sys

import pytest

pytest.importorskip("fastapi", reason="bench_serve runs lstm-nlp serve: the [serve] extra")
pytest.importorskip("uvicorn", reason="bench_serve runs lstm-nlp serve: the [serve] extra")


@pytest.mark.slow
def test_bench_serve_smoke_run_prints_and_writes_the_table(tmp_path, repo_root):
    table = tmp_path / "serve.md"
    done = subprocess.run([sys.executable, str(repo_root / "benchmarks" / "bench_serve.py"), "--smoke", "--output",
                           str(table)], cwd=repo_root, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    text = table.read_text()
    assert text.strip() in done.stdout and "data/pos/dev.conllu" in text and "lstm-nlp predict" in text
    rows = [line.split("|")[1:-1] for line in text.splitlines() if line[:3] in ("| 1", "| 8", "| 6")]
    assert [row[0].strip() for row in rows] == ["1", "8", "64"]
    for row in rows:
        assert int(row[1].replace(",", "")) > 0 and row[2].strip() == "0"  # requests answered, no errors
        assert float(row[7]) >= 0  # the ratio to predict (a smoke run's predict is too short to time: it may read 0.00)
