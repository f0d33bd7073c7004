"""benchmarks/common.py helpers."""

import subprocess
import sys

import pytest
import torch


def test_reading_a_recipes_defaults_keeps_the_benchmarks_thread_count(monkeypatch, repo_root):
    """A recipe's parser applies its --threads default (free cores); a benchmark's --threads must stand."""
    monkeypatch.syspath_prepend(str(repo_root / "benchmarks"))
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    monkeypatch.setattr("lstm_nlp.device.free_cpu_threads", lambda **_: 2)
    import common

    before = torch.get_num_threads()
    try:
        torch.set_num_threads(1)
        common.recipe_defaults("pos_tagger")
        assert torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(before)
        sys.modules.pop("common", None)


@pytest.mark.parametrize("script, option", [("bench_vs_spacy.py", "--plot"),
                                            ("run_all.py", "--output")])
def test_an_output_that_is_a_folder_is_refused_before_any_run(repo_root, tmp_path, script, option):
    result = subprocess.run([sys.executable, str(repo_root / "benchmarks" / script), option, str(tmp_path)],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 2 and f"{option} {tmp_path} is a folder" in result.stderr, result.stderr
    assert result.stderr.splitlines()[-1].startswith(f"{script}: error: {option}")  # argparse's usage, then it
