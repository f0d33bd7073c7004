"""Batch prediction on Ray Data: a local cluster, an actor pool of 2, outputs equal to lstm-nlp predict's.

The cluster has 3 logical CPUs on a machine of any size: one per actor and one for the read tasks (with
every CPU held by an actor, the read waits forever).
"""

from __future__ import annotations

import importlib
import json
import os
import re
import sys

import numpy as np
import pytest

from lstm_nlp import cli
from lstm_nlp.data import Vocab
from lstm_nlp.errors import ConfigError

RAY_MISSING = "needs Ray Data: pip install 'lstm_nlp[ray]'"


def test_without_ray_the_import_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)  # import ray now raises ImportError, installed or not
    monkeypatch.setitem(sys.modules, "ray.data", None)
    monkeypatch.delitem(sys.modules, "lstm_nlp.integrations.ray", raising=False)
    with pytest.raises(ImportError, match=re.escape('needs Ray Data: pip install "lstm_nlp[ray]"')):
        importlib.import_module("lstm_nlp.integrations.ray")


def corpus_lines(sample_dir) -> list[str]:
    """2,400 sentences from the bundled POS sample (each in 6 variants) and lines that test the line rules."""
    texts = [line[len("# text = "):].rstrip("\n") for name in ("train", "dev", "test")
             for line in (sample_dir / "pos" / f"{name}.conllu").read_text(encoding="utf-8").splitlines(True)
             if line.startswith("# text = ")]
    lines = []
    for text in texts:
        words = text.split()
        lines += [text, text.lower(), text.upper(), " ".join(reversed(words)), " ".join(words[:len(words) // 2]),
                  " ".join(words[len(words) // 2:])]
    # empty lines, a lone \r and a vertical tab inside a line (read_text would split there), a BOM mid-file
    return lines + ["", "a\rb c", "x\x0by", "\ufeffThe cat sat .", "Zürich café ."]


def write_corpus(path, lines) -> None:
    # a BOM at the start of the file (dropped) and \r\n line ends on some lines (stripped), as predict reads them
    body = "".join(line + ("\r\n" if i % 7 == 0 else "\n") for i, line in enumerate(lines))
    path.write_bytes(("\ufeff" + body).encode("utf-8"))


def pos_bundle(path, lines) -> str:
    from lstm_nlp.models import SequenceTagger, TaggerConfig
    from lstm_nlp.pipelines import TaggingPipeline

    words = Vocab.build([line.lower().split() for line in lines], lower=True)
    labels = Vocab.build_labels([["DET", "NOUN", "VERB", "ADJ", "ADP", "PUNCT"]])
    config = TaggerConfig(vocab_size=len(words), num_labels=len(labels), embedding_dim=8, hidden_size=8, num_layers=1)
    TaggingPipeline(SequenceTagger(config), words, labels).save_pretrained(path)
    return str(path)


def predict_cli(model, source, capsys, *options) -> list[str]:
    """The lines ``lstm-nlp predict`` writes for the file ``source``."""
    capsys.readouterr()
    assert cli.main(["predict", "--model", str(model), "--input", str(source), "--threads", "1", *options]) == 0
    return capsys.readouterr().out.splitlines()


@pytest.fixture(scope="module")
def ray_cluster():
    ray = pytest.importorskip("ray", reason=RAY_MISSING)
    pytest.importorskip("ray.data", reason=RAY_MISSING)
    ray.init(num_cpus=3, include_dashboard=False, log_to_driver=False, configure_logging=False)
    context = ray.data.DataContext.get_current()
    order, context.execution_options.preserve_order = context.execution_options.preserve_order, True
    context.enable_progress_bars = False
    yield ray
    context.execution_options.preserve_order = order
    ray.shutdown()


@pytest.mark.slow
def test_the_docs_example_writes_what_predict_writes(ray_cluster, repo_root, sample_dir, tmp_path, monkeypatch,
                                                     capsys):
    lines = corpus_lines(sample_dir)
    assert len(lines) > 2400
    monkeypatch.chdir(tmp_path)
    write_corpus(tmp_path / "corpus.txt", lines)
    pos_bundle(tmp_path / "runs" / "pos" / "model", lines)
    text = (repo_root / "docs" / "ray.md").read_text(encoding="utf-8")
    block = re.search(r"## Example.*?```python\n(.*?)```", text, re.S).group(1)
    # the module's cluster (3 CPUs, as the example's) is up already: keep it, and running for the next test
    block = block.replace("ray.init(num_cpus=3)", "ray.init(ignore_reinit_error=True)").replace("ray.shutdown()", "")
    exec(compile(block, "docs/ray.md", "exec"), {})  # noqa: S102
    expected = predict_cli(tmp_path / "runs" / "pos" / "model", tmp_path / "corpus.txt", capsys,
                           "--output-format", "jsonl")
    assert len(expected) == len(lines)
    assert (tmp_path / "corpus.jsonl").read_text(encoding="utf-8").splitlines() == expected


@pytest.mark.slow
def test_two_actors_each_load_the_model_once_with_probabilities(ray_cluster, sample_dir, tmp_path, capsys):
    from lstm_nlp.integrations.ray import Predictor, read_lines

    lines = corpus_lines(sample_dir)
    write_corpus(tmp_path / "corpus.txt", lines)
    model = pos_bundle(tmp_path / "pos", lines)

    class CountingPredictor(Predictor):  # notes the actor (process) and how many models it loaded
        loads = 0

        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            type(self).loads += 1

        def __call__(self, batch):
            out = super().__call__(batch)
            return {**out, "pid": np.full(len(out["prediction"]), os.getpid()),
                    "loads": np.full(len(out["prediction"]), type(self).loads)}

    tagged = read_lines(str(tmp_path / "corpus.txt"), num_blocks=8).map_batches(
        CountingPredictor, fn_constructor_args=(model,), fn_constructor_kwargs={"probabilities": True},
        batch_size=256, batch_format="numpy", concurrency=2)
    rows = tagged.take_all()
    assert [row["text"] for row in rows] == [line.removeprefix("\ufeff") if i == 0 else line
                                             for i, line in enumerate(lines)]
    assert len({row["pid"] for row in rows}) == 2  # both actors of the pool predicted
    assert {row["loads"] for row in rows} == {1}  # each loaded the model once, for all its batches
    expected = predict_cli(model, tmp_path / "corpus.txt", capsys, "--output-format", "jsonl", "--probabilities")
    got = [json.loads(row["prediction"]) for row in rows]
    want = [json.loads(line) for line in expected]
    assert [(g["tokens"], g["tags"]) for g in got] == [(w["tokens"], w["tags"]) for w in want]
    # probabilities: the same up to the last rounded digit, which the batches' composition can move
    # (as lstm-nlp predict's own --batch-size does)
    for g, w in zip(got, want):
        assert g["probabilities"] == pytest.approx(w["probabilities"], abs=2e-6)


def test_predictor_without_a_cluster_equals_predict_for_classifiers_and_token_input(tmp_path, capsys):
    pytest.importorskip("ray.data", reason=RAY_MISSING)
    from lstm_nlp.data.tokenizers import TextTokenizer
    from lstm_nlp.integrations.ray import Predictor
    from lstm_nlp.models import ClassifierConfig, SequenceTagger, TaggerConfig, TextClassifier
    from lstm_nlp.pipelines import ClassificationPipeline, TaggingPipeline

    texts = ["Great film !", "", "the worst  plot", "not bad at all"]
    source = tmp_path / "in.txt"
    source.write_text("".join(t + "\n" for t in texts), encoding="utf-8")
    words = Vocab.build([t.lower().split() for t in texts])
    labels = Vocab.build_labels(["neg", "pos"])
    model = TextClassifier(ClassifierConfig(vocab_size=len(words), num_labels=2, embedding_dim=4, hidden_size=4))
    ClassificationPipeline(model, words, labels, TextTokenizer("spacy")).save_pretrained(tmp_path / "clf")
    batch = {"text": np.array(texts, dtype=object)}
    out = Predictor(tmp_path / "clf")(batch)
    assert list(out["text"]) == texts
    assert list(out["prediction"]) == predict_cli(tmp_path / "clf", source, capsys, "--output-format", "jsonl")
    tsv = Predictor(tmp_path / "clf", output_format="tsv", output_column="label")(batch)
    assert list(tsv["label"]) == predict_cli(tmp_path / "clf", source, capsys)

    tags = Vocab.build_labels([["DET", "NOUN"]])
    config = TaggerConfig(vocab_size=len(words), num_labels=2, embedding_dim=4, hidden_size=4, num_layers=1)
    TaggingPipeline(SequenceTagger(config), words, tags).save_pretrained(tmp_path / "pos")
    tokens = Predictor(tmp_path / "pos", input_format="tokens", output_format="slash")(batch)
    assert list(tokens["prediction"]) == predict_cli(tmp_path / "pos", source, capsys, "--input-format", "tokens")
    with pytest.raises(ConfigError, match="top_k"):  # refused when the actor starts, before any batch
        Predictor(tmp_path / "clf", top_k=2)
