"""``lstm-nlp``: train with the recipes, then predict, evaluate and export with the saved model bundles.

    lstm-nlp train pos --epochs 5                          # the bundled POS sample; lstm-nlp train pos --help
    lstm-nlp predict  --model runs/pos/model "The cat sat on the mat."
    lstm-nlp predict  --model runs/pos/model < sentences.txt
    lstm-nlp evaluate --model runs/pos/model --data test.conllu
    lstm-nlp predict  --model runs/pos/model --precision bf16 < sentences.txt   # faster on AVX-512 BF16 CPUs
    lstm-nlp serve    --model runs/pos/model --port 8000   # HTTP service + demo page (pip install "lstm_nlp[serve]")

``lstm-nlp train NAME`` runs the recipe ``recipes/MODULE.py`` (``python recipes/pos_tagger.py --help`` in a checkout).
"""

from __future__ import annotations

import argparse
import gc
import io
import json
import os
import signal
import sys
import threading
from collections.abc import Sequence
from pathlib import Path

from lstm_nlp import __version__
from lstm_nlp.argtypes import NON_NEGATIVE_FLOAT, PORT, POSITIVE_FLOAT, POSITIVE_INT, OneLineParser
from lstm_nlp.errors import ConfigError, DataFormatError, LstmNlpError
from lstm_nlp.help_format import DefaultsHelpFormatter, DescribedDefaultsHelpFormatter
from lstm_nlp.pipelines.tasks import TASKS, get_task, titles
from lstm_nlp.precision import INFERENCE_PRECISIONS

#: ``lstm-nlp train NAME``: the recipe's module (``lstm_nlp.recipes.MODULE``, ``recipes/MODULE.py`` in a
#: checkout) and what it trains.
RECIPES: dict[str, tuple[str, str]] = {
    "pos": ("pos_tagger", "part-of-speech tagging, CoNLL-U files (BiLSTM + character features)"),
    "ner": ("ner", "named entities, CoNLL-2003 columns (BiLSTM-CRF)"),
    "chunking": ("chunking", "phrase chunking, CoNLL-2000 columns (BiLSTM-CRF)"),
    "imdb": ("imdb_sentiment", "text classification: IMDB sentiment or any labelled texts (BiLSTM + pooling)"),
    "forecast": ("forecast", "time-series forecasting from a CSV column (BiLSTM over a history window)"),
    "vectors": ("train_vectors", "word vectors on raw text, gensim fastText / word2vec (the pretrain extra)"),
    "lm": ("pretrain_lm", "forward + backward LSTM language models on raw text, for --init-from"),
}
#: = lstm_nlp.pipelines.ranking.MEASURES / AGGREGATES (not imported: it loads torch; a test keeps them equal).
RANK_MEASURES = ("entropy", "margin", "least-confidence")
RANK_AGGREGATES = ("mean", "max", "sum")
MAX_LINE_CHARS = 100_000  # = lstm_nlp.pipelines.base.MAX_LINE_CHARS (not imported: --help stays instant)

# oneDNN caches one LSTM primitive (and its scratch memory) per input shape, up to 1,024 of them: on a long input
# with many sentence lengths that cache, not the data, held ~300 MiB. 64 keeps memory flat at no measured cost.
# Set before torch is imported (oneDNN reads it once); a value the user set is kept.
os.environ.setdefault("ONEDNN_PRIMITIVE_CACHE_CAPACITY", "64")


def _add_common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", required=True, help="model bundle directory (a recipe's OUTPUT_DIR/model)")
    parser.add_argument("--device", default="cpu", help="cpu, cuda, cuda:N, mps or auto")
    parser.add_argument("--batch-size", type=POSITIVE_INT, default=256, help="sentences per inference batch")
    parser.add_argument("--threads", type=POSITIVE_INT, default=None, metavar="N",
                        help="CPU threads (default: OMP_NUM_THREADS if set, else the cores not busy with other "
                             "processes, re-checked every 5 s as the run goes and logged when it changes: "
                             "a thread waiting for a busy core slows every step; results are the same bits at any "
                             "count)")
    parser.add_argument("--precision", choices=INFERENCE_PRECISIONS, default="fp32",
                        help="inference precision: bf16 (bf16 weights + autocast) is ~1.6-1.9x faster on CPUs with "
                             "AVX-512 BF16 or AMX and on recent GPUs, with predictions that may differ at a few "
                             "positions; usually slower on CPUs without native bf16 (see docs/benchmarks.md)")


BACKENDS = ("torch", "onnx")


def _add_backend(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--backend", choices=BACKENDS, default="torch",
                        help="torch (the bundle's PyTorch model) or onnx (its exported graph, MODEL/model.onnx from "
                             "'lstm-nlp export --model MODEL', in onnxruntime, without importing torch: a faster "
                             "start-up, the same tags; CPU and fp32 only; needs pip install \"lstm_nlp[onnx]\")")


class OutputError(LstmNlpError):
    """stdout cannot be written (a full disk, a closed terminal)."""


def _write(text: str, *, flush: bool = False) -> None:
    """Writes to stdout; a failed write (``> /dev/full``) is an :class:`OutputError`, a closed pipe passes through."""
    try:
        sys.stdout.write(text)
        if flush:
            sys.stdout.flush()
    except BrokenPipeError:
        raise
    except OSError as err:
        raise OutputError(f"cannot write the output: {err.strerror or err}") from None


def _silence_stdout() -> None:
    """Points stdout at /dev/null, so the flush at exit does not fail again on what is still buffered."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, io.UnsupportedOperation):  # stdout replaced in-process (tests): nothing to do
        pass


#: ``--output-format conllu``: written back from CoNLL-U input only (not a registered output format).
CONLLU_OUTPUT_HELP = ("CoNLL-U input: the tag written into the UPOS or XPOS field the model was trained on, every "
                      "other byte kept; the default there; refused for models of span tags such as entities or "
                      "chunks, which no CoNLL-U field holds")


def _output_format_choices() -> list[str]:
    """Every task's registered output formats, and the CoNLL input formats written back as themselves."""
    from lstm_nlp.data.tag_writers import BLOCK_FORMATS

    names = [name for task in TASKS.values() for name in task.output_formats()]
    return list(dict.fromkeys([*names, *BLOCK_FORMATS]))


def _output_format_help() -> str:
    """``taggers: slash (...), ...; text classifiers: tsv (...), ...``: each task's registered formats."""
    parts = []
    for task in TASKS.values():
        items = [f"{name} ({fmt.help})" for name, fmt in task.output_formats().items()]
        if "input_format" in task.predict_options:  # CoNLL-U input, written back
            items.append(f"conllu ({CONLLU_OUTPUT_HELP})")
        if items:
            parts.append(f"{task.title}s: " + ", ".join(items))
    return "; ".join(parts)


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(prog="lstm-nlp", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"lstm_nlp {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)

    _add_train_parser(commands)
    _add_predict_parser(commands)
    _add_evaluate_parser(commands)
    _add_export_parser(commands)
    _add_serve_parser(commands)
    add_rank_parser(commands)
    return parser


def _add_train_parser(commands) -> None:
    """``lstm-nlp train``: runs a recipe with its own options (see :func:`cmd_train`)."""
    train = commands.add_parser(
        "train", help="train a model with one of the recipes", formatter_class=DescribedDefaultsHelpFormatter,
        description="Runs a recipe: 'lstm-nlp train RECIPE [options]' runs the code and takes the options of\n"
                    "'python recipes/MODULE.py [options]' in a checkout. Without --train a recipe trains on its\n"
                    "bundled sample (seconds); 'lstm-nlp train RECIPE --help' lists its options and defaults.\n\n"
                    "recipes:\n" + "\n".join(f"  {name:<9} {what}\n  {'':<9} (recipes/{module}.py)"
                                              for name, (module, what) in RECIPES.items()))
    train.add_argument("recipe", choices=RECIPES, metavar="RECIPE", help="the recipe: " + ", ".join(RECIPES))
    train.add_argument("options", nargs=argparse.REMAINDER, metavar="...",
                       help="the recipe's options (lstm-nlp train RECIPE --help)")


def _add_predict_parser(commands) -> None:
    """``lstm-nlp predict``: tags, classifies or forecasts input lines (see :func:`cmd_predict`)."""
    predict = commands.add_parser(
        "predict", help="tag / classify raw text lines from stdin", formatter_class=DefaultsHelpFormatter,
        description="Reads UTF-8 text lines from stdin (or --input; bytes that are not UTF-8 stop the run naming "
                    "the line, see --encoding-errors) and prints one line per input line, in input "
                    "order: 'token/TAG token/TAG ...' for taggers (spaCy English tokenization; an empty input line "
                    "gives an empty output line), 'label<TAB>probability' for classifiers, and for forecasters the "
                    "next values of a history given as numbers separated by spaces or commas, oldest first. "
                    "Lines end at \\n (a \\r before it is dropped); a byte-order mark is ignored. Input is read "
                    "in chunks and batched by length, so any input size works. Taggers also read pre-tokenized "
                    "lines (--input-format tokens) and CoNLL / CoNLL-U files, which they write back with the "
                    "predicted tags (--input-format conll|conllu). Lines may also be given as arguments "
                    "(lstm-nlp predict --model M \"The cat sat.\" \"A dog ran.\").")
    _add_common(predict)
    _add_backend(predict)
    predict.add_argument("text", nargs="*", metavar="TEXT",
                         help="input lines, one per argument, instead of stdin or --input")
    predict.add_argument("--input", help="read lines from this file instead of stdin ('-': stdin)")
    predict.add_argument("--encoding-errors", choices=["strict", "replace"], default="strict",
                         help="input bytes that are not UTF-8: strict stops with FILE:LINE: invalid UTF-8 at byte "
                              "N (as evaluate and the recipes do); replace writes U+FFFD for each bad byte, also "
                              "into CoNLL / CoNLL-U output, so those bytes are not kept (default: %(default)s)")
    predict.add_argument("--max-line-chars", type=POSITIVE_INT, default=MAX_LINE_CHARS, metavar="N",
                         help="longest input line taken, in characters (default: %(default)s); a longer line stops "
                              "the run with an error naming it, so an endless line cannot fill memory")
    predict.add_argument("--input-format", choices=["text", "tokens", "conll", "conllu"], default="text",
                         help="taggers: text (raw lines, spaCy tokenization), tokens (one sentence a line, tokens "
                              "separated by spaces or tabs, taken as they are), conll (whitespace columns, the words "
                              "in the model's token column, a blank line between sentences) or conllu; input "
                              "whose first lines clearly look like another of these (or like JSON) is refused, "
                              "naming what it looks like, as evaluate does")
    predict.add_argument("--output-format", choices=_output_format_choices(), default=None,
                         help=_output_format_help())
    predict.add_argument("--workers", type=POSITIVE_INT, default=1, metavar="N",
                         help="CPU: N processes predict chunks of the input side by side and share the --threads "
                              "(at least one each); output order is kept. Faster than threads alone on large "
                              "inputs (2 workers on 2 cores: ~1.2x); each worker adds the memory of one chunk "
                              "(default: %(default)s)")
    predict.add_argument("--probabilities", action="store_true",
                         help="jsonl output of taggers: the probability of each chosen tag (softmax, or for a "
                              "CRF its exact marginal), and for CRF span taggers each span's exact probability")
    predict.add_argument("--top-k", type=POSITIVE_INT, default=None, metavar="K",
                         help="jsonl output of CRF taggers: the K best tag sequences, each with its score and "
                              "probability (k-best Viterbi; its share of all allowed sequences, not of the K)")
    predict.add_argument("--no-calibrate", action="store_true",
                         help="--probabilities and --top-k from the model's raw scores (temperature 1), not "
                              "the calibrated ones its bundle holds (tags and labels are the same either way)")
    predict.add_argument("--no-progress", action="store_true",
                         help="hide the progress bar (shown on a terminal for an --input file: bytes read)")


def _add_evaluate_parser(commands) -> None:
    """``lstm-nlp evaluate``: a model's metrics on a labelled file (see :func:`cmd_evaluate`)."""
    evaluate = commands.add_parser(
        "evaluate", help="score a model on a labelled file; prints metrics as JSON",
        formatter_class=DefaultsHelpFormatter,
        description="Prints the metrics of a saved model on a labelled file as JSON on stdout "
                    "(the per-tag or per-entity-type report goes to stderr).")
    _add_common(evaluate)
    evaluate.add_argument("--data", required=True, help="labelled data (e.g. a .conllu file)")
    evaluate.add_argument("--tag-column", default=None,
                          help="taggers: the tag column, upos or xpos for CoNLL-U, a 0-based number for CoNLL "
                               "column files (default: the one the model was trained on)")
    evaluate.add_argument("--scheme", choices=["iob1", "iob2"], default=None,
                          help="taggers: tag scheme of a CoNLL column file; iob1 files are converted to IOB2 "
                               "(default: the scheme of the model's training files)")
    evaluate.add_argument("--no-progress", action="store_true",
                          help="hide the progress bar (shown on a terminal: examples scored)")
    evaluate.add_argument("--plots", default=None, metavar="DIR",
                          help="also write reliability diagrams (reliability_token.png, reliability_span.png, "
                               "reliability_class.png: accuracy against confidence) to this folder")
    evaluate.add_argument("--no-calibrate", action="store_true",
                          help="score the model's raw probabilities (temperature 1), not the calibrated ones "
                               "its bundle holds")


def _add_export_parser(commands) -> None:
    """``lstm-nlp export``: the model as an ONNX graph (see :func:`cmd_export`)."""
    export = commands.add_parser(
        "export", help="write a tagger or classifier as an ONNX graph", formatter_class=DefaultsHelpFormatter,
        description="Writes the model as an ONNX graph with dynamic batch and sequence axes, for onnxruntime "
                    "(needs: pip install \"lstm_nlp[onnx]\"). Taggers output tag scores (decode a CRF's with "
                    "lstm_nlp.export.viterbi.viterbi_decode; its transitions and the labels are in the file's "
                    "'lstm_nlp' metadata), classifiers class probabilities. See docs/interop.md.")
    export.add_argument("--model", required=True, help="model bundle directory (a recipe's OUTPUT_DIR/model)")
    export.add_argument("--format", choices=["onnx"], default="onnx", help="the export format")
    export.add_argument("--output", default=None,
                        help="the file to write (default: MODEL/model.onnx, where predict and serve --backend onnx "
                             "look for it)")


def _add_serve_parser(commands) -> None:
    """``lstm-nlp serve``: the HTTP service (see :func:`cmd_serve`)."""
    serve = commands.add_parser(
        "serve", help="an HTTP service (and a demo page) for a tagger or text classifier",
        formatter_class=DefaultsHelpFormatter,
        description="Serves the model over HTTP (needs: pip install \"lstm_nlp[serve]\"): POST /v1/predict takes "
                    "{\"texts\": [...]} (or {\"tokens\": [[...]]}, {\"conllu\": \"...\"} for taggers) and answers "
                    "the records of predict --output-format jsonl; GET /health, GET /metrics (Prometheus), "
                    "GET /openapi.json, and a demo page at /. Concurrent requests are batched together "
                    "(--max-batch-tokens, --max-wait-ms) by one thread that owns the model. SIGTERM answers the "
                    "requests in flight, then exits 0. See docs/serving.md.")
    _add_common(serve)
    _add_backend(serve)
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default: %(default)s, this "
                                                          "machine only; 0.0.0.0 for every interface)")
    serve.add_argument("--port", type=PORT, default=8000, help="port (default: %(default)s; 0: any free one)")
    serve.add_argument("--max-batch-tokens", type=POSITIVE_INT, default=4096, metavar="N",
                       help="words gathered from waiting requests into one model batch (default: %(default)s)")
    serve.add_argument("--max-wait-ms", type=NON_NEGATIVE_FLOAT, default=5.0, metavar="MS",
                       help="under concurrent load, how long the first request of a batch waits for others to join "
                            "it; a request on its own does not wait (default: %(default)s)")
    serve.add_argument("--max-queue", type=POSITIVE_INT, default=1024, metavar="N",
                       help="requests waiting for the model at most; more are answered 503 with Retry-After "
                            "(default: %(default)s)")
    serve.add_argument("--max-body-bytes", type=POSITIVE_INT, default=1_048_576, metavar="N",
                       help="largest request body (default: %(default)s)")
    serve.add_argument("--max-texts", type=POSITIVE_INT, default=256, metavar="N",
                       help="texts or sentences in one request at most (default: %(default)s)")
    serve.add_argument("--max-text-chars", type=POSITIVE_INT, default=10_000, metavar="N",
                       help="characters of one text or sentence at most (default: %(default)s)")
    serve.add_argument("--max-top-k", type=POSITIVE_INT, default=20, metavar="K",
                       help="largest top_k a request may ask of a CRF tagger (default: %(default)s)")
    serve.add_argument("--request-timeout", type=POSITIVE_FLOAT, default=10.0, metavar="S",
                       help="time budget of one request, arrival to answer, in seconds; past it the answer is "
                            "408 (default: %(default)s)")
    serve.add_argument("--log-level", choices=["critical", "error", "warning", "info", "debug"], default="info",
                       help="uvicorn's log level (default: %(default)s)")


def add_rank_parser(commands) -> None:
    """``lstm-nlp rank``: the inputs a model is least sure of, as annotation tasks (see :func:`cmd_rank`)."""
    rank = commands.add_parser(
        "rank", help="the texts a model is least sure of, as Label Studio / doccano tasks to annotate next",
        formatter_class=DefaultsHelpFormatter,
        description="Scores every line of the input (one sentence or text a line; blank lines are skipped) by "
                    "the model's uncertainty, from its calibrated probabilities (the bundle's temperature; a "
                    "bundle without one: temperature 1): a CRF tagger's exact token marginals, a softmax "
                    "tagger's token probabilities, a classifier's class probabilities. It writes the --top N "
                    "least sure first, with the model's pre-annotations, as JSONL in the import format of "
                    "Label Studio or doccano (a JSON list with --output NAME.json). Read the annotated export "
                    "back with lstm_nlp.data.read_annotations to retrain. See docs/annotation.md.")
    _add_common(rank)
    rank.add_argument("--input", default=None, help="the texts, one a line (default: stdin)")
    rank.add_argument("--input-format", choices=["text", "tokens"], default="text",
                      help="text: raw lines (spaCy English tokens, offsets into the line); tokens: tokens "
                           "separated by whitespace, written to the tool joined by single spaces")
    rank.add_argument("--by", choices=RANK_MEASURES, default="entropy",
                      help="uncertainty of one distribution: entropy (nats), margin (1 - (p1 - p2)) or "
                           "least-confidence (1 - p1)")
    rank.add_argument("--aggregate", choices=RANK_AGGREGATES, default="mean",
                      help="taggers: a sentence's score from its tokens': mean (does not favour long "
                           "sentences), max (its least sure token) or sum (favours long sentences)")
    rank.add_argument("--top", type=POSITIVE_INT, default=None, metavar="N",
                      help="write the N least sure inputs (default: all, ranked); an N beyond the input "
                           "writes all of them, with a note on stderr")
    rank.add_argument("--format", choices=["label-studio", "doccano"], default="label-studio",
                      help="label-studio: tasks with data.text and predictions[].result[] (labels regions or "
                           "a choices item); doccano: {text, label: [[start, end, TYPE], ...]} or "
                           "{text, label: [LABEL]}; offsets count Unicode code points")
    rank.add_argument("--output", default=None, help="write here instead of stdout (NAME.json: one JSON list)")
    rank.add_argument("--from-name", default="label",
                      help="Label Studio: the name of the Labels / Choices tag of the labelling config")
    rank.add_argument("--to-name", default="text", help="Label Studio: the name of the Text tag")
    rank.add_argument("--no-calibrate", action="store_true",
                      help="rank by the model's raw probabilities (temperature 1)")


def _load_pipeline(path: str, device: str, precision: str = "fp32", threads: int | None = None, *,
                   calibrated: bool = True):
    from lstm_nlp.inference import load_for_inference

    pipeline = load_for_inference(path, device=device, precision=precision, threads=threads, calibrated=calibrated)
    # Everything loaded so far (torch, spaCy, the model) lives until exit: keep it out of every
    # later garbage collection, which would otherwise rescan ~300k objects each time.
    gc.freeze()
    return pipeline


def _load_backend(args: argparse.Namespace, *, calibrated: bool = True):
    """The pipeline of ``--backend``: the PyTorch one, or the ONNX one (which imports no torch)."""
    if args.backend == "torch":
        return _load_pipeline(args.model, args.device, args.precision, args.threads, calibrated=calibrated)
    for option, value, supported in (("--device", args.device, "cpu"), ("--precision", args.precision, "fp32")):
        if value != supported:
            raise ConfigError(f"{option} {value}: the ONNX backend runs in fp32 on the CPU; give --backend torch")
    if getattr(args, "workers", 1) != 1:
        raise ConfigError(f"--workers {args.workers}: the ONNX backend predicts in one process; give onnxruntime "
                          "the cores with --threads")
    from lstm_nlp.export.onnx_backend import import_spacy_without_torch, load_onnx_pipeline

    import_spacy_without_torch()  # this process runs no PyTorch: spaCy's thinc need not import it
    threads = args.threads or int(os.environ.get("OMP_NUM_THREADS", "") or 0)  # 0: onnxruntime's default
    pipeline = load_onnx_pipeline(args.model, threads=threads, calibrated=calibrated)
    gc.freeze()  # as _load_pipeline: what is loaded lives until exit
    return pipeline


def open_lines(path: str | None, *, encoding_errors: str = "strict"):
    """The input as UTF-8 text lines split at ``\\n`` only, the same for a file and for stdin.

    Bytes that are not UTF-8 stop the run with ``FILE:LINE: invalid UTF-8 at byte N of the line``, as
    in every other reader, unless ``encoding_errors`` is ``"replace"`` (U+FFFD for each bad byte). A
    lone ``\\r`` stays inside its line (universal newlines would split there for a file but not for a
    pipe, and outputs would stop lining up with inputs).
    """
    from lstm_nlp.data.textfiles import Utf8Lines

    if path is None:
        binary = sys.stdin.buffer if hasattr(sys.stdin, "buffer") else None
        if binary is None:  # stdin replaced by a text stream (tests, embedding): nothing to re-decode
            return sys.stdin
        return Utf8Lines(binary, "stdin", errors=encoding_errors)
    try:  # a FIFO or a device is fine: lines are read with a bounded length (see TaskPipeline.predict_lines)
        return Utf8Lines(open(path, "rb"), path, errors=encoding_errors)
    except OSError as err:  # missing file, a directory, no permission
        raise DataFormatError(f"cannot read the input ({err.strerror})", path) from None


class InputProgress:
    """A progress bar over the bytes of the ``--input`` file read so far, on stderr, updated every 512
    output lines (a chunk of input is read ahead of the output, so the bar leads it a little)."""

    def __init__(self, stream, size: int) -> None:
        from tqdm.auto import tqdm

        self.stream, self.lines = stream, 0
        self.bar = tqdm(total=size, unit="B", unit_scale=True, desc="predicting", leave=False, file=sys.stderr)

    def advance(self) -> None:
        self.lines += 1
        if self.lines % 512 == 0:
            self.bar.update(min(self.stream.tell(), self.bar.total) - self.bar.n)

    def close(self) -> None:
        self.bar.update(self.bar.total - self.bar.n)
        self.bar.close()


def input_progress(stream, path: str | None) -> InputProgress | None:
    """A bar for a regular, non-empty ``--input`` file when stderr is a terminal; else ``None``."""
    if path is None or not os.path.isfile(path) or not sys.stderr.isatty() or not hasattr(stream, "tell"):
        return None
    size = os.path.getsize(path)
    return InputProgress(stream, size) if size else None


def cmd_predict(args: argparse.Namespace) -> int:
    if args.text and args.input is not None:
        raise ConfigError("give the input as TEXT arguments or as --input, not both")
    if args.input == "-":  # the usual spelling of stdin
        args.input = None
    pipeline = _load_backend(args, calibrated=not args.no_calibrate)
    if args.input is None and not args.text and sys.stdin.isatty():  # otherwise it waits on the terminal silently
        sys.stderr.write("lstm-nlp predict: reading lines from the terminal (end with Ctrl-D); "
                         "give --input FILE or pipe text in\n")
    stream = io.StringIO("".join(f"{text}\n" for text in args.text), newline="\n") if args.text else \
        open_lines(args.input, encoding_errors=args.encoding_errors)
    options = {"output_format": args.output_format, "probabilities": args.probabilities or None, "top_k": args.top_k}
    try:
        problem = _predict_option_problem(pipeline, args)
        if problem is not None:
            raise ConfigError(problem)
        lines = stream
        options_taken = TASKS[pipeline.model_type].predict_options
        if "input_format" in options_taken:  # taggers: the input must look like the --input-format
            lines = _checked_tagger_input(pipeline, stream, args)
        elif "output_format" in options_taken:  # text classifiers (forecasters check each number)
            lines = _checked_input(stream, args, tagger=False)
        if args.input_format in ("conll", "conllu"):
            outputs = pipeline.predict_blocks(lines, input_format=args.input_format, batch_size=args.batch_size,
                                              max_line_chars=args.max_line_chars, workers=args.workers,
                                              **{k: v for k, v in options.items() if v is not None})
        else:
            if args.input_format != "text":
                options["input_format"] = args.input_format
            outputs = pipeline.predict_lines(lines, batch_size=args.batch_size, max_line_chars=args.max_line_chars,
                                             workers=args.workers, **options)
        bar = None if args.no_progress else input_progress(stream, args.input)
        for line in outputs:
            _write(line + "\n")
            if bar is not None:
                bar.advance()
        if bar is not None:
            bar.close()
        _write("", flush=True)
        _output_complete()
    finally:
        if args.input or args.text:
            stream.close()
        elif stream is not sys.stdin:
            stream.detach()  # leave sys.stdin's buffer open (main() may run in-process)
    return 0


def _predict_option_problem(pipeline, args: argparse.Namespace) -> str | None:
    """An option the model cannot honour, named as the user typed it (the pipelines' own checks name
    their parameters), or ``None``."""
    task = TASKS[pipeline.model_type]
    if "input_format" not in task.predict_options:
        if args.input_format != "text":
            return f"--input-format {args.input_format} applies to {_takers('input_format')}; this {task.title} " \
                   "reads text lines"
        if args.probabilities or args.top_k:
            return (f"{'--probabilities' if args.probabilities else '--top-k'} applies to {_takers('top_k')}; a text "
                    "classifier's --output-format jsonl gives every class's probability")
        if args.output_format and "output_format" not in task.predict_options:
            return f"--output-format applies to {_takers('output_format')}; this {task.title} writes its forecasts"
        formats = task.output_formats()
        if args.output_format and args.output_format not in formats:
            return f"--output-format {args.output_format}: a {task.title} writes {' or '.join(map(repr, formats))}"
        return None
    from lstm_nlp.data.tag_writers import output_formats

    formats = output_formats(args.input_format)
    if args.output_format and args.output_format not in formats:
        return (f"--output-format {args.output_format} does not go with --input-format {args.input_format}; "
                f"give one of {', '.join(formats)}")
    if (args.probabilities or args.top_k) and args.output_format != "jsonl":
        return f"{'--probabilities' if args.probabilities else '--top-k'} is written in the jsonl output; add " \
               "--output-format jsonl"
    if args.top_k and pipeline.head != "crf":
        return "--top-k: the k best tag sequences need a CRF tagger (recipes: --head crf); this one has a softmax head"
    if args.backend == "onnx" and (args.top_k or (args.probabilities and pipeline.head == "crf")):
        return (f"{'--top-k' if args.top_k else '--probabilities'} of a CRF tagger (marginals, spans, k best "
                "sequences) needs --backend torch")
    return None


def _takers(option: str) -> str:
    """The tasks whose predictions take ``option`` (``"taggers and text classifiers"``), for messages."""
    return titles([task for task in TASKS.values() if option in task.predict_options])


def _checked_tagger_input(pipeline, stream, args: argparse.Namespace):
    """``stream`` with its first lines read ahead; refuses input that does not look like ``--input-format``
    (the sniffing the CoNLL readers of ``evaluate`` use) and CoNLL-U output a model's tags do not fit."""
    writes_conllu = args.input_format == "conllu" and args.output_format in (None, "conllu")
    if writes_conllu and pipeline.conllu_tags_problem():
        default = "" if args.output_format else " (the default --output-format with --input-format conllu)"
        raise ConfigError(f"--output-format conllu{default}: {pipeline.conllu_tags_problem()}; give "
                          "--output-format jsonl or slash")
    return _checked_input(stream, args)


def _checked_input(stream, args: argparse.Namespace, *, tagger: bool = True):
    """``stream`` with its first lines read ahead, refused when they clearly look like another kind of input."""
    from lstm_nlp.data.lines import PeekedLines
    from lstm_nlp.data.textfiles import SNIFF_LINES, input_kind_problem, sniff_lines

    lines = PeekedLines(stream, SNIFF_LINES, max_chars=args.max_line_chars)
    problem = input_kind_problem(sniff_lines(lines.head), args.input_format, args.input or "stdin", tagger=tagger)
    if problem is not None:
        raise ConfigError(problem)
    return lines


def format_metrics(metrics: dict) -> str:
    """Metrics as JSON, one line per top-level key (a confusion matrix stays one line, not one per number)."""
    body = ",\n".join(f"  {json.dumps(key)}: {json.dumps(value)}" for key, value in metrics.items())
    return "{\n" + body + "\n}" if body else "{}"


def cmd_evaluate(args: argparse.Namespace) -> int:
    if args.plots:
        from lstm_nlp.outputs import output_dir_problem

        problem = output_dir_problem(args.plots, option="--plots")
        if problem is not None:  # before loading the model and scoring the data
            raise ConfigError(problem)
    pipeline = _load_pipeline(args.model, args.device, args.precision, args.threads,
                              calibrated=not args.no_calibrate)
    _quiet_datasets()
    pipeline.progress, pipeline.progress_label = not args.no_progress, "evaluating"
    problem = _evaluate_data_problem(pipeline, args.data)
    if problem is not None:
        raise DataFormatError(problem, args.data)
    calibrated = hasattr(pipeline, "temperature")  # taggers and classifiers (not forecasters)
    try:
        dataset = pipeline.read_labelled(args.data, tag_column=args.tag_column, scheme=args.scheme)
        metrics = pipeline.evaluate(dataset, batch_size=args.batch_size,
                                    **({"calibration": True} if calibrated else {}))
    except DataFormatError as err:
        if err.path is not None:
            raise
        raise DataFormatError(str(err), args.data) from None  # e.g. gold tags the model does not know: name the file
    calibration = metrics.pop("calibration", None)
    if calibration is not None:
        metrics["temperature"] = pipeline.temperature
        metrics["calibration"] = {kind: {k: v for k, v in values.items() if k not in ("confidence", "correct")}
                                  for kind, values in calibration.items()}
        if args.plots:
            _write_reliability_diagrams(calibration, args.plots, args.data, pipeline.temperature)
    report = metrics.pop("report", None)
    if report:
        sys.stderr.write(f"{args.data}:\n{report}\n")
    _write(format_metrics({"data": str(args.data), **metrics}) + "\n", flush=True)
    _output_complete()
    return 0


def _write_reliability_diagrams(calibration: dict, folder: str, data: str, temperature: float) -> None:
    """``reliability_<kind>.png`` in ``folder`` for each kind of probability evaluated (token, span, class)."""
    from lstm_nlp.calibration import plot_reliability

    os.makedirs(folder, exist_ok=True)
    for kind, values in calibration.items():
        path = Path(folder) / f"reliability_{kind}.png"
        plot_reliability(values["confidence"], values["correct"], path,
                         title=f"{Path(data).name}: {kind} probabilities (temperature {temperature:.3g})")
        sys.stderr.write(f"wrote {path}\n")


def _evaluate_data_problem(pipeline, data: str) -> str | None:
    """Why ``data`` cannot score this model, known before reading it: span tags (NER, chunks) against a
    CoNLL-U file, whose UPOS/XPOS fields hold part-of-speech tags (the check predict's CoNLL-U output makes)."""
    from pathlib import Path

    from lstm_nlp.pipelines.tagging import is_conllu

    problem = getattr(pipeline, "conllu_tags_problem", lambda: None)()
    if problem is None or not is_conllu(data) or not Path(data).exists():
        return None
    return f"a CoNLL-U file, but {problem}; score this model on a CoNLL column file"


def _quiet_datasets() -> None:
    """Hides the ``datasets`` progress bars ("Generating train split" while reading a test file)."""
    import datasets

    datasets.disable_progress_bars()
    datasets.logging.set_verbosity_error()


def cmd_export(args: argparse.Namespace) -> int:
    from lstm_nlp.export.onnx import export_onnx
    from lstm_nlp.outputs import output_file_problem
    from lstm_nlp.pipelines import load_pipeline

    if args.output is None:
        from lstm_nlp.export.onnx_session import ONNX_NAME

        args.output = os.path.join(args.model, ONNX_NAME)
    problem = output_file_problem(args.output, option="--output")
    if problem is not None:  # before loading the model, not after the export's work
        raise ConfigError(problem)
    path = export_onnx(load_pipeline(args.model), args.output)
    sys.stderr.write(f"wrote {path} ({path.stat().st_size / 1e6:.1f} MB); run it with "
                     f"lstm_nlp.export.onnx.OnnxPipeline({str(path)!r}, {args.model!r})\n")
    _output_complete()
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    try:
        import fastapi  # noqa: F401
        import prometheus_client  # noqa: F401
        import uvicorn  # noqa: F401
    except ImportError as err:
        raise ConfigError(f"serve needs the [serve] extra ({err.name} is not installed): "
                          'pip install "lstm_nlp[serve]"') from None
    from lstm_nlp.bundle_header import read_header
    from lstm_nlp.serving.app import create_app
    from lstm_nlp.serving.limits import Limits
    from lstm_nlp.serving.server import serve

    model_type = read_header(args.model)["model_type"]  # a missing or broken bundle fails here, before listening
    if not get_task(model_type, source=args.model).servable:
        servable = [task for task in TASKS.values() if task.servable]
        raise ConfigError(f"serve takes {titles(servable)}; {args.model} is a {model_type}")
    limits = Limits(max_body_bytes=args.max_body_bytes, max_texts=args.max_texts, max_text_chars=args.max_text_chars,
                    request_timeout_s=args.request_timeout, max_queue=args.max_queue, max_top_k=args.max_top_k)
    if args.backend == "onnx":
        from lstm_nlp.export.onnx_session import check_exported

        check_exported(args.model)  # before listening, as a missing bundle
    app = create_app(lambda: _load_backend(args), limits=limits,
                     max_batch_tokens=args.max_batch_tokens, max_wait_ms=args.max_wait_ms,
                     batch_size=args.batch_size)
    code = serve(app, host=args.host, port=args.port, log_level=args.log_level)
    if code == 2:
        raise ConfigError(f"cannot load {args.model}: {app.state.worker.load_error}")
    return code


def cmd_rank(args: argparse.Namespace) -> int:
    """Ranks the input by uncertainty and writes the least sure as annotation tasks (``lstm-nlp rank``)."""
    from lstm_nlp.outputs import output_file_problem

    if args.output:
        problem = output_file_problem(args.output, option="--output")
        if problem is not None:  # before loading the model
            raise ConfigError(problem)
    pipeline = _load_pipeline(args.model, args.device, args.precision, args.threads,
                              calibrated=not args.no_calibrate)
    tagger = hasattr(pipeline, "predict_tokens")
    if not tagger and not hasattr(pipeline, "predict_examples"):
        raise ConfigError(f"rank takes taggers and text classifiers; {args.model} is a "
                          f"{getattr(pipeline, 'task_name', 'model')}")
    if tagger and pipeline.label_scheme == "none":
        raise ConfigError("rank writes span pre-annotations (entities, chunks); this tagger's tags are per token "
                          "(e.g. part of speech), which Label Studio and doccano span tasks do not hold")
    if not tagger and args.input_format != "text":
        raise ConfigError(f"--input-format {args.input_format} applies to taggers; a text classifier reads text lines")
    texts, lines, offsets = _rank_inputs(args, tagger)
    if args.top is not None and args.top > len(texts):
        sys.stderr.write(f"lstm-nlp rank: --top {args.top} is more than the {len(texts)} input(s); writing all "
                         f"{len(texts)}\n")
    from lstm_nlp.pipelines.ranking import annotation_tasks, rank

    inputs = [[text[a:b] for a, b in spans] for text, spans in zip(texts, offsets)] if tagger else texts
    ranked = rank(pipeline, inputs, by=args.by, aggregate=args.aggregate, top=args.top, batch_size=args.batch_size)
    tasks = annotation_tasks(pipeline, texts, ranked, format=args.format, offsets=offsets, by=args.by, lines=lines,
                             model_version=f"lstm_nlp {Path(args.model).name}", from_name=args.from_name,
                             to_name=args.to_name, batch_size=args.batch_size)
    if args.output and args.output.lower().endswith(".json"):
        body = json.dumps(tasks, ensure_ascii=False, indent=1) + "\n"
    else:
        body = "".join(json.dumps(task, ensure_ascii=False) + "\n" for task in tasks)
    if args.output:
        Path(args.output).write_text(body, encoding="utf-8")
        sys.stderr.write(f"wrote {len(tasks)} {args.format} task(s) to {args.output}\n")
    else:
        _write(body, flush=True)
    _output_complete()
    return 0


def _rank_inputs(args: argparse.Namespace, tagger: bool) -> tuple[list[str], list[int], list | None]:
    """``(texts, their line numbers, token offsets (taggers) or None)`` of the non-blank input lines."""
    from lstm_nlp.data.annotations import spaced_offsets, token_offsets
    from lstm_nlp.pipelines.base import clean_lines

    stream = open_lines(args.input)
    try:
        texts, lines = [], []
        for number, line in enumerate(clean_lines(stream), start=1):
            if line.strip():
                texts.append(line)
                lines.append(number)
    finally:
        if args.input:
            stream.close()
    if not texts:
        raise DataFormatError("no text to rank (the input is empty or only blank lines)", args.input or "stdin")
    if not tagger:
        return texts, lines, None
    if args.input_format == "tokens":
        joined = [spaced_offsets(line.split()) for line in texts]
        return [text for text, _ in joined], lines, [spans for _, spans in joined]
    return texts, lines, [token_offsets(text) for text in texts]


def _output_complete() -> None:
    """Everything is written: a Ctrl-C from here on is ignored (:func:`main` restores the handler).

    Otherwise one arriving while the command's objects are freed, or while the interpreter shuts
    down, ends the process by SIGINT or prints "Exception ignored in ... KeyboardInterrupt" from a
    finalizer, after a complete output.
    """
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, signal.SIG_IGN)


def cmd_train(args: argparse.Namespace) -> int:
    """Runs the recipe as its script runs: its own options, messages (``lstm-nlp train RECIPE: ...``) and exit codes."""
    import importlib

    from lstm_nlp.recipe_kit import run as run_recipe

    try:
        module = importlib.import_module(f"lstm_nlp.recipes.{RECIPES[args.recipe][0]}")
    except ModuleNotFoundError as err:
        if err.name != "lstm_nlp.recipes":
            raise
        sys.stderr.write("lstm-nlp train: error: this install of lstm_nlp has no lstm_nlp.recipes (an editable "
                         "install older than the packaged recipes?); reinstall it: pip install -e . in the checkout\n")
        return 2
    argv = sys.argv
    sys.argv = [f"lstm-nlp train {args.recipe}", *args.options]  # the recipe's prog and its options
    try:
        run_recipe(module.main)
    finally:
        sys.argv = argv
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "train":  # the recipe has its own error handling and exit codes
        return cmd_train(args)
    handler = {"predict": cmd_predict, "evaluate": cmd_evaluate, "export": cmd_export,
               "serve": cmd_serve, "rank": cmd_rank}[args.command]
    in_main_thread = threading.current_thread() is threading.main_thread()
    previous_sigint = signal.getsignal(signal.SIGINT) if in_main_thread else None
    try:
        return handler(args)
    except OutputError as err:  # e.g. `> /dev/full`
        _silence_stdout()
        sys.stderr.write(f"lstm-nlp {args.command}: error: {err}\n")
        return 1
    except LstmNlpError as err:
        sys.stderr.write(f"lstm-nlp {args.command}: error: {err}\n")
        return 2
    except BrokenPipeError:  # e.g. piped into `head`
        _silence_stdout()
        return 0
    except KeyboardInterrupt:  # Ctrl-C: no traceback, the shell's code for SIGINT
        sys.stderr.write(f"lstm-nlp {args.command}: interrupted\n")
        return 130
    finally:
        gc.unfreeze()  # undo _load_pipeline's freeze when main() is called in-process
        if previous_sigint is not None:  # main() may run in-process: leave Ctrl-C as it was
            signal.signal(signal.SIGINT, previous_sigint)


def run() -> None:
    """The ``lstm-nlp`` command: :func:`main`, then exit with its code.

    After Ctrl-C the process ends at once with 130: a second KeyboardInterrupt raised while the
    interpreter shuts down (torch's native code can leave one behind) would otherwise end it
    by SIGINT with a traceback. A Ctrl-C once the output is complete is ignored (see
    :func:`_output_complete`), here through the interpreter's shutdown.
    """
    try:
        code = main()
    except KeyboardInterrupt:  # in the instant between main() returning and this line
        code = 130
    if code != 130:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
    if code == 130:
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except (OSError, ValueError, RuntimeError):  # a closed or broken stream: nothing left to save
                pass
        os._exit(130)
    sys.exit(code)


if __name__ == "__main__":
    run()
