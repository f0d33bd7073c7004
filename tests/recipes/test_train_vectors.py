"""train_vectors.py: fastText / word2vec on a streamed corpus, written in the format --vectors reads."""

from __future__ import annotations

import builtins
import subprocess
import sys

import pytest

from lstm_nlp.data.vectors import read_vectors
from lstm_nlp.errors import ConfigError

pytest.importorskip("gensim")


@pytest.mark.parametrize("model", ["fasttext", "word2vec"])
def test_writes_vectors_that_read_vectors_reads(tmp_path, load_recipe, model):
    out = tmp_path / "v.vec"
    result = load_recipe("train_vectors").main(["--output", str(out), "--model", model, "--dim", "8",
                                                "--epochs", "1", "--max-texts", "200", "--workers", "1"])
    vectors = read_vectors(out)
    assert vectors.dim == 8 and len(vectors) == result["vectors"] > 50
    assert "the" in vectors.index and "The" not in vectors.index  # the recipes' lower-cased tokens
    assert "<br" not in vectors.index  # <br /> is removed like in the classifier recipes


def test_an_empty_corpus_is_a_clear_error(tmp_path, load_recipe):
    empty = tmp_path / "e.txt"
    empty.write_text("\n")
    with pytest.raises(ConfigError, match="holds no text"):
        load_recipe("train_vectors").main(["--corpus", str(empty), "--output", str(tmp_path / "v.vec")])


def test_without_gensim_the_error_names_the_extra(monkeypatch, load_recipe):
    real_import = builtins.__import__

    def no_gensim(name, *args, **kwargs):
        if name.startswith("gensim"):
            raise ImportError("No module named 'gensim'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_gensim)
    with pytest.raises(ConfigError, match=r"lstm_nlp\[pretrain\]"):
        load_recipe("train_vectors").gensim_module()


def test_help_explains_every_option(repo_root):
    done = subprocess.run([sys.executable, str(repo_root / "recipes" / "train_vectors.py"), "--help"],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0
    for option in ("--corpus", "--model", "--dim", "--min-count", "--sg", "--workers", "--output"):
        assert option in done.stdout


@pytest.mark.parametrize("output, expected", [("{d}", "is a folder"), ("{d}/f/v.vec", "is not a folder")])
def test_a_bad_output_is_refused_before_training(tmp_path, load_recipe, capsys, output, expected):
    (tmp_path / "f").write_text("x")
    with pytest.raises(SystemExit) as exit_info:
        load_recipe("train_vectors").main(["--output", output.format(d=tmp_path), "--dim", "8"])
    err = capsys.readouterr().err
    assert exit_info.value.code == 2 and expected in err and "--output" in err
