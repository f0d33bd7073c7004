"""docs/lstm-shapes.md: its Python blocks run, in order, in one namespace, and their asserts hold."""

import re

import pytest


@pytest.fixture
def doc(repo_root):
    return repo_root / "docs" / "lstm-shapes.md"


def _python_blocks(text: str) -> list[str]:
    return re.findall(r"^```python\n(.*?)^```", text, flags=re.DOTALL | re.MULTILINE)


def test_the_shape_guide_examples_run(doc):
    blocks = _python_blocks(doc.read_text(encoding="utf-8"))
    assert len(blocks) >= 4
    namespace: dict = {"__name__": "lstm_shapes_doc"}
    for number, block in enumerate(blocks, 1):
        exec(compile(block, f"{doc.name} (python block {number})", "exec"), namespace)
    assert namespace["summary"].shape == (namespace["B"], 2 * namespace["H"])


def test_the_guide_covers_every_layout_and_mistake(doc):
    text = doc.read_text(encoding="utf-8")
    for phrase in ("batch_first=False", "batch_first=True", "h_0", "c_n", "PackedSequence", "lengths - 1",
                   "four gates", "h_n` assumed batch-first", "wrong end"):
        assert phrase in text, phrase
