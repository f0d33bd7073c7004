"""benchmarks/bench_serve.py end to end in --smoke mode (bundled sample, a tiny bundle, seconds): its three tables."""

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
    tables = [[line.split("|")[1:-1] for line in block.splitlines() if line.startswith("|")]
              for block in text.split("\n\n") if block.startswith("|")]
    assert len(tables) == 3  # throughput levels, the single client's 20-token latency, memory
    levels, latency, memory = (table[2:] for table in tables)  # below the header and the rule
    assert [row[0].strip() for row in levels] == ["1", "8", "64"]
    for row in levels:
        assert int(row[1].replace(",", "")) > 0 and row[2].strip() == "0"  # requests answered, no errors
        assert float(row[7]) >= 0  # the ratio to predict (a smoke run's predict is too short to time: it may read 0.00)
    assert latency[0][0].strip() == "20" and int(latency[0][1]) > 0 and float(latency[0][3]) > 0
    assert [row[0].strip() for row in memory] == ["0", "10", "100"]  # --smoke: N = 10
    assert all(row[1].strip() == "0" and float(row[3]) > 0 for row in memory)
