"""Out-of-range options and unusable output folders: one-line errors at parse time (exit 2), for every recipe."""

import os
from pathlib import Path

import pytest

RECIPES = ["pos_tagger", "ner", "chunking", "imdb_sentiment", "forecast"]
COMMON_BAD = [("--epochs", "0"), ("--epochs", "-3"), ("--epochs", "two"), ("--batch-size", "0"), ("--lr", "-1"),
              ("--lr", "0"), ("--lr", "nan"), ("--lr", "inf"), ("--grad-accum", "0"), ("--patience", "-1"),
              ("--keep-checkpoints", "0"), ("--checkpoint-every", "-1"), ("--seed", "-1"), ("--momentum", "1.5"),
              ("--weight-decay", "-1"), ("--grad-clip", "-0.5"), ("--lr-factor", "1"), ("--warmup-steps", "-2"),
              ("--lr-step-size", "0"), ("--min-lr", "-1"), ("--hidden-size", "0"), ("--num-layers", "0"),
              ("--dropout", "1.5"), ("--dropout", "-0.1")]
OWN_BAD = {
    "pos_tagger": [("--embedding-dim", "0"), ("--max-length", "0"), ("--word-dropout", "1"), ("--char-dim", "0"),
                   ("--min-freq", "0")],
    "ner": [("--embedding-dim", "-5"), ("--token-column", "-1"), ("--tag-column", "-2"), ("--char-hidden", "0")],
    "chunking": [("--dev-fraction", "1"), ("--dev-fraction", "-0.1"), ("--split-seed", "-1")],
    "imdb_sentiment": [("--num-proc", "-1"), ("--num-proc", "0"), ("--val-fraction", "2"), ("--val-fraction", "0"),
                       ("--max-vocab", "0"), ("--subword-vocab-size", "0"), ("--max-length", "0")],
    "forecast": [("--window", "0"), ("--horizon", "-1"), ("--period", "0"), ("--length", "0"),
                 ("--test-fraction", "0"), ("--dev-fraction", "1")],
}
CASES = [(recipe, option, value) for recipe in RECIPES for option, value in COMMON_BAD + OWN_BAD[recipe]]


@pytest.mark.parametrize("recipe, option, value", CASES)
def test_out_of_range_options_are_one_line_usage_errors(recipe, option, value, load_recipe, capsys, tmp_path):
    with pytest.raises(SystemExit) as info:
        load_recipe(recipe).parse_args([option, value, "--output-dir", str(tmp_path)])
    err = capsys.readouterr().err
    assert info.value.code == 2
    assert err.count("\n") == 1 and f"error: argument {option}: " in err and value in err, err


@pytest.mark.parametrize("recipe", RECIPES)
def test_good_edge_values_are_accepted(recipe, load_recipe, tmp_path):
    args = load_recipe(recipe).parse_args(["--epochs", "1", "--dropout", "0", "--patience", "0", "--seed", "0",
                                           "--checkpoint-every", "0", "--output-dir", str(tmp_path / "new" / "dir")])
    assert args.epochs == 1 and args.dropout == 0.0
    assert not (tmp_path / "new").exists()  # parsing creates nothing


def expect_output_dir_error(recipe, output_dir, capsys, pattern):
    with pytest.raises(SystemExit) as info:
        recipe.parse_args(["--output-dir", str(output_dir)])
    err = capsys.readouterr().err
    assert info.value.code == 2 and err.count("\n") == 1, err
    assert pattern in err, err


@pytest.mark.parametrize("name", RECIPES)
def test_an_output_dir_that_is_a_file_or_under_a_file(name, load_recipe, tmp_path, capsys):
    recipe = load_recipe(name)
    file = tmp_path / "taken"
    file.write_text("x")
    expect_output_dir_error(recipe, file, capsys, f"--output-dir {file} is a file, not a folder")
    expect_output_dir_error(recipe, file / "run", capsys, f"{file} is not a folder, so the output folder cannot")


def test_an_output_dir_that_is_not_writable(load_recipe, tmp_path, capsys, monkeypatch):
    recipe = load_recipe("forecast")
    real_access = os.access
    monkeypatch.setattr(os, "access", lambda path, mode, **kw: False if Path(path) == tmp_path else
                        real_access(path, mode, **kw))
    expect_output_dir_error(recipe, tmp_path / "run", capsys, f"{tmp_path} is not writable (no write permission")


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write into a 0500 folder")
def test_a_read_only_folder_without_root(load_recipe, tmp_path, capsys):
    locked = tmp_path / "ro"
    locked.mkdir(mode=0o500)
    try:
        expect_output_dir_error(load_recipe("forecast"), locked / "run", capsys, "is not writable")
    finally:
        locked.chmod(0o700)


def test_a_read_only_file_system(load_recipe, tmpfs, capsys):
    mount = tmpfs("ro,size=16k")
    expect_output_dir_error(load_recipe("forecast"), mount / "run", capsys, f"{mount} is not writable")
