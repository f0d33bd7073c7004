"""pretrain_lm.py end to end on the bundled IMDB sample: perplexity, bundle, resume, warm start, errors."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys

import pytest
import torch
from safetensors.torch import load_file

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
                              "--gradual-unfreeze",
                              "--embedding-dim", "16", "--hidden-size", "16", "--num-layers", "1",
                              "--output-dir", str(tmp_path / recipe), "--no-progress", "--no-checkpoints"])
    assert "tensors copied" in caplog.text and "learning rates per layer group" in caplog.text
    assert "gradual unfreezing: epoch 1 trains the top 1 of" in caplog.text


TWO_NODE_ARGS = ["--epochs", "3", "--dropout", "0", "--embedding-dim", "16", "--hidden-size", "16", "--heldout-texts",
                 "20", "--window", "16", "--no-progress", "--cutoffs", "200", "--max-vocab", "1000", "--seed", "3"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
def test_two_nodes_on_localhost_train_as_one_process_reading_both_shards(tmp_path, repo_root):
    """torchrun --nnodes 2 --nproc_per_node 1, node ranks started separately (static rendezvous on 127.0.0.1), each
    rank streaming its own shard: the same loss curve and weights as one process with --data-shards 2 and the
    global batch. Dropout is off: each rank draws its own masks, which one process could not reproduce."""
    recipe = str(repo_root / "recipes" / "pretrain_lm.py")
    env = {**os.environ, "OMP_NUM_THREADS": "1", "LSTM_NLP_LOGLEVEL": "WARNING"}
    port = _free_port()
    nodes = [subprocess.Popen([sys.executable, "-m", "torch.distributed.run", "--nnodes", "2", "--nproc_per_node", "1",
                               "--node_rank", str(rank), "--master_addr", "127.0.0.1", "--master_port", str(port),
                               recipe, "--output-dir", str(tmp_path / "two"), "--batch-size", "4", *TWO_NODE_ARGS],
                              env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
             for rank in (0, 1)]
    for node in nodes:
        output = node.communicate(timeout=300)[0]
        assert node.returncode == 0, output[-3000:]
    one = subprocess.run([sys.executable, recipe, "--output-dir", str(tmp_path / "one"), "--data-shards", "2",
                          "--batch-size", "8", *TWO_NODE_ARGS], env=env, capture_output=True, text=True, timeout=300)
    assert one.returncode == 0, one.stderr[-3000:]

    curves = [[json.loads(line) for line in (tmp_path / run / "metrics.jsonl").read_text().splitlines()]
              for run in ("two", "one")]
    assert [r["train_tokens"] for r in curves[0]] == [r["train_tokens"] for r in curves[1]]  # both ranks counted
    for key in ("train_loss", "dev_perplexity"):
        assert [r[key] for r in curves[0]] == pytest.approx([r[key] for r in curves[1]], rel=1e-5), key
    a, b = (load_file(tmp_path / run / "model" / "model.safetensors") for run in ("two", "one"))
    assert a.keys() == b.keys() and all(torch.allclose(a[k], b[k], atol=1e-5) for k in a)


def test_data_shards_that_do_not_divide_the_batch_are_refused(tmp_path, load_recipe):
    from lstm_nlp.errors import ConfigError

    with pytest.raises(ConfigError, match="--data-shards 3"):
        load_recipe("pretrain_lm").main([*FAST, "--data-shards", "3", "--output-dir", str(tmp_path)])
