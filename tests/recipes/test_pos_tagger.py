"""The POS recipe end to end on the bundled sample, then the saved bundle through the CLI."""

import contextlib
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from lstm_nlp.errors import ConfigError


@pytest.fixture(scope="module")
def trained(tmp_path_factory, load_recipe):
    out = tmp_path_factory.mktemp("pos")
    stdout = io.StringIO()
    with contextlib.redirect_stdout(stdout):
        metrics = load_recipe("pos_tagger").main(["--output-dir", str(out), "--epochs", "12", "--eval-train",
                                                  "--no-progress", "--device", "cpu"])
    return out, metrics, stdout.getvalue()


def test_recipe_fits_the_sample_and_writes_its_outputs(trained):
    out, metrics, _ = trained
    assert metrics["train"]["accuracy"] >= 0.95
    saved = json.loads((out / "metrics.json").read_text())
    assert set(saved) == {"train", "dev", "test"}
    assert saved["dev"]["accuracy"] == pytest.approx(metrics["dev"]["accuracy"])
    assert (out / "model" / "config.json").exists() and (out / "model" / "model.safetensors").exists()
    epochs = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert [e["epoch"] for e in epochs] == list(range(1, len(epochs) + 1))
    assert len(epochs) == 12 or epochs[-1]["dev_accuracy"] == 1.0  # a perfect dev score ends the run early
    assert "precision" in (out / "report_dev.txt").read_text()


def test_the_reports_on_stdout_name_their_split(trained):
    *_, stdout = trained
    lines = stdout.splitlines()
    assert [line for line in lines if line.startswith("==")] == ["== train ==", "== dev ==", "== test =="]
    assert set(json.loads(lines[-1])) == {"train", "dev", "test", "best_epoch", "model"}


def _cli(*args, stdin=""):
    return subprocess.run([sys.executable, "-m", "lstm_nlp.cli", *args], input=stdin, capture_output=True,
                          text=True, timeout=120)


def test_cli_predict_prints_token_tag_lines_and_keeps_empty_lines(trained):
    out, *_ = trained
    lines = "The dog sees a garden.\n\nShe sleeps\nThe dog sleeps .\n"
    result = _cli("predict", "--model", str(out / "model"), stdin=lines)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.split("\n")
    assert lines[0].split()[:2] == ["The/DET", "dog/NOUN"]
    assert lines[1] == ""
    assert lines[2].startswith("She/PRON sleeps/VERB")
    assert lines[3] == "The/DET dog/NOUN sleeps/VERB ./PUNCT"  # the old sample's model said sleeps/ADV


def test_cli_evaluate_prints_json_matching_the_recipe(trained, sample_dir):
    out, metrics, _ = trained
    result = _cli("evaluate", "--model", str(out / "model"), "--data", str(sample_dir / "pos" / "test.conllu"))
    assert result.returncode == 0, result.stderr
    printed = json.loads(result.stdout)
    assert printed["accuracy"] == pytest.approx(metrics["test"]["accuracy"])


def test_cli_errors_are_one_clear_line(tmp_path):
    result = _cli("evaluate", "--model", str(tmp_path / "missing"), "--data", "x.conllu")
    assert result.returncode == 2
    assert "model bundle not found" in result.stderr and "Traceback" not in result.stderr


def _head_sentences(source: Path, target: Path, count: int) -> Path:
    """Copies the first ``count`` sentences of a CoNLL-U file (bounded real-data runs)."""
    blocks = source.read_text(encoding="utf-8").split("\n\n")[:count]
    target.write_text("\n\n".join(blocks) + "\n\n", encoding="utf-8")
    return target


def test_a_given_test_file_is_used_and_the_sample_fills_only_the_rest(load_recipe, sample_dir, tmp_path):
    mine = tmp_path / "my.conllu"
    mine.write_text("1\tHi\t_\tINTJ\t_\t_\t_\t_\t_\t_\n\n")
    args = load_recipe("pos_tagger").parse_args(["--test", str(mine)])
    assert (args.train, args.dev, args.test) == (str(sample_dir / "pos" / "train.conllu"),
                                                 str(sample_dir / "pos" / "dev.conllu"), str(mine))


def test_a_missing_dev_file_stops_with_one_line_naming_the_flag(load_recipe, repo_root):
    with pytest.raises(ConfigError, match="--dev: no such file or folder: nope.conllu"):
        load_recipe("pos_tagger").parse_args(["--dev", "nope.conllu"])
    result = subprocess.run([sys.executable, str(repo_root / "recipes" / "pos_tagger.py"), "--dev", "nope.conllu"],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr == "pos_tagger.py: error: --dev: no such file or folder: nope.conllu\n"


@pytest.mark.realdata
def test_three_epochs_on_a_slice_of_ud_english_ewt(tmp_path, real_data, load_recipe):
    ewt = real_data / "ud_english_ewt"
    train = _head_sentences(ewt / "en_ewt-ud-train.conllu", tmp_path / "train.conllu", 1500)
    dev = _head_sentences(ewt / "en_ewt-ud-dev.conllu", tmp_path / "dev.conllu", 300)
    metrics = load_recipe("pos_tagger").main(["--train", str(train), "--dev", str(dev), "--epochs", "3", "--output-dir",
                               str(tmp_path / "out"), "--no-progress", "--device", "cpu"])
    # Three short epochs on 1,500 sentences: far from converged, but clearly learning (majority tag ~17%).
    assert metrics["dev"]["accuracy"] > 0.65
    assert len(metrics["dev"]["per_tag"]) >= 12


def test_no_progress_hides_every_bar_the_datasets_library_draws_too(tmp_path, repo_root):
    result = subprocess.run([sys.executable, str(repo_root / "recipes" / "pos_tagger.py"), "--epochs", "1",
                             "--output-dir", str(tmp_path / "out"), "--no-progress", "--no-checkpoints"],
                            capture_output=True, text=True, timeout=300, cwd=repo_root)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "%|" not in result.stderr and "Map" not in result.stderr, result.stderr[-2000:]
    assert "epoch 1: loss" in result.stderr


def test_every_tagging_recipe_offers_class_weights_with_none_by_default(load_recipe):
    for name in ("pos_tagger", "ner", "chunking"):
        assert load_recipe(name).parse_args([]).class_weights == "none"
        assert load_recipe(name).parse_args(["--class-weights", "auto"]).class_weights == "auto"
