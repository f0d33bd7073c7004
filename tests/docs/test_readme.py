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
