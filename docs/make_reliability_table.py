"""Writes docs/reliability.md: every bad input tried, through which entry point, and what the user sees.

    python docs/make_reliability_table.py                          # ~1-2 minutes on a laptop CPU
    python docs/make_reliability_table.py --output /tmp/table.md   # elsewhere (a dry run)

Nothing in the table is typed by hand: each row runs the input through the real entry point
(``lstm-nlp`` in-process through ``lstm_nlp.cli.main``, the recipes as separate processes) in a
scratch folder, so paths in the messages are relative, and records what was printed. Four tiny
models are trained first with the recipes on the bundled samples (data/pos, data/imdb, data/ner
and a generated series). No row uses the network: hub ids go to an endpoint that refuses
connections, as on a machine that is offline.
"""

from __future__ import annotations

import argparse
import contextlib
import gzip
import io
import json
import os
import pickle
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
OUT = REPO / "docs" / "reliability.md"
CONLLU = ("1\tThe\tthe\tDET\tDT\t_\t2\tdet\t_\t_\n2\tdog\tdog\tNOUN\tNN\t_\t3\tnsubj\t_\t_\n"
          "3\tbarked\tbark\tVERB\tVBD\t_\t0\troot\t_\t_\n4\t.\t.\tPUNCT\t.\t_\t3\tpunct\t_\t_\n\n")
CONLL = "The DT B-NP O\ndog NN I-NP O\nbarked VBD B-VP O\n. . O O\n\n"
JSONL = '{"text": "A wonderful, moving film.", "label": 1}\n{"text": "Dull and far too long.", "label": 0}\n'
CSV = 'text,label\n"A wonderful, moving film.",pos\nDull and far too long.,neg\n'
SERIES = "time,value\n" + "".join(f"{t},{10 + (t % 24) * 0.5}\n" for t in range(400))
ENV = {**os.environ, "OMP_NUM_THREADS": "1", "LSTM_NLP_LOGLEVEL": "WARNING", "TOKENIZERS_PARALLELISM": "false",
       "HF_DATASETS_DISABLE_PROGRESS_BARS": "1"}
TINY = ["--epochs", "1", "--no-progress", "--no-checkpoints", "--device", "cpu", "--hidden-size", "8",
        "--embedding-dim", "8"]
rows: list[tuple[str, str, str, str]] = []  # section, bad input, entry point, what the user sees


def write(name: str, content: str | bytes) -> str:
    data = content.encode("utf-8") if isinstance(content, str) else content
    Path(name).parent.mkdir(parents=True, exist_ok=True)
    Path(name).write_bytes(gzip.compress(data) if name.endswith(".gz") and isinstance(content, str) else data)
    return name


def cli(args: list[str], stdin: bytes = b"") -> tuple[int, str, str]:
    """``lstm-nlp ARGS`` in this process: exit code, stdout, stderr (log warnings included)."""
    from lstm_nlp import cli as lstm_cli

    out, err = io.StringIO(), io.StringIO()
    real_stdin = sys.stdin
    sys.stdin = io.TextIOWrapper(io.BytesIO(stdin), encoding="utf-8", errors="surrogateescape", newline="\n")
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = lstm_cli.main(args)
    except Exception:  # a crash: recorded as the traceback the real command would print
        code = 1
        err.write(traceback.format_exc())
    finally:
        sys.stdin = real_stdin
    return code, out.getvalue(), err.getvalue()


def recipe(name: str, args: list[str], env: dict | None = None) -> tuple[int, str, str]:
    """``python recipes/NAME.py ARGS`` as its own process."""
    result = subprocess.run([sys.executable, str(REPO / "recipes" / f"{name}.py"), *args], capture_output=True,
                            text=True, env=env or ENV, timeout=600)
    return result.returncode, result.stdout, result.stderr


def offline_env() -> dict:
    """ENV with no offline variable and a hub endpoint that refuses connections: a machine without network."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        port = server.getsockname()[1]
    env = {k: v for k, v in ENV.items() if k not in ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE", "TRANSFORMERS_OFFLINE")}
    return {**env, "HF_ENDPOINT": f"http://127.0.0.1:{port}"}


def as_iob1(source: Path, target: str) -> str:
    """A CoNLL file with IOB2 tags in its last column, rewritten as ``token _ _ TAG`` lines in IOB1."""
    from lstm_nlp.data.conll import iob2_to_iob1, read_conll

    data = read_conll(source, scheme="iob2")
    return write(target, "\n\n".join("\n".join(f"{w} _ _ {t}" for w, t in zip(words, iob2_to_iob1(tags)))
                                     for words, tags in zip(data["tokens"], data["tags"])) + "\n")


def shown(code: int, out: str, err: str, *, max_chars: int = 220) -> str:
    """What the terminal shows, condensed: one-line errors as they are, tracebacks by their last line."""
    err_lines = [line for line in err.splitlines() if line.strip() and "examples/s" not in line]
    if any(line.startswith("Traceback") for line in err_lines):
        text = f"traceback ending in `{err_lines[-1]}`"
    elif code != 0 and err_lines and err_lines[0].startswith("usage:"):  # argparse: the usage, then the error
        text = f"exit {code}: `{err_lines[-1]}` (after the usage)"
    elif code != 0:
        text = f"exit {code}: `{' / '.join(err_lines)}`"
    else:
        lines = out.splitlines()
        text = f"exit 0; stdout: `{' / '.join(lines) if len(lines) < 4 else lines[0] + ' ...'}`"
        if err_lines:
            text += f"; stderr: `{err_lines[0]}`"
    text = text.replace("|", "\\|")
    return text if len(text) <= max_chars else text[:max_chars - 2] + "…`"


def add(section: str, bad: str, entry: str, result: str) -> None:
    rows.append((section, bad, entry, result))
    print(f"[{section}] {bad}: {result[:120]}", flush=True)


# ---------------------------------------------------------------------- models
def train_models() -> None:
    common = ["--epochs", "6", "--no-progress", "--no-checkpoints", "--device", "cpu", "--hidden-size", "16",
              "--embedding-dim", "16"]
    for name, extra in (("pos_tagger", ["--char-encoder", "cnn", "--char-dim", "8", "--char-hidden", "8",
                                        "--num-layers", "1", "--lr", "0.01"]),
                        ("imdb_sentiment", ["--cache-dir", "hf_cache", "--lr", "0.01"])):
        code, _, err = recipe(name, [*common, *extra, "--output-dir", f"{name}_run"])
        if code != 0:
            raise SystemExit(f"training {name} failed:\n{err}")
    shutil.move("pos_tagger_run/model", "tagger")
    shutil.move("imdb_sentiment_run/model", "classifier")
    for name, args in (("ner", [*TINY, "--char-encoder", "none"]),
                       ("forecast", [*TINY[:6], "--hidden-size", "8", "--length", "400", "--window", "48"])):
        code, _, err = recipe(name, [*args, "--output-dir", f"{name}_run"])
        if code != 0:
            raise SystemExit(f"training {name} failed:\n{err}")
    shutil.move("ner_run/model", "ner_model")
    shutil.move("forecast_run/model", "forecaster")


# ---------------------------------------------------------------------- sections
def readers() -> None:
    from lstm_nlp.data import read_conllu
    from lstm_nlp.data.conll import read_conll
    from lstm_nlp.data.series import read_series_csv
    from lstm_nlp.data.text_classification import load_text_classification

    read = {".conllu": read_conllu, ".txt": lambda p: read_conll(p),
            ".jsonl": lambda p: load_text_classification(p, cache_dir="hf_cache"),
            ".csv": lambda p: read_series_csv(p, "value")}
    reader_names = {".conllu": "read_conllu", ".txt": "read_conll", ".jsonl": "load_text_classification",
                    ".csv": "read_series_csv"}
    quirks = {"CRLF line endings": lambda t: t.replace("\n", "\r\n"), "UTF-8 byte-order mark": lambda t: "\ufeff" + t,
              "no final newline": lambda t: t.rstrip("\n"), "trailing spaces": lambda t: t.replace("\n", "  \n"),
              "gzip-compressed (.gz)": lambda t: t}
    for suffix, clean, label in ((".conllu", CONLLU, "CoNLL-U"), (".txt", CONLL, "CoNLL columns"),
                                 (".jsonl", JSONL, "JSON lines"), (".csv", SERIES, "series CSV")):
        reference = read[suffix](write(f"clean{suffix}", clean))
        for quirk, change in quirks.items():
            if suffix == ".csv" and quirk.startswith("gzip"):
                continue
            if suffix == ".jsonl" and quirk == "trailing spaces":
                change = lambda t: t.replace("}\n", "}   \n")  # noqa: E731
            name = f"quirk{suffix}" + (".gz" if quirk.startswith("gzip") else "")
            result = read[suffix](write(name, change(clean)))
            same = (result == reference).all() if suffix == ".csv" else result.to_dict() == reference.to_dict()
            add("Readers: accepted", f"{label}: {quirk}", f"`{reader_names[suffix]}`",
                "accepted, same result as the clean file" if same else "**accepted but read differently**")
    mixed = "The\tDT  B-NP\tO\ndog NN\tI-NP O \n"
    plain = "The DT B-NP O\ndog NN I-NP O\n"
    same = read_conll(write("mixed.txt", mixed)).to_dict() == read_conll(write("plain.txt", plain)).to_dict()
    add("Readers: accepted", "CoNLL columns: tabs and spaces mixed", "`read_conll`",
        "accepted, same result as the clean file" if same else "**read differently**")

    tagger_eval = lambda name: shown(*cli(["evaluate", "--model", "tagger", "--data", name]))  # noqa: E731
    classifier_eval = lambda name: shown(*cli(["evaluate", "--model", "classifier", "--data", name]))  # noqa: E731
    bad = [
        ("CoNLL-U: a line with 9 columns", "cols.conllu", CONLLU.replace("\tnsubj\t_\t_", "\tnsubj\t_"), tagger_eval),
        ("CoNLL-U: spaces instead of tabs", "spaces.conllu", CONLLU.replace("\t", " "), tagger_eval),
        ("CoNLL-U: token without a tag (`_`)", "notag.conllu", CONLLU.replace("\tNOUN\t", "\t_\t"), tagger_eval),
        ("CoNLL-U: invalid UTF-8", "latin1.conllu", CONLLU.replace("dog", "caf\u00e9").encode("latin-1"),
         tagger_eval),
        ("CoNLL-U: empty file", "empty.conllu", "", tagger_eval),
        ("CoNLL-U: missing file", "missing.conllu", None, tagger_eval),
        ("CoNLL columns: a row with a column missing", "cols.txt", CONLL.replace("dog NN I-NP O", "dog NN O"),
         tagger_eval),
        ("CoNLL columns: one column only (no tags)", "words.txt", "The\ndog\n", tagger_eval),
        ("CoNLL columns: only `-DOCSTART-`", "docstart.txt", "-DOCSTART- -X- -X- O\n\n", tagger_eval),
        ("CoNLL columns: not really gzip", "fake.txt.gz", b"plain text", tagger_eval),
        ("JSON lines: a broken line", "broken.jsonl", JSONL + '{"text": "ok", "label"\n', classifier_eval),
        ("JSON lines: invalid UTF-8", "latin1.jsonl", JSONL.replace("moving", "d\u00e9j\u00e0").encode("latin-1"),
         classifier_eval),
        ("JSON lines: no `label` field", "nolabel.jsonl", '{"text": "fine"}\n', classifier_eval),
        ("JSON lines: empty text", "emptytext.jsonl", JSONL + '{"text": "   ", "label": 1}\n', classifier_eval),
        ("JSON lines: label outside `--label-names`", "label7.jsonl", JSONL + '{"text": "x", "label": 7}\n',
         classifier_eval),
        ("JSON lines: empty file", "empty.jsonl", "", classifier_eval),
        ("CSV: header only (a split with no examples)", "header.csv", "text,label\n", classifier_eval),
        ("CSV: a row with an extra field", "ragged.csv", CSV + "a,b,c\n", classifier_eval),
        ("unknown format (`.xml`)", "reviews.xml", "<reviews/>", classifier_eval),
        ("aclImdb folder without the `test` split", "aclImdb", None, classifier_eval),
    ]
    os.makedirs("aclImdb/train/pos", exist_ok=True)
    write("aclImdb/train/pos/0_9.txt", "Great.")
    for description, name, content, run in bad:
        if content is not None:
            write(name, content)
        entry = f"`lstm-nlp evaluate --data {name}`"
        add("Readers: errors", description, entry, run(name))
    write("nan.csv", SERIES + "400,\n")
    add("Readers: errors", "series CSV: a missing value", "`python recipes/forecast.py --csv nan.csv --column value`",
        shown(*recipe("forecast", ["--csv", "nan.csv", "--column", "value", "--epochs", "1", "--no-progress"])))
    write("train_bad.conllu", CONLLU + CONLLU.replace("\tdet\t_\t_", "\tdet\t_"))
    add("Readers: errors", "CoNLL-U training file with a 9-column line",
        "`python recipes/pos_tagger.py --train train_bad.conllu`",
        shown(*recipe("pos_tagger", ["--train", "train_bad.conllu", "--epochs", "1", "--no-progress"])))


def labels_and_lengths() -> None:
    import logging

    from datasets import Dataset

    from lstm_nlp.pipelines import load_pipeline

    write("unseen.conllu", CONLLU.replace("\tNOUN\t", "\tNEWTAG\t"))
    code, out, err = cli(["evaluate", "--model", "tagger", "--data", "unseen.conllu"])
    unknown = json.loads(out)["unknown_gold_tags"] if code == 0 else None
    add("Labels", "gold tag the model never saw (`NEWTAG`)", "`lstm-nlp evaluate` (tagger)",
        f"exit {code}; stderr: `{err.splitlines()[0]}`; JSON has `\"unknown_gold_tags\": {unknown}` and the "
        "token counts as an error")
    write("meh.jsonl", '{"text": "Fine.", "label": "pos"}\n{"text": "Meh.", "label": "meh"}\n')
    add("Labels", "gold label the classifier never saw (`meh`)", "`lstm-nlp evaluate` (classifier)",
        shown(*cli(["evaluate", "--model", "classifier", "--data", "meh.jsonl"])))
    pipeline = load_pipeline("tagger")
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    logging.getLogger("lstm_nlp").addHandler(handler)
    data = Dataset.from_dict({"tokens": [["The", "dog"], [], ["dog"] * 300, []],
                              "tags": [["DET", "NOUN"], [], ["NOUN"] * 300, []]})
    examples = pipeline.encode(data, max_length=100)
    logging.getLogger("lstm_nlp").removeHandler(handler)
    add("Labels", "empty sentences in training data", "`TaggingPipeline.encode` (all tagging recipes)",
        f"log: `{stream.getvalue().splitlines()[0]}`; {len(examples)} examples kept, none of length 0")
    add("Long input", "a 300-token training sentence with `--max-length 100`",
        "`TaggingPipeline.encode(max_length=)` / `--max-length` (pos_tagger, ner, chunking, imdb_sentiment)",
        f"log: `{stream.getvalue().splitlines()[1]}`; lengths {[len(e['token_ids']) for e in examples]}")


class PlantsAMarker:
    def __reduce__(self):
        return (open, ("PWNED", "w"))


def bundles() -> None:
    import torch
    from safetensors.torch import load_file, save_file

    def damaged(name: str, change) -> str:
        target = f"bad_{name}"
        shutil.rmtree(target, ignore_errors=True)
        shutil.copytree("tagger", target)
        change(Path(target))
        return target

    def edit_json(file: str, change):
        def apply(bundle: Path):
            data = json.loads((bundle / file).read_text())
            change(data)
            (bundle / file).write_text(json.dumps(data))
        return apply

    def edit_weights(change):
        def apply(bundle: Path):
            tensors = load_file(str(bundle / "model.safetensors"))
            change(tensors)
            save_file(tensors, str(bundle / "model.safetensors"))
        return apply

    cases = [
        ("a pickle (whose unpickling would create a file) as `model.safetensors`",
         lambda b: (b / "model.safetensors").write_bytes(pickle.dumps({"w": PlantsAMarker()}))),
        ("a `torch.save` file with that pickle as `model.safetensors`",
         lambda b: torch.save({"w": PlantsAMarker()}, b / "model.safetensors")),
        ("a pickle as `words.vocab.json`",
         lambda b: (b / "words.vocab.json").write_bytes(pickle.dumps(PlantsAMarker()))),
        ("`vocab_size` in config.json changed", edit_json("config.json", lambda h: h["config"].update(vocab_size=7))),
        ("a word added to `words.vocab.json`", edit_json("words.vocab.json", lambda v: v["itos"].append("zzz"))),
        ("a tag removed from `labels.vocab.json`", edit_json("labels.vocab.json", lambda v: v["itos"].pop())),
        ("a weight tensor deleted", edit_weights(lambda t: t.pop(sorted(t)[-1]))),
        ("an unknown config key", edit_json("config.json", lambda h: h["config"].update(attention=True))),
        ("written by a newer format version", edit_json("config.json", lambda h: h.update(format_version=99))),
        ("`labels.vocab.json` missing", lambda b: (b / "labels.vocab.json").unlink()),
        ("`chars.vocab.json` missing (a model with a character encoder)", lambda b: (b / "chars.vocab.json").unlink()),
        ("not a bundle (an empty folder)", lambda b: [p.unlink() for p in b.iterdir()]),
    ]
    for index, (description, change) in enumerate(cases):
        target = damaged(str(index), change)
        result = shown(*cli(["predict", "--model", target, "--input", os.devnull]))
        if "pickle" in description:
            result += "; the payload did not run" if not Path("PWNED").exists() else "; **THE PAYLOAD RAN**"
        add("Model bundles", description, "`lstm-nlp predict --model BUNDLE`", result)
    os.makedirs("run/checkpoints", exist_ok=True)
    torch.save({"format_version": 1, "evil": PlantsAMarker()}, "run/checkpoints/ckpt-000000010.pt")
    result = shown(*recipe("pos_tagger", ["--output-dir", "run", "--resume", "--epochs", "1", "--no-progress"]))
    result += "; the payload did not run" if not Path("PWNED").exists() else "; **THE PAYLOAD RAN**"
    add("Checkpoints", "a crafted pickle planted as the latest checkpoint", "`python recipes/pos_tagger.py --resume`",
        result)
    torch.save({"format_version": 99, "model": {}, "optimizer": {}, "epoch": 1, "batches_done": 0,
                "global_step": 10, "history": []}, "run/checkpoints/ckpt-000000010.pt")
    add("Checkpoints", "a checkpoint from a newer format version", "`python recipes/pos_tagger.py --resume`",
        shown(*recipe("pos_tagger", ["--output-dir", "run", "--resume", "--epochs", "1", "--no-progress"])))
    kill = ("import os, signal, sys\nfrom lstm_nlp import serialization as s\nfrom lstm_nlp.pipelines import "
            "load_pipeline\nreal, calls = os.replace, []\ndef replace(a, b):\n    calls.append(a)\n    if len(calls) "
            "== 2: os.kill(os.getpid(), signal.SIGKILL)\n    real(a, b)\ns.os.replace = replace\n"
            "load_pipeline('killed').save_pretrained('killed')\n")
    shutil.copytree("tagger", "killed")
    subprocess.run([sys.executable, "-c", kill], env=ENV, capture_output=True, timeout=600)
    code, out, err = cli(["predict", "--model", "killed"], stdin=b"The dog barked .\n")
    add("Writes", "`save_pretrained` killed (SIGKILL) between moving the old bundle aside and the new one in",
        "`lstm-nlp predict --model killed`", shown(code, out, err, max_chars=400))
    add("Writes", "disk full / any exception while writing a bundle or checkpoint", "`save_pretrained`, Trainer",
        "the exception is raised; the previous bundle/checkpoint is untouched and loads "
        "(tests/reliability/test_hostile_files.py, tests/training/test_checkpoint.py)")


def command_line() -> None:
    for args in (["--model", "no-such-bundle"], ["--model", "tagger", "--input", "no-such-file.txt"],
                 ["--model", "tagger", "--batch-size", "0"], ["--model", "tagger", "--device", "banana"]):
        add("Command line", " ".join(args[2:] if len(args) > 2 else args), f"`lstm-nlp predict {' '.join(args)}`",
            shown(*cli(["predict", *args], stdin=b"The dog barked .\n")))


def inference() -> None:
    lines = {
        "empty line": b"", "spaces only": b"    ", "tabs and spaces": b" \t \t ",
        "emoji": "Loved it \U0001F600\U0001F389\U0001F44D\U0001F3FD".encode(),
        "Cyrillic": "Москва — столица России.".encode(),
        "Japanese": "東京は日本の首都です。".encode(),
        "Arabic": "مرحبا بالعالم".encode(), "control characters": b"a\x00b\x07c \x1b[31mred\x1b[0m",
        "zero-width characters only": "\u200b\u200d".encode(),
        "a 100,000-character token": b"x" * 100_000, "100,000 characters of words": b"word " * 20_000,
        "100,000 emoji without spaces": "\U0001F600".encode() * 100_000,
    }
    for model in ("tagger", "classifier"):
        code, out, err = cli(["predict", "--model", model], stdin=b"\n".join(lines.values()) + b"\n")
        outputs = out.split("\n")[:-1]
        if code != 0 or len(outputs) != len(lines):
            add("Inference input", "all lines below", f"`lstm-nlp predict` ({model})", shown(code, out, err))
            continue
        for (name, _), output in zip(lines.items(), outputs):
            text = output if len(output) < 70 else f"{output[:60]}… ({len(output.split(' '))} tokens)"
            if any(not c.isprintable() and c != "\t" for c in text):  # control and zero-width characters
                text = text.encode("unicode_escape").decode("ascii")
            text = text.replace("|", "\\|")
            add("Inference input", name, f"`lstm-nlp predict` ({model})", f"`{text}`" if text else "(empty line)")


def wrong_kind() -> None:
    """Input of the wrong kind: a file for another task or format, a missing path, a hub id offline."""
    write("reviews.jsonl", JSONL)
    write("pos.conllu", CONLLU)
    shutil.copy(REPO / "data" / "ner" / "test.txt", "ner.txt")
    cases = [
        ("JSON lines given to a POS model", ["--model", "tagger", "--data", "reviews.jsonl"]),
        ("CSV with a header given to a POS model", ["--model", "tagger", "--data", write("reviews.csv", CSV)]),
        ("a CoNLL-U POS file given to a NER model", ["--model", "ner_model", "--data", "pos.conllu"]),
        ("a CoNLL-2003 NER file given to a POS model", ["--model", "tagger", "--data", "ner.txt"]),
        ("a missing file (`missing.tsv`)", ["--model", "classifier", "--data", "missing.tsv"]),
        ("a missing folder (`./reviews`)", ["--model", "classifier", "--data", "./reviews"]),
    ]
    for description, args in cases:
        add("Wrong kind of input", description, f"`lstm-nlp evaluate {' '.join(args)}`",
            shown(*cli(["evaluate", *args]), max_chars=400))
    add("Wrong kind of input", "predict input starting with a UTF-8 byte-order mark", "`lstm-nlp predict` (tagger)",
        shown(*cli(["predict", "--model", "tagger"], stdin=b"\xef\xbb\xbfThe dog barked .\n")))
    add("Wrong kind of input", "forecaster input lines `1 2 abc` and `hello`", "`lstm-nlp predict` (forecaster)",
        shown(*cli(["predict", "--model", "forecaster"], stdin=b"1 2 abc\nhello\n")))

    as_iob1(REPO / "data" / "ner" / "train.txt", "train.iob1.txt")
    as_iob1(REPO / "data" / "ner" / "dev.txt", "dev.iob1.txt")
    runs = [
        ("IOB1 files without `--scheme iob1`", "ner",
         ["--train", "train.iob1.txt", "--dev", "dev.iob1.txt", *TINY, "--char-encoder", "none"], ENV),
        ("`--dev` names a missing file", "pos_tagger", ["--dev", "nope.conllu", *TINY, "--char-encoder", "none"], ENV),
        ("`--train` given to the forecaster", "forecast", ["--train", "x.csv", *TINY[:6]], ENV),
        ("a hub id with no network", "imdb_sentiment",
         ["--train", "stanfordnlp/imdb", "--cache-dir", "hf_cache", *TINY], offline_env()),
    ]
    for description, name, args, env in runs:
        start = time.perf_counter()
        result = shown(*recipe(name, [*args, "--output-dir", f"{name}_wrong"], env=env), max_chars=400)
        shown_args = " ".join(a for a in args if a not in TINY and a not in ("none", "--char-encoder", "hf_cache",
                                                                             "--cache-dir"))
        add("Wrong kind of input", description, f"`python recipes/{name}.py {shown_args}`",
            f"after {time.perf_counter() - start:.0f} s, {result}")


def values_kinds_and_messages() -> None:
    """Values inside their range that cannot work, input of another kind than its format, bytes that are
    not UTF-8, and messages that must name the user's option or file."""
    section = "Values that cannot work"
    write("four.jsonl", "".join(f'{{"text": "review {i}", "label": {i % 2}}}\n' for i in range(4)))
    write("three.txt", "one text\nanother text\na third text\n")
    runs = [("chunking", ["--dev-fraction", "0.99", *TINY]),
            ("imdb_sentiment", ["--train", "four.jsonl", "--val-fraction", "0.75", "--cache-dir", "hf_cache", *TINY]),
            ("forecast", ["--dev-fraction", "0.9", "--test-fraction", "0.15"]),
            ("forecast", ["--length", "60", *TINY[:6]]),
            ("pretrain_lm", ["--corpus", "three.txt", "--heldout-texts", "3", *TINY[:6]]),
            ("train_vectors", ["--corpus", "three.txt", "--min-count", "5", "--output", "vectors_run/v.vec"])]
    for name, args in runs:
        shown_args = " ".join(a for a in args if a not in TINY and a not in ("hf_cache", "--cache-dir"))
        add(section, f"`{shown_args}`", f"`python recipes/{name}.py {shown_args}`",
            shown(*recipe(name, [*args] + ([] if name == "train_vectors" else ["--output-dir", f"{name}_values"]))))

    section = "Input kinds and encodings"
    write("pos.conllu", CONLLU)
    write("pos_named.txt", CONLLU * 3)
    write("reviews.jsonl", JSONL)
    write("latin1.txt", "The caf\u00e9 opened .\n".encode("latin-1"))
    cases = [
        ("CoNLL-U given as `--input-format conll`", ["predict", "--model", "tagger", "--input", "pos.conllu",
                                                      "--input-format", "conll"]),
        ("JSON lines given as text", ["predict", "--model", "tagger", "--input", "reviews.jsonl"]),
        ("a CoNLL-U file named `.txt`", ["evaluate", "--model", "tagger", "--data", "pos_named.txt"]),
        ("a NER model with CoNLL-U input and output", ["predict", "--model", "ner_model", "--input", "pos.conllu",
                                                        "--input-format", "conllu"]),
        ("invalid UTF-8 (latin-1 bytes)", ["predict", "--model", "tagger", "--input", "latin1.txt"]),
        ("invalid UTF-8 with `--encoding-errors replace`", ["predict", "--model", "tagger", "--input", "latin1.txt",
                                                             "--encoding-errors", "replace"]),
    ]
    for description, args in cases:
        add(section, description, f"`lstm-nlp {' '.join(args)}`", shown(*cli(args), max_chars=400))

    section = "Messages name the option or file"
    write("taken", "a file, not a folder")
    write("notes.txt", "my notes, not a checkpoint\n")
    add(section, "`--cache-dir` is a file", "`python recipes/imdb_sentiment.py --cache-dir taken`",
        shown(*recipe("imdb_sentiment", ["--cache-dir", "taken", *TINY, "--output-dir", "imdb_cache"])))
    add(section, "a text file given to `--resume`", "`python recipes/forecast.py --resume notes.txt`",
        shown(*recipe("forecast", [*FORECAST, "--epochs", "1", "--resume", "notes.txt", "--output-dir", "resume_run"]),
              max_chars=400))
    add(section, "`--probabilities` without jsonl output", "`lstm-nlp predict --model tagger --probabilities`",
        shown(*cli(["predict", "--model", "tagger", "--probabilities"], stdin=b"The dog barked .\n")))
    add(section, "`--input-format tokens` given to a classifier", "`lstm-nlp predict --model classifier "
        "--input-format tokens`", shown(*cli(["predict", "--model", "classifier", "--input-format", "tokens"],
                                             stdin=b"A fine film .\n")))


# ---------------------------------------------------------------------- training runs (issue: interruptions, locks, resume)
FORECAST = ["--no-progress", "--device", "cpu", "--hidden-size", "8", "--length", "400", "--window", "24",
            "--horizon", "6"]
HOLD_LOCK = ("import sys, time; from lstm_nlp.training.run_lock import RunLock; RunLock(sys.argv[1]).acquire(); "
             "print('locked', flush=True); time.sleep(120)")


def same_bundle_weights(a: str, b: str) -> bool:
    import torch
    from safetensors.torch import load_file

    wa, wb = load_file(f"{a}/model/model.safetensors"), load_file(f"{b}/model/model.safetensors")
    return wa.keys() == wb.keys() and all(torch.equal(wa[k], wb[k]) for k in wa)


def signalled_run(signum: int, out: str) -> tuple[int, str, str]:
    """forecast.py in its own process, sent ``signum`` once a few step checkpoints exist."""
    process = subprocess.Popen([sys.executable, str(REPO / "recipes" / "forecast.py"), *FORECAST, "--epochs", "1000",
                                "--checkpoint-every", "1", "--batch-size", "8", "--output-dir", out], env=ENV,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while process.poll() is None and time.monotonic() < deadline and not list(Path(out).glob("checkpoints/ckpt-*")):
        time.sleep(0.01)
    time.sleep(0.2)
    process.send_signal(signum)
    stdout, stderr = process.communicate(timeout=120)
    return process.returncode, stdout, stderr


def training_runs() -> None:
    section = "Training runs: interruptions, locks, resume"
    for name, option, value in (("forecast", "--epochs", "0"), ("imdb_sentiment", "--num-proc", "-1"),
                                ("pos_tagger", "--batch-size", "0"), ("ner", "--dropout", "1.5"),
                                ("imdb_sentiment", "--val-fraction", "2"), ("chunking", "--lr", "-1"),
                                ("forecast", "--grad-accum", "0")):
        add(section, f"`{option} {value}`", f"`python recipes/{name}.py {option} {value}`",
            shown(*recipe(name, [option, value, "--output-dir", "unused_run"])))
    write("a_file", "not a folder")
    for target in ("a_file", "a_file/run"):
        add(section, f"`--output-dir` {'is a file' if target == 'a_file' else 'under a file'}",
            f"`python recipes/forecast.py --output-dir {target}`", shown(*recipe("forecast", ["--output-dir", target])))
    holder = subprocess.Popen([sys.executable, "-c", HOLD_LOCK, "busy_run"], stdout=subprocess.PIPE, text=True,
                              env=ENV)
    try:
        holder.stdout.readline()
        result = shown(*recipe("forecast", [*FORECAST, "--epochs", "1", "--output-dir", "busy_run"]))
    finally:
        holder.kill()
        holder.wait()
    add(section, "a second run into an `--output-dir` another live run trains into",
        "`python recipes/forecast.py --output-dir busy_run` (twice)", result.replace(str(holder.pid), "<pid>"))
    write("stale_run/.lstm_nlp.lock", f"999999999 {socket.gethostname()}\n")
    code, out, err = recipe("forecast", [*FORECAST, "--epochs", "1", "--output-dir", "stale_run"])
    add(section, "a stale lock file left by a dead process (PID 999999999)",
        "`python recipes/forecast.py --output-dir stale_run`", f"exit {code}: the lock is taken over, the run trains")
    recipe("forecast", [*FORECAST, "--epochs", "2", "--output-dir", "straight_run"])
    recipe("forecast", [*FORECAST, "--epochs", "1", "--output-dir", "resumed_run"])
    code, _, err = recipe("forecast", [*FORECAST, "--epochs", "2", "--resume", "--output-dir", "resumed_run"])
    add(section, "forecast: `--epochs 1`, then `--epochs 2 --resume`, against one 2-epoch run",
        "`python recipes/forecast.py ... --resume`",
        f"exit {code}; weights bit-identical: {'yes' if same_bundle_weights('straight_run', 'resumed_run') else 'NO'}")
    add(section, "`--resume` with another `--batch-size` and `--lr`",
        "`python recipes/forecast.py --epochs 3 --resume --batch-size 16 --lr 0.01`",
        shown(*recipe("forecast", [*FORECAST, "--epochs", "3", "--resume", "--batch-size", "16", "--lr", "0.01",
                                   "--output-dir", "resumed_run"])))
    import torch

    checkpoint = sorted(Path("resumed_run/checkpoints").glob("ckpt-*.pt"))[-1]
    state = torch.load(checkpoint, weights_only=True)
    state["history"] = {"epoch": "two"}
    torch.save(state, checkpoint)
    add(section, "a checkpoint whose `history` is a dict (it passes the safe loader)",
        "`python recipes/forecast.py --epochs 3 --resume`",
        shown(*recipe("forecast", [*FORECAST, "--epochs", "3", "--resume", "--output-dir", "resumed_run"])))
    for signum in (2, 15):
        code, out, err = signalled_run(signum, f"signal_{signum}_run")
        add(section, f"{'Ctrl-C (SIGINT)' if signum == 2 else 'SIGTERM'} during training",
            "`python recipes/forecast.py --epochs 1000`", shown(code, out, err))
    mount = Path("tiny_tmpfs").resolve()
    mount.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=32k", "tmpfs", str(mount)],
                      capture_output=True).returncode == 0:
        try:
            add(section, "disk full while writing a checkpoint (a 32 KiB tmpfs)",
                "`python recipes/forecast.py --output-dir tiny_tmpfs/run`",
                shown(*recipe("forecast", [*FORECAST, "--epochs", "1", "--output-dir", "tiny_tmpfs/run"])))
        finally:
            subprocess.run(["umount", str(mount)], check=False)


# ---------------------------------------------------------------------- hostile bundles and inputs
def hostile_bundles_and_inputs() -> None:
    """Crafted bundles (sizes, special files, JSON), endless or special inputs, a full stdout, Ctrl-C."""
    section = "Hostile bundles and inputs"

    def crafted(name: str, file: str, change) -> str:
        target = f"hostile_{name}"
        shutil.rmtree(target, ignore_errors=True)
        shutil.copytree(name.split("-")[0], target)
        change(Path(target) / file)
        return target

    def set_raw(field: str, raw: str):
        def apply(path: Path):
            data = json.loads(path.read_text(encoding="utf-8"))
            *parents, last = field.split(".")
            target = data
            for key in parents:
                target = target[key]
            target[last] = "@@RAW@@"
            path.write_text(json.dumps(data).replace('"@@RAW@@"', raw), encoding="utf-8")
        return apply

    def replace_with(kind: str):
        def apply(path: Path):
            path.unlink()
            if kind == "fifo":
                os.mkfifo(path)
            elif kind == "dev-zero":
                path.symlink_to("/dev/zero")
            elif kind == "directory":
                path.mkdir()
            else:
                with open(path, "wb") as handle:  # sparse: 64 MiB + 1 byte without using the disk
                    handle.truncate(64 * 2**20 + 1)
        return apply

    cases = [
        ("`config.json`: `hidden_size` 2\\*\\*19 (8 TB of LSTM weights)", "tagger", "config.json",
         set_raw("config.hidden_size", str(2**19))),
        ("`config.json`: `vocab_size` 5,000,000 (320 MB, the weights were made for fewer)", "tagger", "config.json",
         set_raw("config.vocab_size", "5000000")),
        ("`config.json`: `hidden_size` 2\\*\\*40", "tagger", "config.json", set_raw("config.hidden_size", str(2**40))),
        ("`config.json`: `hidden_size` 16.5", "tagger", "config.json", set_raw("config.hidden_size", "16.5")),
        ("`config.json`: `hidden_size` Infinity", "tagger", "config.json", set_raw("config.hidden_size", "Infinity")),
        ("`config.json`: `hidden_size` with 5000 digits", "tagger", "config.json",
         set_raw("config.hidden_size", "1" + "0" * 4999)),
        ("`config.json`: `dropout` NaN", "tagger", "config.json", set_raw("config.dropout", "NaN")),
        ("`config.json`: `config` is a list", "tagger", "config.json", set_raw("config", "[1, 2]")),
        ("`config.json`: a value nested 100,000 deep", "tagger", "config.json",
         set_raw("config.vocab_size", "[" * 100_000 + "]" * 100_000)),
        ("`config.json`: `meta.scheme` \"bio\"", "tagger", "config.json", set_raw("meta.scheme", '"bio"')),
        ("`config.json`: `meta.token_column` -1", "tagger", "config.json", set_raw("meta.token_column", "-1")),
        ("`config.json`: `meta.label_names` a string", "classifier", "config.json",
         set_raw("meta.label_names", '"neg,pos"')),
        ("`config.json`: `meta.positive_label` not a class", "classifier", "config.json",
         set_raw("meta.positive_label", '"meh"')),
        ("`config.json`: `meta.max_length` 0", "classifier", "config.json", set_raw("meta.max_length", "0")),
        ("`config.json`: unknown spaCy language `qq`", "classifier", "config.json",
         set_raw("meta.tokenizer.lang", '"qq"')),
        ("`config.json`: `meta.period` \"24\"", "forecaster", "config.json", set_raw("meta.period", '"24"')),
        ("`labels.vocab.json`: `\"lower\": \"false\"` (a string)", "tagger", "labels.vocab.json",
         set_raw("lower", '"false"')),
        ("`config.json` is a FIFO", "tagger", "config.json", replace_with("fifo")),
        ("`config.json` is a link to /dev/zero", "tagger", "config.json", replace_with("dev-zero")),
        ("`config.json` is a directory", "tagger", "config.json", replace_with("directory")),
        ("`config.json` is 64 MiB + 1 byte", "tagger", "config.json", replace_with("oversized")),
        ("`model.safetensors` is a FIFO", "tagger", "model.safetensors", replace_with("fifo")),
        ("`words.vocab.json` is a directory", "tagger", "words.vocab.json", replace_with("directory")),
    ]
    for index, (description, model, file, change) in enumerate(cases):
        target = crafted(f"{model}-{index}", file, change)
        add(section, description, f"`lstm-nlp predict --model BUNDLE` ({model})",
            shown(*cli(["predict", "--model", target, "--input", os.devnull]), max_chars=300))

    write("line50.txt", b"word " * 10_000_000 + b"\n")
    write("ids.conllu", CONLLU.replace("1\tThe", "-1\tThe"))
    write("deep.jsonl", JSONL + '{"text": "x", "label": ' + "[" * 100_000 + "]" * 100_000 + "}\n")
    write("digits.jsonl", JSONL + '{"text": "x", "label": 1' + "0" * 4999 + "}\n")
    write("huge_label.jsonl", '{"text": "Fine.", "label": 10000000000}\n{"text": "Dull.", "label": 0}\n')
    if not os.path.exists("data.fifo"):
        os.mkfifo("data.fifo")
    inputs = [
        ("`/dev/zero` as the input (one endless line)", ["predict", "--model", "tagger", "--input", "/dev/zero"]),
        ("a single 50 MB line", ["predict", "--model", "tagger", "--input", "line50.txt"]),
        ("`/dev/zero` as labelled data", ["evaluate", "--model", "tagger", "--data", "/dev/zero"]),
        ("a FIFO as labelled data", ["evaluate", "--model", "classifier", "--data", "data.fifo"]),
        ("CoNLL-U token id `-1`", ["evaluate", "--model", "tagger", "--data", "ids.conllu"]),
        ("JSON lines: a label nested 100,000 deep", ["evaluate", "--model", "classifier", "--data", "deep.jsonl"]),
        ("JSON lines: a 5000-digit label", ["evaluate", "--model", "classifier", "--data", "digits.jsonl"]),
        ("JSON lines: label 10\\*\\*10 (the model's label names are neg, pos)",
         ["evaluate", "--model", "classifier", "--data", "huge_label.jsonl"]),
    ]
    for description, args in inputs:
        add(section, description, f"`lstm-nlp {' '.join(args[:1] + args[3:])}`", shown(*cli(args), max_chars=300))
    from lstm_nlp.data.text_classification import load_text_classification

    start = time.perf_counter()
    labels = list(load_text_classification("huge_label.jsonl", label_names=[], cache_dir="hf_cache")["label"])
    add(section, "JSON lines: label 10\\*\\*10 with no label names (`--label-names ''`)",
        "`load_text_classification(label_names=[])` (imdb_sentiment)",
        f"labels read as {labels} in {time.perf_counter() - start:.1f} s; nothing sized by the label is allocated")

    sample = str(REPO / "data" / "pos" / "test.conllu")
    for command, option in (("predict", "--input"), ("evaluate", "--data")):
        with open("/dev/full", "w") as full:
            conllu = ["--input-format", "conllu"] if command == "predict" else []
            done = subprocess.run([sys.executable, "-m", "lstm_nlp.cli", command, "--model", "tagger", option, sample,
                                   *conllu],
                                  stdout=full, stderr=subprocess.PIPE, text=True, env=ENV, timeout=300)
        err = "\n".join(line for line in done.stderr.splitlines() if line.startswith(("lstm-nlp", "Traceback")))
        add(section, "stdout on a full device (`> /dev/full`)", f"`lstm-nlp {command}`",
            shown(done.returncode, "", err))
    process = subprocess.Popen([sys.executable, "-m", "lstm_nlp.cli", "predict", "--model", "tagger"], env=ENV,
                               stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    process.stdin.write("The dog barked .\n")
    process.stdin.flush()
    time.sleep(5)
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=60)
    add(section, "Ctrl-C (SIGINT) while reading a slow stdin", "`lstm-nlp predict`", shown(process.returncode, "", err))

    import stat

    previous = os.umask(0o022)
    try:
        from lstm_nlp.pipelines import load_pipeline

        load_pipeline("tagger").save_pretrained("umask_bundle")
    finally:
        os.umask(previous)
    modes = {oct(stat.S_IMODE(p.stat().st_mode)) for p in Path("umask_bundle").iterdir()}
    add(section, "a bundle saved under umask 022", "`save_pretrained`",
        f"folder {oct(stat.S_IMODE(Path('umask_bundle').stat().st_mode))}, files {', '.join(sorted(modes))}")


def render() -> str:
    crashes = sum("traceback ending in" in result for *_, result in rows)
    tracebacks = (f"{crashes} row(s) show a Python traceback (summarised by its last line): those are crashes "
                  "still to be turned into clear errors." if crashes else "No row shows a Python traceback.")
    lines = ["# Reliability: bad input, hostile files, interrupted writes", "",
             "Each row is a bad input that was tried, the entry point it went through and what the user saw. "
             "Generated by `python docs/make_reliability_table.py` (do not edit by hand); the same behaviour "
             "is asserted in `tests/reliability/`. Errors are shown as printed: `lstm-nlp` and the recipes stop "
             "a user mistake with one line naming the file (and line) and exit code 2. " + tracebacks, "",
             f"This run tried {len(rows)} cases in {len({sec for sec, *_ in rows})} groups. Beyond them, the "
             "property tests (`tests/reliability/test_properties.py`, `test_hostile_bundles.py`, "
             "`tests/training/test_run_safety.py`) draw 25-100 fresh hypothesis examples per property on every "
             "test run (bundle JSON and checkpoint fields of every wrong type, hostile data lines), and "
             "`tests/recipes/test_kill_and_resume.py` SIGKILLs every recipe at a random step and checks that "
             "`--resume` ends bit-identical to an uninterrupted run.", ""]
    section = None
    for sec, bad, entry, result in rows:
        if sec != section:
            lines += ["", f"## {sec}", "", "| bad input | entry point | what the user sees |", "|---|---|---|"]
            section = sec
        lines.append(f"| {bad} | {entry} | {result} |")
    return "\n".join(lines) + "\n"


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--output", type=Path, default=OUT, help="where to write the table (default: %(default)s)")
    output = parser.parse_args(argv).output.resolve()
    os.environ.update(ENV)
    import datasets

    datasets.disable_progress_bars()
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as scratch:
        os.chdir(scratch)
        train_models()
        readers()
        wrong_kind()
        values_kinds_and_messages()
        labels_and_lengths()
        bundles()
        command_line()
        inference()
        training_runs()
        hostile_bundles_and_inputs()
    output.write_text(render(), encoding="utf-8")
    print(f"wrote {output} ({len(rows)} rows, {time.perf_counter() - start:.0f} s)")


if __name__ == "__main__":
    main()
