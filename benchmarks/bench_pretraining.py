"""Pretraining benchmarks: the IMDB warm-start ablation, and peak memory of LM pretraining as the corpus grows.

    # one row of the ablation: recipes/imdb_sentiment.py as it is, plus the warm start under test
    python benchmarks/bench_pretraining.py imdb --name scratch --json runs/ablation/scratch.json -- \\
        --train $LSTM_NLP_DATA/imdb/train.jsonl --output-dir runs/ablation/scratch --no-progress
    python benchmarks/bench_pretraining.py imdb --name both --init-from runs/lm/model --lr-decay 2.6 \\
        --json runs/ablation/both.json -- --train ... --scheduler linear --warmup-steps 100
    # peak RSS of pretrain_lm.py on the first N texts, read 1x and 8x (--repeat) per epoch
    python benchmarks/bench_pretraining.py memory --corpus $LSTM_NLP_DATA/imdb/unsup.jsonl --max-texts 2000

``imdb`` runs ``recipes/imdb_sentiment.py``'s own ``main`` with the warm start of
:mod:`lstm_nlp.recipe_kit.pretrained` applied where the recipe's ``--vectors`` / ``--init-from`` /
``--lr-decay`` options act once wired (``warm_start`` when the pipeline is built,
``apply_lr_decay`` when the Trainer is built), so the figures are the recipe's (docs/pretraining.md). ``--smoke`` runs both on the bundled sample.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import logging
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

REPO = Path(__file__).resolve().parents[1]
logger = logging.getLogger("lstm_nlp")


def _load_recipe(name: str):
    spec = importlib.util.spec_from_file_location(f"recipe_{name}", REPO / "recipes" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run_imdb(args: argparse.Namespace, recipe_argv: list[str]) -> dict:
    """Runs the IMDB recipe with the warm start of ``args``; returns its metrics, the warm-start report and times."""
    from lstm_nlp.recipe_kit.pretrained import apply_lr_decay, load_vectors, warm_start

    recipe = _load_recipe("imdb_sentiment")
    notes: dict = {}
    real_pipeline, real_trainer = recipe.ClassificationPipeline, recipe.Trainer
    options = argparse.Namespace(vectors=args.vectors, init_from=args.init_from, lr_decay=args.lr_decay, seed=1)

    def pipeline(model, words, *rest, **kwargs):  # where the recipe's --vectors / --init-from act
        vectors = load_vectors(options, words)
        if vectors is not None and vectors.dim != model.config.embedding_dim:
            raise SystemExit(f"pass --embedding-dim {vectors.dim} after -- (the vectors' size)")
        notes.update(warm_start(model, words, options, vectors))
        return real_pipeline(model, words, *rest, **kwargs)

    def trainer(model, config, **kwargs):  # where the recipe's --lr-decay acts
        built = real_trainer(model, config, **kwargs)
        notes["group_lrs"] = apply_lr_decay(built, options)
        return built

    recipe.ClassificationPipeline, recipe.Trainer = pipeline, trainer
    start = time.perf_counter()
    metrics = recipe.main(recipe_argv)
    seconds = time.perf_counter() - start
    return {"name": args.name, "dev_accuracy": metrics["dev"]["accuracy"], "seconds": round(seconds, 1),
            "threads": torch.get_num_threads(), "recipe_argv": recipe_argv, "vectors": args.vectors,
            "init_from": args.init_from, "lr_decay": args.lr_decay, **notes}


def run_memory(args: argparse.Namespace) -> dict:
    """Peak RSS of ``pretrain_lm.py`` reading the corpus 1x and ``--factor`` x per epoch (separate processes)."""
    rows = []
    for repeat in (1, args.factor):
        with tempfile.TemporaryDirectory() as out:
            command = [sys.executable, str(REPO / "recipes" / "pretrain_lm.py"), "--corpus", *args.corpus,
                       "--max-texts", str(args.max_texts), "--repeat", str(repeat), "--epochs", "1",
                       "--heldout-texts", "50", "--no-progress", "--no-checkpoints", "--output-dir", out,
                       "--batch-size", str(args.batch_size), "--window", str(args.window),
                       "--hidden-size", str(args.hidden_size), "--embedding-dim", str(args.hidden_size),
                       "--max-vocab", str(args.max_vocab)]
            start = time.perf_counter()
            log = Path(out) / "stderr.log"
            with log.open("w") as err:
                child = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=err)
                peak_mb = 0.0
                while child.poll() is None:  # VmHWM: the child's own high-water mark (fresh after exec)
                    peak_mb = max(peak_mb, _vm_hwm_mb(child.pid))
                    time.sleep(0.1)
            seconds = time.perf_counter() - start
            if child.returncode:
                raise SystemExit(f"pretrain_lm.py failed:\n{log.read_text()[-2000:]}")
            tokens = json.loads((Path(out) / "metrics.json").read_text())["train_tokens"]
        rows.append({"repeat": repeat, "train_tokens": tokens, "peak_rss_mb": peak_mb, "seconds": round(seconds, 1)})
        logger.info("repeat %d: %d tokens, peak RSS %.0f MB, %.0f s", repeat, tokens, peak_mb, seconds)
    ratio = rows[1]["peak_rss_mb"] / rows[0]["peak_rss_mb"]
    return {"name": "memory", "rows": rows, "ratio": round(ratio, 3), "threads": int(os.environ.get(
        "OMP_NUM_THREADS", torch.get_num_threads())), "max_texts": args.max_texts, "corpus": args.corpus,
            "hidden_size": args.hidden_size, "max_vocab": args.max_vocab}


def _vm_hwm_mb(pid: int) -> float:
    """Peak resident memory so far of process ``pid`` (``VmHWM`` of /proc/PID/status), 0 once it is gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except (OSError, ValueError):
        pass
    return 0.0


def parse_args(argv=None) -> tuple[argparse.Namespace, list[str]]:
    argv = list(sys.argv[1:] if argv is None else argv)
    rest = argv[argv.index("--") + 1:] if "--" in argv else []
    argv = argv[:argv.index("--")] if "--" in argv else argv
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--smoke", action="store_true", help="run both benchmarks on the bundled sample (seconds)")
    commands = parser.add_subparsers(dest="command")
    imdb = commands.add_parser("imdb", help="one ablation row: the IMDB recipe plus a warm start (recipe options "
                                            "after --)")
    imdb.add_argument("--name", default="scratch", help="the row's name")
    imdb.add_argument("--vectors", help="fill the embedding from this vectors file first")
    imdb.add_argument("--init-from", help="then copy this pretrain_lm.py bundle (OUTPUT_DIR/model) into the model")
    imdb.add_argument("--lr-decay", type=float, default=1.0,
                      help="discriminative learning rates: each lower layer group gets lr / decay (1: off)")
    imdb.add_argument("--json", help="write the result here")
    memory = commands.add_parser("memory", help="peak RSS of pretrain_lm.py at 1x and FACTOR x the corpus")
    memory.add_argument("--corpus", nargs="+", required=True, help="corpus files (see pretrain_lm.py --corpus)")
    memory.add_argument("--max-texts", type=int, default=2000, help="texts of the 1x corpus")
    memory.add_argument("--factor", type=int, default=8, help="how many times the larger run reads them")
    memory.add_argument("--batch-size", type=int, default=64, help="windows per batch")
    memory.add_argument("--window", type=int, default=64, help="tokens per window")
    memory.add_argument("--hidden-size", type=int, default=32,
                        help="LSTM and embedding size (small: the benchmark measures the data path's memory)")
    memory.add_argument("--max-vocab", type=int, default=5000, help="vocabulary size")
    memory.add_argument("--json", help="write the result here")
    args = parser.parse_args(argv)
    if args.command is None and not args.smoke:
        parser.error("give a command (imdb or memory) or --smoke")
    return args, rest


def main(argv=None) -> None:
    logging.basicConfig(level="INFO", format="%(asctime)s %(message)s", datefmt="%H:%M:%S")
    args, rest = parse_args(argv)
    if args.smoke:
        with tempfile.TemporaryDirectory() as tmp:
            lm = Path(tmp) / "lm"
            subprocess.run([sys.executable, str(REPO / "recipes" / "pretrain_lm.py"), "--output-dir", str(lm),
                            "--heldout-texts", "50", "--batch-size", "16", "--window", "32", "--no-progress",
                            "--no-checkpoints"], check=True, stdout=subprocess.DEVNULL)
            smoke = argparse.Namespace(name="smoke", vectors=None, init_from=str(lm / "model"), lr_decay=2.6)
            result = run_imdb(smoke, ["--epochs", "1", "--output-dir", str(Path(tmp) / "imdb"), "--no-progress",
                                      "--no-checkpoints"])
            sample = str(REPO / "data" / "imdb" / "train.jsonl")
            memory = run_memory(argparse.Namespace(corpus=[sample], max_texts=300, factor=2, batch_size=16,
                                                   window=32, hidden_size=16, max_vocab=1000))
        print(json.dumps({"imdb": result, "memory": memory}, indent=2))
        return
    result = run_imdb(args, rest) if args.command == "imdb" else run_memory(args)
    text = json.dumps(result, indent=2)
    print(text)
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(text + "\n")


if __name__ == "__main__":
    main()
