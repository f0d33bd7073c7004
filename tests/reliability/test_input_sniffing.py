"""``predict`` checks what its input looks like against ``--input-format`` with the one sniffing the CoNLL
readers of ``evaluate`` use, and ``predict`` and ``evaluate`` share one model/format check: span tags
(entities, chunks) are never written into, or scored against, a CoNLL-U part-of-speech field."""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path

import pytest

from lstm_nlp import cli
from lstm_nlp.data.textfiles import INPUT_KINDS, input_kind_problem, sniff_lines
from lstm_nlp.errors import ConfigError

SAMPLE = Path(__file__).resolve().parents[2] / "data"
CONLLU = ("# sent_id = 1\n# text = The dog barked.\n1\tThe\tthe\tDET\tDT\t_\t2\tdet\t_\t_\n"
          "2\tdog\tdog\tNOUN\tNN\t_\t3\tnsubj\t_\t_\n3\tbarked\tbark\tVERB\tVBD\t_\t0\troot\t_\t_\n\n")
CONLL = "EU NNP B-NP B-ORG\nrejects VBZ B-VP O\nGerman JJ B-NP B-MISC\n\nPeter NNP B-NP B-PER\nsings VBZ B-VP O\n\n"
JSONL = '{"tokens": ["The", "dog"], "tags": ["DET", "NOUN"]}\n{"tokens": ["Hi"], "tags": ["INTJ"]}\n'
TEXT = "The dog barked at the cat .\nIt ran .\nNobody saw it happen , said the owner .\nWhy ?\nBecause .\n"


def _run(args: list[str], capsys, monkeypatch, stdin: str = "") -> tuple[int, str, str]:
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(stdin.encode()), encoding="utf-8", newline="\n"))
    code = cli.main(args)
    out, err = capsys.readouterr()
    return code, out, err


# ---------------------------------------------------------------------- the sniffing
@pytest.mark.parametrize("text, kind", [
    (CONLLU, "conllu"), (CONLLU.replace("# ", "#"), "conllu"), ("\ufeff" + CONLLU, "conllu"),
    (CONLL, "conll"), ((SAMPLE / "ner" / "dev.txt").read_text(encoding="utf-8"), "conll"),
    (JSONL, "jsonl"), ("[1, 2, 3]\n", "json"), (TEXT, "text"),
    ("", None), ("The dog .\nA cat .\n", None),  # too few lines to tell
    ("The\ndog\n\nA\ncat\n\n", None),  # one column: CoNLL words or one-word lines
    ("a b c\nd e f\ng h i\n", None),  # same word count, but no sentence blocks: may be text
])
def test_sniff_lines_names_only_clear_cases(text, kind):
    assert sniff_lines(text.splitlines(keepends=True)) == kind


def test_input_kind_problem_accepts_the_matching_format_and_names_the_fix():
    assert input_kind_problem("conllu", "conllu", "in") is None
    assert input_kind_problem("text", "tokens", "in") is None
    assert input_kind_problem(None, "conll", "in") is None
    assert input_kind_problem("conllu", "conll", "in") == (
        f"in looks like {INPUT_KINDS['conllu']}, not --input-format conll; give --input-format conllu")


# ---------------------------------------------------------------------- predict refuses what its input is not
@pytest.mark.parametrize("content, input_format, kind, fix", [
    (CONLLU, "conll", "conllu", "give --input-format conllu"),
    (CONLLU, "text", "conllu", "give --input-format conllu"),
    (CONLLU, "tokens", "conllu", "give --input-format conllu"),
    (JSONL, "conll", "jsonl", "write one sentence a line"),
    (JSONL, "text", "jsonl", "write one sentence a line"),
    (CONLL, "conllu", "conll", "give --input-format conll"),
    (CONLL, "text", "conll", "give --input-format conll"),
    (TEXT, "conll", "text", "give --input-format text (or tokens)"),
])
def test_predict_refuses_input_that_does_not_look_like_its_input_format(content, input_format, kind, fix,
                                                                        tagger_bundle, tmp_path, capsys,
                                                                        monkeypatch):
    path = tmp_path / "input.txt"
    path.write_text(content, encoding="utf-8")
    code, out, err = _run(["predict", "--model", str(tagger_bundle), "--input", str(path),
                           "--input-format", input_format], capsys, monkeypatch)
    assert (code, out) == (2, "")
    assert err.startswith(f"lstm-nlp predict: error: {path} looks like {INPUT_KINDS[kind]}, not --input-format "
                          f"{input_format}; ")
    assert fix in err and err.count("\n") == 1


def test_predict_on_stdin_names_stdin_and_keeps_every_line_it_read_ahead(tagger_bundle, capsys, monkeypatch):
    code, _, err = _run(["predict", "--model", str(tagger_bundle), "--input-format", "conll"], capsys, monkeypatch,
                        stdin=CONLLU)
    assert code == 2 and err.startswith("lstm-nlp predict: error: stdin looks like CoNLL-U")
    text = "".join(f"line {i} has words\n" for i in range(500))  # more than the lines read ahead
    code, out, err = _run(["predict", "--model", str(tagger_bundle)], capsys, monkeypatch, stdin=text)
    assert code == 0, err
    assert [line.split(" ")[1].partition("/")[0] for line in out.splitlines()] == [str(i) for i in range(500)]


def test_a_long_line_read_ahead_is_still_refused_by_its_length(tagger_bundle, tmp_path, capsys, monkeypatch):
    path = tmp_path / "long.txt"
    path.write_text("x" * 50 + "\nfine\n", encoding="utf-8")
    code, _, err = _run(["predict", "--model", str(tagger_bundle), "--input", str(path), "--max-line-chars", "10"],
                        capsys, monkeypatch)
    assert code == 2 and "line 1 has more than 10 characters" in err


def test_evaluate_and_predict_name_a_conllu_file_alike(tagger_bundle, tmp_path, capsys, monkeypatch):
    path = tmp_path / "pos.txt"  # CoNLL-U, but not named .conllu: read as CoNLL columns
    path.write_text(CONLLU * 3, encoding="utf-8")
    _, _, evaluated = _run(["evaluate", "--model", str(tagger_bundle), "--data", str(path)], capsys, monkeypatch)
    _, _, predicted = _run(["predict", "--model", str(tagger_bundle), "--input", str(path), "--input-format",
                            "conll"], capsys, monkeypatch)
    assert f"it looks like {INPUT_KINDS['conllu']}; CoNLL-U files are read as CoNLL-U when their name ends in " \
           ".conllu" in evaluated
    assert f"looks like {INPUT_KINDS['conllu']}, not --input-format conll" in predicted


# ---------------------------------------------------------------------- span tags and CoNLL-U
@pytest.mark.parametrize("extra, default", [([], True), (["--output-format", "conllu"], False)])
def test_predict_refuses_to_write_entity_tags_into_a_conllu_field(extra, default, ner_bundle, tmp_path, capsys,
                                                                  monkeypatch):
    path = tmp_path / "in.conllu"
    path.write_text(CONLLU, encoding="utf-8")
    code, out, err = _run(["predict", "--model", str(ner_bundle), "--input", str(path), "--input-format", "conllu",
                           *extra], capsys, monkeypatch)
    assert (code, out) == (2, "")
    assert err.startswith("lstm-nlp predict: error: --output-format conllu" +
                          (" (the default --output-format with --input-format conllu)" if default else "") +
                          ": this model predicts IOB2 span tags (entities or chunks), and no CoNLL-U field holds "
                          "them (UPOS and XPOS are part-of-speech tags); give --output-format jsonl or slash")


def test_a_ner_model_still_tags_conllu_tokens_into_jsonl(ner_bundle, tmp_path, capsys, monkeypatch):
    path = tmp_path / "in.conllu"
    path.write_text(CONLLU, encoding="utf-8")
    code, out, err = _run(["predict", "--model", str(ner_bundle), "--input", str(path), "--input-format", "conllu",
                           "--output-format", "jsonl"], capsys, monkeypatch)
    assert code == 0, err
    record = json.loads(out)
    assert record["tokens"] == ["The", "dog", "barked"] and len(record["tags"]) == 3


def test_predict_blocks_refuses_it_too(ner_bundle):
    from lstm_nlp.pipelines import load_pipeline

    with pytest.raises(ConfigError, match=r"span tags .*; write them with output_format 'jsonl' or 'slash'"):
        list(load_pipeline(ner_bundle).predict_blocks(CONLLU.splitlines(), input_format="conllu"))


def test_evaluate_refuses_to_score_entity_tags_against_a_conllu_file(ner_bundle, tmp_path, capsys, monkeypatch):
    path = tmp_path / "pos.conllu"
    path.write_text(CONLLU, encoding="utf-8")
    code, out, err = _run(["evaluate", "--model", str(ner_bundle), "--data", str(path)], capsys, monkeypatch)
    assert (code, out) == (2, "")
    assert err == (f"lstm-nlp evaluate: error: {path}: a CoNLL-U file, but this model predicts IOB2 span tags "
                   "(entities or chunks), and no CoNLL-U field holds them (UPOS and XPOS are part-of-speech tags); "
                   "score this model on a CoNLL column file\n")
    code, _, err = _run(["evaluate", "--model", str(ner_bundle), "--data", str(tmp_path / "missing.conllu")],
                        capsys, monkeypatch)
    assert code == 2 and err.endswith("missing.conllu: file not found\n")  # the missing file comes first


def test_evaluate_names_the_file_whose_tags_the_model_does_not_know(tagger_bundle, capsys, monkeypatch):
    data = SAMPLE / "ner" / "dev.txt"
    code, _, err = _run(["evaluate", "--model", str(tagger_bundle), "--data", str(data)], capsys, monkeypatch)
    assert code == 2 and err.startswith(f"lstm-nlp evaluate: error: {data}: the data does not match the model's "
                                        "tag set")


@pytest.mark.parametrize("content, kind", [(JSONL, "jsonl"), (CONLLU, "conllu"), (CONLL, "conll")])
def test_a_classifier_refuses_json_and_conll_input(content, kind, classifier_bundle, tmp_path, capsys, monkeypatch):
    path = tmp_path / "reviews.txt"
    path.write_text(content, encoding="utf-8")
    code, out, err = _run(["predict", "--model", str(classifier_bundle), "--input", str(path)], capsys, monkeypatch)
    assert (code, out) == (2, "")
    assert err == (f"lstm-nlp predict: error: {path} looks like {INPUT_KINDS[kind]}; this model reads one text a "
                   "line (plain text, not JSON or CoNLL)\n")
    path.write_text(TEXT, encoding="utf-8")
    code, out, _ = _run(["predict", "--model", str(classifier_bundle), "--input", str(path)], capsys, monkeypatch)
    assert code == 0 and len(out.splitlines()) == len(TEXT.splitlines())
