"""A test file that cannot be read stops a recipe before training, not after it (and writes nothing)."""

from __future__ import annotations

import pytest

from lstm_nlp.errors import DataFormatError

JSONL = '{"text": "A fine film.", "label": 1}\n'


@pytest.mark.parametrize("recipe_name, bad_test", [
    ("pos_tagger", ("test.jsonl", JSONL)),
    ("ner", ("test.jsonl", JSONL)),
    ("chunking", ("test.jsonl", JSONL)),
    ("imdb_sentiment", ("test.jsonl", '{"text": "no label here"}\n')),
])
def test_an_unreadable_test_file_is_refused_before_training(load_recipe, tmp_path, recipe_name, bad_test):
    name, content = bad_test
    (tmp_path / name).write_text(content, encoding="utf-8")
    out = tmp_path / "run"
    argv = ["--test", str(tmp_path / name), "--output-dir", str(out), "--epochs", "1", "--no-progress",
            "--device", "cpu"]
    if recipe_name == "imdb_sentiment":
        argv += ["--cache-dir", str(tmp_path / "cache")]
    with pytest.raises(DataFormatError):
        load_recipe(recipe_name).main(argv)
    assert not (out / "metrics.jsonl").exists()  # no epoch ran
