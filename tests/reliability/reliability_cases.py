"""The documented cases: every bad input of docs/reliability.md, its entry point and what the user sees.

``test_documented_cases.py`` runs each case that has a ``run`` command in a scratch folder (bundles named
``tagger``, ``classifier``, ``forecaster`` and ``ner_model``) and checks that the terminal shows ``shows``,
where ``…`` stands for any text. A case without ``run`` names, in ``test``, the test that checks it.
``docs/make_reliability_table.py`` writes the table from ``CASES``, which also holds a row for each reader
quirk (``QUIRK_CASES``) and odd input line (``ODD_LINES``) of ``test_bad_input.py``.
"""

from __future__ import annotations

import json
import os
import pickle
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
Content = str | bytes | Callable[[], str | bytes]
CONLLU = ("1\tThe\tthe\tDET\tDT\t_\t2\tdet\t_\t_\n2\tdog\tdog\tNOUN\tNN\t_\t3\tnsubj\t_\t_\n"
          "3\tbarked\tbark\tVERB\tVBD\t_\t0\troot\t_\t_\n4\t.\t.\tPUNCT\t.\t_\t3\tpunct\t_\t_\n\n")
CONLL = "The DT B-NP O\ndog NN I-NP O\nbarked VBD B-VP O\n. . O O\n\n"
JSONL = '{"text": "A wonderful, moving film.", "label": 1}\n{"text": "Dull and far too long.", "label": 0}\n'
CSV = 'text,label\n"A wonderful, moving film.",pos\nDull and far too long.,neg\n'
SERIES = "time,value\n" + "".join(f"{t},{10 + (t % 24) * 0.5}\n" for t in range(400))
TINY = ("--epochs", "1", "--no-progress", "--no-checkpoints", "--device", "cpu", "--hidden-size", "8",
        "--embedding-dim", "8", "--output-dir", "run")
DEEP = "[" * 100_000 + "]" * 100_000
PLACEHOLDER = "__CRAFTED_VALUE__"


@dataclass(frozen=True)
class Case:
    """One row of the table; ``run`` is the command as typed (``lstm-nlp ...`` or ``recipes/NAME.py ...``).

    ``files`` are written first: text as UTF-8 (gzip-compressed for a ``.gz`` name), bytes as they are, a
    callable's result; a name ending in ``.fifo`` becomes a named pipe.
    """

    section: str
    input: str
    shows: str
    run: tuple[str, ...] = ()
    files: Mapping[str, Content] = field(default_factory=dict)
    stdin: bytes = b""
    bundle: str = ""  # a copy of this bundle, named BUNDLE, is changed by ``edit`` first
    edit: Callable[[Path], None] | None = None
    hidden: tuple[str, ...] = ()  # arguments passed but not shown (tiny sizes, a scratch output folder)
    entry: str = ""
    test: str = ""  # for a case without ``run``: ``tests/...py::test_name``, the test that checks it

    @property
    def id(self) -> str:
        return re.sub(r"[^A-Za-z0-9]+", "-", f"{self.section} {self.input}").strip("-").lower()[:90]

    @property
    def where(self) -> str:
        """The entry point column."""
        if self.entry:
            return self.entry
        command = " ".join(("python", *self.run) if self.run[0].startswith("recipes/") else self.run)
        return f"`{command}`" + (f" ({self.bundle})" if self.bundle else "")


def shown(code: int, out: str, err: str) -> str:
    """What the terminal shows, condensed: errors as printed, tracebacks by their last line."""
    err_lines = [line for line in err.splitlines() if line.strip() and "examples/s" not in line]
    if any(line.startswith("Traceback") for line in err_lines):
        return f"traceback ending in `{err_lines[-1]}`"
    if code != 0 and err_lines and err_lines[0].startswith("usage:"):  # argparse: the usage, then the error
        return f"exit {code}: `{err_lines[-1]}` (after the usage)"
    if code != 0:
        return f"exit {code}: `{' / '.join(err_lines)}`"
    lines = out.splitlines()
    text = f"exit 0; stdout: `{' / '.join(lines) if len(lines) < 4 else lines[0] + ' ...'}`"
    return text + (f"; stderr: `{err_lines[0]}`" if err_lines else "")


def matches(expected: str, got: str) -> bool:
    """``got`` is ``expected`` with each ``…`` standing for any text."""
    return re.fullmatch(".*?".join(map(re.escape, expected.split("…"))), got, re.DOTALL) is not None


# ---------------------------------------------------------------------- helpers for bundle edits
def craft(bundle: Path, file: str, field_path: str, raw: str) -> None:
    """Sets ``field_path`` (dotted) of ``bundle/file`` to the raw JSON text ``raw``."""
    data = json.loads((bundle / file).read_text(encoding="utf-8"))
    *parents, last = field_path.split(".")
    target = data
    for name in parents:
        target = target[name]
    target[last] = PLACEHOLDER
    (bundle / file).write_text(json.dumps(data).replace(json.dumps(PLACEHOLDER), raw), encoding="utf-8")


def replace_file(path: Path, kind: str, size: int = 64 * 2**20 + 1) -> None:
    """Replaces ``path`` by a FIFO, a link to /dev/zero, a directory or a sparse file of ``size`` bytes."""
    path.unlink()
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "/dev/zero":
        path.symlink_to("/dev/zero")
    elif kind == "directory":
        path.mkdir()
    else:
        with open(path, "wb") as handle:  # sparse: no disk used
            handle.truncate(size)


class PlantsAMarker:
    """Unpickling this object creates the file PWNED: proof that code from the file ran."""

    def __reduce__(self):
        return (open, ("PWNED", "w"))


def _set(file: str, field_path: str, raw: str) -> Callable[[Path], None]:
    return lambda bundle: craft(bundle, file, field_path, raw)


def _replaced(file: str, kind: str) -> Callable[[Path], None]:
    return lambda bundle: replace_file(bundle / file, kind)


def _edit_json(file: str, change: Callable[[dict], object]) -> Callable[[Path], None]:
    def apply(bundle: Path) -> None:
        data = json.loads((bundle / file).read_text(encoding="utf-8"))
        change(data)
        (bundle / file).write_text(json.dumps(data), encoding="utf-8")
    return apply


def _drop_last_weight(bundle: Path) -> None:
    from safetensors.torch import load_file, save_file

    tensors = load_file(str(bundle / "model.safetensors"))
    tensors.pop(max(tensors))
    save_file(tensors, str(bundle / "model.safetensors"))


def _torch_pickle(bundle: Path) -> None:
    import torch

    torch.save({"w": PlantsAMarker()}, bundle / "model.safetensors")


def _iob1(split: str) -> Callable[[], str]:
    def build() -> str:
        from lstm_nlp.data.conll import iob2_to_iob1, read_conll

        data = read_conll(REPO / "data" / "ner" / f"{split}.txt", scheme="iob2")
        return "\n\n".join("\n".join(f"{w} _ _ {t}" for w, t in zip(words, iob2_to_iob1(tags)))
                           for words, tags in zip(data["tokens"], data["tags"])) + "\n"
    return build


def _evaluate(model: str, data: str) -> tuple[str, ...]:
    return ("lstm-nlp", "evaluate", "--model", model, "--data", data)


def _predict(bundle: str) -> tuple[str, ...]:
    return ("lstm-nlp", "predict", "--model", bundle, "--input", os.devnull)


E = "exit 2: `lstm-nlp evaluate: error: "
P = "exit 2: `lstm-nlp predict: error: "
READER_ERRORS = [  # bad input, file name, content, model, message after "lstm-nlp evaluate: error: "
    ("CoNLL-U: a line with 9 columns", "cols.conllu", CONLLU.replace("\tnsubj\t_\t_", "\tnsubj\t_"), "tagger",
     ("cols.conllu:2: expected 10 tab-separated CoNLL-U columns, found 9: "
     "'2\\tdog\\tdog\\tNOUN\\tNN\\t_\\t3\\tnsubj\\t_'")),
    ("CoNLL-U: spaces instead of tabs", "spaces.conllu", CONLLU.replace("\t", " "), "tagger",
     ("spaces.conllu:1: expected 10 tab-separated CoNLL-U columns, found 1; the columns look space-separated, "
     "CoNLL-U needs tabs: '1 The the DET DT _ 2 det _ _'")),
    ("CoNLL-U: token without a tag (`_`)", "notag.conllu", CONLLU.replace("\tNOUN\t", "\t_\t"), "tagger",
     "notag.conllu:2: token 'dog' has no UPOS tag"),
    ("CoNLL-U: invalid UTF-8", "latin1.conllu", CONLLU.replace("dog", "caf\u00e9").encode("latin-1"), "tagger",
     "latin1.conllu:2: invalid UTF-8 at byte 5 of the line"),
    ("CoNLL-U: empty file", "empty.conllu", "", "tagger", "empty.conllu: no sentences found (empty file?)"),
    ("CoNLL-U: missing file", "missing.conllu", None, "tagger", "missing.conllu: file not found"),
    ("CoNLL columns: a row with a column missing", "cols.txt", CONLL.replace("dog NN I-NP O", "dog NN O"), "tagger",
     "cols.txt:2: expected 4 columns (as on line 1), found 3: 'dog NN O'"),
    ("CoNLL columns: one column only (no tags)", "words.txt", "The\ndog\n", "tagger",
     ("words.txt:1: found 1 column(s), so the tokens and the tags would both be column 0; expected 'token ... tag' "
     "columns")),
    ("CoNLL columns: only `-DOCSTART-`", "docstart.txt", "-DOCSTART- -X- -X- O\n\n", "tagger",
     "docstart.txt: no sentences found (empty file?)"),
    ("CoNLL columns: not really gzip", "fake.txt.gz", b"plain text", "tagger",
     "fake.txt.gz: cannot read file (Not a gzipped file (b'pl'))"),
    ("JSON lines: a broken line", "broken.jsonl", JSONL + '{"text": "ok", "label"\n', "classifier",
     "broken.jsonl:3: invalid JSON (Expecting ':' delimiter at column 23); expected one JSON object per line"),
    ("JSON lines: invalid UTF-8", "latin1.jsonl", JSONL.replace("moving", "d\u00e9j\u00e0").encode("latin-1"),
     "classifier", "latin1.jsonl:1: invalid UTF-8 at byte 24 of the line"),
    ("JSON lines: no `label` field", "nolabel.jsonl", '{"text": "fine"}\n', "classifier",
     "nolabel.jsonl: no label column 'label'; the columns are ['text']"),
    ("JSON lines: empty text", "emptytext.jsonl", JSONL + '{"text": "   ", "label": 1}\n', "classifier",
     "emptytext.jsonl: record 3 has an empty text (empty review)"),
    ("JSON lines: label outside the label names", "label7.jsonl", JSONL + '{"text": "x", "label": 7}\n',
     "classifier", ("label7.jsonl: record 3 has label 7, outside the label set ['neg', 'pos'] (integer labels index "
     "the label names: the model's, or a recipe's --label-names)")),
    ("JSON lines: empty file", "empty.jsonl", "", "classifier", "empty.jsonl: no examples found (empty file?)"),
    ("CSV: header only (a split with no examples)", "header.csv", "text,label\n", "classifier",
     "header.csv: no examples found (only a header row)"),
    ("CSV: a row with an extra field", "ragged.csv", CSV + "a,b,c\n", "classifier",
     ("ragged.csv: cannot read as csv (ParserError: Error tokenizing data. C error: Expected 2 fields in line 4, "
     "saw 3 / )")),
    ("unknown format (`.xml`)", "reviews.xml", "<reviews/>", "classifier",
     "reviews.xml: unknown file type '.xml'; expected one of ['.csv', '.json', '.jsonl', '.parquet', '.tsv']"),
    ("aclImdb folder without the `test` split", "aclImdb", None, "classifier",
     ("aclImdb: no reviews found: expected the aclImdb layout test/pos/*.txt and test/neg/*.txt (or pos/*.txt, "
     "neg/*.txt) under this folder")),
]
CASES: list[Case] = [
    *(Case("Readers: errors", bad, E + message + "`", _evaluate(model, name),
           files={name: content} if content is not None else
           {"aclImdb/train/pos/0_9.txt": "Great."} if name == "aclImdb" else {})
      for bad, name, content, model, message in READER_ERRORS),
    Case("Readers: errors", "series CSV: a missing value",
         "exit 2: `forecast.py: error: nan.csv:402: missing value in column 'value' (got ''); fill or drop the row "
         "first`", ("recipes/forecast.py", "--csv", "nan.csv", "--column", "value"),
         files={"nan.csv": SERIES + "400,\n"}, hidden=TINY[:6]),
    Case("Readers: errors", "CoNLL-U training file with a 9-column line",
         "exit 2: `pos_tagger.py: error: train_bad.conllu:6: expected 10 tab-separated CoNLL-U columns, found 9: "
         "'1\\tThe\\tthe\\tDET\\tDT\\t_\\t2\\tdet\\t_'`", ("recipes/pos_tagger.py", "--train", "train_bad.conllu"),
         files={"train_bad.conllu": CONLLU + CONLLU.replace("\tdet\t_\t_", "\tdet\t_")}, hidden=TINY),
]

W = "Wrong kind of input"
WRONG_KIND = "tests/reliability/test_wrong_input_kind.py::"
HOSTILE_FILES = "tests/reliability/test_hostile_files.py::"
HOSTILE_BUNDLES = "tests/reliability/test_hostile_bundles.py::"
NOT_CONLL = "expected a CoNLL column file: whitespace-separated columns 'token ... tag', one token a line, a blank " \
            "line between sentences`"
CASES += [
    Case(W, "JSON lines given to a POS model", E + "reviews.jsonl: not a CoNLL column file: it looks like JSON lines; "
         + NOT_CONLL, _evaluate("tagger", "reviews.jsonl"), files={"reviews.jsonl": JSONL}),
    Case(W, "CSV with a header given to a POS model", E + "reviews.csv: not a CoNLL column file: it looks like "
         "CSV/TSV with a header row (text, label); " + NOT_CONLL, _evaluate("tagger", "reviews.csv"),
         files={"reviews.csv": CSV}),
    Case(W, "a CoNLL-U POS file given to a NER model", E + "pos.conllu: a CoNLL-U file, but this model predicts IOB2 "
         "span tags (entities or chunks), and no CoNLL-U field holds them (UPOS and XPOS are part-of-speech tags); "
         "score this model on a CoNLL column file`", _evaluate("ner_model", "pos.conllu"),
         files={"pos.conllu": CONLLU}),
    Case(W, "a CoNLL-2003 NER file given to a POS model", E + "ner.txt: the data does not match the model's tag set: "
         "… of its … gold tags (8 of 8 distinct) are unknown to the model. The data has 'O', …; the model knows 'ADJ', "
         "…. Is it the right file (and column) for this model?`", _evaluate("tagger", "ner.txt"),
         files={"ner.txt": lambda: (REPO / "data" / "ner" / "test.txt").read_bytes()}),
    Case(W, "a missing file (`missing.tsv`)", E + "missing.tsv: file not found`",
         _evaluate("classifier", "missing.tsv")),
    Case(W, "a missing folder (`./reviews`)", E + "./reviews: file not found`", _evaluate("classifier", "./reviews")),
    Case(W, "predict input starting with a UTF-8 byte-order mark",
         "exit 0; stdout: `The/… dog/… barked/… ./…`", ("lstm-nlp", "predict", "--model", "tagger"),
         stdin=b"\xef\xbb\xbfThe dog barked .\n"),
    Case(W, "forecaster input lines `1 2 abc` and `hello`", P + "line 1: 'abc' is not a number; each line holds past "
         "values of the series, oldest first, separated by spaces or commas`",
         ("lstm-nlp", "predict", "--model", "forecaster"), stdin=b"1 2 abc\nhello\n"),
    Case(W, "IOB1 files without `--scheme iob1`", "exit 2: `ner.py: error: train.iob1.txt:1: tag 'I-PER' at the start "
         "of a sentence starts an entity, which IOB2 does not allow (IOB2 would have 'B-PER'): the tags look like "
         "IOB1. Read the file with scheme=\"iob1\" (the recipes and lstm-nlp evaluate: --scheme iob1)`; before any "
         "training",
         entry="`python recipes/ner.py --train train.iob1.txt --dev dev.iob1.txt`",
         test=WRONG_KIND + "test_ner_on_iob1_files_without_scheme_stops_before_training"),
    Case(W, "`--dev` names a missing file", "exit 2: `pos_tagger.py: error: --dev: no such file or folder: "
         "nope.conllu`", ("recipes/pos_tagger.py", "--dev", "nope.conllu"), hidden=(*TINY, "--char-encoder", "none")),
    Case(W, "`--train` given to the forecaster", "exit 2: `forecast.py: error: unrecognized arguments: --train x.csv`",
         ("recipes/forecast.py", "--train", "x.csv")),
    Case(W, "a hub id with no network", "exit 2: `imdb_sentiment.py: error: stanfordnlp/imdb: not a local file or "
         "folder, and loading it as a Hugging Face hub dataset (split 'train') failed (…); the hub is not reachable: "
         "…, and the dataset is not in the local cache; offline, pass a local aclImdb folder or jsonl/csv/parquet "
         "file`, within seconds", entry="`python recipes/imdb_sentiment.py --train stanfordnlp/imdb`",
         test=WRONG_KIND + "test_imdb_recipe_with_a_hub_id_offline_fails_within_seconds"),
]

V = "Values that cannot work"
CASES += [
    Case(V, "`--dev-fraction 0.99`", "exit 2: `chunking.py: error: --dev-fraction 0.99 leaves 0 of 80 sentences for "
         "training; lower it or give --dev`", ("recipes/chunking.py", "--dev-fraction", "0.99"), hidden=TINY),
    Case(V, "`--train four.jsonl --val-fraction 0.75`", "exit 2: `imdb_sentiment.py: error: --val-fraction 0.75 holds "
         "out all 2 examples of label 'neg', leaving none of them for training`",
         ("recipes/imdb_sentiment.py", "--train", "four.jsonl", "--val-fraction", "0.75"),
         files={"four.jsonl": "".join(f'{{"text": "review {i}", "label": {i % 2}}}\n' for i in range(4))},
         hidden=(*TINY, "--cache-dir", "hf_cache")),
    Case(V, "`--dev-fraction 0.9 --test-fraction 0.15`", "exit 2: `forecast.py: error: --dev-fraction 0.9 and "
         "--test-fraction 0.15 add up to 1.05, which leaves nothing of the series for training (their sum must be "
         "below 1)`", ("recipes/forecast.py", "--dev-fraction", "0.9", "--test-fraction", "0.15")),
    Case(V, "`--length 60`", "exit 2: `forecast.py: error: a series of 60 values gives a train period of 42 values, "
         "fewer than the 60 needed for one example (--window 48, --horizon 12); use a longer series, a smaller "
         "--window/--horizon or other --d…`", ("recipes/forecast.py", "--length", "60"), hidden=TINY[:6]),
    Case(V, "`--corpus three.txt --heldout-texts 3`", "exit 2: `pretrain_lm.py: error: --heldout-texts 3 leaves 0 of "
         "the 3 texts of --corpus for training; lower it or add text`",
         ("recipes/pretrain_lm.py", "--corpus", "three.txt", "--heldout-texts", "3"),
         files={"three.txt": "one text\nanother text\na third text\n"}, hidden=TINY[:6]),
    Case(V, "`--corpus three.txt --min-count 5`", "exit 2: `train_vectors.py: error: --min-count 5 leaves no word to "
         "train a vector for: the most frequent word of --corpus ('text') occurs 3 times`",
         ("recipes/train_vectors.py", "--corpus", "three.txt", "--min-count", "5"),
         files={"three.txt": "one text\nanother text\na third text\n"}, hidden=("--output", "vectors_run/v.vec")),
]

K = "Input kinds and encodings"
CASES += [
    Case(K, "CoNLL-U given as `--input-format conll`", P + "pos.conllu looks like CoNLL-U (10 tab-separated columns, "
         "one token a line), not --input-format conll; give --input-format conllu`",
         ("lstm-nlp", "predict", "--model", "tagger", "--input", "pos.conllu", "--input-format", "conll"),
         files={"pos.conllu": CONLLU}),
    Case(K, "JSON lines given as text", P + "reviews.jsonl looks like JSON lines, not --input-format text; predict "
         "reads text lines, CoNLL or CoNLL-U: write one sentence a line (--input-format text or tokens)`",
         ("lstm-nlp", "predict", "--model", "tagger", "--input", "reviews.jsonl"), files={"reviews.jsonl": JSONL}),
    Case(K, "a CoNLL-U file named `.txt`", E + "pos_named.txt: not a CoNLL column file: it looks like CoNLL-U (10 "
         "tab-separated columns, one token a line); CoNLL-U files are read as CoNLL-U when their name ends in .conllu "
         "(or .conllu.gz)`", _evaluate("tagger", "pos_named.txt"), files={"pos_named.txt": CONLLU * 3}),
    Case(K, "a NER model with CoNLL-U input and output", P + "--output-format conllu (the default --output-format with "
         "--input-format conllu): this model predicts IOB2 span tags (entities or chunks), and no CoNLL-U field holds "
         "them (UPOS and XPOS are part-of-speech tags); give --output-format jsonl or slash`",
         ("lstm-nlp", "predict", "--model", "ner_model", "--input", "pos.conllu", "--input-format", "conllu"),
         files={"pos.conllu": CONLLU}),
    Case(K, "invalid UTF-8 (latin-1 bytes)", P + "latin1.txt:1: invalid UTF-8 at byte 7 of the line`",
         ("lstm-nlp", "predict", "--model", "tagger", "--input", "latin1.txt"),
         files={"latin1.txt": "The caf\u00e9 opened .\n".encode("latin-1")}),
    Case(K, "invalid UTF-8 with `--encoding-errors replace`", "exit 0; stdout: `The/… caf/… \ufffd/… opened/… ./…`",
         ("lstm-nlp", "predict", "--model", "tagger", "--input", "latin1.txt", "--encoding-errors", "replace"),
         files={"latin1.txt": "The caf\u00e9 opened .\n".encode("latin-1")}),
]

M = "Messages name the option or file"
CASES += [
    Case(M, "`--cache-dir` is a file", "exit 2: `imdb_sentiment.py: error: --cache-dir taken is a file, not a folder`",
         ("recipes/imdb_sentiment.py", "--cache-dir", "taken"),
         files={"taken": "a file, not a folder"}, hidden=TINY),
    Case(M, "a text file given to `--resume`", "exit 2: `forecast.py: error: notes.txt is not a loadable lstm_nlp "
         "checkpoint (it must contain only tensors and plain values): it is not a file torch.save wrote (a text file, "
         "or another format?)`", ("recipes/forecast.py", "--resume", "notes.txt"),
         files={"notes.txt": "my notes, not a checkpoint\n"}, hidden=(*TINY[:6], "--output-dir", "run")),
    Case(M, "`--probabilities` without jsonl output", P + "--probabilities is written in the jsonl output; add "
         "--output-format jsonl`", ("lstm-nlp", "predict", "--model", "tagger", "--probabilities"),
         stdin=b"The dog barked .\n"),
    Case(M, "`--input-format tokens` given to a classifier", P + "--input-format tokens applies to taggers; this text "
         "classifier reads text lines`", ("lstm-nlp", "predict", "--model", "classifier", "--input-format", "tokens"),
         stdin=b"A fine film .\n"),
]


def _planted_checkpoint(state: dict) -> Callable[[], bytes]:
    def build() -> bytes:
        import io

        import torch

        buffer = io.BytesIO()
        torch.save(state, buffer)
        return buffer.getvalue()
    return build


RESUME = ("recipes/pos_tagger.py", "--output-dir", "run", "--resume")
RESUME_SIZES = ("--epochs", "1", "--no-progress", "--device", "cpu", "--hidden-size", "8", "--embedding-dim", "8")
CKPT = "run/checkpoints/ckpt-000000010.pt"
CASES += [
    Case("Labels", "gold tag the model never saw (`NEWTAG`)", "exit 0; stdout: `{ ...`; stderr: `1 gold tag(s) are "
         "not in the model's tag set (NEWTAG); they count as errors`", _evaluate("tagger", "unseen.conllu"),
         files={"unseen.conllu": CONLLU.replace("\tNOUN\t", "\tNEWTAG\t")}),
    Case("Labels", "gold label the classifier never saw (`meh`)", "exit 0; stdout: `{ ...`; stderr: `1 gold label(s) "
         "are not in the model's label set (meh); they count as errors`", _evaluate("classifier", "meh.jsonl"),
         files={"meh.jsonl": '{"text": "Fine.", "label": "pos"}\n{"text": "Meh.", "label": "meh"}\n'}),
    Case("Labels", "empty sentences in training data", "log: `skipped 3 empty sentence(s) out of 5`; none of them "
         "reaches the LSTM", entry="`TaggingPipeline.encode` (all tagging recipes)",
         test="tests/reliability/test_bad_input.py::"
              "test_empty_sentences_are_skipped_with_a_count_and_never_reach_packing"),
    Case("Long input", "a 50-token training sentence with `--max-length 10`", "log: `cut 1 sentence(s) longer than "
         "max_length=10 tokens`; the sentence keeps its first 10 tokens",
         entry="`TaggingPipeline.encode(max_length=)` / `--max-length` (pos_tagger, ner, chunking, imdb_sentiment)",
         test="tests/reliability/test_bad_input.py::test_tagger_training_truncation_option"),
]

B = "Model bundles"
CASES += [Case(B, bad, P + message + "`", _predict("BUNDLE"), bundle="tagger", edit=edit) for bad, edit, message in [
    ("a pickle (whose unpickling would create a file) as `model.safetensors`",
     lambda b: (b / "model.safetensors").write_bytes(pickle.dumps({"w": PlantsAMarker()})),
     "BUNDLE/model.safetensors is not a readable safetensors file (…)"),
    ("a `torch.save` file with that pickle as `model.safetensors`", _torch_pickle,
     "BUNDLE/model.safetensors is not a readable safetensors file (…)"),
    ("a pickle as `words.vocab.json`", lambda b: (b / "words.vocab.json").write_bytes(pickle.dumps(PlantsAMarker())),
     "BUNDLE/words.vocab.json: not valid JSON (not UTF-8 text: byte 0)"),
    ("`vocab_size` in config.json changed", _edit_json("config.json", lambda h: h["config"].update(vocab_size=7)),
     "BUNDLE: weight 'embedding.embedding.weight' has shape (…, 16) but the config implies (7, 16)"),
    ("a word added to `words.vocab.json`", _edit_json("words.vocab.json", lambda v: v["itos"].append("zzz")),
     "BUNDLE: model expects … words but the vocabulary has …"),
    ("a tag removed from `labels.vocab.json`", _edit_json("labels.vocab.json", lambda v: v["itos"].pop()),
     "BUNDLE: model expects … labels but the label set has …"),
    ("a weight tensor deleted", _drop_last_weight,
     "BUNDLE: weights do not match the config (missing ['…'], unexpected [])"),
    ("an unknown config key", _edit_json("config.json", lambda h: h["config"].update(attention=True)),
     "BUNDLE/config.json does not fit TaggerConfig (unknown field config.attention; known: …"),
    ("written by a newer format version", _edit_json("config.json", lambda h: h.update(format_version=99)),
     "BUNDLE/config.json has bundle format version 99; this lstm_nlp (…) reads up to 1. Upgrade lstm_nlp to load it."),
    ("`labels.vocab.json` missing", lambda b: (b / "labels.vocab.json").unlink(),
     "BUNDLE has no labels.vocab.json (the tag set); was the bundle copied without it?"),
    ("`chars.vocab.json` missing (a model with a character encoder)", lambda b: (b / "chars.vocab.json").unlink(),
     ("BUNDLE has no chars.vocab.json (the character vocabulary of its 'cnn' character encoder); was the bundle "
     "copied without it?")),
    ("not a bundle (an empty folder)", lambda b: [p.unlink() for p in b.iterdir()],
     "BUNDLE has no config.json; is it a model saved with save_pretrained?"),
]]
CASES += [
    Case("Checkpoints", "a crafted pickle planted as the latest checkpoint", "exit 2: `pos_tagger.py: error: " + CKPT
         + " is not a loadable lstm_nlp checkpoint (it must contain only tensors and plain values): it holds other "
         "Python objects, which a safe load refuses without running anything…`", RESUME, hidden=RESUME_SIZES,
         files={CKPT: _planted_checkpoint({"format_version": 1, "evil": PlantsAMarker()})}),
    Case("Checkpoints", "a checkpoint from a newer format version", "exit 2: `pos_tagger.py: error: " + CKPT + " has "
         "checkpoint format version 99; this lstm_nlp (…) reads up to 1. Upgrade lstm_nlp to resume from it.`", RESUME,
         hidden=RESUME_SIZES, files={CKPT: _planted_checkpoint({"format_version": 99, "model": {}, "optimizer": {},
                                                                 "epoch": 1, "batches_done": 0, "global_step": 10,
                                                                 "history": []})}),
    Case("Writes", "`save_pretrained` killed (SIGKILL) between moving the old bundle aside and the new one in",
         "the next load warns `BUNDLE is missing but .BUNDLE.old-PID holds the bundle an interrupted save moved aside; "
         "loading that (rename it to BUNDLE to keep it)` and predicts as before", entry="`load_pipeline`, `lstm-nlp`",
         test=HOSTILE_FILES + "test_a_save_killed_between_the_two_renames_loses_nothing"),
    Case("Writes", "disk full / any exception while writing a bundle", "the exception is raised; the previous bundle "
         "is untouched and loads", entry="`save_pretrained`",
         test=HOSTILE_FILES + "test_disk_full_while_saving_leaves_the_previous_bundle_loadable"),
    Case("Command line", "`--model no-such-bundle`", P + "model bundle not found: no-such-bundle is not a directory`",
         ("lstm-nlp", "predict", "--model", "no-such-bundle")),
    Case("Command line", "`--input no-such-file.txt`", P + "no-such-file.txt: cannot read the input (No such file or "
         "directory)`", ("lstm-nlp", "predict", "--model", "tagger", "--input", "no-such-file.txt")),
    Case("Command line", "`--batch-size 0`", P + "argument --batch-size: must be >= 1, got 0`",
         ("lstm-nlp", "predict", "--model", "tagger", "--batch-size", "0"), stdin=b"The dog barked .\n"),
    Case("Command line", "`--device banana`", P + "unknown device 'banana'; use auto, cpu, cuda, cuda:N or mps`",
         ("lstm-nlp", "predict", "--model", "tagger", "--device", "banana"), stdin=b"The dog barked .\n"),
]

T = "Training runs: interruptions, locks, resume"
SAFETY = "tests/training/test_run_safety.py::"
CASES += [
    *(Case(T, f"`{option} {value}`", f"exit 2: `{name}.py: error: argument {option}: {message}`",
           (f"recipes/{name}.py", option, value), hidden=("--output-dir", "unused_run"))
      for name, option, value, message in [
          ("forecast", "--epochs", "0", "must be >= 1, got 0"), ("imdb_sentiment", "--num-proc", "-1",
                                                                 "must be >= 1, got -1"),
          ("pos_tagger", "--batch-size", "0", "must be >= 1, got 0"), ("ner", "--dropout", "1.5",
                                                                      "must be in [0, 1), got 1.5"),
          ("imdb_sentiment", "--val-fraction", "2", "must be in (0, 1), got 2"),
          ("chunking", "--lr", "-1", "must be > 0, got -1"), ("forecast", "--grad-accum", "0",
                                                                     "must be >= 1, got 0")]),
    Case(T, "`--output-dir` is a file", "exit 2: `forecast.py: error: --output-dir a_file is a file, not a folder`",
         ("recipes/forecast.py", "--output-dir", "a_file"), files={"a_file": "not a folder"}),
    Case(T, "`--output-dir` under a file", "exit 2: `forecast.py: error: --output-dir a_file/run: a_file is not a "
         "folder, so the output folder cannot be created there`", ("recipes/forecast.py", "--output-dir", "a_file/run"),
         files={"a_file": "not a folder"}),
    Case(T, "a second run into an `--output-dir` another live run trains into", "exit 2: `forecast.py: error: RUN is "
         "in use by another training run (PID …, lock file RUN/.lstm_nlp.lock); wait for it to finish or choose "
         "another --output-dir`", entry="`python recipes/forecast.py --output-dir RUN` (twice)",
         test=SAFETY + "test_the_recipes_refuse_a_locked_folder_at_parse_time"),
    Case(T, "a stale lock file left by a dead process (PID 999999999)", "the lock is taken over, the run trains",
         entry="`python recipes/forecast.py --output-dir RUN`",
         test=SAFETY + "test_a_stale_lock_file_of_a_dead_process_is_taken_over"),
    Case(T, "`--epochs 1`, then `--epochs 3 --resume`, against one 3-epoch run", "exit 0; weights bit-identical, same "
         "dev accuracy and epoch history", entry="`python recipes/pos_tagger.py ... --resume`",
         test="tests/recipes/test_resume.py::test_three_epochs_equal_one_epoch_then_resume_for_two_more"),
    Case(T, "`--resume` with another `--batch-size` and `--hidden-size`", "exit 2: `forecast.py: error: "
         "RUN/checkpoints/ckpt-….pt was saved with other options: --batch-size 64 -> 32, --hidden-size 8 -> 16; …`",
         entry="`python recipes/forecast.py --epochs 2 --resume --batch-size 32 --hidden-size 16`",
         test=SAFETY + "test_resume_compares_the_recipe_options_too"),
    Case(T, "a checkpoint whose `history` is a dict (it passes the safe loader)", "exit 2: `…: error: ….pt is not a "
         "valid lstm_nlp checkpoint: field 'history' …`", entry="`--resume` (every recipe)",
         test=SAFETY + "test_resume_from_a_checkpoint_with_a_wrong_field_is_a_bundle_error"),
    *(Case(T, f"{name} during training", f"exit {code}: `forecast.py: training stopped at epoch …, step … ({signal}); "
           "checkpoint written to …; continue with the same command plus --resume`",
           entry="`python recipes/forecast.py`",
           test="tests/recipes/test_signals.py::test_a_signal_during_training_ends_with_one_line_and_the_shell_code")
      for name, signal, code in (("Ctrl-C (SIGINT)", "SIGINT", 130), ("SIGTERM", "SIGTERM", 143))),
    Case(T, "disk full while writing a checkpoint (a 32 KiB tmpfs)", "`no space left on device "
         "(RUN/checkpoints/ckpt-….pt)`, one line", entry="Trainer, every recipe",
         test=SAFETY + "test_a_real_full_tmpfs_gives_no_space_left"),
]

H = "Hostile bundles and inputs"
CASES += [Case(H, bad, P + message + "`", _predict("BUNDLE"), bundle=bundle, edit=edit)
          for bad, bundle, edit, message in [
    ("`config.json`: `hidden_size` 2\\*\\*19 (8 TB of LSTM weights)", "tagger", _set("config.json",
     "config.hidden_size", str(2**19)), ("BUNDLE/config.json: the config asks for a model of … parameters, more than "
     "the 2,147,483,648 a bundle may hold")),
    ("`config.json`: `vocab_size` 5,000,000 (320 MB, the weights were made for fewer)", "tagger",
     _set("config.json", "config.vocab_size", "5000000"),
     "BUNDLE: weight 'embedding.embedding.weight' has shape (…, 16) but the config implies (5000000, 16)"),
    ("`config.json`: `hidden_size` 2\\*\\*40", "tagger", _set("config.json", "config.hidden_size", str(2**40)),
     "BUNDLE/config.json: config.hidden_size must be an integer in [1, 1048576], got 1099511627776"),
    ("`config.json`: `hidden_size` 16.5", "tagger", _set("config.json", "config.hidden_size", "16.5"),
     "BUNDLE/config.json: config.hidden_size must be an integer in [1, 1048576], got 16.5"),
    ("`config.json`: `hidden_size` Infinity", "tagger", _set("config.json", "config.hidden_size", "Infinity"),
     "BUNDLE/config.json: config.hidden_size must be an integer in [1, 1048576], got inf"),
    ("`config.json`: `hidden_size` with 5000 digits", "tagger", _set("config.json", "config.hidden_size",
                                                                      "1" + "0" * 4999),
     "BUNDLE/config.json: config.hidden_size must be an integer in [1, 1048576], got a 5000-digit number"),
    ("`config.json`: `dropout` NaN", "tagger", _set("config.json", "config.dropout", "NaN"),
     "BUNDLE/config.json: config.dropout must be a finite number, got nan"),
    ("`config.json`: `config` is a list", "tagger", _set("config.json", "config", "[1, 2]"),
     "BUNDLE/config.json: config must be an object, got a list of 2"),
    ("`config.json`: a value nested 100,000 deep", "tagger", _set("config.json", "config.vocab_size", DEEP),
     ("BUNDLE/config.json: not valid JSON here (nested too deeply: arrays or objects inside each other more than "
     "~1000 levels)")),
    ("`config.json`: `meta.scheme` \"bio\"", "tagger", _set("config.json", "meta.scheme", '"bio"'),
     "BUNDLE/config.json: meta.scheme must be one of 'none', 'iob2', 'bioes', 'bilou', 'token', got \"bio\""),
    ("`config.json`: `meta.token_column` -1", "tagger", _set("config.json", "meta.token_column", "-1"),
     "BUNDLE/config.json: meta.token_column must be an integer in [0, 1000], got -1"),
    ("`config.json`: `meta.label_names` a string", "classifier", _set("config.json", "meta.label_names",
                                                                       '"neg,pos"'),
     "BUNDLE/config.json: meta.label_names must be a list of at most 16,777,216 items or null, got \"neg,pos\""),
    ("`config.json`: `meta.positive_label` not a class", "classifier", _set("config.json", "meta.positive_label",
                                                                             '"meh"'),
     "BUNDLE/config.json: positive_label 'meh' is not one of the classes ['neg', 'pos']"),
    ("`config.json`: `meta.max_length` 0", "classifier", _set("config.json", "meta.max_length", "0"),
     "BUNDLE/config.json: meta.max_length must be an integer in [1, 2147483647] or null, got 0"),
    ("`config.json`: unknown spaCy language `qq`", "classifier", _set("config.json", "meta.tokenizer.lang", '"qq"'),
     ("BUNDLE/config.json: meta.tokenizer: unknown spaCy language 'qq'; spaCy has no rules for it (codes such as "
     "'en', 'de' or 'xx' for any language)")),
    ("`config.json`: `meta.period` \"24\"", "forecaster", _set("config.json", "meta.period", '"24"'),
     "BUNDLE/config.json: meta.period must be an integer in [1, 1048576] or null, got \"24\""),
    ("`labels.vocab.json`: `\"lower\": \"false\"` (a string)", "tagger", _set("labels.vocab.json", "lower",
                                                                               '"false"'),
     "BUNDLE/labels.vocab.json: lower must be true or false, got \"false\""),
    ("`config.json` is 64 MiB + 1 byte", "tagger", _replaced("config.json", "oversized"),
     "BUNDLE/config.json: the file has 67,108,865 bytes, more than the 67,108,864 this file may have"),
]]
SPECIAL = {"fifo": ("a FIFO", "a FIFO (named pipe)"), "/dev/zero": ("a link to /dev/zero", "a character device"),
           "directory": ("a directory", "a directory")}
CASES += [Case(H, f"`{file}` is {SPECIAL[kind][0]}", P + f"BUNDLE/{file}: expected a file, found {SPECIAL[kind][1]}`",
               _predict("BUNDLE"), bundle="tagger", edit=_replaced(file, kind))
          for file, kind in [("config.json", "fifo"), ("config.json", "/dev/zero"), ("config.json", "directory"),
                             ("model.safetensors", "fifo"), ("words.vocab.json", "directory")]]
LINE_LIMIT = "line 1 has more than 100,000 characters; split it into shorter lines (or raise the limit: " \
             "lstm-nlp predict --max-line-chars)`"
CASES += [
    Case(H, "`/dev/zero` as the input (one endless line)", P + LINE_LIMIT,
         ("lstm-nlp", "predict", "--model", "tagger", "--input", "/dev/zero")),
    Case(H, "a single 50 MB line", P + LINE_LIMIT, ("lstm-nlp", "predict", "--model", "tagger", "--input",
                                                    "line50.txt"), files={"line50.txt": b"word " * 10_000_000 + b"\n"}),
    Case(H, "`/dev/zero` as labelled data", E + "/dev/zero: expected a data file or folder, found a character device`",
         _evaluate("tagger", "/dev/zero")),
    Case(H, "a FIFO as labelled data", E + "data.fifo: expected a data file or folder, found a FIFO (named pipe)`",
         _evaluate("classifier", "data.fifo"), files={"data.fifo": b""}),
    Case(H, "CoNLL-U token id `-1`", E + "ids.conllu:1: token id must be a positive integer (or a range 3-4 for a "
         "multiword token, a decimal 5.1 for an empty node), got '-1'`", _evaluate("tagger", "ids.conllu"),
         files={"ids.conllu": CONLLU.replace("1\tThe", "-1\tThe")}),
    Case(H, "JSON lines: a label nested 100,000 deep", E + "deep.jsonl:3: JSON that cannot be data: nested too deeply "
         "(more than 100 levels of arrays or objects)`", _evaluate("classifier", "deep.jsonl"),
         files={"deep.jsonl": JSONL + '{"text": "x", "label": ' + DEEP + "}\n"}),
    Case(H, "JSON lines: a 5000-digit label", E + "digits.jsonl:3: JSON that cannot be data: a number with 5,000 "
         "digits (at most 30)`", _evaluate("classifier", "digits.jsonl"),
         files={"digits.jsonl": JSONL + '{"text": "x", "label": 1' + "0" * 4999 + "}\n"}),
    Case(H, "JSON lines: label 10\\*\\*10 (the model's label names are neg, pos)", E + "huge_label.jsonl: record 1 has "
         "label 10000000000, outside the label set ['neg', 'pos'] (integer labels index the label names: the model's, "
         "or a recipe's --label-names)`", _evaluate("classifier", "huge_label.jsonl"),
         files={"huge_label.jsonl": '{"text": "Fine.", "label": 10000000000}\n{"text": "Dull.", "label": 0}\n'}),
    Case(H, "JSON lines: label 10\\*\\*10 with no label names (`--label-names ''`)", "labels read as ['10000000000', "
         "'0']; nothing sized by the label is allocated", entry="`load_text_classification(label_names=[])` "
         "(imdb_sentiment)", test=HOSTILE_BUNDLES + "test_a_huge_integer_label_without_names_allocates_nothing"),
    *(Case(H, "stdout on a full device (`> /dev/full`)", f"exit 1: `lstm-nlp {command}: error: cannot write the "
           "output: No space left on device`", entry=f"`lstm-nlp {command}`",
           test=HOSTILE_BUNDLES + "test_stdout_on_a_full_device_is_one_line_and_a_nonzero_exit")
      for command in ("predict", "evaluate")),
    Case(H, "Ctrl-C (SIGINT) while reading a slow stdin", "exit 130: `lstm-nlp predict: interrupted`",
         entry="`lstm-nlp predict`",
         test=HOSTILE_BUNDLES + "test_ctrl_c_while_predict_reads_a_slow_input_exits_130_without_a_traceback"),
    Case(H, "a bundle saved under umask 022", "folder 0o755, files 0o644", entry="`save_pretrained`",
         test="tests/test_serialization.py::test_bundles_are_written_with_the_umask_modes_not_temp_file_modes"),
]


def _generated() -> list[Case]:
    """The rows of the reader quirks and the odd inference lines ``test_bad_input.py`` tries."""
    from tests.reliability.test_bad_input import ODD_LINES, QUIRK_CASES

    bad_input = "tests/reliability/test_bad_input.py::"
    readers = {"conllu": ("CoNLL-U", "read_conllu"), "conll": ("CoNLL columns", "read_conll"),
               "jsonl": ("JSON lines", "load_text_classification"), "csv": ("CSV", "load_text_classification"),
               "series": ("series CSV", "read_series_csv")}
    same = "accepted, same result as the clean file"
    rows = [Case("Readers: accepted", f"{readers[r][0]}: {quirk}", same, entry=f"`{readers[r][1]}`",
                 test=bad_input + "test_harmless_quirks_are_accepted_and_change_nothing") for r, quirk in QUIRK_CASES]
    rows += [
        Case("Readers: accepted", "CoNLL columns: tabs and spaces mixed, trailing whitespace", same,
             entry="`read_conll`", test=bad_input + "test_conll_columns_accept_tabs_spaces_and_trailing_whitespace"),
        Case("Readers: accepted", "CoNLL-U: trailing spaces, several blank lines between sentences", same,
             entry="`read_conllu`", test=bad_input + "test_conllu_accepts_trailing_spaces_and_several_blank_lines"),
        Case("Readers: accepted", "aclImdb review with a byte-order mark and CRLF line endings", "read as plain text",
             entry="`read_aclimdb`", test=bad_input + "test_aclimdb_review_with_a_bom_and_crlf_reads_as_plain_text"),
    ]
    answer = ("one output line: the tagger's `token/TAG` per token (an empty line when there is no token), the "
              "classifier's label and probability")
    rows += [Case("Inference input", name, answer, entry="`lstm-nlp predict --encoding-errors replace` (tagger, "
                  "classifier)", test=bad_input + "test_tagger_cli_answers_every_odd_line") for name in ODD_LINES]
    rows.append(Case("Inference input", "100,000 emoji without spaces", "100,000 tokens, in linear time (long runs "
                     "without spaces are cut for spaCy's affix rules)", entry="`SpacyTokenizer` (every spaCy model)",
                     test=bad_input + "test_spacy_tokenization_stays_linear_on_long_runs_without_spaces"))
    return rows


SECTIONS = ["Readers: accepted", "Readers: errors", W, V, K, M, "Labels", "Long input", B, "Checkpoints", "Writes",
            "Command line", "Inference input", T, H]
CASES = sorted(CASES + _generated(), key=lambda case: SECTIONS.index(case.section))
