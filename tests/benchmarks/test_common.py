"""benchmarks/common.py helpers."""

import sys

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
