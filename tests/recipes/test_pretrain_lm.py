"""pretrain_lm.py end to end on the bundled IMDB sample: perplexity, bundle, resume, warm start, errors."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from lstm_nlp.errors import DataFormatError
from lstm_nlp.models import ClassifierConfig, TextClassifier
from lstm_nlp.models.warm_start import init_from
from lstm_nlp.serialization import read_bundle

FAST = ["--heldout-texts", "40", "--batch-size", "16", "--window", "24", "--no-progress", "--hidden-size", "16",
        "--embedding-dim", "16", "--max-texts", "300"]


@pytest.fixture(scope="module")
def trained(tmp_path_factory, load_recipe):
    out = tmp_path_factory.mktemp("lm")
    metrics = load_recipe("pretrain_lm").main([*FAST, "--output-dir", str(out), "--epochs", "2"])
    return out, metrics


def test_trains_and_writes_perplexity_and_a_bundle(trained):
    out, metrics = trained
    history = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert [h["epoch"] for h in history] == [1, 2]
    assert history[1]["dev_perplexity"] < history[0]["dev_perplexity"]
    assert metrics["heldout"]["perplexity"] == pytest.approx(min(h["dev_perplexity"] for h in history))
    assert metrics["heldout"]["perplexity"] < metrics["vocab_size"]  # better than a uniform guess
    bundle = read_bundle(out / "model", expected_type="bilm")
    assert bundle.vocabs["words"].itos[:3] == ["<pad>", "<unk>", "<eos>"]
    assert bundle.meta["tokenizer"]["lower"] is True


def test_resume_continues_to_the_new_total(trained, load_recipe):
    out, _ = trained
    metrics = load_recipe("pretrain_lm").main([*FAST, "--output-dir", str(out), "--epochs", "3", "--resume"])
    history = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert [h["epoch"] for h in history] == [1, 2, 3] and metrics["best_epoch"] >= 2


def test_the_bundle_warm_starts_a_classifier(trained):
    out, _ = trained
    words = read_bundle(out / "model").vocabs["words"]
    model = TextClassifier(ClassifierConfig(vocab_size=len(words), num_labels=2, embedding_dim=16, hidden_size=16))
    report = init_from(model, out / "model", words)
    assert report.coverage.ratio == 1.0 and not report.skipped


def test_vectors_initialise_the_embedding(tmp_path, load_recipe):
    vectors = tmp_path / "v.vec"
    vectors.write_text("2 4\nthe 1 0 0 0\nmovie 0 1 0 0\n")
    out = tmp_path / "lm"
    load_recipe("pretrain_lm").main([*FAST, "--output-dir", str(out), "--vectors", str(vectors),
                                     "--max-texts", "100", "--no-checkpoints"])
    assert read_bundle(out / "model").config["embedding_dim"] == 4


def test_a_bad_corpus_stops_before_training(tmp_path, load_recipe):
    with pytest.raises(DataFormatError, match="file not found"):
        load_recipe("pretrain_lm").main(["--corpus", str(tmp_path / "none.jsonl"), "--output-dir", str(tmp_path)])


def test_help_explains_every_option(repo_root):
    done = subprocess.run([sys.executable, str(repo_root / "recipes" / "pretrain_lm.py"), "--help"],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0
    for option in ("--corpus", "--heldout-texts", "--window", "--max-vocab", "--cutoffs", "--vectors", "--resume"):
        assert option in done.stdout


@pytest.mark.parametrize("recipe", ["imdb_sentiment", "pos_tagger", "ner", "chunking"])
def test_recipes_warm_start_from_the_bundle(trained, load_recipe, tmp_path, recipe, caplog):
    out, _ = trained
    caplog.set_level("INFO", logger="lstm_nlp")
    load_recipe(recipe).main(["--epochs", "1", "--init-from", str(out / "model"), "--lr-decay", "2.6",
                              "--embedding-dim", "16", "--hidden-size", "16", "--num-layers", "1",
                              "--output-dir", str(tmp_path / recipe), "--no-progress", "--no-checkpoints"])
    assert "tensors copied" in caplog.text and "learning rates per layer group" in caplog.text
