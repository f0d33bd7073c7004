"""The NER recipe end to end on the bundled CoNLL-2003-format sample, then its bundle through the CLI."""

import json
import subprocess
import sys

import pytest

from lstm_nlp.errors import ConfigError


@pytest.fixture(scope="module")
def trained(tmp_path_factory, load_recipe):
    out = tmp_path_factory.mktemp("ner")
    metrics = load_recipe("ner").main(["--output-dir", str(out), "--epochs", "4", "--lr", "5e-3", "--batch-size", "8",
                        "--no-progress", "--device", "cpu", "--no-checkpoints"])
    return out, metrics


def test_recipe_learns_the_sample_and_writes_entity_scores(trained):
    out, metrics = trained
    assert metrics["dev"]["f1"] >= 0.8
    saved = json.loads((out / "metrics.json").read_text())
    assert set(saved) == {"dev", "test"}  # no --eval-train: the training set is not re-scored
    for split in saved.values():
        assert {"f1", "precision", "recall"} <= set(split)
    assert saved["dev"]["f1"] == pytest.approx(metrics["dev"]["f1"])
    report = (out / "report_dev.txt").read_text()
    assert all(kind in report for kind in ("PER", "LOC", "ORG", "MISC"))
    config = json.loads((out / "model" / "config.json").read_text())
    assert config["config"]["head"] == "crf" and config["config"]["char_encoder"] == "cnn"


def test_cli_evaluates_the_bundle_on_a_conll_file(trained, sample_dir):
    out, metrics = trained
    result = subprocess.run([sys.executable, "-m", "lstm_nlp.cli", "evaluate", "--model", str(out / "model"),
                             "--data", str(sample_dir / "ner" / "test.txt")],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["f1"] == pytest.approx(metrics["test"]["f1"])


def test_given_paths_are_used_or_refused(load_recipe, sample_dir, tmp_path):
    mine = tmp_path / "my.txt"
    mine.write_text("Hi O O O\n\n")
    args = load_recipe("ner").parse_args(["--dev", str(mine)])
    assert (args.train, args.dev, args.test) == (str(sample_dir / "ner" / "train.txt"), str(mine),
                                                 str(sample_dir / "ner" / "test.txt"))
    with pytest.raises(ConfigError, match="--test: no such file or folder: nope.txt"):
        load_recipe("ner").parse_args(["--train", str(mine), "--test", "nope.txt"])
