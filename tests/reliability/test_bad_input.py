"""Bad input: harmless quirks are accepted, real problems are errors naming the file and line,
empty sentences never reach packing, unseen gold tags are counted, and inference answers every line."""

from __future__ import annotations

import gzip
import io
import json
import logging
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from datasets import Dataset

from lstm_nlp import cli
from lstm_nlp.data import SpacyTokenizer, collate_classification, collate_tagging, read_conllu
from lstm_nlp.data.conll import read_conll
from lstm_nlp.data.series import read_series_csv
from lstm_nlp.data.text_classification import load_text_classification, read_aclimdb, train_validation_split
from lstm_nlp.errors import DataFormatError, LstmNlpError
from lstm_nlp.pipelines import load_pipeline

CONLLU = ("# sent_id = 1\n# text = The dog barked.\n"
          "1\tThe\tthe\tDET\tDT\t_\t2\tdet\t_\t_\n2\tdog\tdog\tNOUN\tNN\t_\t3\tnsubj\t_\t_\n"
          "3-4\tbarked.\t_\t_\t_\t_\t_\t_\t_\t_\n3\tbarked\tbark\tVERB\tVBD\t_\t0\troot\t_\t_\n"
          "4\t.\t.\tPUNCT\t.\t_\t3\tpunct\t_\t_\n\n"
          "1\tDogs\tdog\tNOUN\tNNS\t_\t0\troot\t_\t_\n\n")
CONLL = "-DOCSTART- -X- -X- O\n\nJohn NNP B-NP B-PER\nSmith NNP I-NP I-PER\nran VBD B-VP O\n\nHi UH B-INTJ O\n"
JSONL = '{"text": "Great film, loved it.", "label": 1}\n{"text": "Dull.", "label": 0}\n'
CSV = 'text,label\n"Great film, loved it.",pos\nDull.,neg\n'
SERIES = "time,value\n1,10.5\n2,11\n3,9.25\n"
BOM = "\ufeff"


def crlf(text: str) -> str:
    return text.replace("\n", "\r\n")


def write(path: Path, content: str | bytes) -> Path:
    """Writes ``content`` (UTF-8 for text; text to a ``.gz`` name is gzip-compressed, bytes are written as is)."""
    compress = isinstance(content, str)
    if isinstance(content, str):
        content = content.encode("utf-8")
    path.write_bytes(gzip.compress(content) if path.suffix == ".gz" and compress else content)
    return path


def records(dataset) -> dict:
    return dataset if isinstance(dataset, np.ndarray) else dataset.to_dict()


READERS = {
    "conllu": (".conllu", CONLLU, read_conllu),
    "conll": (".txt", CONLL, read_conll),
    "jsonl": (".jsonl", JSONL, lambda p: load_text_classification(p, label_names=["neg", "pos"],
                                                                  cache_dir=p.parent / "cache")),
    "csv": (".csv", CSV, lambda p: load_text_classification(p, cache_dir=p.parent / "cache")),
    "series": (".csv", SERIES, lambda p: read_series_csv(p, "value")),
}
QUIRKS = {
    "CRLF line endings": crlf,
    "UTF-8 BOM": lambda t: BOM + t,
    "BOM + CRLF + no final newline": lambda t: BOM + crlf(t).rstrip("\r\n"),
    "missing final newline": lambda t: t.rstrip("\n"),
    "extra blank lines at the end": lambda t: t + "\n\n\n",
    "trailing spaces on every line": lambda t: t.replace("\n", "  \n"),
    "gzip-compressed": lambda t: t,
}


QUIRK_CASES = [(r, q) for r in sorted(READERS) for q in sorted(QUIRKS)
               if (r, q) not in {("series", "gzip-compressed"),  # series: plain CSV only
                                 ("csv", "trailing spaces on every line")}]  # in CSV, spaces belong to the field


@pytest.mark.parametrize("reader, quirk", QUIRK_CASES)
def test_harmless_quirks_are_accepted_and_change_nothing(reader, quirk, tmp_path):
    suffix, clean, read = READERS[reader]
    expected = records(read(write(tmp_path / f"clean{suffix}", clean)))
    name = f"quirky{suffix}" + (".gz" if quirk == "gzip-compressed" else "")
    got = records(read(write(tmp_path / name, QUIRKS[quirk](clean))))
    if reader == "series":
        assert np.array_equal(got, expected)
    else:
        assert got == expected


def test_conll_columns_accept_tabs_spaces_and_trailing_whitespace(tmp_path):
    mixed = "John\tNNP  B-NP\tB-PER   \nSmith NNP\tI-NP I-PER\t\n   \nHi  UH B-INTJ O \n"
    clean = "John NNP B-NP B-PER\nSmith NNP I-NP I-PER\n\nHi UH B-INTJ O\n"
    assert read_conll(write(tmp_path / "mixed.txt", mixed)).to_dict() == \
        read_conll(write(tmp_path / "clean.txt", clean)).to_dict()


def test_conllu_accepts_trailing_spaces_and_several_blank_lines(tmp_path):
    padded = CONLLU.replace("\t_\t_\n", "\t_\t_   \n").replace("\n\n", "\n\n\n  \n")
    assert read_conllu(write(tmp_path / "p.conllu", padded)).to_dict() == \
        read_conllu(write(tmp_path / "c.conllu", CONLLU)).to_dict()


def test_aclimdb_review_with_a_bom_and_crlf_reads_as_plain_text(tmp_path):
    (tmp_path / "train" / "pos").mkdir(parents=True)
    (tmp_path / "train" / "neg").mkdir()
    write(tmp_path / "train" / "pos" / "0_9.txt", BOM + "Great film.\r\nLoved it.")
    write(tmp_path / "train" / "neg" / "1_2.txt", "Dull.")
    assert read_aclimdb(tmp_path)["text"] == ["Dull.", "Great film.\nLoved it."]


# ---------------------------------------------------------------------- errors that say where
BAD_FILES = [
    # reader, file name, content, expected message (after "PATH:LINE: " or "PATH: ")
    ("conllu", "cols.conllu", CONLLU.replace("\tnsubj\t_\t_", "\tnsubj\t_"), 4,
     r"expected 10 tab-separated CoNLL-U columns, found 9"),
    ("conllu", "spaces.conllu", CONLLU.replace("\t", " "), 3, r"found 1; the columns look space-separated"),
    ("conllu", "notag.conllu", CONLLU.replace("\tNOUN\t", "\t_\t"), 4, r"token 'dog' has no UPOS tag"),
    ("conllu", "id.conllu", CONLLU.replace("1\tDogs", "x\tDogs"), 9, r"token id must be a positive integer .*got 'x'"),
    *[("conllu", f"id{n}.conllu", CONLLU.replace("1\tDogs", f"{bad}\tDogs"), 9,
       (rf"token id must be a positive integer \(or a range 3-4 for a multiword token, a decimal 5.1 for an empty "
       rf"node\), got '{re.escape(bad)}'"))
      for n, bad in enumerate(["-1", "0", "1-", "-3-4", "5.", "1.0", "\u00b2", "+1", "1e3"])],
    ("conllu", "utf8.conllu", CONLLU.encode().replace(b"\tdog\tdog", b"\td\xffg\tdog"), 4, r"invalid UTF-8 at byte 3"),
    ("conllu", "empty.conllu", "", None, r"no sentences found \(empty file\?\)"),
    ("conllu", "comments.conllu", "# only\n# comments\n\n", None, r"no sentences found"),
    ("conll", "cols.txt", CONLL.replace("Smith NNP I-NP I-PER", "Smith NNP I-PER"), 4,
     r"expected 4 columns \(as on line 1\), found 3: 'Smith NNP I-PER'"),
    ("conll", "notag.txt", "John NNP B-PER\nSmith\n", 2, r"expected 3 columns \(as on line 1\), found 1"),
    ("conll", "onecol.txt", "John\nSmith\n", 1, r"tokens and the tags would both be column 0"),
    ("conll", "utf8.txt", CONLL.encode().replace(b"ran", b"r\xc3n"), 5, r"invalid UTF-8 at byte 1"),
    ("conll", "empty.txt", "", None, r"no sentences found"),
    ("conll", "docstart.txt", "-DOCSTART- -X- -X- O\n\n", None, r"no sentences found"),
    ("conll", "fake.txt.gz", b"not gzip", None, r"cannot read file \(Not a gzipped file"),
    ("jsonl", "utf8.jsonl", JSONL.encode().replace(b"Dull", b"D\xffll"), 2, r"invalid UTF-8 at byte 11"),
    ("jsonl", "broken.jsonl", JSONL + '{"text": "x", "label"\n', 3, r"invalid JSON \(Expecting ':' delimiter"),
    ("jsonl", "empty.jsonl", "\n\n", None, r"no examples found \(empty file\?\)"),
    ("jsonl", "nolabel.jsonl", '{"text": "x"}\n', None, r"no label column 'label'; the columns are \['text'\]"),
    ("jsonl", "nulllabel.jsonl", JSONL + '{"text": "x", "label": null}\n', None, r"record 3 has no label \(null\)"),
    ("jsonl", "emptytext.jsonl", JSONL + '{"text": "  ", "label": 1}\n', None, r"record 3 has an empty text"),
    ("jsonl", "outside.jsonl", JSONL + '{"text": "x", "label": 7}\n', None,
     r"record 3 has label 7, outside the label set \['neg', 'pos'\]"),
    ("csv", "utf8.csv", CSV.encode().replace(b"Dull", b"D\xffll"), 3, r"invalid UTF-8 at byte 1"),
    ("csv", "header.csv", "text,label\n", None, r"no examples found \(only a header row\)"),
    ("csv", "ragged.csv", CSV + "a,b,c\n", None, r"Expected 2 fields in line 4, saw 3"),
    ("csv", "data.xml", "<a/>", None, r"unknown file type '.xml'; expected one of"),
    ("series", "missing.csv", SERIES + "4,\n", 5, r"missing value in column 'value'"),
    ("series", "text.csv", SERIES + "4,high\n", 5, r"non-numeric value 'high' in column 'value'"),
    ("series", "utf8.csv", SERIES.encode() + b"4,1\xff\n", 5, r"invalid UTF-8 at byte 3"),
    ("series", "column.csv", SERIES.replace("value", "load"), 1, r"no column 'value'; the header has \['time', "),
    ("series", "empty.csv", "", None, r"the file is empty; expected a header row"),
]


@pytest.mark.parametrize("reader, name, content, line, message", BAD_FILES,
                         ids=[f"{r[0]}-{r[1]}" for r in BAD_FILES])
def test_bad_files_are_errors_that_name_the_file_and_line(reader, name, content, line, message, tmp_path):
    path = write(tmp_path / name, content)
    with pytest.raises(DataFormatError) as caught:
        READERS[reader][2](path)
    where = re.escape(f"{path}:{line}: " if line is not None else f"{path}: ")
    assert re.match(where + ".*" + message, str(caught.value)), str(caught.value)


def test_a_split_with_no_examples_is_an_error_naming_the_folder(tmp_path):
    (tmp_path / "aclImdb" / "train" / "pos").mkdir(parents=True)
    write(tmp_path / "aclImdb" / "train" / "pos" / "0_9.txt", "Great.")
    with pytest.raises(DataFormatError, match=r"aclImdb: no reviews found: expected the aclImdb layout test/pos"):
        read_aclimdb(tmp_path / "aclImdb", split="test")
    write(tmp_path / "aclImdb" / "train" / "pos" / "1_8.txt", "  \n")
    with pytest.raises(DataFormatError, match=r"1_8.txt: empty review"):
        read_aclimdb(tmp_path / "aclImdb", split="train")
    one = Dataset.from_dict({"text": ["only one"], "label": ["pos"]})
    with pytest.raises(LstmNlpError, match="cannot carve a 10% validation split out of 1 examples"):
        train_validation_split(one)


def test_cli_evaluate_on_a_bad_file_prints_one_clear_line(tagger_bundle, tmp_path, capsys):
    bad = write(tmp_path / "dev.conllu", CONLLU.replace("\tNOUN\t", "\t_\t"))
    for data, message in [(bad, f"{bad}:4: token 'dog' has no UPOS tag"),
                          (tmp_path / "nope.conllu", f"{tmp_path / 'nope.conllu'}: file not found"),
                          (tmp_path, f"{tmp_path}: expected a file, found a directory")]:
        code = cli.main(["evaluate", "--model", str(tagger_bundle), "--data", str(data)])
        out, err = capsys.readouterr()
        assert code == 2 and out == "" and err == f"lstm-nlp evaluate: error: {message}\n"


# ---------------------------------------------------------------------- empty sentences, unseen tags
def test_empty_sentences_are_skipped_with_a_count_and_never_reach_packing(tagger_bundle, caplog, monkeypatch):
    pipeline = load_pipeline(tagger_bundle)
    data = Dataset.from_dict({"tokens": [["The", "dog"], [], ["Dogs"], [], []],
                              "tags": [["DET", "NOUN"], [], ["NOUN"], [], []]})
    with caplog.at_level(logging.WARNING, logger="lstm_nlp"):
        examples = pipeline.encode(data)
    assert "skipped 3 empty sentence(s) out of 5" in caplog.text
    assert [e["index"] for e in examples] == [0, 2]

    from lstm_nlp.modules import encoder as encoder_module

    packed_lengths = []
    real_pack = encoder_module.pack_padded_sequence

    def spy(inputs, lengths, **kwargs):
        packed_lengths.extend(lengths.tolist())
        return real_pack(inputs, lengths, **kwargs)

    monkeypatch.setattr(encoder_module, "pack_padded_sequence", spy)
    pipeline.model.encoder.impl = "packed"
    for batch in pipeline.loader(examples, batch_size=8):
        pipeline.model(batch["token_ids"], mask=batch["mask"], char_ids=batch["char_ids"], labels=batch["labels"])
    assert pipeline.predict_tokens([[], ["The", "dog"], []]) == [[], pipeline.predict_tokens([["The", "dog"]])[0], []]
    assert packed_lengths and min(packed_lengths) >= 1
    with pytest.raises(DataFormatError, match="has no tokens; drop empty examples before batching"):
        collate_tagging([{"token_ids": [], "index": 4}])
    with pytest.raises(DataFormatError, match="example 0 has no tokens"):
        collate_classification([{"token_ids": [], "index": 0}])


def test_an_unseen_gold_tag_is_counted_as_an_error_and_reported(tagger_bundle, tmp_path, caplog, capsys):
    pipeline = load_pipeline(tagger_bundle)
    baseline = pipeline.evaluate(pipeline.read_labelled(write(tmp_path / "dev.conllu", CONLLU)))
    unseen = write(tmp_path / "unseen.conllu", CONLLU.replace("\tdog\tNOUN\t", "\tdog\tNEWTAG\t", 1))
    with caplog.at_level(logging.WARNING, logger="lstm_nlp"):
        metrics = pipeline.evaluate(pipeline.read_labelled(unseen))
    assert "1 gold tag(s) are not in the model's tag set (NEWTAG); they count as errors" in caplog.text
    assert metrics["unknown_gold_tags"] == 1 and baseline["unknown_gold_tags"] == 0
    dataset = pipeline.read_labelled(unseen)
    predicted = [tag for sentence in pipeline.predict_tokens(dataset["tokens"]) for tag in sentence]
    gold = [tag for sentence in dataset["tags"] for tag in sentence]
    assert "NEWTAG" in gold and "NEWTAG" not in predicted
    assert metrics["accuracy"] == pytest.approx(sum(p == g for p, g in zip(predicted, gold)) / len(gold))
    assert "NEWTAG" in metrics["confusion"]["labels"]
    code = cli.main(["evaluate", "--model", str(tagger_bundle), "--data", str(unseen)])
    out, err = capsys.readouterr()
    assert code == 0 and json.loads(out)["unknown_gold_tags"] == 1 and "NEWTAG" in err


def test_a_classifier_counts_an_unseen_gold_label_as_an_error_and_reports_it(classifier_bundle, tmp_path, caplog,
                                                                              capsys):
    pipeline = load_pipeline(classifier_bundle)
    path = write(tmp_path / "test.jsonl", '{"text": "Fine.", "label": "pos"}\n{"text": "Meh.", "label": "meh"}\n')
    dataset = pipeline.read_labelled(path, cache_dir=tmp_path)
    with caplog.at_level(logging.WARNING, logger="lstm_nlp"):
        metrics = pipeline.evaluate(dataset)
    assert "1 gold label(s) are not in the model's label set (meh); they count as errors" in caplog.text
    assert metrics["unknown_gold_labels"] == 1
    predicted = [label for label, _ in pipeline.predict(["Fine.", "Meh."])]
    assert metrics["accuracy"] == pytest.approx((predicted[0] == "pos") / 2)
    assert "meh" in metrics["confusion"]["labels"]
    with pytest.raises(DataFormatError, match=r"record 2 has label 'meh', which is not one of the model's classes"):
        pipeline.encode(dataset)  # training data must have known classes
    code = cli.main(["evaluate", "--model", str(classifier_bundle), "--data", str(path)])
    reported = json.loads(capsys.readouterr().out)
    assert code == 0 and reported["unknown_gold_labels"] == 1 and "meh" in reported["confusion"]["labels"]


# ---------------------------------------------------------------------- inference input
LONG = 100_000
ODD_LINES = {
    "empty line": "",
    "spaces only": "     ",
    "tabs and spaces": " \t \t ",
    "emoji": "I loved it \U0001F600\U0001F389 \U0001F44D\U0001F3FD !",
    "Cyrillic": "Москва — столица России.",
    "Japanese": "東京は日本の首都です。",
    "Arabic (right-to-left)": "مرحبا بالعالم",
    "Devanagari": "नमस्ते दुनिया",
    "combining marks": "Ñ̃o̲ë̈",
    "control characters": "a\x00b\x07c \x1b[31mred\x1b[0m \x7f end",
    "zero-width characters only": "\u200b\u200d\ufeff",
    "form feed and vertical tab": "\x0c\x0b",
    "one 100,000-character token": "x" * LONG,
    "100,000 characters of words": ("word " * (LONG // 5)).strip(),
    "20,000 emoji in one run": "\U0001F600" * 20_000,
    "invalid UTF-8 bytes": b"caf\xe9 ok \xff\xfe \xc3",
}


def _predict(bundle: Path, lines: list[str | bytes], capsys, monkeypatch) -> list[str]:
    data = b"\n".join(line if isinstance(line, bytes) else line.encode("utf-8") for line in lines) + b"\n"
    # What a POSIX shell hands Python: bytes decoded as UTF-8 with surrogateescape.
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data), encoding="utf-8",
                                                       errors="surrogateescape", newline="\n"))
    code = cli.main(["predict", "--model", str(bundle), "--encoding-errors", "replace"])  # one line is not UTF-8
    out, err = capsys.readouterr()
    assert code == 0 and "Traceback" not in err, err
    assert out.endswith("\n")
    return out[:-1].split("\n")


def test_tagger_cli_answers_every_odd_line(tagger_bundle, capsys, monkeypatch):
    lines = list(ODD_LINES.values())
    outputs = _predict(tagger_bundle, lines, capsys, monkeypatch)
    assert len(outputs) == len(lines)
    tokenizer = SpacyTokenizer()
    for (name, line), output in zip(ODD_LINES.items(), outputs):
        tokens = tokenizer(line.decode("utf-8", "replace") if isinstance(line, bytes) else line)
        assert len(output.split(" ")) == len(tokens) if tokens else output == "", name
        if tokens:
            assert all(pair.rpartition("/")[2] for pair in output.split(" ")), name


def test_classifier_cli_answers_every_odd_line(classifier_bundle, capsys, monkeypatch):
    lines = list(ODD_LINES.values())
    outputs = _predict(classifier_bundle, lines, capsys, monkeypatch)
    assert len(outputs) == len(lines)
    for output in outputs:
        label, probability = output.split("\t")
        assert label in ("neg", "pos") and 0.5 <= float(probability) <= 1.0


def test_a_classifier_without_max_length_handles_a_100k_character_review(classifier_bundle):
    pipeline = load_pipeline(classifier_bundle)
    pipeline.max_length = None
    (label, probability), = pipeline.predict([ODD_LINES["100,000 characters of words"]])
    assert label in ("neg", "pos") and 0.5 <= probability <= 1.0


def test_invalid_utf8_on_stdin_gets_an_answer_from_the_real_command(tagger_bundle):
    """A real process reading bytes from stdin with --encoding-errors replace: undecodable bytes become U+FFFD."""
    data = b"caf\xe9 ok\n\xff\xfe\n\xc3\n\nfine\n"
    result = subprocess.run([sys.executable, "-m", "lstm_nlp.cli", "predict", "--model", str(tagger_bundle),
                             "--encoding-errors", "replace"],
                            input=data, capture_output=True, timeout=120, check=False,
                            env={**os.environ, "OMP_NUM_THREADS": "1", "LC_ALL": "C.UTF-8"})
    assert result.returncode == 0 and b"Traceback" not in result.stderr, result.stderr.decode()
    outputs = result.stdout.decode("utf-8").split("\n")
    assert len(outputs) == 6 and outputs[-1] == ""
    assert outputs[0].startswith("caf/") and "\ufffd/" in outputs[0] and outputs[3] == ""


def test_spacy_tokenization_stays_linear_on_long_runs_without_spaces():
    """spaCy's affix splitting is quadratic in a run's length (100,000 emoji: ~20 minutes); runs are cut."""
    tokenizer = SpacyTokenizer()
    assert len(tokenizer("\U0001F600" * LONG)) == LONG
    assert [len(t) for t in tokenizer("x" * 2500)] == [1000, 1000, 500]
    assert tokenizer("See https://example.com/a?b=c, (really)!") == [
        "See", "https://example.com/a?b=c", ",", "(", "really", ")", "!"]


# ---------------------------------------------------------------------- long inputs
def test_long_sentences_tag_to_the_end_and_reviews_truncate_to_max_length(tagger_bundle, classifier_bundle):
    tagger = load_pipeline(tagger_bundle)
    sentence = ["word"] * 5000 + ["y" * LONG]
    assert len(tagger.predict_tokens([sentence, ["Hi"]])[0]) == len(sentence)
    classifier = load_pipeline(classifier_bundle)
    assert classifier.max_length == 64
    review = Dataset.from_dict({"text": [" ".join(["great"] * 500), "ok"], "label": ["pos", "neg"]})
    lengths = [len(e["token_ids"]) for e in classifier.encode(review)]
    assert lengths == [64, 1]
    assert torch.is_tensor(classifier.predict_examples(classifier.encode(review)))


def test_tagger_training_truncation_option(tagger_bundle, caplog):
    pipeline = load_pipeline(tagger_bundle)
    data = Dataset.from_dict({"tokens": [["dog"] * 50, ["The", "dog"]], "tags": [["NOUN"] * 50, ["DET", "NOUN"]]})
    with caplog.at_level(logging.WARNING, logger="lstm_nlp"):
        examples = pipeline.encode(data, max_length=10)
    assert [(len(e["token_ids"]), len(e["label_ids"]), len(e["char_ids"])) for e in examples] == [(10, 10, 10),
                                                                                              (2, 2, 2)]
    assert "cut 1 sentence(s) longer than max_length=10 tokens" in caplog.text
    assert [len(e["token_ids"]) for e in pipeline.encode(data)] == [50, 2]
    with pytest.raises(LstmNlpError, match="max_length must be >= 1, got 0"):
        pipeline.encode(data, max_length=0)


@pytest.mark.parametrize("recipe", ["pos_tagger", "ner", "chunking", "imdb_sentiment"])
def test_every_text_recipe_has_a_max_length_option(recipe, load_recipe):
    assert load_recipe(recipe).parse_args(["--max-length", "7"]).max_length == 7


@pytest.mark.parametrize("value", ["0", "-3"])
def test_a_batch_size_below_one_is_refused_at_parse_time_in_one_line(value, tagger_bundle, capsys):
    with pytest.raises(SystemExit) as caught:  # the option, not the parameter batch_size
        cli.main(["predict", "--model", str(tagger_bundle), "--batch-size", value])
    out, err = capsys.readouterr()
    assert (caught.value.code, out) == (2, "")
    assert err == f"lstm-nlp predict: error: argument --batch-size: must be >= 1, got {value}\n"


@pytest.mark.parametrize("args, message", [
    (["--device", "banana"], "unknown device 'banana'"),
    (["--input", "no-such-file.txt"], "no-such-file.txt: cannot read the input (No such file or directory)"),
    (["--input", "."], ".: cannot read the input (Is a directory)"),
])
def test_bad_cli_arguments_are_one_clear_line(args, message, tagger_bundle, capsys, monkeypatch):
    monkeypatch.setattr(sys, "stdin", io.StringIO("The dog barked .\n"))
    code = cli.main(["predict", "--model", str(tagger_bundle), *args])
    out, err = capsys.readouterr()
    assert code == 2 and out == "" and err.startswith(f"lstm-nlp predict: error: {message}") and err.count("\n") == 1
    code = cli.main(["predict", "--model", "no-such-bundle"])
    assert code == 2 and capsys.readouterr().err == \
        "lstm-nlp predict: error: model bundle not found: no-such-bundle is not a directory\n"
