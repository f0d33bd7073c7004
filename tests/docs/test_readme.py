"""The README's quick-start code runs as written."""

import os
import re


def test_quick_start_block_runs(tmp_path, monkeypatch, repo_root):
    text = (repo_root / "README.md").read_text(encoding="utf-8")
    block = re.search(r"## Quick start.*?```python\n(.*?)```", text, re.S).group(1)
    monkeypatch.chdir(repo_root)
    block = block.replace('"my_tagger"', repr(str(tmp_path / "my_tagger")))
    namespace: dict = {}
    exec(compile(block, "README.md", "exec"), namespace)  # noqa: S102
    assert os.path.exists(tmp_path / "my_tagger" / "model.safetensors")


def test_quick_start_run_as_a_script_prints_each_epoch(tmp_path, repo_root):
    import subprocess
    import sys

    text = (repo_root / "README.md").read_text(encoding="utf-8")
    block = re.search(r"## Quick start.*?```python\n(.*?)```", text, re.S).group(1)
    script = tmp_path / "quick_start.py"
    script.write_text(block.replace('"my_tagger"', repr(str(tmp_path / "my_tagger"))), encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k != "LSTM_NLP_LOGLEVEL"}
    done = subprocess.run([sys.executable, str(script)], cwd=repo_root, capture_output=True, text=True, env=env,
                          timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "epoch 1: loss" in done.stderr and "dev accuracy" in done.stderr, done.stderr[-2000:]
