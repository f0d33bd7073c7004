"""Inference throughput: ``predict`` end to end vs the model forward alone, fp32 vs bf16.

    python benchmarks/bench_inference.py            # POS model trained once with the recipe (cached), EWT dev
    python benchmarks/bench_inference.py --smoke

POS: a model trained with ``recipes/pos_tagger.py`` (its defaults, ``--epochs 3``; trained on the
first run and cached in ``$LSTM_NLP_BENCH_CACHE``, or ``--pos-model DIR``). Inputs: the raw text
of the EWT dev sentences (``# text =`` lines), one per line, as ``lstm-nlp predict`` reads them.

* **predict, in-process**: ``pipeline.predict_lines`` (spaCy tokenization, numericalization,
  length-sorted batches, forward, decoding, formatting), tokens = spaCy tokens printed;
* **forward only**: the model's forward over the dev set's pre-built batches (gold tokenization,
  batch 256, sorted by length), no decoding;
* **lstm-nlp predict (subprocess)**: the CLI on a file, wall time including Python start-up and
  model loading;
* **accuracy**: ``pipeline.evaluate`` on EWT dev at each precision.

IMDB: ``ClassificationPipeline`` (the IMDB recipe's model sizes; weights untrained unless
``--imdb-model DIR`` is given, so only speed is reported) on raw reviews.
"""

from __future__ import annotations

import copy
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch
from torch import nn

from common import (CACHE_DIR, REPO_ROOT, BenchResult, base_parser, ewt_paths, fmt, imdb_texts, markdown_table, median,
                    portable, recipe_defaults, repeats, setup)
from lstm_nlp.inference import bf16_is_native, prepare_for_inference
from lstm_nlp.pipelines import load_pipeline

POS_EPOCHS = 3
CLI_FLAGS = {"fp32": [], "bf16": ["--precision", "bf16"]}
NON_INPUTS = ("lengths", "index", "labels")


# ---------------------------------------------------------------------- models
def run_recipe(name: str, argv: list[str]) -> None:
    """Runs ``recipes/<name>.py`` in-process (its printed report is discarded)."""
    import contextlib
    import importlib.util
    import io

    spec = importlib.util.spec_from_file_location(f"_recipe_{name}", REPO_ROOT / "recipes" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    with contextlib.redirect_stdout(io.StringIO()):
        module.main(argv)


def pos_model(args, extra_args: tuple[str, ...] = (), tag: str = "") -> tuple[Path, str]:
    """A POS bundle trained once with the recipe (its defaults + ``extra_args``), cached; or ``--pos-model``."""
    if args.pos_model and not extra_args:
        return Path(args.pos_model), f"given: {portable(args.pos_model)}"
    train, dev = ewt_paths(args.smoke)
    described = f"recipes/pos_tagger.py defaults{' ' + ' '.join(extra_args) if extra_args else ''}"
    if args.smoke:
        out = Path(tempfile.mkdtemp(prefix="bench_pos_"))
        run_recipe("pos_tagger", ["--output-dir", str(out), "--epochs", "2", "--no-progress", "--device", "cpu",
                                  *extra_args])
        return out / "model", f"{described}, bundled sample, 2 epochs"
    out = CACHE_DIR / f"pos_ewt_recipe_e{POS_EPOCHS}{tag}"
    if not (out / "model" / "config.json").exists():
        start = time.perf_counter()
        run_recipe("pos_tagger", ["--train", str(train), "--dev", str(dev), "--output-dir", str(out),
                                  "--epochs", str(POS_EPOCHS), "--no-progress", "--device", "cpu", *extra_args])
        (out / "trained_seconds.txt").write_text(f"{time.perf_counter() - start:.0f}")
    return out / "model", f"{described}, --epochs {POS_EPOCHS}, EWT train (cached in {portable(out)})"


def dev_text_lines(path: Path) -> list[str]:
    lines = [line[len("# text = "):] for line in path.read_text(encoding="utf-8").splitlines()
             if line.startswith("# text = ")]
    if not lines:
        raise SystemExit(f"{path} has no '# text = ' lines")
    return lines


# ---------------------------------------------------------------------- timing
def forward_only(model: nn.Module, batches: list[dict]) -> tuple[int, float]:
    tokens = sum(int(b["mask"].sum()) for b in batches)
    start = time.perf_counter()
    with torch.inference_mode():
        for batch in batches:
            model(**{k: v for k, v in batch.items() if k not in NON_INPUTS})
    return tokens, time.perf_counter() - start


def predict_in_process(pipeline, lines: list[str], batch_size: int, tokens: int | None = None) -> tuple[int, float]:
    """``pipeline.predict_lines`` over ``lines``: (tokens, seconds); tokens = those printed unless given."""
    start = time.perf_counter()
    out = list(pipeline.predict_lines(lines, batch_size=batch_size))
    seconds = time.perf_counter() - start
    return (tokens if tokens is not None else sum(len(line.split()) for line in out)), seconds


def cli_predict(model_dir: Path, input_file: Path, variant: str) -> tuple[int, float]:
    command = [sys.executable, "-m", "lstm_nlp.cli", "predict", "--model", str(model_dir), "--input", str(input_file),
               *CLI_FLAGS[variant]]
    env = {**os.environ, "OMP_NUM_THREADS": str(torch.get_num_threads())}  # same threads as in-process
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, check=False, env=env)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise RuntimeError(f"lstm-nlp predict failed: {done.stderr[-2000:]}")
    return sum(len(line.split()) for line in done.stdout.splitlines()), seconds


def measure_variants(pipeline, variants: dict, lines, batches, batch_size: int, n_repeats: int,
                     predict_tokens: int | None = None) -> dict:
    """Interleaved repeats of predict (in-process) and forward-only for each variant -> median tokens/s."""
    original = pipeline.model
    samples = {name: {"predict": [], "forward": []} for name in variants}
    for repeat in range(n_repeats + 1):  # repeat 0: warm-up
        for name, model in variants.items():
            pipeline.model = model
            p_tokens, p_seconds = predict_in_process(pipeline, lines, batch_size, predict_tokens)
            f_tokens, f_seconds = forward_only(model, batches)
            if repeat:
                samples[name]["predict"].append(p_tokens / p_seconds)
                samples[name]["forward"].append(f_tokens / f_seconds)
    pipeline.model = original
    return {name: {k: median(v) for k, v in s.items()} for name, s in samples.items()}


def precision_variants(model: nn.Module) -> dict:
    """The precisions the package offers (``--precision``), each on its own copy of ``model``."""
    return {name: prepare_for_inference(copy.deepcopy(model), precision=name) for name in CLI_FLAGS}


# ---------------------------------------------------------------------- sections
def pos_section(args, result: BenchResult, n_repeats: int, *, variant: str = "", extra_args: tuple[str, ...] = (),
                tag: str = "") -> None:
    """One POS model's inference table; the recipe-default model (``variant == ""``) gives the acceptance figures."""
    model_dir, provenance = pos_model(args, extra_args, tag)
    _, dev_path = ewt_paths(args.smoke)
    pipeline = load_pipeline(model_dir, device="cpu")
    lines = dev_text_lines(dev_path)
    dev = pipeline.read_labelled(dev_path)
    batches = list(pipeline.loader(pipeline.encode(dev, with_labels=False), batch_size=args.batch_size))
    variants = precision_variants(pipeline.model)
    speeds = measure_variants(pipeline, variants, lines, batches, args.batch_size, n_repeats)

    start = time.perf_counter()
    pipeline.tokenize(lines)
    tokenize_seconds = time.perf_counter() - start
    accuracy = {}
    original = pipeline.model
    for name, model in variants.items():
        pipeline.model = model
        accuracy[name] = pipeline.evaluate(dev, batch_size=args.batch_size)["accuracy"]
    pipeline.model = original

    cli = {}
    with tempfile.TemporaryDirectory() as tmp:
        input_file = Path(tmp) / "dev.txt"
        input_file.write_text("\n".join(lines) + "\n", encoding="utf-8")
        for name in (("fp32",) if args.smoke else CLI_FLAGS):
            try:
                runs = [cli_predict(model_dir, input_file, name) for _ in range(1 if args.smoke else 3)]
                cli[name] = median([t / s for t, s in runs])
            except RuntimeError as err:
                result.notes.append(f"CLI predict {' '.join(CLI_FLAGS[name])} failed: {err}")

    base = speeds["fp32"]
    rows = []
    for name, s in speeds.items():
        rows.append([name, fmt(s["predict"]), fmt(s["forward"]), f"{s['predict'] / s['forward']:.2f}",
                     f"{s['predict'] / base['predict']:.2f}x", f"{s['forward'] / base['forward']:.2f}x",
                     fmt(cli.get(name)) if name in cli else "-",
                     f"{100 * accuracy[name]:.2f}%", f"{100 * (accuracy[name] - accuracy['fp32']):+.2f}"])
    config = pipeline.model.config
    result.add_section(
        f"Inference: POS tagger on EWT dev{' (' + variant + ')' if variant else ''}",
        f"Model: {provenance}; word embedding {config.embedding_dim}, BiLSTM {config.num_layers}x{config.hidden_size}, "
        f"char encoder {getattr(config, 'char_encoder', 'none')}, head {getattr(config, 'head', 'softmax')}. "
        f"{len(lines)} raw dev sentences, batch {args.batch_size}, median of {n_repeats} interleaved repeats. "
        f"spaCy tokenization alone of these lines: {tokenize_seconds:.2f} s. CPU native bf16: "
        f"{bf16_is_native('cpu')}.\n\n"
        + markdown_table(["precision", "predict tokens/s (in-process)", "forward-only tokens/s",
                          "predict / forward", "predict vs fp32", "forward vs fp32", "lstm-nlp predict tokens/s "
                          "(subprocess, incl. start-up)", "dev accuracy", "change (points)"], rows))
    if variant:
        result.metrics[f"pos_{tag.strip('_')}"] = {"speeds": speeds, "accuracy": accuracy, "cli": cli}
        return
    result.metrics.update({
        "pos_inference": speeds, "pos_accuracy": accuracy, "pos_cli_tokens_per_s": cli,
        "pos_predict_over_forward": base["predict"] / base["forward"],
        "pos_bf16_predict_speedup": speeds["bf16"]["predict"] / base["predict"],
        "pos_bf16_forward_speedup": speeds["bf16"]["forward"] / base["forward"],
        "pos_bf16_accuracy_change_points": 100 * (accuracy["bf16"] - accuracy["fp32"]),
    })


def imdb_section(args, result: BenchResult, n_repeats: int) -> None:
    try:
        from lstm_nlp.data.tokenizers import TextTokenizer
        from lstm_nlp.models.classifier import ClassifierConfig, TextClassifier
        from lstm_nlp.pipelines.classification import ClassificationPipeline
    except ImportError as err:
        result.notes.append(f"IMDB inference skipped: {err}")
        return
    from lstm_nlp.data import Vocab

    texts, gold = imdb_texts(smoke=args.smoke)
    step = max(1, len(texts) // (40 if args.smoke else args.imdb_reviews))
    texts = [t.replace("\n", " ") for t in texts[::step]]  # both classes (the file is sorted by label)
    gold = gold[::step]
    if args.imdb_model and not (Path(args.imdb_model) / "config.json").exists():
        result.notes.append(f"--imdb-model {portable(args.imdb_model)} has no bundle (yet): untrained IMDB model used")
        args.imdb_model = None
    if args.imdb_model:
        pipeline = load_pipeline(args.imdb_model, device="cpu")
        provenance = f"trained bundle {portable(args.imdb_model)}"
    else:
        recipe = recipe_defaults("imdb_sentiment")
        tokenizer = TextTokenizer("spacy")
        words = Vocab.build(tokenizer.pipe(texts), min_freq=1)
        sizes = {k: getattr(recipe, k) for k in ("embedding_dim", "hidden_size", "num_layers", "pooling")
                 if recipe is not None and hasattr(recipe, k)}
        torch.manual_seed(0)
        model = TextClassifier(ClassifierConfig(vocab_size=len(words), num_labels=2, **sizes))
        pipeline = ClassificationPipeline(model, words, Vocab.build_labels([["neg", "pos"]]), tokenizer,
                                          max_length=getattr(recipe, "max_length", None) if recipe else None)
        provenance = ("untrained weights at the IMDB recipe's sizes" if recipe else
                      "untrained weights at ClassifierConfig defaults (no IMDB recipe yet)")
    examples = pipeline.featurize(texts)
    batches = list(pipeline.loader(examples, batch_size=args.batch_size))
    variants = precision_variants(pipeline.model)
    tokens = sum(len(e["token_ids"]) for e in examples)  # predict_lines prints labels: count the model's inputs
    speeds = measure_variants(pipeline, variants, texts, batches, args.batch_size, max(1, n_repeats - 2), tokens)
    accuracy = {}
    if args.imdb_model:  # the change between precisions is the figure (the reviews may be training data)
        names = pipeline.label_names or pipeline.labels.itos  # train.jsonl labels are 0/1 indices into these
        labelled = [{**e, "label": pipeline.labels.stoi[names[g]]} for e, g in zip(examples, gold)]
        original = pipeline.model
        for name, model in variants.items():
            pipeline.model = model
            accuracy[name] = pipeline.evaluate(labelled, batch_size=args.batch_size)["accuracy"]
        pipeline.model = original
    base = speeds["fp32"]
    rows = [[name, fmt(s["predict"]), fmt(s["forward"]), f"{s['predict'] / s['forward']:.2f}",
             f"{s['predict'] / base['predict']:.2f}x", f"{s['forward'] / base['forward']:.2f}x",
             f"{100 * accuracy[name]:.2f}% ({100 * (accuracy[name] - accuracy['fp32']):+.2f})" if accuracy else "-"]
            for name, s in speeds.items()]
    config = pipeline.model.config
    result.add_section(
        "Inference: IMDB classifier",
        f"Model: {provenance} (embedding {config.embedding_dim}, BiLSTM {config.num_layers}x{config.hidden_size}, "
        f"{config.pooling} pooling, max_length {pipeline.max_length}); {len(texts)} raw reviews (both classes), "
        f"{tokens / len(texts):.0f} tokens each on average, batch {args.batch_size}. Tokens/s counts the model's "
        "input tokens (after truncation).\n\n"
        + markdown_table(["precision", "predict tokens/s (in-process)", "forward-only tokens/s", "predict / forward",
                          "predict vs fp32", "forward vs fp32", "accuracy on these reviews (change)"], rows))
    result.metrics.update({"imdb_inference": speeds, "imdb_accuracy": accuracy,
                           "imdb_predict_over_forward": base["predict"] / base["forward"],
                           "imdb_bf16_forward_speedup": speeds["bf16"]["forward"] / base["forward"]})


def main(argv=None) -> BenchResult:
    parser = base_parser(__doc__.split("\n")[0])
    parser.add_argument("--pos-model", help="POS bundle directory (default: train once with the recipe, cached)")
    parser.add_argument("--imdb-model", help="trained IMDB bundle directory (default: untrained, speed only)")
    parser.add_argument("--imdb-reviews", type=int, default=500, help="reviews for the IMDB inference figures")
    parser.add_argument("--batch-size", type=int, default=256, help="inference batch size (the CLI's default)")
    args = parser.parse_args(argv)
    setup(args)
    n_repeats = repeats(args, 5)
    result = BenchResult("inference")
    pos_section(args, result, n_repeats)
    recipe = recipe_defaults("pos_tagger")
    if getattr(recipe, "char_encoder", "none") != "none" and not args.pos_model:
        pos_section(args, result, max(1, n_repeats - 2), variant="word-level model, --char-encoder none",
                    extra_args=("--char-encoder", "none"), tag="_wordonly")
    imdb_section(args, result, n_repeats)
    result.emit(args)
    return result


if __name__ == "__main__":
    main()
