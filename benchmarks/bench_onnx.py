"""ONNX Runtime vs PyTorch (fp32, bf16) predicting a real data set: agreement and speed in the same run.

    python benchmarks/bench_onnx.py --model runs/pos_ewt/model --data $LSTM_NLP_DATA/ud_english_ewt/en_ewt-ud-dev.conllu
    python benchmarks/bench_onnx.py --model runs/imdb/model --data $LSTM_NLP_DATA/imdb/train.jsonl --limit 2000
    python benchmarks/bench_onnx.py --smoke [--smoke-recipe imdb_sentiment]   # a model trained on the sample

A tagger predicts the pre-tokenized sentences of ``--data`` (agreement per token with PyTorch fp32, largest
score difference on the first 256 sentences); a text classifier its raw texts, tokenization included
(agreement per text, largest probability difference).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
from common import SAMPLE_DIR, BenchResult, base_parser, compare, markdown_table, median, portable, setup

from lstm_nlp.export.onnx import OnnxPipeline, export_onnx
from lstm_nlp.inference import bf16_is_native, prepare_for_inference
from lstm_nlp.pipelines import ClassificationPipeline, load_pipeline

SMOKE_DATA = {"pos_tagger": SAMPLE_DIR / "pos" / "dev.conllu", "imdb_sentiment": SAMPLE_DIR / "imdb" / "dev.jsonl"}


def interleaved(runs: dict[str, Callable[[], object]], n: int) -> tuple[dict[str, float], dict[str, object]]:
    """``compare()`` of the runs (one warm-up round, ``n`` timed rounds): (median seconds, last outputs)."""
    outputs: dict[str, object] = {}

    def variant(name: str):
        return lambda _: outputs.__setitem__(name, runs[name]()) or 1.0
    timings = compare({name: variant(name) for name in runs}, None, n)
    return {name: median(t.seconds) for name, t in timings.items()}, outputs


def compare_tagger(fp32, bf16, runner: OnnxPipeline, model_dir, data, n: int, limit: int | None):
    """(description, table, metrics) of the tagger ``fp32`` on the sentences of ``data``."""
    sentences = [list(s) for s in fp32.read_labelled(data)["tokens"]][:limit]
    tokens = sum(map(len, sentences))
    seconds, outputs = interleaved({"PyTorch fp32": lambda: fp32.predict_tokens(sentences),
                                    "PyTorch bf16": lambda: bf16.predict_tokens(sentences),
                                    "ONNX Runtime fp32": lambda: runner.predict_tokens(sentences)}, n)
    reference = outputs["PyTorch fp32"]
    agree = {name: sum(a == b for x, y in zip(reference, out) for a, b in zip(x, y)) / tokens
             for name, out in outputs.items()}
    examples = [{**fp32.featurize(s), "index": i} for i, s in enumerate(sentences)]
    batches = len(fp32.loader(examples, batch_size=256))
    max_diff = 0.0
    with torch.no_grad():
        for batch in fp32.loader(examples[:256], batch_size=256):
            expected = fp32.model(**{k: v for k, v in batch.items() if k not in ("lengths", "index")}).logits
            difference = np.abs(runner._run(batch) - expected.numpy())[batch["mask"].numpy()]
            max_diff = max(max_diff, float(difference.max()))
    base = seconds["PyTorch fp32"]
    rows = [[name, f"{tokens / s:,.0f}", f"{base / s:.2f}x", f"{agree[name]:.2%}"] for name, s in seconds.items()]
    head = "CRF (numpy Viterbi)" if fp32.model.config.head == "crf" else "softmax"
    text = (f"Tagger `{portable(model_dir)}` ({fp32.model.config.char_encoder} char encoder, {head} head), "
            f"{len(sentences):,} sentences / {tokens:,} tokens of `{portable(data)}`, pre-tokenized, batch 256 "
            f"({batches} batches), {torch.get_num_threads()} thread(s), median of {n} interleaved repeats; bf16 native "
            f"on this CPU: {bf16_is_native()}; largest score difference ONNX vs PyTorch fp32 on the first 256 "
            f"sentences: {max_diff:.2e}.")
    table = markdown_table(["predict_tokens", "tokens/s", "vs PyTorch fp32", "tags equal to PyTorch fp32"], rows)
    metrics = {"tokens_per_s": {k: tokens / v for k, v in seconds.items()}, "agreement": agree,
               "max_score_diff": max_diff, "batches": batches}
    return text, table, metrics


def compare_classifier(fp32, bf16, runner: OnnxPipeline, model_dir, data, n: int, limit: int | None):
    """(description, table, metrics) of the text classifier ``fp32`` on the texts of ``data``."""
    texts = fp32.read_labelled(data)["text"][:limit]
    examples = fp32.featurize(texts)
    tokens = sum(len(e["token_ids"]) for e in examples)  # after tokenization and truncation
    batches = len(fp32.loader(examples, batch_size=256))
    seconds, outputs = interleaved({"PyTorch fp32": lambda: fp32.predict_examples(fp32.featurize(texts)).numpy(),
                                    "PyTorch bf16": lambda: bf16.predict_examples(bf16.featurize(texts)).numpy(),
                                    "ONNX Runtime fp32": lambda: runner.predict_probabilities(texts),
                                    "tokenization": lambda: fp32.featurize(texts)}, n)
    tokenize_s = seconds.pop("tokenization")
    reference = outputs["PyTorch fp32"]
    agree = {name: float((outputs[name].argmax(-1) == reference.argmax(-1)).mean()) for name in seconds}
    diff = {name: float(np.abs(outputs[name] - reference).max()) for name in seconds}
    base = seconds["PyTorch fp32"]
    rows = [[name, f"{len(texts) / s:,.0f}", f"{tokens / s:,.0f}", f"{base / s:.2f}x", f"{agree[name]:.2%}",
             f"{diff[name]:.1e}"] for name, s in seconds.items()]
    config = fp32.model.config
    text = (f"Text classifier `{portable(model_dir)}` ({config.pooling} pooling, max_length {fp32.max_length}), "
            f"{'the first' if limit else 'all'} {len(texts):,} texts of `{portable(data)}` ({tokens:,} tokens after "
            f"the pipeline's tokenization and truncation, {tokens / max(len(texts), 1):.0f} per text), raw text in, "
            f"batch 256 ({batches} batches), {torch.get_num_threads()} thread(s), median of {n} interleaved repeats; "
            f"bf16 native on this CPU: {bf16_is_native()}. Every row includes the tokenization, which alone runs at "
            f"{len(texts) / tokenize_s:,.0f} texts/s.")
    table = markdown_table(["predict (raw texts)", "texts/s", "tokens/s", "vs PyTorch fp32",
                            "labels equal to PyTorch fp32", "largest probability difference vs PyTorch fp32"], rows)
    metrics = {"texts_per_s": {k: len(texts) / v for k, v in seconds.items()},
               "tokens_per_s": {k: tokens / v for k, v in seconds.items()},
               "tokenization_texts_per_s": len(texts) / tokenize_s, "agreement": agree, "max_probability_diff": diff,
               "batches": batches}
    return text, table, metrics


def main(argv=None) -> BenchResult:
    parser = base_parser(__doc__.split("\n")[0])
    parser.add_argument("--model", help="tagger or text-classifier bundle (default with --smoke: one trained on "
                                        "the sample)")
    parser.add_argument("--data", help="labelled file to predict (a tagger: its tokens; a classifier: its texts)")
    parser.add_argument("--limit", type=int, default=None, help="predict only the first N sentences / texts")
    parser.add_argument("--smoke-recipe", choices=sorted(SMOKE_DATA), default="pos_tagger",
                        help="the recipe whose 1-epoch model --smoke trains on the bundled sample")
    args = parser.parse_args(argv)
    n = setup(args, 3)
    work = Path(tempfile.mkdtemp(prefix="bench_onnx-"))
    try:
        model_dir, data = args.model, args.data
        if args.smoke or not model_dir:
            repo = Path(__file__).resolve().parents[1]
            subprocess.run([sys.executable, str(repo / "recipes" / f"{args.smoke_recipe}.py"), "--epochs", "1",
                            "--no-progress", "--no-checkpoints", "--output-dir", str(work / "run")],
                           check=True, capture_output=True)
            model_dir, data = work / "run" / "model", data or SMOKE_DATA[args.smoke_recipe]
        fp32 = load_pipeline(model_dir)
        started = time.perf_counter()
        onnx_path = export_onnx(fp32, work / "model.onnx")
        export_seconds = time.perf_counter() - started
        runner = OnnxPipeline(onnx_path, model_dir, threads=torch.get_num_threads())
        bf16 = load_pipeline(model_dir)
        prepare_for_inference(bf16.model, precision="bf16")
        compare = compare_classifier if isinstance(fp32, ClassificationPipeline) else compare_tagger
        text, table, metrics = compare(fp32, bf16, runner, model_dir, data, n, args.limit)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    result = BenchResult("onnx")
    result.add_section(f"ONNX Runtime vs PyTorch: {Path(str(data)).name}",
                       f"{text} Export took {export_seconds:.1f} s.\n\n{table}")
    result.metrics = metrics
    result.emit(args)
    return result


if __name__ == "__main__":
    main()
