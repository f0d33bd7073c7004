"""Inference throughput: ``predict`` end to end vs the model forward alone, fp32 vs bf16.

    python benchmarks/bench_inference.py            # POS models trained once with the recipe (cached), EWT dev
    python benchmarks/bench_inference.py --smoke

POS: the recipe's model (``--epochs 3``, cached in ``$LSTM_NLP_BENCH_CACHE``, or ``--pos-model DIR``) and its
word-level variant on the raw EWT dev text: ``predict_lines`` in-process, the forward alone over pre-built
batches, ``lstm-nlp predict`` as a subprocess, and dev accuracy, per ``--precision``. IMDB: untrained weights
at the recipe's sizes on raw reviews (speed only).
"""

from __future__ import annotations

import argparse
import copy
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import common
import torch
from common import BenchResult, compare, markdown_table, median, run

from lstm_nlp.inference import bf16_is_native, prepare_for_inference
from lstm_nlp.pipelines import load_pipeline

PRECISIONS = ("fp32", "bf16")
HEADERS = ["precision", "predict tokens/s (in-process)", "forward-only tokens/s", "predict / forward",
           "predict vs fp32", "forward vs fp32"]


def pos_model(args: argparse.Namespace, extra: list[str]) -> tuple[Path, str]:
    """A POS bundle trained once with the recipe (its defaults + ``extra``), cached; or ``--pos-model``."""
    if args.pos_model and not extra:
        return Path(args.pos_model), common.portable(args.pos_model)
    epochs = 1 if args.smoke or args.quick else 3
    name = f"pos_ewt_recipe_e{epochs}{'_wordonly' if extra else ''}"
    out = Path(tempfile.mkdtemp()) if args.smoke else common.CACHE_DIR / name
    if not (out / "model" / "config.json").exists():
        train, dev = common.ewt_paths(args.smoke)
        common.run_recipe("pos_tagger", out, "--train", str(train), "--dev", str(dev), "--epochs", str(epochs), *extra)
    return out / "model", f"recipes/pos_tagger.py defaults {' '.join(extra)} --epochs {epochs} ({common.portable(out)})"


def measure(pipeline, texts: list[str], batches: list[dict], args, repeats: int, tokens: int | None = None):
    """({precision: {"predict", "forward"} tokens/s}, {precision: model}) from interleaved repeats of
    ``predict_lines`` (the work: the tokens printed, or ``tokens``) and of the forward alone over ``batches``."""
    def predict(model: torch.nn.Module):
        def run(_) -> int:
            pipeline.model = model
            out = list(pipeline.predict_lines(texts, batch_size=args.batch_size))
            return tokens or sum(len(line.split()) for line in out)
        return run

    def forward(model: torch.nn.Module):
        def run(_) -> int:
            with torch.inference_mode():
                for batch in batches:
                    model(**{k: v for k, v in batch.items() if k not in ("lengths", "index", "labels")})
            return sum(int(b["mask"].sum()) for b in batches)
        return run

    models = {p: prepare_for_inference(copy.deepcopy(pipeline.model), precision=p) for p in PRECISIONS}
    runs = {f"{p} {kind}": wrap(model) for p, model in models.items() for kind, wrap in
            (("predict", predict), ("forward", forward))}
    original, timings = pipeline.model, compare(runs, batches, repeats)
    pipeline.model = original
    return {p: {k: timings[f"{p} {k}"].rate for k in ("predict", "forward")} for p in PRECISIONS}, models


def cli_tokens_per_s(model_dir: Path, lines: list[str], precision: str, runs: int) -> float:
    """Tokens/s of ``lstm-nlp predict`` on the lines as a file, start-up included, same threads."""
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "in.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
        command = [sys.executable, "-m", "lstm_nlp.cli", "predict", "--model", str(model_dir), "--input",
                   str(Path(tmp) / "in.txt"), "--precision", precision]
        rates = []
        for _ in range(runs):
            start = time.perf_counter()
            done = subprocess.run(command, capture_output=True, text=True, check=True,
                                  env={**os.environ, "OMP_NUM_THREADS": str(torch.get_num_threads())})
            rates.append(len(done.stdout.split()) / (time.perf_counter() - start))
    return median(rates)


def rows(speeds: dict, extra: dict[str, list[str]]) -> list[list[str]]:
    base = speeds["fp32"]
    return [[p, f"{s['predict']:,.0f}", f"{s['forward']:,.0f}", f"{s['predict'] / s['forward']:.2f}",
             f"{s['predict'] / base['predict']:.2f}x", f"{s['forward'] / base['forward']:.2f}x", *extra[p]]
            for p, s in speeds.items()]


def pos_section(args: argparse.Namespace, result: BenchResult, repeats: int, extra: list[str]) -> dict:
    """One POS model's table; returns its speeds and accuracies."""
    model_dir, provenance = pos_model(args, extra)
    dev_path = common.ewt_paths(args.smoke)[1]
    pipeline = load_pipeline(model_dir, device="cpu")
    lines = [line[9:] for line in dev_path.read_text(encoding="utf-8").splitlines() if line.startswith("# text = ")]
    dev = pipeline.read_labelled(dev_path)
    batches = list(pipeline.loader(pipeline.encode(dev, with_labels=False), batch_size=args.batch_size))
    speeds, models = measure(pipeline, lines, batches, args, repeats)
    accuracy = {}
    for name, model in models.items():
        pipeline.model = model
        accuracy[name] = pipeline.evaluate(dev, batch_size=args.batch_size)["accuracy"]
    cli = {p: cli_tokens_per_s(model_dir, lines, p, 1 if args.smoke or args.quick else 3) for p in PRECISIONS}
    change = {p: accuracy[p] - accuracy["fp32"] for p in PRECISIONS}
    config, cells = pipeline.model.config, {p: [f"{cli[p]:,.0f}", f"{accuracy[p]:.2%} ({change[p]:+.2%})"]
                                            for p in PRECISIONS}
    result.add_section(
        f"Inference: POS tagger on EWT dev{' (' + ' '.join(extra) + ')' if extra else ''}",
        f"Model: {provenance}; word embedding {config.embedding_dim}, BiLSTM {config.num_layers}x{config.hidden_size}, "
        f"char encoder {config.char_encoder}, head {config.head}. {len(lines)} raw dev sentences, batch "
        f"{args.batch_size}, median of {repeats} interleaved repeats. CPU native bf16: {bf16_is_native('cpu')}.\n\n"
        + markdown_table([*HEADERS, "lstm-nlp predict tokens/s (subprocess, incl. start-up)", "dev accuracy (change)"],
                         rows(speeds, cells)))
    return {"speeds": speeds, "accuracy": accuracy, "cli": cli}


def imdb_section(args: argparse.Namespace, result: BenchResult, repeats: int) -> None:
    from lstm_nlp.data import Vocab
    from lstm_nlp.data.tokenizers import TextTokenizer
    from lstm_nlp.models.classifier import ClassifierConfig, TextClassifier
    from lstm_nlp.pipelines.classification import ClassificationPipeline

    texts = common.imdb_texts(smoke=args.smoke)[0]
    texts = [t.replace("\n", " ") for t in texts[::max(1, len(texts) // (40 if args.smoke or args.quick else 500))]]
    r, tokenizer = common.recipe_defaults("imdb_sentiment"), TextTokenizer("spacy")
    words = Vocab.build(tokenizer.pipe(texts), min_freq=1)
    torch.manual_seed(0)
    model = TextClassifier(ClassifierConfig(vocab_size=len(words), num_labels=2, embedding_dim=r.embedding_dim,
                                            hidden_size=r.hidden_size, num_layers=r.num_layers, pooling=r.pooling))
    pipeline = ClassificationPipeline(model, words, Vocab.build_labels([["neg", "pos"]]), tokenizer,
                                      max_length=r.max_length)
    examples = pipeline.featurize(texts)
    tokens = sum(len(e["token_ids"]) for e in examples)  # predict_lines prints labels: count the model's inputs
    speeds, _ = measure(pipeline, texts, list(pipeline.loader(examples, batch_size=args.batch_size)), args, repeats,
                        tokens)
    result.add_section(
        "Inference: IMDB classifier",
        f"Model: untrained weights at the IMDB recipe's sizes (embedding {r.embedding_dim}, BiLSTM "
        f"{r.num_layers}x{r.hidden_size}, {r.pooling} pooling, max_length {r.max_length}); {len(texts)} raw reviews "
        f"(both classes), {tokens / len(texts):.0f} tokens each on average, batch {args.batch_size}. Tokens/s counts "
        "the model's input tokens (after truncation).\n\n"
        + markdown_table(HEADERS, rows(speeds, {p: [] for p in PRECISIONS})))
    result.metrics["imdb_inference"] = speeds


def main(argv=None) -> BenchResult:
    parser = common.base_parser(__doc__.split("\n")[0])
    parser.add_argument("--pos-model", help="POS bundle directory (default: train once with the recipe, cached)")
    parser.add_argument("--batch-size", type=int, default=256, help="inference batch size (the CLI's default)")
    args = parser.parse_args(argv)
    repeats = common.setup(args)
    result = BenchResult("inference")
    pos = pos_section(args, result, repeats, [])
    word = pos_section(args, result, max(1, repeats - 2), ["--char-encoder", "none"])
    imdb_section(args, result, repeats)
    speed, accuracy = pos["speeds"], pos["accuracy"]
    ratio = {p: (speed[p]["predict"] / speed["fp32"]["predict"], speed[p]["forward"] / speed["fp32"]["forward"])
             for p in PRECISIONS}
    result.sections.insert(0, {"title": "Which inference precision to use", "markdown": (
        "Speed-ups over fp32 for the POS recipe's default model (EWT dev, same run; the advice beside it in "
        "docs/benchmarks.md):\n\n" + markdown_table(
            ["option", "predict end to end", "forward only", "accuracy change (points)"],
            [[p, f"{ratio[p][0]:.2f}x", f"{ratio[p][1]:.2f}x", f"{100 * (accuracy[p] - accuracy['fp32']):+.2f}"]
             for p in PRECISIONS]))})
    result.metrics.update({
        "pos_inference": speed, "pos_accuracy": accuracy, "pos_cli_tokens_per_s": pos["cli"], "pos_wordonly": word,
        "pos_predict_over_forward": speed["fp32"]["predict"] / speed["fp32"]["forward"],
        "pos_bf16_predict_speedup": ratio["bf16"][0], "pos_bf16_forward_speedup": ratio["bf16"][1],
        "pos_bf16_accuracy_change_points": 100 * (accuracy["bf16"] - accuracy["fp32"])})
    result.target("`predict` end to end on EWT dev >= 80% of forward-only throughput", "pos_predict_over_forward",
                  ">= 0.8", "{:.0%}")
    result.target("`--precision bf16` >= 1.5x faster than fp32 (predict end to end)", "pos_bf16_predict_speedup",
                  ">= 1.5", "{:.2f}x")
    result.target("`--precision bf16` accuracy change <= 0.3 points", "pos_bf16_accuracy_change_points",
                  "|x| <= 0.3", "{:+.2f} points")
    result.emit(args)
    return result


if __name__ == "__main__":
    run(main)
