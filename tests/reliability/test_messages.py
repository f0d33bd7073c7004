"""Errors name the option or file that caused them, in the user's words: not the wrong culprit, not a
parameter name, and never a library's unsafe advice."""

from __future__ import annotations

import pickle
import zipfile

import pytest
import torch

from lstm_nlp import cli
from lstm_nlp.data.tag_writers import output_formats
from lstm_nlp.data.text_classification import load_text_classification
from lstm_nlp.errors import BundleError, ConfigError
from lstm_nlp.training.checkpoint import load_checkpoint


# ---------------------------------------------------------------------- --cache-dir, not the data file
@pytest.mark.parametrize("under", [False, True])
def test_imdb_recipe_names_a_bad_cache_dir_not_the_data(under, load_recipe, tmp_path, capsys):
    taken = tmp_path / "taken"
    taken.write_text("a file")
    cache = taken / "cache" if under else taken
    with pytest.raises(SystemExit) as info:
        load_recipe("imdb_sentiment").parse_args(["--cache-dir", str(cache), "--output-dir", str(tmp_path / "run")])
    err = capsys.readouterr().err
    assert info.value.code == 2 and err.count("\n") == 1
    expected = (f"--cache-dir {cache}: {taken} is not a folder, so the cache folder cannot be created there" if under
                else f"--cache-dir {cache} is a file, not a folder")
    assert err.endswith(f"error: {expected}\n"), err


def test_load_text_classification_names_the_cache_folder(sample_dir, tmp_path):
    taken = tmp_path / "taken"
    taken.write_text("a file")
    with pytest.raises(ConfigError, match=f"^cache_dir {taken} is a file, not a folder$"):
        load_text_classification(sample_dir / "imdb" / "dev.jsonl", cache_dir=taken)


# ---------------------------------------------------------------------- --resume: no weights_only=False advice
def _planted(path) -> None:
    torch.save({"format_version": 1, "evil": zipfile.ZipInfo("x")}, path)  # an object a safe load refuses


@pytest.mark.parametrize("write, reason", [
    (lambda p: p.write_text("these are my notes\n"), "it is not a file torch.save wrote"),
    (lambda p: p.write_bytes(pickle.dumps({"a": zipfile.ZipInfo("x")})), "it holds other Python objects"),
    (_planted, "it holds other Python objects, which a safe load refuses without running anything"),
    (lambda p: (_planted(p), p.write_bytes(p.read_bytes()[:40])), "the file is truncated or damaged"),
])
def test_an_unloadable_checkpoint_never_relays_torch_advice(write, reason, tmp_path):
    path = tmp_path / "ckpt.pt"
    write(path)
    with pytest.raises(BundleError) as info:
        load_checkpoint(path)
    message = str(info.value)
    assert message.startswith(f"{path} is not a loadable lstm_nlp checkpoint") and reason in message
    assert "weights_only" not in message and "re-run" not in message.lower()


def test_resume_from_a_text_file_is_one_safe_line(load_recipe, tmp_path):
    notes = tmp_path / "notes.txt"
    notes.write_text("not a checkpoint\n")
    with pytest.raises(BundleError) as info:
        load_recipe("forecast").main(["--resume", str(notes), "--epochs", "1", "--no-progress", "--length", "200",
                                      "--window", "12", "--horizon", "3", "--output-dir", str(tmp_path / "run")])
    assert "weights_only" not in str(info.value) and str(notes) in str(info.value)


# ---------------------------------------------------------------------- predict options in their own words
@pytest.mark.parametrize("model, argv, message", [
    ("tagger", ["--probabilities"], "--probabilities is written in the jsonl output; add --output-format jsonl"),
    ("tagger", ["--output-format", "conllu"],
     f"--output-format conllu does not go with --input-format text; give one of {', '.join(output_formats('text'))}"),
    ("tagger", ["--input-format", "conll", "--output-format", "conllu"],
     f"--output-format conllu does not go with --input-format conll; give one of {', '.join(output_formats('conll'))}"),
    ("tagger", ["--output-format", "jsonl", "--top-k", "2"], "--top-k: the k best tag sequences need a CRF tagger"),
    ("classifier", ["--input-format", "tokens"], "--input-format tokens applies to taggers; this text classifier "
                                                 "reads text lines"),
    ("classifier", ["--probabilities"], "--probabilities applies to taggers; a text classifier's --output-format "
                                        "jsonl gives every class's probability"),
    ("classifier", ["--output-format", "conll"], "--output-format conll: a text classifier writes 'tsv' or 'jsonl'"),
])
def test_predict_names_the_options_that_do_not_go_together(model, argv, message, tagger_bundle, classifier_bundle,
                                                           tmp_path, capsys):
    bundle = {"tagger": tagger_bundle, "classifier": classifier_bundle}[model]
    (tmp_path / "in.txt").write_text("The dog barked .\n", encoding="utf-8")
    code = cli.main(["predict", "--model", str(bundle), "--input", str(tmp_path / "in.txt"), *argv])
    out, err = capsys.readouterr()
    assert (code, out) == (2, "")
    assert err == f"lstm-nlp predict: error: {message}" + err.partition(message)[2] and err.count("\n") == 1
    assert "input_format" not in err and "output_format" not in err and "top_k" not in err


# ---------------------------------------------------------------------- recipes' own integer options
@pytest.mark.parametrize("recipe, option, value, message", [
    ("pretrain_lm", "--window", "1", "must be >= 2, got 1"),
    ("pretrain_lm", "--heldout-texts", "x", "expected an integer, got 'x'"),
    ("train_vectors", "--dim", "0", "must be >= 1, got 0"),
    ("train_vectors", "--seed", "-1", "must be in [0, 4294967295], got -1"),
])
def test_recipe_integer_options_say_what_they_need(recipe, option, value, message, load_recipe, tmp_path, capsys):
    with pytest.raises(SystemExit) as info:
        load_recipe(recipe).parse_args([option, value, "--output" + ("-dir" if recipe == "pretrain_lm" else ""),
                                        str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert info.value.code == 2 and f"argument {option}: {message}" in err, err


# ---------------------------------------------------------------------- hints the sibling command needs too
def test_the_iob1_hint_names_the_evaluate_option_too(tmp_path):
    from lstm_nlp.data.conll import read_conll
    from lstm_nlp.errors import DataFormatError

    path = tmp_path / "iob1.txt"
    path.write_text("Peter _ _ I-PER\nsings _ _ O\n\n", encoding="utf-8")
    with pytest.raises(DataFormatError) as info:
        read_conll(path, scheme="iob2")
    assert str(info.value).endswith('scheme="iob1" (the recipes and lstm-nlp evaluate: --scheme iob1)')
    assert read_conll(path, scheme="iob1")["tags"] == [["B-PER", "O"]]


@pytest.mark.parametrize("label", [2, 7])
def test_a_label_outside_the_names_says_where_the_names_come_from(label, tmp_path):
    from lstm_nlp.errors import DataFormatError

    path = tmp_path / "reviews.jsonl"
    path.write_text(f'{{"text": "fine", "label": 1}}\n{{"text": "odd", "label": {label}}}\n', encoding="utf-8")
    with pytest.raises(DataFormatError) as info:
        load_text_classification(path, label_names=["neg", "pos"], cache_dir=tmp_path / "cache")
    message = str(info.value)
    assert f"has label {label}, outside the label set ['neg', 'pos']" in message
    assert "(label_names)" not in message and message.endswith("the model's, or a recipe's --label-names)")
