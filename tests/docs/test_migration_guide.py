"""docs/migrating-from-torchtext.md: its ``python`` blocks run, in order, in one namespace."""

import re

import pytest


@pytest.fixture
def doc(repo_root):
    return repo_root / "docs" / "migrating-from-torchtext.md"


def _blocks(text: str, language: str) -> list[str]:
    return re.findall(rf"^```{language}\n(.*?)^```", text, flags=re.DOTALL | re.MULTILINE)


def test_the_migration_example_runs(tmp_path, monkeypatch, capsys, repo_root, doc):
    monkeypatch.chdir(repo_root)  # the example reads data/imdb/
    monkeypatch.setenv("HOME", str(tmp_path))  # its caches go to ~/.cache/lstm_nlp
    blocks = _blocks(doc.read_text(encoding="utf-8"), "python")
    assert len(blocks) == 2
    namespace: dict = {"__name__": "migration_doc"}
    for number, block in enumerate(blocks, 1):
        exec(compile(block, f"{doc.name} (python block {number})", "exec"), namespace)
    assert (tmp_path / ".cache" / "lstm_nlp" / "datasets").is_dir()
    assert set(namespace["test_metrics"]) >= {"accuracy", "precision", "recall", "f1"}
    assert len(namespace["result"].history) == 3
    assert "positive class 'pos'" in capsys.readouterr().out


def test_every_legacy_construct_has_an_equivalent(doc):
    text = doc.read_text(encoding="utf-8")
    for construct in ("tokenize='spacy'", "lower=True", "include_lengths=True", "batch_first=True",
                      "fix_length", "LabelField", "max_size=", "min_freq=", "vectors=", "sort_within_batch=True",
                      "datasets.IMDB.splits", "BucketIterator"):
        assert construct in text, construct
    legacy = _blocks(text, "py")
    assert legacy and "data.Field(" in legacy[0]
