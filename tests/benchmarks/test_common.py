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


@pytest.mark.parametrize("script, option", [("run_all.py", "--output")])
def test_an_output_that_is_a_folder_is_refused_before_any_run(repo_root, tmp_path, script, option):
    result = subprocess.run([sys.executable, str(repo_root / "benchmarks" / script), option, str(tmp_path)],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 2 and f"{option} {tmp_path} is a folder" in result.stderr, result.stderr
    assert result.stderr.splitlines()[-1].startswith(f"{script}: error: {option}")  # argparse's usage, then it


def test_compare_interleaves_a_warm_up_round_and_the_timed_repeats(monkeypatch, repo_root):
    monkeypatch.syspath_prepend(str(repo_root / "benchmarks"))
    import common

    calls = []
    timings = common.compare({"a": lambda b: calls.append("a") or len(b), "b": lambda b: (calls.append("b") or 2, 0.0)},
                             [1, 2, 3], 2)
    assert calls == ["a", "b"] * 3 and timings["a"].work == [3, 3] and timings["b"].work == [2, 2]
    assert timings["a"].rate > 0 and len(timings["b"].rates) == 2
    sys.modules.pop("common", None)


def test_a_target_reads_its_figure_from_the_metrics(monkeypatch, repo_root):
    monkeypatch.syspath_prepend(str(repo_root / "benchmarks"))
    import common

    result = common.BenchResult("x", metrics={"speedup": 6.12, "change": -0.4})
    result.target("fast", "speedup", ">= 5", "{:.1f}x")
    result.target("same accuracy", "change", "|x| <= 0.3", "{:+.2f} points")
    result.target("absent", "missing", "<= 0.05", "{:.1%}")
    assert [(t["shown"], t["met"]) for t in result.targets] == [("6.1x", True), ("-0.40 points", False),
                                                               ("not measured", None)]
    sys.modules.pop("common", None)
