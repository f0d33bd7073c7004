"""The IMDB recipe end to end on the bundled sample, then its bundle through the CLI."""

import io
import json
import sys
from pathlib import Path

import pytest

from lstm_nlp import cli

REPO_ROOT = Path(__file__).resolve().parents[2]
SAMPLE = REPO_ROOT / "data" / "imdb"


def _recipe():
    sys.path.insert(0, str(REPO_ROOT / "recipes"))
    try:
        import imdb_sentiment
    finally:
        sys.path.pop(0)
    return imdb_sentiment


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    out = tmp_path_factory.mktemp("imdb")
    metrics = _recipe().main(["--output-dir", str(out), "--cache-dir", str(out / "cache"), "--epochs", "6",
                              "--patience", "0", "--batch-size", "8", "--lr", "0.01", "--dropout", "0.2",
                              "--embedding-dim", "32", "--hidden-size", "32", "--no-progress", "--device", "cpu"])
    return out, metrics


def test_recipe_trains_on_the_sample_and_writes_its_outputs(trained):
    out, metrics = trained
    saved = json.loads((out / "metrics.json").read_text())
    assert set(saved) == {"dev", "test"}
    for split in saved.values():
        assert {"accuracy", "precision", "recall", "f1"} <= set(split)
    assert saved["test"]["accuracy"] == pytest.approx(metrics["test"]["accuracy"])
    epochs = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert [e["epoch"] for e in epochs] == list(range(1, 7))
    assert epochs[-1]["train_loss"] < 0.8 * epochs[0]["train_loss"]
    assert "positive class 'pos'" in (out / "report_dev.txt").read_text()
    assert {"config.json", "model.safetensors", "words.vocab.json", "labels.vocab.json"} <= {
        p.name for p in (out / "model").iterdir()}


def test_the_bundle_predicts_through_the_cli(trained, monkeypatch, capsys):
    out, _ = trained
    lines = "What a wonderful, moving film.\n\nDull and boring, a waste of time.\n"
    monkeypatch.setattr(sys, "stdin", io.StringIO(lines))
    assert cli.main(["predict", "--model", str(out / "model")]) == 0
    rows = [line.split("\t") for line in capsys.readouterr().out.splitlines()]
    assert len(rows) == 3 and all(label in ("neg", "pos") and 0.5 <= float(p) <= 1 for label, p in rows)


def test_carved_validation_split_subword_tokenizer_and_final_pooling(tmp_path):
    metrics = _recipe().main([
        "--train", str(SAMPLE / "train.jsonl"), "--val-fraction", "0.25", "--tokenizer", "bpe",
        "--subword-vocab-size", "200", "--pooling", "final", "--max-length", "12", "--epochs", "1",
        "--embedding-dim", "8", "--hidden-size", "8", "--output-dir", str(tmp_path), "--cache-dir",
        str(tmp_path / "cache"), "--no-progress", "--device", "cpu"])
    assert set(metrics) == {"dev"}
    assert sum(sum(metrics["dev"]["confusion"]["matrix"], [])) == 10  # 25% of 20 + 20 reviews
    assert (tmp_path / "model" / "tokenizer.json").exists()
    meta = json.loads((tmp_path / "model" / "config.json").read_text())
    assert meta["config"]["pooling"] == "final" and meta["meta"]["max_length"] == 12
