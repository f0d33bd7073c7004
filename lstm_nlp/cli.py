"""``lstm-nlp``: evaluate and predict with saved model bundles.

    lstm-nlp predict  --model runs/pos/model < sentences.txt
    lstm-nlp evaluate --model runs/pos/model --data data/pos/test.conllu
    lstm-nlp predict  --model runs/pos/model --precision bf16 < sentences.txt   # faster on AVX-512 BF16 CPUs

Training is done by the recipes (``python recipes/pos_tagger.py --help``).
"""

from __future__ import annotations

import argparse
import gc
import json
import sys
from collections.abc import Sequence

from lstm_nlp import __version__
from lstm_nlp.errors import DataFormatError, LstmNlpError


def _add_common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", required=True, help="model bundle directory (a recipe's OUTPUT_DIR/model)")
    parser.add_argument("--device", default="cpu", help="cpu, cuda, cuda:N, mps or auto")
    parser.add_argument("--batch-size", type=int, default=256, help="sentences per inference batch")
    parser.add_argument("--precision", choices=["fp32", "bf16"], default="fp32",
                        help="inference precision: bf16 (bf16 weights + autocast) is ~1.6-1.9x faster on CPUs with "
                             "AVX-512 BF16 or AMX and on recent GPUs, with predictions that may differ at a few "
                             "positions; usually slower on CPUs without native bf16 (see docs/benchmarks.md)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="lstm-nlp", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"lstm_nlp {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)

    predict = commands.add_parser(
        "predict", help="tag / classify raw text lines from stdin",
        description="Reads raw text lines from stdin and prints one line per input, in input order: "
                    "'token/TAG token/TAG ...' for taggers (spaCy English tokenization; an empty input line gives "
                    "an empty output line), 'label<TAB>probability' for classifiers, the next values for "
                    "forecasters. Input is read in chunks and batched by length, so any input size works.")
    _add_common(predict)
    predict.add_argument("--input", help="read lines from this file instead of stdin")

    evaluate = commands.add_parser(
        "evaluate", help="score a model on a labelled file; prints metrics as JSON",
        description="Prints the metrics of a saved model on a labelled file as JSON on stdout "
                    "(the seqeval report goes to stderr).")
    _add_common(evaluate)
    evaluate.add_argument("--data", required=True, help="labelled data (e.g. a .conllu file)")
    evaluate.add_argument("--tag-column", choices=["upos", "xpos"], default=None,
                          help="CoNLL-U tag column (default: the one the model was trained on)")
    return parser


def _load_pipeline(path: str, device: str, precision: str = "fp32"):
    from lstm_nlp.inference import prepare_for_inference
    from lstm_nlp.pipelines import load_pipeline
    from lstm_nlp.training.device import resolve_device

    pipeline = load_pipeline(path, device=resolve_device(device))
    prepare_for_inference(pipeline.model, precision=precision)
    # Everything loaded so far (torch, spaCy, the model) lives until exit: keep it out of every
    # later garbage collection, which would otherwise rescan ~300k objects each time.
    gc.freeze()
    return pipeline


def cmd_predict(args: argparse.Namespace) -> int:
    pipeline = _load_pipeline(args.model, args.device, args.precision)
    try:
        stream = open(args.input, encoding="utf-8", errors="replace") if args.input else sys.stdin
    except OSError as err:  # missing file, a directory, no permission
        raise DataFormatError(f"cannot read the input ({err.strerror})", args.input) from None
    if not args.input and hasattr(stream, "reconfigure"):  # undecodable bytes -> U+FFFD, as with --input
        stream.reconfigure(encoding="utf-8", errors="replace")
    try:
        for line in pipeline.predict_lines(stream, batch_size=args.batch_size):
            sys.stdout.write(line + "\n")
    finally:
        if args.input:
            stream.close()
    return 0


def cmd_evaluate(args: argparse.Namespace) -> int:
    pipeline = _load_pipeline(args.model, args.device, args.precision)
    dataset = pipeline.read_labelled(args.data, tag_column=args.tag_column)
    metrics = pipeline.evaluate(dataset, batch_size=args.batch_size)
    report = metrics.pop("report", None)
    if report:
        sys.stderr.write(report + "\n")
    print(json.dumps(metrics, indent=2))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    handler = {"predict": cmd_predict, "evaluate": cmd_evaluate}[args.command]
    try:
        return handler(args)
    except LstmNlpError as err:
        sys.stderr.write(f"lstm-nlp {args.command}: error: {err}\n")
        return 2
    except BrokenPipeError:  # e.g. piped into `head`
        return 0
    finally:
        gc.unfreeze()  # undo _load_pipeline's freeze when main() is called in-process


if __name__ == "__main__":
    sys.exit(main())
