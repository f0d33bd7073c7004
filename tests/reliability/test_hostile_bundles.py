"""Hostile bundles and inputs: crafted sizes allocate nothing, endless or special files never hang
or fill memory, crafted JSON is one line naming the file and field, and the CLI survives a full
stdout and Ctrl-C. No planted code runs (nothing here unpickles)."""

from __future__ import annotations

import contextlib
import json
import os
import random
import resource
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lstm_nlp import cli
from lstm_nlp.data.text_classification import load_text_classification
from lstm_nlp.data.vocab import Vocab
from lstm_nlp.errors import BundleError, DataFormatError, LstmNlpError, VocabError
from lstm_nlp.pipelines import load_pipeline
from lstm_nlp.pipelines.base import read_lines
from lstm_nlp.schema import MAX_DIM, MAX_JSON_BYTES, MAX_PARAMETERS
from lstm_nlp.serialization import CONFIG_NAME, WEIGHTS_NAME
from tests.reliability.reliability_cases import DEEP, craft, replace_file

REPO = Path(__file__).resolve().parents[2]
ENV = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(REPO)}


@contextlib.contextmanager
def alarm(seconds: int):
    """Fails the test instead of hanging it (a FIFO opened for reading blocks until a writer comes)."""
    def timeout(signum, frame):
        raise TimeoutError(f"still running after {seconds} s: the read blocked")

    previous = signal.signal(signal.SIGALRM, timeout)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def edit_json(path: Path, change) -> None:
    data = json.loads(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(json.dumps(data), encoding="utf-8")


def one_line_error(bundle: Path, capsys) -> str:
    """``lstm-nlp predict`` on ``bundle``: must be exit 2 with one line; returns that line."""
    code = cli.main(["predict", "--model", str(bundle), "--input", os.devnull])
    out, err = capsys.readouterr()
    assert code == 2 and out == "" and err.count("\n") == 1 and "Traceback" not in err, err
    assert err.startswith("lstm-nlp predict: error: ")
    return err


def max_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# ---------------------------------------------------------------------- (6) crafted sizes
@pytest.mark.parametrize("field, value, message", [
    # within the bounds, but the weights in model.safetensors were not made for it: refused from the header
    ("hidden_size", 4096, r"weight '.*' has shape .* but the config implies"),  # ~1 GB of LSTM weights
    ("hidden_size", 2**19, r"config.json: the config asks for a model of 2,199,144,893,380 parameters"),  # 8 TB
    ("embedding_dim", 2**20, r"weight 'embedding.embedding.weight' has shape \(\d+, 16\) but the config implies"),
    ("vocab_size", 5_000_000, (r"weight 'embedding.embedding.weight' has shape \(\d+, 16\) but the config implies "
                              r"\(5000000, 16\)")),
    # beyond what any config may ask for
    ("hidden_size", 2**40, (rf"config.json: config.hidden_size must be an integer in \[1, {MAX_DIM}\], "
                           r"got 1099511627776")),
    ("num_layers", 10**6, r"config.json: config.num_layers must be an integer in \[1, 64\], got 1000000"),
])
def test_a_crafted_size_allocates_nothing_before_it_is_refused(field, value, message, tagger_bundle, copy_bundle,
                                                                  capsys):
    bundle = copy_bundle(tagger_bundle)
    edit_json(bundle / CONFIG_NAME, lambda h: h["config"].update({field: value}))
    before = max_rss_mb()
    with pytest.raises(BundleError, match=message):
        load_pipeline(bundle)
    assert max_rss_mb() - before < 200  # the 5M-word embedding alone would be 320 MB
    one_line_error(bundle, capsys)


def test_a_config_asking_for_too_many_parameters_is_refused_before_the_weights_are_compared(
        tagger_bundle, copy_bundle):
    bundle = copy_bundle(tagger_bundle)
    edit_json(bundle / CONFIG_NAME, lambda h: h["config"].update(vocab_size=2**24, embedding_dim=2**20))
    with pytest.raises(BundleError, match=rf"config.json: the config asks for a model of [\d,]+ parameters, more than "
                                          rf"the {MAX_PARAMETERS:,} a bundle may hold"):
        load_pipeline(bundle)


def test_weights_are_read_only_after_the_header_matches_the_config(tagger_bundle, copy_bundle, monkeypatch):
    from lstm_nlp import serialization

    bundle = copy_bundle(tagger_bundle)
    edit_json(bundle / CONFIG_NAME, lambda h: h["config"].update(hidden_size=32))
    read = []
    monkeypatch.setattr(serialization, "load_file", lambda *a, **k: read.append(a) or {})
    with pytest.raises(BundleError, match="but the config implies"):
        load_pipeline(bundle)
    assert read == []


# ---------------------------------------------------------------------- (7) unbounded reads
@pytest.mark.parametrize("kind, target", [
    (kind, target) for kind in ("fifo", "/dev/zero", "directory", "oversized")
    for target in (CONFIG_NAME, WEIGHTS_NAME, "words.vocab.json", "chars.vocab.json")
    if not (kind == "oversized" and target == WEIGHTS_NAME)  # weights: shapes are checked against the config instead
])
def test_a_bundle_file_that_is_not_a_regular_file_of_sane_size_is_refused_at_once(kind, target, tagger_bundle,
                                                                                  copy_bundle, capsys):
    bundle = copy_bundle(tagger_bundle)
    path = bundle / target
    replace_file(path, kind, size=MAX_JSON_BYTES + 1)
    expected = {"fifo": "expected a file, found a FIFO", "/dev/zero": "expected a file, found a character device",
                "directory": "expected a file, found a directory",
                "oversized": f"the file has {MAX_JSON_BYTES + 1:,} bytes, more than the {MAX_JSON_BYTES:,}"}[kind]
    with alarm(20):
        with pytest.raises(LstmNlpError) as caught:
            load_pipeline(bundle)
        assert str(caught.value).startswith(f"{path}: {expected}"), caught.value
        assert expected in one_line_error(bundle, capsys)


def test_a_fifo_as_the_subword_tokenizer_file_is_refused(tmp_path, sample_dir):
    from lstm_nlp.data import TextTokenizer, Vocab
    from lstm_nlp.models import ClassifierConfig, TextClassifier
    from lstm_nlp.pipelines import ClassificationPipeline

    tokenizer = TextTokenizer.fit(["a good film", "a bad film"] * 20, kind="bpe", vocab_size=30, min_frequency=1)
    words = Vocab.build([["a", "good", "bad", "film"]])
    model = TextClassifier(ClassifierConfig(vocab_size=len(words), num_labels=2, embedding_dim=4, hidden_size=4))
    ClassificationPipeline(model, words, Vocab(["neg", "pos"], pad_token=None, unk_token=None),
                           tokenizer).save_pretrained(tmp_path / "m")
    (tmp_path / "m" / "tokenizer.json").unlink()
    os.mkfifo(tmp_path / "m" / "tokenizer.json")
    with alarm(20), pytest.raises(BundleError, match=r"tokenizer.json: expected a file, found a FIFO"):
        load_pipeline(tmp_path / "m")


def test_dev_zero_as_predict_input_stops_at_the_line_limit(tagger_bundle, capsys):
    before = max_rss_mb()
    code = cli.main(["predict", "--model", str(tagger_bundle), "--input", "/dev/zero"])
    out, err = capsys.readouterr()
    assert code == 2 and out == ""
    assert err == ("lstm-nlp predict: error: line 1 has more than 100,000 characters; split it into shorter lines "
                   "(or raise the limit: lstm-nlp predict --max-line-chars)\n")
    assert max_rss_mb() - before < 200


def test_an_over_long_line_is_refused_naming_it_after_the_lines_before_it(tagger_bundle, tmp_path, capsys):
    (tmp_path / "in.txt").write_text("The dog .\n" + "x" * 101 + "\nThe cat .\n", encoding="utf-8")
    code = cli.main(["predict", "--model", str(tagger_bundle), "--input", str(tmp_path / "in.txt"),
                     "--max-line-chars", "100"])
    _out, err = capsys.readouterr()
    assert code == 2 and "line 2 has more than 100 characters" in err and err.count("\n") == 1
    code = cli.main(["predict", "--model", str(tagger_bundle), "--input", str(tmp_path / "in.txt"),
                     "--max-line-chars", "101"])
    assert code == 0 and len(capsys.readouterr().out.splitlines()) == 3


@pytest.mark.parametrize("value", ["0", "-5", "x"])
def test_max_line_chars_must_be_a_positive_integer(value, tagger_bundle, capsys):
    with pytest.raises(SystemExit) as caught:
        cli.main(["predict", "--model", str(tagger_bundle), "--max-line-chars", value])
    assert caught.value.code == 2
    err = capsys.readouterr().err
    assert "argument --max-line-chars: " + ("expected an integer" if value == "x" else "must be >= 1") in err


@pytest.mark.parametrize("text, limit, lines", [
    ("a\nbb\r\nccc", 3, ["a\n", "bb\r\n", "ccc"]),
    ("abcd\n", 4, ["abcd\n"]),
    ("abcd\r\n", 4, ["abcd\r\n"]),
    ("", 4, []),
])
def test_read_lines_keeps_line_ends_and_takes_lines_up_to_the_limit(text, limit, lines):
    import io

    assert list(read_lines(io.StringIO(text, newline=""), max_chars=limit)) == lines


def test_read_lines_stops_at_an_endless_line_after_reading_a_bounded_amount():
    class Endless:
        def __init__(self) -> None:
            self.asked: list[int] = []

        def readline(self, size=-1):
            assert size > 0, "an unbounded readline"
            self.asked.append(size)
            return "x" * size

    stream = Endless()
    with pytest.raises(DataFormatError, match="line 1 has more than 10 characters"):
        list(read_lines(stream, max_chars=10))
    assert stream.asked == [12]


def test_prediction_chunks_are_bounded_in_characters(tagger_bundle, monkeypatch):
    from lstm_nlp.pipelines import base

    pipeline = load_pipeline(tagger_bundle)
    sizes = []
    real = type(pipeline).format_predictions

    def spy(self, lines, **kwargs):
        sizes.append(sum(map(len, lines)))
        return real(self, lines, **kwargs)

    monkeypatch.setattr(base, "CHUNK_CHARS", 50)
    monkeypatch.setattr(type(pipeline), "format_predictions", spy)
    out = list(pipeline.predict_lines(["The dog barked at the mailman ."] * 10))
    assert len(out) == 10 and len(sizes) == 5 and max(sizes) < 50 + 31


@pytest.mark.parametrize("label_names", [None, []])
def test_a_huge_integer_label_without_names_allocates_nothing(label_names, tmp_path):
    path = tmp_path / "big.jsonl"
    path.write_text('{"text": "fine", "label": 10000000000}\n{"text": "bad", "label": 0}\n', encoding="utf-8")
    before = max_rss_mb()
    data = load_text_classification(path, label_names=label_names, cache_dir=tmp_path / "cache")
    assert data["label"] == ["10000000000", "0"]
    assert max_rss_mb() - before < 200  # a name per integer up to 10**10 would be hundreds of GB
    path.write_text('{"text": "fine", "label": -3}\n', encoding="utf-8")
    with pytest.raises(DataFormatError, match=r"record 1 has label -3; integer labels must be >= 0"):
        load_text_classification(path, label_names=label_names, cache_dir=tmp_path / "cache")


def test_a_huge_integer_label_with_names_is_outside_them(tmp_path):
    path = tmp_path / "big.jsonl"
    path.write_text('{"text": "fine", "label": 10000000000}\n', encoding="utf-8")
    with pytest.raises(DataFormatError, match=r"record 1 has label 10000000000, outside the label set"):
        load_text_classification(path, label_names=["neg", "pos"], cache_dir=tmp_path / "cache")


@pytest.mark.parametrize("kind", ["/dev/zero", "fifo"])
@pytest.mark.parametrize("model", ["tagger_bundle", "classifier_bundle", "forecaster_bundle"])
def test_evaluate_data_that_is_a_device_or_fifo_is_refused_at_once(kind, model, request, tmp_path, capsys):
    data = "/dev/zero"
    if kind == "fifo":
        data = str(tmp_path / "data.jsonl")
        os.mkfifo(data)
    with alarm(20):
        code = cli.main(["evaluate", "--model", str(request.getfixturevalue(model)), "--data", data])
    out, err = capsys.readouterr()
    found = "a character device" if kind == "/dev/zero" else "a FIFO (named pipe)"
    assert code == 2 and out == "" and err == f"lstm-nlp evaluate: error: {data}: expected a data file or folder, " \
                                              f"found {found}\n"


# ---------------------------------------------------------------------- (8) crafted bundle JSON
CRAFTED = [
    # kind, file, field path (in the file), raw JSON value, message after "BUNDLE/FILE: "
    ("tagger", CONFIG_NAME, "config.hidden_size", "16.5", (r"config.hidden_size must be an integer in \[1, 1048576\], "
                                                          r"got 16.5")),
    ("tagger", CONFIG_NAME, "config.hidden_size", "Infinity", r"config.hidden_size must be an integer .*, got inf"),
    ("tagger", CONFIG_NAME, "config.hidden_size", "1" + "0" * 5000, (r"config.hidden_size must be an integer .*, "
                                                                     r"got a 5001-digit number")),
    ("tagger", CONFIG_NAME, "config.hidden_size", "true", r"config.hidden_size must be an integer .*, got true"),
    ("tagger", CONFIG_NAME, "config.dropout", "NaN", r"config.dropout must be a finite number, got nan"),
    ("tagger", CONFIG_NAME, "config.dropout", "1.5", r"TaggerConfig.dropout must be in \[0, 1\), got 1.5"),
    ("tagger", CONFIG_NAME, "config.head", '"attention"', (r"config.head must be one of 'softmax', 'crf', "
                                                          r"got \"attention\"")),
    ("tagger", CONFIG_NAME, "config.char_kernel_size", "2", r"kernel_size must be odd and >= 1, got 2"),
    ("tagger", CONFIG_NAME, "config", "[1, 2]", r"config must be an object, got a list of 2"),
    ("tagger", CONFIG_NAME, "config", '"abc"', r"config must be an object, got \"abc\""),
    ("tagger", CONFIG_NAME, "meta", "[]", r"meta must be an object, got a list of 0"),
    ("tagger", CONFIG_NAME, "model_type", "7", r"model_type must be a string, got 7"),
    ("tagger", CONFIG_NAME, "format_version", "1.0", r"format_version must be an integer in \[1, 1\], got 1.0"),
    ("tagger", CONFIG_NAME, "config.vocab_size", DEEP, r"not valid JSON here \(nested too deeply"),
    ("tagger", CONFIG_NAME, "meta.scheme", '"bio"', r"meta.scheme must be one of 'none', 'iob2', .*got \"bio\""),
    ("tagger", CONFIG_NAME, "meta.token_column", "-1", r"meta.token_column must be an integer in \[0, 1000\], got -1"),
    ("tagger", CONFIG_NAME, "meta.tag_column", '"lemma"', (r"meta.tag_column must be one of 'upos', 'xpos' or an "
                                                          r"integer in \[-1000, 1000\], got \"lemma\"")),
    ("tagger", CONFIG_NAME, "meta.tag_column", "1e300", r"meta.tag_column must be .*, got 1e\+300"),
    ("tagger", "labels.vocab.json", "lower", '"false"', r"lower must be true or false, got \"false\""),
    ("tagger", "words.vocab.json", "pad_token", "0", r"pad_token must be a string or null, got 0"),
    ("tagger", "words.vocab.json", "itos", '{"a": 1}', r"not a vocabulary file"),
    ("tagger", "words.vocab.json", "unk_token", '"<nope>"', r"special token '<nope>' is not in the vocabulary"),
    ("classifier", CONFIG_NAME, "meta.max_length", "0", (r"meta.max_length must be an integer in \[1, 2147483647\] "
                                                        r"or null, got 0")),
    ("classifier", CONFIG_NAME, "meta.max_length", "64.0", r"meta.max_length must be an integer .*, got 64.0"),
    ("classifier", CONFIG_NAME, "meta.label_names", '"neg,pos"', (r"meta.label_names must be a list of at most "
                                                                 r"16,777,216 items or null, got \"neg,pos\"")),
    ("classifier", CONFIG_NAME, "meta.label_names", "[0, 1]", r"meta.label_names\[0\] must be a string, got 0"),
    ("classifier", CONFIG_NAME, "meta.positive_label", "1", r"meta.positive_label must be a string or null, got 1"),
    ("classifier", CONFIG_NAME, "meta.positive_label", '"meh"', r"positive_label 'meh' is not one of the classes"),
    ("classifier", CONFIG_NAME, "meta.tokenizer", "[]", r"meta.tokenizer must be an object or null, got a list of 0"),
    ("classifier", CONFIG_NAME, "meta.tokenizer.lang", '"qq"', r"meta.tokenizer: unknown spaCy language 'qq'"),
    ("classifier", CONFIG_NAME, "meta.tokenizer.lang", '"../../x"', r"meta.tokenizer: unknown spaCy language"),
    ("classifier", CONFIG_NAME, "meta.tokenizer.lower", '"yes"', r"meta.tokenizer.lower must be true or false"),
    ("classifier", CONFIG_NAME, "meta.tokenizer.kind", '"sentencepiece"', r"meta.tokenizer.kind must be one of"),
    ("classifier", CONFIG_NAME, "config.num_labels", "1", r"config.num_labels must be an integer in \[2, "),
    ("forecaster", CONFIG_NAME, "meta.period", '"24"', r"meta.period must be an integer in \[1, 1048576\] or null"),
    ("forecaster", CONFIG_NAME, "meta.period", "9", r"period must be in \[1, window=8\], got 9"),
    ("forecaster", CONFIG_NAME, "meta.scaler.std", "0", r"meta.scaler.std must be a number in \[1e-30, "),
    ("forecaster", CONFIG_NAME, "meta.scaler.mean", "NaN", r"meta.scaler.mean must be a number in"),
    ("forecaster", CONFIG_NAME, "meta.scaler", "null", r"meta.scaler must be an object, got null"),
    ("forecaster", CONFIG_NAME, "config.window", "1e9", r"config.window must be an integer .*, got 1000000000.0"),
]
@pytest.mark.parametrize("kind, file, field, raw, message", CRAFTED,
                         ids=[f"{c[0]}-{c[1]}-{c[2]}={c[3][:12]}" for c in CRAFTED])
def test_crafted_bundle_json_is_one_line_naming_the_file_and_field(kind, file, field, raw, message, request,
                                                                   copy_bundle, capsys):
    bundle = copy_bundle(request.getfixturevalue(f"{kind}_bundle"))
    craft(bundle, file, field, raw)
    with pytest.raises(LstmNlpError) as caught:
        load_pipeline(bundle)
    text = str(caught.value)
    assert text.startswith(f"{bundle / file}") and "\n" not in text, text
    assert __import__("re").search(message, text), text
    one_line_error(bundle, capsys)


def test_vocab_lower_must_be_a_boolean(tmp_path):
    (tmp_path / "v.json").write_text(json.dumps({"itos": ["<pad>", "<unk>", "a"], "pad_token": "<pad>",
                                                 "unk_token": "<unk>", "lower": "false"}), encoding="utf-8")
    with pytest.raises(VocabError, match=r"v.json: lower must be true or false, got \"false\""):
        Vocab.load(tmp_path / "v.json")


JSON_VALUES = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True), st.integers(min_value=-(2**70), max_value=2**70),
    st.sampled_from(["1" + "0" * 5000, DEEP, "-0", "1e400", "[]", "{}", '""', '"x"']).map(lambda raw: ("raw", raw)),
    st.text(max_size=8), st.booleans(), st.none(), st.lists(st.integers(0, 3), max_size=3),
    st.dictionaries(st.text(max_size=3), st.integers(0, 3), max_size=2),
)
HOSTILE = settings(max_examples=60, deadline=None,
                   suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])


def _fields(data, prefix=""):
    """Dotted paths of every object field in a JSON document (lists are replaced whole)."""
    for name, value in data.items():
        yield prefix + name
        if isinstance(value, dict):
            yield from _fields(value, prefix + name + ".")


@pytest.mark.parametrize("kind", ["tagger", "classifier", "forecaster"])
@HOSTILE
@given(data=st.data())
def test_any_value_in_any_bundle_json_field_loads_or_is_one_line_naming_the_file(kind, data, request, tmp_path_factory):
    import shutil

    source = request.getfixturevalue(f"{kind}_bundle")
    bundle = tmp_path_factory.mktemp("hostile") / source.name
    shutil.copytree(source, bundle)
    files = sorted(p.name for p in bundle.glob("*.json"))
    file = data.draw(st.sampled_from(files))
    document = json.loads((bundle / file).read_text(encoding="utf-8"))
    field = data.draw(st.sampled_from(sorted(_fields(document))))
    value = data.draw(JSON_VALUES)
    raw = value[1] if isinstance(value, tuple) else json.dumps(value)
    craft(bundle, file, field, raw)
    try:
        load_pipeline(bundle)
    except LstmNlpError as err:  # anything else (TypeError, RecursionError, MemoryError...) fails the test
        text = str(err)
        assert "\n" not in text and text.startswith(str(bundle)), text


# ---------------------------------------------------------------------- (10) data files
@pytest.mark.parametrize("suffix", [".jsonl", ".json"])
@pytest.mark.parametrize("record, message", [
    ('{"text": "ok", "label": ' + DEEP + "}", r"JSON that cannot be data: nested too deeply"),
    ('{"text": "ok", "label": ' + "[" * 150 + "]" * 150 + "}", r"JSON that cannot be data: nested too deeply"),
    ('{"text": "ok", "label": 1' + "0" * 5000 + "}", r"JSON that cannot be data: a number with 5,001 digits"),
])
def test_data_json_nested_too_deep_or_with_huge_numbers_is_one_line_naming_the_file(suffix, record, message,
                                                                                      tmp_path):
    path = tmp_path / f"data{suffix}"
    path.write_text('{"text": "fine", "label": 1}\n' + record + "\n", encoding="utf-8")
    with pytest.raises(DataFormatError) as caught:
        load_text_classification(path, label_names=["neg", "pos"], cache_dir=tmp_path / "cache")
    where = f"{path}:2: " if suffix == ".jsonl" else f"{path}"
    assert str(caught.value).startswith(where) and "\n" not in str(caught.value)
    assert __import__("re").search(message, str(caught.value)), caught.value


def test_a_json_array_with_a_deep_record_names_the_file(tmp_path):
    path = tmp_path / "data.json"
    path.write_text('[{"text": "ok", "label": ' + "[" * 200 + "]" * 200 + "}]", encoding="utf-8")
    with pytest.raises(DataFormatError, match=r"data.json: JSON that cannot be data: nested too deeply"):
        load_text_classification(path, cache_dir=tmp_path / "cache")


# ---------------------------------------------------------------------- (12, 13) the CLI's own output and Ctrl-C
@pytest.mark.parametrize("command", ["predict", "evaluate"])
def test_stdout_on_a_full_device_is_one_line_and_a_nonzero_exit(command, tagger_bundle, sample_dir):
    data = str(sample_dir / "pos" / "test.conllu")
    args = ["--input", data, "--input-format", "conllu"] if command == "predict" else ["--data", data]
    with open("/dev/full", "w") as full:
        result = subprocess.run([sys.executable, "-m", "lstm_nlp.cli", command, "--model", str(tagger_bundle), *args],
                                stdout=full, stderr=subprocess.PIPE, text=True, env=ENV, timeout=120, check=False)
    lines = [line for line in result.stderr.splitlines() if line.startswith(("lstm-nlp", "Traceback", "Exception"))]
    assert result.returncode == 1, result.stderr
    assert lines == [f"lstm-nlp {command}: error: cannot write the output: No space left on device"], result.stderr


def _interrupt(process: subprocess.Popen) -> tuple[int, str]:
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=60)
    return process.returncode, err


def test_ctrl_c_while_predict_reads_a_slow_input_exits_130_without_a_traceback(tagger_bundle, tmp_path):
    fifo = tmp_path / "slow-input"
    os.mkfifo(fifo)
    process = subprocess.Popen([sys.executable, "-m", "lstm_nlp.cli", "predict", "--model", str(tagger_bundle),
                                "--input", str(fifo)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               env=ENV)
    deadline = time.monotonic() + 60
    while True:  # the CLI opens its input after loading the model: wait for it to be reading
        try:
            writer = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
            break
        except OSError:
            assert process.poll() is None and time.monotonic() < deadline, process.communicate()
            time.sleep(0.05)
    os.write(writer, b"The dog barked .\n")  # then nothing more: the input is slow
    time.sleep(0.3)
    code, err = _interrupt(process)
    os.close(writer)
    assert code == 130 and "Traceback" not in err and err.strip().splitlines()[-1] == "lstm-nlp predict: interrupted"


def test_ctrl_c_after_the_output_is_complete_is_ignored(tagger_bundle, sample_dir):
    """A Ctrl-C as the command frees its objects or the interpreter shuts down used to end it by SIGINT (-2),
    or print "Exception ignored in ... Dataset.__del__ ... KeyboardInterrupt", after a complete output."""
    data = sample_dir / "pos" / "train.conllu"
    outcomes = []
    for delay in (0.0, 0.005, 0.01, 0.02, 0.04, 0.08):
        process = subprocess.Popen([sys.executable, "-m", "lstm_nlp.cli", "evaluate", "--model", str(tagger_bundle),
                                    "--data", str(data)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                   env=ENV)
        lines = []
        while not lines or lines[-1] != "}\n":  # the last line of the metrics: the output is complete
            line = process.stdout.readline()
            assert line, "evaluate ended before writing its metrics"
            lines.append(line)
        time.sleep(delay)
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=60)
        outcomes.append((process.returncode, "KeyboardInterrupt" in err or "Traceback" in err))
    assert outcomes == [(0, False)] * len(outcomes)


def test_main_in_process_leaves_the_ctrl_c_handler_as_it_was(tagger_bundle, sample_dir, capsys):
    before = signal.getsignal(signal.SIGINT)
    data = sample_dir / "pos" / "train.conllu"
    assert cli.main(["evaluate", "--model", str(tagger_bundle), "--data", str(data)]) == 0
    assert signal.getsignal(signal.SIGINT) is before


@pytest.mark.parametrize("command", ["predict", "evaluate"])
def test_ctrl_c_at_any_moment_of_a_run_exits_130_without_a_traceback(command, tagger_bundle, sample_dir):
    args = [] if command == "predict" else ["--data", str(sample_dir / "pos" / "train.conllu")]
    process = subprocess.Popen([sys.executable, "-m", "lstm_nlp.cli", command, "--model", str(tagger_bundle), *args],
                               stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                               env=ENV)
    process.stdin.write("The dog barked .\n")
    process.stdin.flush()  # stdin stays open: a slow input for predict
    maps, deadline = Path(f"/proc/{process.pid}/maps"), time.monotonic() + 60
    while "libtorch" not in maps.read_text():  # inside main(), loading the model: Python's handler is in place
        assert process.poll() is None and time.monotonic() < deadline
        time.sleep(0.02)
    time.sleep(random.uniform(0, 1.5))  # loading, reading or evaluating
    code, err = _interrupt(process)
    if command == "evaluate" and code == 0:
        pytest.skip("the evaluation finished before the signal")
    assert code == 130 and "Traceback" not in err, err
