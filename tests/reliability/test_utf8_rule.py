"""One rule for bytes that are not UTF-8, in every reader: stop with ``FILE:LINE: invalid UTF-8 at byte N
of the line`` (exit 2). ``lstm-nlp predict --encoding-errors replace`` is the one, explicit, way to
have them replaced by U+FFFD instead."""

from __future__ import annotations

import io
import sys

import pytest

from lstm_nlp import cli
from lstm_nlp.data.corpus import TextCorpus
from lstm_nlp.data.text_classification import load_text_classification
from lstm_nlp.data.textfiles import Utf8Lines, invalid_utf8
from lstm_nlp.errors import DataFormatError

CONLLU = ("1\tThe\tthe\tDET\tDT\t_\t2\tdet\t_\t_\n2\tdog\tdog\tNOUN\tNN\t_\t3\tnsubj\t_\t_\n"
          "3\tbarked\tbark\tVERB\tVBD\t_\t0\troot\t_\t_\n\n")


def _run(args: list[str], capsys, monkeypatch, stdin: bytes = b"") -> tuple[int, str, str]:
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(stdin), encoding="utf-8", newline="\n"))
    code = cli.main(args)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("input_format, data, line, byte", [
    ("text", b"The dog sleeps .\ncaf\xe9 ok\n", 2, 3),
    ("tokens", b"\xff first\n", 1, 0),
    ("text", b"\xef\xbb\xbfok\nfine\nstill \xc3\n", 3, 6),  # a BOM is not counted; a cut sequence at the end
    ("conllu", CONLLU.replace("barked", "b\xe4rked").encode("latin-1"), 3, 3),
    ("conll", b"The DT\ndog NN\n\ncaf\xe9 NN\n", 4, 3),
])
def test_predict_refuses_invalid_utf8_naming_the_line_and_byte(input_format, data, line, byte, tagger_bundle,
                                                               tmp_path, capsys, monkeypatch):
    path = tmp_path / "input.txt"
    path.write_bytes(data)
    code, out, err = _run(["predict", "--model", str(tagger_bundle), "--input", str(path),
                           "--input-format", input_format], capsys, monkeypatch)
    assert code == 2 and "Traceback" not in err
    assert err == f"lstm-nlp predict: error: {path}:{line}: invalid UTF-8 at byte {byte} of the line\n"
    assert "\ufffd" not in out


def test_predict_on_stdin_names_stdin_and_the_line(tagger_bundle, capsys, monkeypatch):
    code, out, err = _run(["predict", "--model", str(tagger_bundle)], capsys, monkeypatch,
                          stdin=b"fine\n\nbad \xff here\n")
    assert (code, err) == (2, "lstm-nlp predict: error: stdin:3: invalid UTF-8 at byte 4 of the line\n")


def test_evaluate_and_predict_give_the_same_message_for_the_same_file(tagger_bundle, tmp_path, capsys,
                                                                       monkeypatch):
    path = tmp_path / "latin1.conllu"
    path.write_bytes(CONLLU.replace("dog", "d\xf6g").encode("latin-1"))
    _, _, evaluated = _run(["evaluate", "--model", str(tagger_bundle), "--data", str(path)], capsys, monkeypatch)
    _, _, predicted = _run(["predict", "--model", str(tagger_bundle), "--input", str(path), "--input-format",
                            "conllu"], capsys, monkeypatch)
    assert evaluated.partition("error: ")[2] == predicted.partition("error: ")[2] == \
        f"{path}:2: invalid UTF-8 at byte 3 of the line\n"


def test_replace_is_explicit_and_writes_u_fffd(tagger_bundle, tmp_path, capsys, monkeypatch):
    path = tmp_path / "input.conllu"
    path.write_bytes(CONLLU.replace("barked", "b\xe4rked").encode("latin-1"))
    code, out, err = _run(["predict", "--model", str(tagger_bundle), "--input", str(path), "--input-format",
                           "conllu", "--encoding-errors", "replace"], capsys, monkeypatch)
    assert code == 0, err
    assert out.split("\n")[2].split("\t")[1] == "b\ufffdrked"  # the replaced byte, not the original one
    assert len(out.split("\n")) == len(CONLLU.split("\n"))


def test_encoding_errors_is_documented_and_checked(capsys):
    with pytest.raises(SystemExit):
        cli.main(["predict", "--help"])
    help_text = " ".join(capsys.readouterr().out.split())
    assert "--encoding-errors {strict,replace}" in help_text and "invalid UTF-8 at byte N" in help_text
    with pytest.raises(SystemExit) as info:
        cli.main(["predict", "--model", "m", "--encoding-errors", "ignore"])
    assert info.value.code == 2
    assert "--encoding-errors: invalid choice: 'ignore'" in capsys.readouterr().err


def test_utf8_lines_keeps_lines_and_bounds_long_ones():
    stream = Utf8Lines(io.BytesIO(b"\xef\xbb\xbfa\r\nb\rc\n" + "é".encode() * 10 + b"\n"), "in")
    assert stream.readline(5) == "a\r\n" and stream.readline(5) == "b\rc\n"
    assert stream.readline(2) == "é" * 2  # cut at the limit: the caller refuses the line by its length
    with pytest.raises(DataFormatError, match=r"^in:2: invalid UTF-8 at byte 1 of the line$"):
        list(Utf8Lines(io.BytesIO(b"ok\nx\xffy\n"), "in"))
    assert list(Utf8Lines(io.BytesIO(b"x\xffy\n"), "in", errors="replace")) == ["x\ufffdy\n"]


def test_invalid_utf8_names_the_line_of_a_whole_file_decode():
    data = b"one\ntwo\nth\xffree\n"
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as err:
        assert str(invalid_utf8("f.txt", data, err)) == "f.txt:3: invalid UTF-8 at byte 2 of the line"


def test_aclimdb_review_and_corpus_files_name_the_line(tmp_path):
    review = tmp_path / "aclImdb" / "train" / "pos" / "0_9.txt"
    review.parent.mkdir(parents=True)
    (tmp_path / "aclImdb" / "train" / "neg").mkdir()
    review.write_bytes(b"Great film.<br />\nReally caf\xe9 good.")
    with pytest.raises(DataFormatError, match=r"0_9\.txt:2: invalid UTF-8 at byte 10 of the line$"):
        load_text_classification(tmp_path / "aclImdb", split="train", cache_dir=tmp_path / "cache")
    corpus = tmp_path / "corpus.txt"
    corpus.write_bytes(b"fine text\nmore \xff text\n")
    with pytest.raises(DataFormatError, match=r"corpus\.txt:2: invalid UTF-8 at byte 5 of the line$"):
        list(TextCorpus([corpus]))
