"""Every tutorial notebook in tutorials/ executes, cell by cell, within its time limit.

The notebooks check their own claims with asserts, so a library change that breaks a lesson fails here.
"""

from __future__ import annotations

import importlib.util
import time
from pathlib import Path

import pytest

pytest.importorskip("jupytext", reason='the tutorials extra is not installed (pip install -e ".[tutorials]")')
pytest.importorskip("nbclient", reason='the tutorials extra is not installed (pip install -e ".[tutorials]")')
pytest.importorskip("ipykernel", reason='the tutorials extra is not installed (pip install -e ".[tutorials]")')

_spec = importlib.util.spec_from_file_location(
    "tutorials_render", Path(__file__).resolve().parent.parent / "tutorials" / "render.py")
render = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(render)


def test_the_lessons_are_there():
    paths = render.tutorial_paths()
    assert [p.stem[:2] for p in paths] == [f"{n:02d}" for n in range(1, len(paths) + 1)]


@pytest.mark.slow
@pytest.mark.parametrize("path", render.tutorial_paths(), ids=lambda p: p.stem)
def test_tutorial_executes_within_its_time_limit(path, monkeypatch):
    # The time limit is for the bundled samples; the real-data tests' LSTM_NLP_DATA must not change them.
    monkeypatch.delenv("LSTM_NLP_TUTORIAL_DATA", raising=False)
    start = time.perf_counter()
    render.execute(path)  # raises on a failing cell (an assert included) or a cell past the limit
    seconds = time.perf_counter() - start
    assert seconds < render.TIME_LIMIT_S, f"{path.name} took {seconds:.0f} s (limit {render.TIME_LIMIT_S} s)"


def test_the_real_data_tests_variable_does_not_switch_a_lesson_to_the_real_corpora():
    for path in render.tutorial_paths():
        assert 'environ.get("LSTM_NLP_DATA")' not in path.read_text(encoding="utf-8"), path.name
