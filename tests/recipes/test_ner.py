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


def test_class_weights_auto_trains_and_the_bundle_keeps_one_weight_per_tag(load_recipe, tmp_path, sample_dir):
    from lstm_nlp.data.conll import read_conll
    from lstm_nlp.pipelines import load_pipeline
    from lstm_nlp.recipe_kit.class_weights import auto_class_weights, label_counts

    load_recipe("ner").main(["--output-dir", str(tmp_path / "out"), "--epochs", "1", "--batch-size", "8",
                             "--no-progress", "--device", "cpu", "--no-checkpoints", "--class-weights", "auto"])
    pipeline = load_pipeline(tmp_path / "out" / "model")
    weights = dict(zip(pipeline.labels.itos, pipeline.model.config.class_weights))
    assert set(weights) == set(pipeline.labels.itos) and sum(weights.values()) / len(weights) == pytest.approx(1.0)
    counts = label_counts(read_conll(sample_dir / "ner" / "train.txt", tag_column=3)["tags"])  # B-X, I-X apart
    assert weights == pytest.approx(dict(zip(pipeline.labels.itos, auto_class_weights(pipeline.labels.itos, counts))))
    assert weights["O"] == min(weights.values())


def test_a_bad_class_weights_file_stops_with_one_line_naming_it(repo_root, tmp_path):
    weights = tmp_path / "weights.json"
    weights.write_text('{"B-FOO": 2}')
    argv = [sys.executable, str(repo_root / "recipes" / "ner.py"), "--output-dir", str(tmp_path / "out"),
            "--epochs", "1", "--no-progress", "--device", "cpu"]
    done = subprocess.run([*argv, "--class-weights", str(weights)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and f"error: {weights}: unknown label 'B-FOO'" in done.stderr
    assert len(done.stderr.strip().splitlines()[-1:]) == 1 and not (tmp_path / "out" / "model").exists()
    done = subprocess.run([*argv, "--class-weights", str(tmp_path / "missing.json")], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 2 and "argument --class-weights" in done.stderr and "missing.json" in done.stderr
