"""Option values that pass their range check but leave a split (or the vocabulary) empty: one line naming
the option and what it leads to, before any training, instead of a library's traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from datasets import Dataset

from lstm_nlp.data.series import chronological_split
from lstm_nlp.data.text_classification import train_validation_split
from lstm_nlp.errors import ConfigError
from lstm_nlp.recipe_kit.tagging import held_out_split

REPO = Path(__file__).resolve().parents[2]
TINY = ["--epochs", "1", "--no-progress", "--no-checkpoints", "--device", "cpu", "--hidden-size", "4"]


def _sentences(n: int) -> Dataset:
    return Dataset.from_dict({"tokens": [["w"]] * n, "tags": [["O"]] * n})


# ---------------------------------------------------------------------- chunking: --dev-fraction
@pytest.mark.parametrize("n, fraction, message", [
    (40, 0.99, "--dev-fraction 0.99 leaves 0 of 40 sentences for training"),
    (1, 0.1, "--dev-fraction 0.1 leaves 0 of 1 sentences for training"),
    (3, 0.7, "--dev-fraction 0.7 leaves 0 of 3 sentences for training"),
])
def test_held_out_split_refuses_an_empty_training_split(n, fraction, message):
    with pytest.raises(ConfigError, match=f"^{message}; lower it or give --dev$"):
        held_out_split(_sentences(n), fraction, seed=0)


def test_held_out_split_keeps_the_smallest_working_shares():
    train, dev = held_out_split(_sentences(40), 0.975, seed=0)
    assert (len(train), len(dev)) == (1, 39)
    train, dev = held_out_split(_sentences(40), 0.1, seed=0)
    assert (len(train), len(dev)) == (36, 4)


def test_chunking_recipe_on_the_sample_says_what_the_dev_fraction_leaves(tmp_path):
    result = subprocess.run([sys.executable, str(REPO / "recipes" / "chunking.py"), "--dev-fraction", "0.99",
                             "--output-dir", str(tmp_path / "run"), *TINY], capture_output=True, text=True,
                            timeout=300, env={**os.environ, "LSTM_NLP_LOGLEVEL": "WARNING", "OMP_NUM_THREADS": "1"})
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith("chunking.py: error: --dev-fraction 0.99 leaves 0 of ")
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert not (tmp_path / "run" / "metrics.jsonl").exists()


# ---------------------------------------------------------------------- imdb: --val-fraction
@pytest.mark.parametrize("labels, fraction, message", [
    (["pos", "pos", "pos"], 0.9, "--val-fraction 0.9 leaves 0 of 3 examples for training"),
    (["pos", "neg"], 0.5, r"--val-fraction 0.5 holds out 0 of 2 examples \(each label needs 2 or more"),
    (["pos", "pos", "neg", "neg", "neg", "neg"], 0.75, "--val-fraction 0.75 holds out all 2 examples of label 'pos', "
                                                       "leaving none of them for training"),
])
def test_validation_split_names_the_option_and_what_it_leaves(labels, fraction, message):
    data = Dataset.from_dict({"text": [f"t{i}" for i in range(len(labels))], "label": labels})
    with pytest.raises(ConfigError, match=message):
        train_validation_split(data, fraction=fraction, option="--val-fraction")


def test_imdb_recipe_refuses_a_val_fraction_that_empties_a_label(load_recipe, tmp_path):
    train = tmp_path / "train.jsonl"
    train.write_text("".join(f'{{"text": "review {i}", "label": {i % 2}}}\n' for i in range(4)), encoding="utf-8")
    with pytest.raises(ConfigError, match=r"^--val-fraction 0.75 holds out all 2 examples of label"):
        load_recipe("imdb_sentiment").main(["--train", str(train), "--val-fraction", "0.75", *TINY,
                                            "--cache-dir", str(tmp_path / "cache"),
                                            "--output-dir", str(tmp_path / "run")])


# ---------------------------------------------------------------------- forecast: --dev-fraction + --test-fraction
@pytest.mark.parametrize("dev, test", [("0.9", "0.15"), ("0.5", "0.5"), ("0.99", "0.01")])
def test_forecast_fractions_that_leave_no_training_period_fail_at_parse_time(dev, test, load_recipe, tmp_path,
                                                                            capsys):
    with pytest.raises(SystemExit) as info:
        load_recipe("forecast").parse_args(["--dev-fraction", dev, "--test-fraction", test,
                                            "--output-dir", str(tmp_path)])
    err = capsys.readouterr().err
    assert info.value.code == 2 and err.count("\n") == 1, err
    assert f"error: --dev-fraction {float(dev):g} and --test-fraction {float(test):g} add up to " in err
    assert "leaves nothing of the series for training" in err


def test_forecast_period_errors_name_the_recipe_options(load_recipe, tmp_path):
    with pytest.raises(ConfigError, match=r"train period of 42 values, fewer than the 60 needed for one example "
                                          r"\(--window 48, --horizon 12\).*other --dev-fraction/--test-fraction"):
        load_recipe("forecast").main(["--length", "60", *TINY, "--output-dir", str(tmp_path / "run")])


def test_chronological_split_without_names_keeps_the_parameter_names():
    with pytest.raises(ConfigError, match=r"^val_fraction 0.6 and test_fraction 0.5 add up to 1.1, which leaves "
                                          r"0 of the 20 values for training"):
        chronological_split(np.arange(20.0), window=4, horizon=3, val_fraction=0.6, test_fraction=0.5)


# ---------------------------------------------------------------------- pretraining: --heldout-texts, --min-count
def test_pretrain_lm_refuses_heldout_texts_that_take_the_whole_corpus(load_recipe, tmp_path):
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("one text here\nanother text\na third one\n", encoding="utf-8")
    recipe = load_recipe("pretrain_lm")
    with pytest.raises(ConfigError, match=r"^--heldout-texts 3 leaves 0 of the 3 texts of --corpus for training"):
        recipe.main(["--corpus", str(corpus), "--heldout-texts", "3", "--output-dir", str(tmp_path / "run")])
    with pytest.raises(ConfigError, match=r"^--heldout-texts 50 leaves 0 of the 3 texts"):
        recipe.check_training_texts({"sources": [str(corpus)]}, 50)
    recipe.check_training_texts({"sources": [str(corpus)]}, 2)  # one text left: fine


@pytest.mark.parametrize("value", ["1.5", "-0.1", "nan"])
def test_pretrain_lm_dropout_is_range_checked(value, load_recipe, tmp_path, capsys):
    with pytest.raises(SystemExit) as info:
        load_recipe("pretrain_lm").parse_args(["--dropout", value, "--output-dir", str(tmp_path)])
    assert info.value.code == 2 and "error: argument --dropout: must be in [0, 1)" in capsys.readouterr().err


def test_train_vectors_refuses_a_min_count_no_word_reaches(load_recipe, tmp_path):
    from lstm_nlp.data.corpus import TextCorpus
    from lstm_nlp.data.tokenizers import TextTokenizer

    corpus = tmp_path / "corpus.txt"
    corpus.write_text("the film the end\nthe cast\n", encoding="utf-8")
    write = load_recipe("train_vectors").write_token_lines
    args = (TextCorpus([corpus], rank=0, world_size=1), TextTokenizer("spacy"), tmp_path / "tokens.txt")
    with pytest.raises(ConfigError, match=r"^--min-count 4 leaves no word to train a vector for: the most "
                                          r"frequent word of --corpus \('the'\) occurs 3 times$"):
        write(*args, min_count=4)
    assert write(*args, min_count=3) == (2, 6)
