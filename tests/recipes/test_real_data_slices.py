"""Bounded real-data runs of the NER, chunking and IMDB recipes (skipped without $LSTM_NLP_DATA).

Each trains briefly on a slice of the real corpus and checks that the recipe learns something
real; the full-size figures come from the recipes themselves (see docs/).
"""

import json
from pathlib import Path

import pytest

pytestmark = pytest.mark.realdata


def _head_blocks(source: Path, target: Path, count: int) -> Path:
    """The first ``count`` blank-line-separated sentences of a CoNLL file."""
    blocks = [b for b in source.read_text(encoding="utf-8").split("\n\n") if b.strip()][:count]
    target.write_text("\n\n".join(blocks) + "\n", encoding="utf-8")
    return target


def _common(tmp_path):
    return ["--output-dir", str(tmp_path / "out"), "--no-progress", "--device", "cpu", "--no-checkpoints"]


def test_ner_on_a_slice_of_conll2003(tmp_path, real_data, load_recipe):
    root = real_data / "conll2003"
    train = _head_blocks(root / "train.txt", tmp_path / "train.txt", 1500)
    dev = _head_blocks(root / "dev.txt", tmp_path / "dev.txt", 300)
    metrics = load_recipe("ner").main(["--train", str(train), "--dev", str(dev), "--epochs", "2", *_common(tmp_path)])
    assert metrics["dev"]["f1"] > 0.2  # entity-level, strict IOB2; majority "O" scores 0
    assert set(metrics["dev"]["per_tag"]) >= {"PER", "LOC", "ORG"}


def test_chunking_on_a_slice_of_conll2000(tmp_path, real_data, load_recipe):
    train = _head_blocks(real_data / "conll2000" / "train.txt", tmp_path / "train.txt", 1200)
    metrics = load_recipe("chunking").main(["--train", str(train), "--epochs", "2", *_common(tmp_path)])
    assert metrics["dev"]["f1"] > 0.5
    assert {"NP", "VP", "PP"} <= set(metrics["dev"]["per_tag"])


def test_imdb_on_a_slice_of_the_reviews(tmp_path, real_data, load_recipe):
    lines = (real_data / "imdb" / "train.jsonl").read_text(encoding="utf-8").splitlines()
    step = len(lines) // 1600  # the file is sorted by label: take evenly spaced reviews
    sample = lines[::step][:1600]
    assert {json.loads(line)["label"] for line in sample} == {0, 1}
    (tmp_path / "imdb.jsonl").write_text("\n".join(sample) + "\n", encoding="utf-8")
    metrics = load_recipe("imdb_sentiment").main(
        ["--train", str(tmp_path / "imdb.jsonl"), "--epochs", "2", "--max-length", "200",
         "--cache-dir", str(tmp_path / "cache"), *_common(tmp_path)])
    assert metrics["dev"]["accuracy"] > 0.58  # 160 validation reviews: chance is 0.5, this run gets ~0.65
