"""The IMDB recipe end to end on the bundled sample, then its bundle through the CLI."""

import csv
import io
import json
import sys

import pytest

from lstm_nlp import cli
from lstm_nlp.errors import ConfigError


@pytest.fixture(scope="module")
def trained(tmp_path_factory, load_recipe):
    out = tmp_path_factory.mktemp("imdb")
    metrics = load_recipe("imdb_sentiment").main(
        ["--output-dir", str(out), "--cache-dir", str(out / "cache"), "--epochs", "3",
         "--patience", "0", "--batch-size", "32", "--lr", "0.01", "--dropout", "0.2",
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
    assert [e["epoch"] for e in epochs] == list(range(1, 4))
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
    assert [rows[0][0], rows[2][0]] == ["pos", "neg"]


def test_the_demo_model_is_not_absurd(trained):
    from lstm_nlp.pipelines import load_pipeline

    out, _ = trained
    predicted = load_pipeline(out / "model").predict(["This film is great", "This film is terrible"])
    assert [label for label, _ in predicted] == ["pos", "neg"]  # the old 40-review sample said neg for both


def _csv_with_other_columns(sample_dir, path, count: int = 40):
    """The first ``count`` sample reviews as CSV with the columns ``review`` and ``sentiment``."""
    rows = [json.loads(line) for line in (sample_dir / "imdb" / "train.jsonl").read_text().splitlines()[:count]]
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "review", "sentiment"])
        writer.writerows([i, row["text"], row["label"]] for i, row in enumerate(rows))
    return path


def test_named_columns_carved_validation_split_subword_tokenizer_and_final_pooling(load_recipe, sample_dir,
                                                                                    tmp_path):
    reviews = _csv_with_other_columns(sample_dir, tmp_path / "reviews.csv")
    metrics = load_recipe("imdb_sentiment").main([
        "--train", str(reviews), "--text-column", "review", "--label-column", "sentiment", "--val-fraction", "0.25",
        "--tokenizer", "bpe", "--subword-vocab-size", "200", "--pooling", "final", "--max-length", "12",
        "--epochs", "1", "--embedding-dim", "8", "--hidden-size", "8", "--output-dir", str(tmp_path), "--cache-dir",
        str(tmp_path / "cache"), "--no-progress", "--device", "cpu"])
    assert set(metrics) == {"dev"}
    assert sum(sum(metrics["dev"]["confusion"]["matrix"], [])) == 10  # 25% of 40 reviews
    assert (tmp_path / "model" / "tokenizer.json").exists()
    meta = json.loads((tmp_path / "model" / "config.json").read_text())
    assert meta["config"]["pooling"] == "final" and meta["meta"]["max_length"] == 12


def test_given_paths_are_used_hub_ids_pass_and_missing_files_stop(load_recipe, sample_dir, tmp_path):
    recipe = load_recipe("imdb_sentiment")
    mine = tmp_path / "mine.jsonl"
    mine.write_text('{"text": "ok", "label": 1}\n')
    args = recipe.parse_args(["--test", str(mine)])
    assert (args.train, args.dev, args.test) == (str(sample_dir / "imdb" / "train.jsonl"),
                                                 str(sample_dir / "imdb" / "dev.jsonl"), str(mine))
    assert recipe.parse_args(["--train", "stanfordnlp/imdb"]).train == "stanfordnlp/imdb"
    with pytest.raises(ConfigError, match="--dev: no such file or folder: nope.jsonl"):
        recipe.parse_args(["--dev", "nope.jsonl"])


def test_class_weights_from_a_file_reach_the_classifier_bundle(load_recipe, tmp_path):
    from lstm_nlp.models import TextClassifier

    weights = tmp_path / "weights.tsv"
    weights.write_text("neg\t2.5\n")
    load_recipe("imdb_sentiment").main(
        ["--output-dir", str(tmp_path / "out"), "--cache-dir", str(tmp_path / "cache"), "--epochs", "1",
         "--embedding-dim", "8", "--hidden-size", "8", "--no-progress", "--device", "cpu", "--class-weights",
         str(weights)])
    assert TextClassifier.from_pretrained(tmp_path / "out" / "model").config.class_weights == (2.5, 1.0)
    assert load_recipe("imdb_sentiment").parse_args([]).class_weights == "none"
