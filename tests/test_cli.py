"""``lstm-nlp``: one line-splitting rule for files and stdin, readable evaluate output, clear errors, lean imports."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys

import pytest
import torch

from lstm_nlp import cli
from lstm_nlp.data import Vocab
from lstm_nlp.data.series import Scaler
from lstm_nlp.models import Forecaster, ForecasterConfig, SequenceTagger, TaggerConfig
from lstm_nlp.pipelines import ForecastPipeline, TaggingPipeline
from lstm_nlp.tags import to_spans

RAW = "\ufeffThe dog sleeps .\r\nA cat\rsat .\n\nend".encode("utf-8")


@pytest.fixture(scope="module")
def tagger(tmp_path_factory):
    words = Vocab.build([["the", "dog", "sleeps", "."]])
    labels = Vocab.build_labels([["DET", "NOUN", "VERB", "PUNCT"]])
    config = TaggerConfig(vocab_size=len(words), num_labels=len(labels), embedding_dim=4, hidden_size=4, num_layers=1)
    path = tmp_path_factory.mktemp("bundles") / "pos"
    TaggingPipeline(SequenceTagger(config), words, labels).save_pretrained(path)
    return path


def test_predict_splits_lines_the_same_way_for_a_file_and_for_stdin(tagger, tmp_path, capsys, monkeypatch):
    (tmp_path / "in.txt").write_bytes(RAW)
    assert cli.main(["predict", "--model", str(tagger), "--input", str(tmp_path / "in.txt")]) == 0
    from_file = capsys.readouterr().out
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(RAW)))
    assert cli.main(["predict", "--model", str(tagger)]) == 0
    from_stdin = capsys.readouterr().out
    lines = from_file.split("\n")
    assert from_file == from_stdin and len(lines) == 5 and lines[2] == "" and lines[3].startswith("end/")
    assert lines[0].startswith("The/")  # the byte-order mark is not part of the first token
    assert [t.split("/")[0] for t in lines[1].split()] == ["A", "cat", "sat", "."]  # a lone CR splits no line


def test_evaluate_prints_one_line_per_metric_and_names_the_data(tagger, tmp_path, capsys):
    data = tmp_path / "gold.conllu"
    data.write_text("1\tThe\tthe\tDET\tDT\t_\t2\tdet\t_\t_\n2\tdog\tdog\tNOUN\tNN\t_\t3\tnsubj\t_\t_\n"
                    "3\tsleeps\tsleep\tVERB\tVBZ\t_\t0\troot\t_\t_\n\n", encoding="utf-8")
    assert cli.main(["evaluate", "--model", str(tagger), "--data", str(data)]) == 0
    out, err = capsys.readouterr()
    metrics = json.loads(out)
    assert metrics["data"] == str(data) and len(out.splitlines()) == len(metrics) + 2  # the confusion matrix too
    assert set(metrics["confusion"]) == {"labels", "matrix"} and str(data) in err  # the report says what it scores


def test_evaluate_of_data_for_another_model_is_one_line_and_exit_2(tagger, sample_dir, capsys):
    assert cli.main(["evaluate", "--model", str(tagger), "--data", str(sample_dir / "ner" / "dev.txt")]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"lstm-nlp evaluate: error: {sample_dir / 'ner' / 'dev.txt'}: the data does not match the "
                          "model's tag set")  # names the file
    assert err.count("\n") == 1


@pytest.mark.parametrize("line", ["1 2 abc", "hello", "1e308"])
def test_forecaster_predict_refuses_a_line_that_is_not_a_history(tmp_path, capsys, line):
    model = Forecaster(ForecasterConfig(window=4, horizon=2, hidden_size=4), scaler=Scaler(0.0, 1.0))
    ForecastPipeline(model).save_pretrained(tmp_path / "model")
    (tmp_path / "in.txt").write_text(f"1 2 3 4\n{line}\n", encoding="utf-8")
    assert cli.main(["predict", "--model", str(tmp_path / "model"), "--input", str(tmp_path / "in.txt")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("lstm-nlp predict: error: line 2: ") and err.count("\n") == 1


def test_predicting_with_a_tagger_imports_only_what_predicting_needs(tagger, tmp_path):
    """seqeval (+ scikit-learn), datasets (+ pyarrow) and the training code cost seconds of start-up."""
    (tmp_path / "in.txt").write_text("The dog sleeps .\n", encoding="utf-8")
    heavy = ["datasets", "seqeval", "sklearn", "pyarrow", "lstm_nlp.training", "lstm_nlp.pipelines.forecasting",
             "lstm_nlp.pipelines.classification"]
    code = ("import sys; from lstm_nlp.cli import main; "
            f"main(['predict', '--model', {str(tagger)!r}, '--input', {str(tmp_path / 'in.txt')!r}]); "
            f"print([m for m in {heavy!r} if m in sys.modules], file=sys.stderr)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stderr.strip().splitlines()[-1] == "[]"


@pytest.fixture(scope="module")
def sample_tagger(tmp_path_factory, sample_dir):
    """An (untrained) tagger over the sample's POS tags, so its predictions are all known tags."""
    from lstm_nlp.data import read_conllu

    data = read_conllu(sample_dir / "pos" / "dev.conllu")
    words, labels = Vocab.build(data["tokens"]), Vocab.build_labels(data["tags"])
    config = TaggerConfig(vocab_size=len(words), num_labels=len(labels), embedding_dim=4, hidden_size=4, num_layers=1)
    path = tmp_path_factory.mktemp("bundles") / "pos-sample"
    TaggingPipeline(SequenceTagger(config), words, labels).save_pretrained(path)
    return path


def test_conllu_in_conllu_out_changes_only_the_tag_column_and_scores_100(sample_tagger, sample_dir, tmp_path,
                                                                        capsys):
    source = sample_dir / "pos" / "dev.conllu"
    assert cli.main(["predict", "--model", str(sample_tagger), "--input", str(source), "--input-format", "conllu"]) == 0
    written = capsys.readouterr().out
    original = source.read_text(encoding="utf-8")
    assert len(written.split("\n")) == len(original.split("\n"))
    for a, b in zip(original.split("\n"), written.split("\n")):
        fa, fb = a.split("\t"), b.split("\t")
        assert len(fa) == len(fb) and [x for i, x in enumerate(fa) if i != 3] == [x for i, x in enumerate(fb) if i != 3]
    (tmp_path / "pred.conllu").write_text(written, encoding="utf-8")
    assert cli.main(["evaluate", "--model", str(sample_tagger), "--data", str(tmp_path / "pred.conllu")]) == 0
    assert json.loads(capsys.readouterr().out)["accuracy"] == 1.0  # the model's own output as gold


def test_conll_in_conll_out_adds_the_tag_as_a_last_column(tmp_path, sample_dir, capsys):
    from lstm_nlp.data import read_conll

    data = read_conll(sample_dir / "ner" / "dev.txt", tag_column=3, scheme="iob2")
    words, labels = Vocab.build(data["tokens"]), Vocab.build_labels(data["tags"])
    config = TaggerConfig(vocab_size=len(words), num_labels=len(labels), embedding_dim=4, hidden_size=4, num_layers=1)
    TaggingPipeline(SequenceTagger(config), words, labels, scheme="iob2", tag_column=3,
                    file_scheme="iob2").save_pretrained(tmp_path / "ner")
    source = sample_dir / "ner" / "dev.txt"
    command = ["predict", "--model", str(tmp_path / "ner"), "--input", str(source), "--input-format", "conll"]
    assert cli.main(command) == 0
    written = capsys.readouterr().out
    for a, b in zip(source.read_text(encoding="utf-8").split("\n"), written.split("\n")):
        assert b == a or (b.startswith(a) and len(b.split()) == len(a.split()) + 1)
    (tmp_path / "pred.txt").write_text(written, encoding="utf-8")
    assert cli.main(["evaluate", "--model", str(tmp_path / "ner"), "--data", str(tmp_path / "pred.txt"),
                     "--tag-column", "-1"]) == 0
    assert json.loads(capsys.readouterr().out)["accuracy"] == 1.0


def test_tokens_in_jsonl_out_with_probabilities(tagger, tmp_path, capsys):
    (tmp_path / "in.txt").write_text("the  dog\tsleeps .\n\n", encoding="utf-8")
    assert cli.main(["predict", "--model", str(tagger), "--input", str(tmp_path / "in.txt"), "--input-format", "tokens",
                     "--output-format", "jsonl", "--probabilities"]) == 0
    first, second = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert first["tokens"] == ["the", "dog", "sleeps", "."] and len(first["tags"]) == 4
    assert all(0.25 <= p <= 1.0 for p in first["probabilities"])  # 4 tags: the chosen one has at least 1/4
    assert second == {"tokens": [], "tags": [], "probabilities": []}


@pytest.mark.parametrize("argv, message", [
    (["--input-format", "conll"], "--input-format conll applies to taggers"),
    (["--output-format", "slash"], "a text classifier writes 'tsv' or 'jsonl'"),
])
def test_formats_a_classifier_does_not_have_are_clear_errors(tmp_path, capsys, argv, message):
    from lstm_nlp.data.tokenizers import TextTokenizer
    from lstm_nlp.models import ClassifierConfig, TextClassifier
    from lstm_nlp.pipelines import ClassificationPipeline

    words = Vocab.build([["a", "film"]])
    model = TextClassifier(ClassifierConfig(vocab_size=len(words), num_labels=2, embedding_dim=4, hidden_size=4))
    ClassificationPipeline(model, words, Vocab.build_labels(["neg", "pos"]),
                           TextTokenizer("spacy")).save_pretrained(tmp_path / "clf")
    (tmp_path / "in.txt").write_text("a film\n", encoding="utf-8")
    base = ["predict", "--model", str(tmp_path / "clf"), "--input", str(tmp_path / "in.txt")]
    assert cli.main(base + ["--output-format", "jsonl"]) == 0
    assert set(json.loads(capsys.readouterr().out)["probabilities"]) == {"neg", "pos"}
    assert cli.main(base + argv) == 2
    assert message in capsys.readouterr().err


def test_top_k_sequences_of_a_crf_tagger_and_a_clear_error_for_softmax(tagger, tmp_path, capsys):
    from lstm_nlp.modules.crf import allowed_transitions

    words, labels = Vocab.build([["eu", "rejects"]]), Vocab.build_labels([["O", "B-ORG", "I-ORG"]])
    config = TaggerConfig(vocab_size=len(words), num_labels=3, embedding_dim=4, hidden_size=4, num_layers=1,
                          head="crf")
    TaggingPipeline(SequenceTagger(config, constraints=allowed_transitions(labels.itos)), words, labels,
                    scheme="iob2").save_pretrained(tmp_path / "crf")
    (tmp_path / "in.txt").write_text("EU rejects\n", encoding="utf-8")
    argv = ["--input", str(tmp_path / "in.txt"), "--input-format", "tokens", "--output-format", "jsonl", "--top-k", "4"]
    assert cli.main(["predict", "--model", str(tmp_path / "crf"), *argv]) == 0
    record = json.loads(capsys.readouterr().out)
    candidates = record["top_k"]
    assert len(candidates) == 4 and candidates[0]["tags"] == record["tags"]
    assert [c["score"] for c in candidates] == sorted((c["score"] for c in candidates), reverse=True)
    assert sum(c["probability"] for c in candidates) <= 1.0 + 1e-6
    assert cli.main(["predict", "--model", str(tagger), *argv]) == 2
    assert "need a CRF tagger" in capsys.readouterr().err


def test_probabilities_of_a_crf_tagger_are_marginals_with_span_probabilities(tmp_path, capsys):
    from lstm_nlp.modules.crf import allowed_transitions

    words, labels = Vocab.build([["eu", "rejects"]]), Vocab.build_labels([["O", "B-ORG", "I-ORG"]])
    config = TaggerConfig(vocab_size=len(words), num_labels=3, embedding_dim=4, hidden_size=4, num_layers=1,
                          head="crf")
    torch.manual_seed(0)
    TaggingPipeline(SequenceTagger(config, constraints=allowed_transitions(labels.itos)), words, labels,
                    scheme="iob2").save_pretrained(tmp_path / "crf")
    (tmp_path / "in.txt").write_text("EU rejects German call\n", encoding="utf-8")
    argv = ["--input", str(tmp_path / "in.txt"), "--input-format", "tokens", "--output-format", "jsonl"]
    assert cli.main(["predict", "--model", str(tmp_path / "crf"), *argv, "--probabilities", "--top-k", "200"]) == 0
    record = json.loads(capsys.readouterr().out)
    assert len(record["probabilities"]) == 4 and all(1 / 3 - 1e-6 <= p <= 1 for p in record["probabilities"])
    # 4 tokens have 34 allowed IOB2 sequences over O/B-ORG/I-ORG: all of them, whose probabilities sum to 1
    assert len(record["top_k"]) == 34
    assert abs(sum(c["probability"] for c in record["top_k"]) - 1) < 1e-4
    for t, (tag, p) in enumerate(zip(record["tags"], record["probabilities"])):  # marginal = sum over sequences
        assert abs(p - sum(c["probability"] for c in record["top_k"] if c["tags"][t] == tag)) < 1e-4
    for span in record["spans"]:  # a span's probability: the share of sequences holding exactly that span
        expected = sum(c["probability"] for c in record["top_k"]
                       if [span["start"], span["end"], "ORG"] in [list(s) for s in to_spans(c["tags"], "iob2")])
        assert abs(span["probability"] - expected) < 1e-4


def test_the_cli_line_limit_is_the_pipelines():
    from lstm_nlp.pipelines.base import MAX_LINE_CHARS

    assert cli.MAX_LINE_CHARS == MAX_LINE_CHARS


@pytest.mark.parametrize("user_value, expected", [(None, "64"), ("512", "512")])
def test_the_cli_bounds_onednn_primitive_cache_unless_the_user_set_it(user_value, expected):
    """oneDNN's per-shape LSTM primitive cache held ~300 MiB on long inputs; the CLI caps it before torch loads."""
    env = {k: v for k, v in os.environ.items() if k != "ONEDNN_PRIMITIVE_CACHE_CAPACITY"}
    if user_value:
        env["ONEDNN_PRIMITIVE_CACHE_CAPACITY"] = user_value
    code = "import os, lstm_nlp.cli; print(os.environ['ONEDNN_PRIMITIVE_CACHE_CAPACITY'])"
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)
    assert done.stdout.strip() == expected


def test_predict_with_workers_writes_what_one_process_writes(sample_tagger, sample_dir, tmp_path, capsys):
    text = tmp_path / "in.txt"
    text.write_text("The dog sleeps .\n\nA cat sat on the mat .\n" * 3000, encoding="utf-8")  # two chunks
    outputs = []
    for workers in ("1", "2"):
        assert cli.main(["predict", "--model", str(sample_tagger), "--input", str(text), "--workers", workers]) == 0
        outputs.append(capsys.readouterr().out)
    assert outputs[0] == outputs[1] and outputs[0].count("\n") == 9000
    for workers in ("1", "2"):  # CoNLL-U goes through the same workers
        assert cli.main(["predict", "--model", str(sample_tagger), "--input", str(sample_dir / "pos" / "dev.conllu"),
                         "--input-format", "conllu", "--workers", workers]) == 0
        outputs.append(capsys.readouterr().out)
    assert outputs[2] == outputs[3]


@pytest.mark.parametrize("value", ["0", "two"])
def test_predict_refuses_workers_that_are_not_a_positive_number(sample_tagger, value, capsys):
    with pytest.raises(SystemExit) as caught:
        cli.main(["predict", "--model", str(sample_tagger), "--workers", value])
    err = capsys.readouterr().err
    assert caught.value.code == 2 and err.count("\n") == 1
    reason = "must be >= 1" if value == "0" else "expected an integer"
    assert f"lstm-nlp predict: error: argument --workers: {reason}" in err


def test_a_malformed_conllu_input_names_the_file_and_line(sample_tagger, sample_dir, tmp_path, capsys):
    lines = (sample_dir / "pos" / "dev.conllu").read_text(encoding="utf-8").split("\n")
    bad = next(i for i, line in enumerate(lines) if line.count("\t") == 9)
    lines[bad] = lines[bad].rsplit("\t", 1)[0]  # one token line with 9 columns
    wrong = tmp_path / "bad.conllu"
    wrong.write_text("\n".join(lines), encoding="utf-8")
    assert cli.main(["predict", "--model", str(sample_tagger), "--input", str(wrong), "--input-format", "conllu"]) == 2
    assert f"{wrong}:{bad + 1}: expected 10 tab-separated CoNLL-U columns" in capsys.readouterr().err
    other = sample_dir / "ner" / "dev.txt"  # CoNLL-2003 columns given as CoNLL-U: named for what they are
    assert cli.main(["predict", "--model", str(sample_tagger), "--input", str(other), "--input-format", "conllu"]) == 2
    assert f"{other} looks like CoNLL columns" in capsys.readouterr().err


@pytest.mark.parametrize("output, expected", [("{d}", "is a folder"), ("{d}/missing/m.onnx", "does not exist")])
def test_export_checks_its_output_before_loading_the_model(tmp_path, capsys, output, expected):
    code = cli.main(["export", "--model", str(tmp_path / "no-model"), "--output", output.format(d=tmp_path)])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "--output" in err and expected in err, err
    assert sorted(tmp_path.iterdir()) == []


@pytest.mark.parametrize("args, expected", [(["--version"], "lstm_nlp "), (["predict", "--help"], "--input")])
def test_python_dash_m_lstm_nlp_is_the_command(args, expected):
    result = subprocess.run([sys.executable, "-m", "lstm_nlp", *args], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0 and expected in result.stdout, result.stderr


def test_predict_input_dash_reads_stdin(tagger, tmp_path, capsys, monkeypatch):
    (tmp_path / "in.txt").write_bytes(RAW)
    assert cli.main(["predict", "--model", str(tagger), "--input", str(tmp_path / "in.txt")]) == 0
    from_file = capsys.readouterr().out
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(RAW)))
    assert cli.main(["predict", "--model", str(tagger), "--input", "-"]) == 0
    assert capsys.readouterr().out == from_file
    assert not (tmp_path / "-").exists() and not os.path.exists("-")


@pytest.mark.parametrize("tty", [True, False])
def test_predict_says_it_reads_the_terminal_only_when_stdin_is_one(tagger, capsys, monkeypatch, tty):
    stdin = io.TextIOWrapper(io.BytesIO(b"The cat sat .\n"))
    monkeypatch.setattr(stdin, "isatty", lambda: tty)
    monkeypatch.setattr(sys, "stdin", stdin)
    assert cli.main(["predict", "--model", str(tagger)]) == 0
    out, err = capsys.readouterr()
    assert out.startswith("The/") and ("reading lines from the terminal (end with Ctrl-D)" in err) == tty


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize("command", ["predict", "evaluate"])
@pytest.mark.parametrize("terminal, hidden", [(True, False), (True, True), (False, False)])
def test_predict_and_evaluate_show_progress_on_a_terminal_unless_told_not_to(tagger, tmp_path, monkeypatch, capsys,
                                                                             command, terminal, hidden):
    data = tmp_path / "in.conllu"
    data.write_text("".join("1\tThe\tthe\tDET\tDT\t_\t0\troot\t_\t_\n2\tdog\tdog\tNOUN\tNN\t_\t1\tdep\t_\t_\n\n"
                            for _ in range(1200)), encoding="utf-8")
    stderr = _Terminal() if terminal else io.StringIO()
    monkeypatch.setattr(sys, "stderr", stderr)
    args = ["--input", str(data), "--input-format", "conllu"] if command == "predict" else ["--data", str(data)]
    assert cli.main([command, "--model", str(tagger), *args, *(["--no-progress"] if hidden else [])]) == 0
    label = "predicting" if command == "predict" else "evaluating"
    assert (label in stderr.getvalue()) == (terminal and not hidden), stderr.getvalue()[-500:]
    capsys.readouterr()


def test_predict_takes_the_lines_as_arguments(tagger, tmp_path, capsys, monkeypatch):
    (tmp_path / "in.txt").write_text("The dog sleeps .\nA cat sat .\n")
    assert cli.main(["predict", "--model", str(tagger), "--input", str(tmp_path / "in.txt")]) == 0
    from_file = capsys.readouterr().out
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b"never read\n")))
    assert cli.main(["predict", "--model", str(tagger), "The dog sleeps .", "A cat sat ."]) == 0
    out, err = capsys.readouterr()
    assert out == from_file and out.count("\n") == 2 and "terminal" not in err


def test_predict_text_arguments_and_input_together_are_one_line_and_exit_2(tagger, tmp_path, capsys):
    assert cli.main(["predict", "--model", str(tagger), "--input", str(tmp_path / "in.txt"), "The dog ."]) == 2
    err = capsys.readouterr().err
    assert err == "lstm-nlp predict: error: give the input as TEXT arguments or as --input, not both\n"


TINY_POS = ["--epochs", "1", "--embedding-dim", "8", "--hidden-size", "8", "--num-layers", "1", "--char-encoder",
            "none", "--no-progress", "--device", "cpu"]


def test_train_runs_the_recipe_on_its_bundled_sample(tmp_path, capsys):
    assert cli.main(["train", "pos", "--output-dir", str(tmp_path / "run"), *TINY_POS]) == 0
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert {"dev", "test"} <= set(summary) and (tmp_path / "run" / "model" / "model.safetensors").is_file()
    assert sys.argv[0] != "lstm-nlp train pos"  # put back after the run


def test_train_errors_are_the_recipes_one_line_under_the_commands_name(tmp_path, capsys):
    with pytest.raises(SystemExit) as stop:
        cli.main(["train", "pos", "--dev", str(tmp_path / "nope.conllu"), "--output-dir", str(tmp_path / "run")])
    assert stop.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("lstm-nlp train pos: error: ") and "--dev" in err[-1], err


@pytest.mark.parametrize("argv, code, expected", [
    (["train", "pos", "--version"], 0, "lstm-nlp train pos (lstm_nlp "),
    (["train", "ner", "--help"], 0, "--tag-scheme {iob2,bioes,bilou}"),
    (["train", "--help"], 0, "lm        forward + backward LSTM language models"),
    (["train", "postag"], 2, "invalid choice: 'postag'"),
])
def test_train_help_version_and_a_wrong_recipe_name(argv, code, expected, capsys):
    with pytest.raises(SystemExit) as stop:
        cli.main(argv)
    captured = capsys.readouterr()
    assert stop.value.code == code and expected in captured.out + captured.err
