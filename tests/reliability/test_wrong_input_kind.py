"""The right kind of mistake gets the right message, before anything trains: a missing path is a
missing file (never a hub lookup), a hub id offline fails within seconds, a JSON/CSV/binary file
given to a CoNLL reader says it is not CoNLL, and IOB1 tags read as IOB2 are refused with the fix.

The IOB1 and hub-id rows of docs/reliability.md name the tests here (reliability_cases.py).
"""

from __future__ import annotations

import socket
import time
from pathlib import Path

import pytest

from lstm_nlp import cli
from lstm_nlp.data.conll import iob2_to_iob1, read_conll
from lstm_nlp.errors import DataFormatError

JSONL = '{"tokens": ["The", "dog"], "tags": ["DET", "NOUN"]}\n{"tokens": ["Hi"], "tags": ["INTJ"]}\n'


def as_iob1(source: Path, target: Path) -> Path:
    """The NER sample as ``token _ _ TAG`` lines in IOB1 (what CoNLL-2003's original files use)."""
    data = read_conll(source, scheme="iob2")
    sentences = ["\n".join(f"{word} _ _ {tag}" for word, tag in zip(words, iob2_to_iob1(tags)))
                 for words, tags in zip(data["tokens"], data["tags"])]
    target.write_text("\n\n".join(sentences) + "\n", encoding="utf-8")
    return target


# ---------------------------------------------------------------------- hub ids and missing paths
@pytest.fixture
def unreachable_hub(monkeypatch):
    """No offline variable set and a hub endpoint that refuses connections (no network in tests)."""
    from datasets import config
    from huggingface_hub import constants

    for name in ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE", "TRANSFORMERS_OFFLINE", "https_proxy", "HTTPS_PROXY",
                 "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    monkeypatch.setattr(config, "HF_HUB_OFFLINE", False)
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        port = server.getsockname()[1]
    monkeypatch.setattr(constants, "ENDPOINT", f"http://127.0.0.1:{port}")


def test_imdb_recipe_with_a_hub_id_offline_fails_within_seconds(unreachable_hub, load_recipe, tmp_path, caplog):
    recipe = load_recipe("imdb_sentiment")
    start = time.perf_counter()
    with pytest.raises(DataFormatError) as info:
        recipe.main(["--train", "stanfordnlp/imdb", "--output-dir", str(tmp_path / "run"),
                                       "--cache-dir", str(tmp_path / "cache"), "--no-progress"])
    assert time.perf_counter() - start < 5
    message = str(info.value)
    assert message.startswith("stanfordnlp/imdb: not a local file or folder, and loading it as a Hugging Face hub")
    assert "the hub is not reachable" in message
    assert message.endswith("offline, pass a local aclImdb folder or jsonl/csv/parquet file")
    assert "Retrying" not in caplog.text


@pytest.mark.parametrize("name", ["missing.tsv", "missing.jsonl", "./reviews", "runs/a/b"])
def test_cli_evaluate_on_a_missing_path_says_file_not_found(name, classifier_bundle, tmp_path, capsys, monkeypatch):
    import datasets

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(datasets, "load_dataset", lambda *a, **k: pytest.fail("looked up on the hub"))
    code = cli.main(["evaluate", "--model", str(classifier_bundle), "--data", name])
    out, err = capsys.readouterr()
    assert (code, out) == (2, "")
    assert err.strip().endswith(f"error: {name}: file not found")


# ---------------------------------------------------------------------- not a CoNLL file
@pytest.mark.parametrize("name, content, reader, kind", [
    ("data.jsonl", JSONL, "CoNLL column file", "JSON lines"),
    ("data.conllu", JSONL, "CoNLL-U file", "JSON lines"),
    ("reviews.csv", 'text,label\n"A wonderful, moving film.",pos\nDull and far too long.,neg\n', "CoNLL column file",
     "CSV/TSV with a header row (text, label)"),
])
def test_cli_evaluate_of_a_tagger_on_another_format_says_it_is_not_conll(name, content, reader, kind, tagger_bundle,
                                                                         tmp_path, capsys):
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    code = cli.main(["evaluate", "--model", str(tagger_bundle), "--data", str(path)])
    out, err = capsys.readouterr()
    assert (code, out) == (2, "")
    assert f"{path}: not a {reader}: it looks like {kind}; expected " in err
    assert "Traceback" not in err and "columns (as on line" not in err


# ---------------------------------------------------------------------- IOB1 read as IOB2
def test_ner_on_iob1_files_without_scheme_stops_before_training(load_recipe, sample_dir, tmp_path):
    recipe = load_recipe("ner")
    train = as_iob1(sample_dir / "ner" / "train.txt", tmp_path / "train.iob1.txt")
    dev = as_iob1(sample_dir / "ner" / "dev.txt", tmp_path / "dev.iob1.txt")
    output = tmp_path / "run"
    tiny = ["--epochs", "1", "--no-progress", "--no-checkpoints", "--device", "cpu", "--hidden-size", "4",
            "--embedding-dim", "4", "--char-encoder", "none", "--output-dir", str(output)]
    start = time.perf_counter()
    with pytest.raises(DataFormatError) as info:
        recipe.main(["--train", str(train), "--dev", str(dev), *tiny])
    assert time.perf_counter() - start < 5  # refused at reading, not after an epoch
    message = str(info.value)
    assert message.startswith(f"{train}:")
    assert "look like IOB1" in message and "--scheme iob1" in message
    assert not (output / "model").exists()
    metrics = recipe.main(["--train", str(train), "--dev", str(dev), "--scheme", "iob1", *tiny])
    assert "dev" in metrics and (output / "model").is_dir()
