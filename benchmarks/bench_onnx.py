"""ONNX Runtime vs PyTorch (fp32, bf16) predicting a real dev set: agreement and tokens/s in the same run.

    python benchmarks/bench_onnx.py --model runs/pos_ewt/model --data $LSTM_NLP_DATA/ud_english_ewt/en_ewt-ud-dev.conllu
    python benchmarks/bench_onnx.py --model runs/ner/model --data $LSTM_NLP_DATA/conll2003/dev.txt
    python benchmarks/bench_onnx.py --smoke       # a tiny model on the bundled sample

The same pre-tokenized sentences go through ``TaggingPipeline.predict_tokens`` (PyTorch fp32, then
bf16) and ``OnnxPipeline.predict_tokens`` (the exported graph in onnxruntime, CRF decoded by the
numpy Viterbi); agreement is counted per token against PyTorch fp32, and the largest score
difference between the graph and PyTorch fp32 is reported. Median of interleaved repeats.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from common import SAMPLE_DIR, BenchResult, base_parser, fmt, markdown_table, median, portable, repeats, setup
from lstm_nlp.export.onnx import OnnxPipeline, export_onnx
from lstm_nlp.inference import bf16_is_native, prepare_for_inference
from lstm_nlp.pipelines import load_pipeline


def timed(fn) -> tuple[object, float]:
    start = time.perf_counter()
    result = fn()
    return result, time.perf_counter() - start


def main(argv=None) -> BenchResult:
    parser = base_parser(__doc__.split("\n")[0])
    parser.add_argument("--model", help="tagger bundle (default with --smoke: one trained on the sample)")
    parser.add_argument("--data", help="labelled file to predict (its tokens)")
    args = parser.parse_args(argv)
    setup(args)
    n = repeats(args, 3)
    work = Path(tempfile.mkdtemp(prefix="bench_onnx-"))
    try:
        model_dir, data = args.model, args.data
        if args.smoke or not model_dir:
            repo = Path(__file__).resolve().parents[1]
            subprocess.run([sys.executable, str(repo / "recipes" / "pos_tagger.py"), "--epochs", "1",
                            "--no-progress", "--no-checkpoints", "--output-dir", str(work / "pos")],
                           check=True, capture_output=True)
            model_dir, data = work / "pos" / "model", data or SAMPLE_DIR / "pos" / "dev.conllu"
        fp32 = load_pipeline(model_dir)
        sentences = [list(s) for s in fp32.read_labelled(data)["tokens"]]
        tokens = sum(map(len, sentences))
        onnx_path, export_seconds = timed(lambda: export_onnx(fp32, work / "model.onnx"))
        runner = OnnxPipeline(onnx_path, model_dir, threads=torch.get_num_threads())
        bf16_pipeline = load_pipeline(model_dir)
        prepare_for_inference(bf16_pipeline.model, precision="bf16")
        runs = {"PyTorch fp32": lambda: fp32.predict_tokens(sentences),
                "PyTorch bf16": lambda: bf16_pipeline.predict_tokens(sentences),
                "ONNX Runtime fp32": lambda: runner.predict_tokens(sentences)}
        seconds = {name: [] for name in runs}
        outputs = {}
        for r in range(n + 1):
            for name, run in runs.items():
                outputs[name], s = timed(run)
                if r:
                    seconds[name].append(s)
        reference = outputs["PyTorch fp32"]
        agree = {name: sum(a == b for x, y in zip(reference, out) for a, b in zip(x, y)) / tokens
                 for name, out in outputs.items()}
        batch = next(iter(fp32.loader([{**fp32.featurize(s), "index": i} for i, s in enumerate(sentences[:256])],
                                      batch_size=256)))
        with torch.no_grad():
            expected = fp32.model(**{k: v for k, v in batch.items() if k not in ("lengths", "index")}).logits.numpy()
        max_diff = float(np.abs(runner._run(batch) - expected)[batch["mask"].numpy()].max())
    finally:
        shutil.rmtree(work, ignore_errors=True)
    base = median(seconds["PyTorch fp32"])
    rows = [[name, fmt(tokens / median(s)), f"{base / median(s):.2f}x", f"{100 * agree[name]:.2f}%"]
            for name, s in seconds.items()]
    result = BenchResult("onnx")
    head = "CRF (numpy Viterbi)" if fp32.model.config.head == "crf" else "softmax"
    result.add_section(
        f"ONNX Runtime vs PyTorch: {Path(str(data)).name}",
        f"Tagger `{portable(model_dir)}` ({fp32.model.config.char_encoder} char encoder, {head} head), {len(sentences):,} "
        f"sentences / {tokens:,} tokens of `{portable(data)}`, pre-tokenized, batch 256, {torch.get_num_threads()} "
        f"thread(s), median of {n} interleaved repeats; bf16 native on this CPU: {bf16_is_native()}. Export took "
        f"{export_seconds:.1f} s; largest score difference ONNX vs PyTorch fp32 on 256 sentences: {max_diff:.2e}.\n\n"
        + markdown_table(["predict_tokens", "tokens/s", "vs PyTorch fp32", "tags equal to PyTorch fp32"], rows))
    result.metrics = {"tokens_per_s": {k: tokens / median(v) for k, v in seconds.items()}, "agreement": agree,
                      "max_score_diff": max_diff}
    result.emit(args)
    return result


if __name__ == "__main__":
    main()
