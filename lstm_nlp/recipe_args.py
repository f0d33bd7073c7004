"""Command-line options shared by every recipe (the common recipe interface)."""

from __future__ import annotations

import argparse
import json
import logging
import os
from pathlib import Path

from lstm_nlp.training.trainer import TrainerConfig

REPO_ROOT = Path(__file__).resolve().parents[1]
SAMPLE_DIR = REPO_ROOT / "data"


def recipe_parser(description: str, *, epochs: int, batch_size: int, lr: float, output_dir: str) -> argparse.ArgumentParser:
    """An ``ArgumentParser`` with the options every recipe accepts.

    ``--train/--dev/--test`` take file paths (or hub ids where the recipe supports them); with no
    data arguments a recipe runs on the bundled sample under ``data/``.
    """
    parser = argparse.ArgumentParser(description=description,
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    data = parser.add_argument_group("data")
    data.add_argument("--train", help="training data (default: the bundled sample)")
    data.add_argument("--dev", help="development data used to select the best epoch")
    data.add_argument("--test", help="held-out test data, evaluated once at the end")
    run = parser.add_argument_group("run")
    run.add_argument("--output-dir", default=output_dir, help="where metrics.json, logs and model/ are written")
    run.add_argument("--epochs", type=int, default=epochs, help="training epochs")
    run.add_argument("--batch-size", type=int, default=batch_size, help="examples per batch")
    run.add_argument("--lr", type=float, default=lr, help="learning rate")
    run.add_argument("--seed", type=int, default=1, help="random seed")
    run.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:N or mps")
    run.add_argument("--no-progress", action="store_true", help="hide progress bars")
    return parser


def trainer_config(args: argparse.Namespace, *, metric: str, mode: str = "max") -> TrainerConfig:
    """The :class:`TrainerConfig` for the common recipe options in ``args``."""
    return TrainerConfig(epochs=args.epochs, lr=args.lr, device=args.device, metric=metric, mode=mode,
                         output_dir=args.output_dir, progress=not args.no_progress, seed=args.seed)


def setup_logging() -> None:
    logging.basicConfig(level=os.environ.get("LSTM_NLP_LOGLEVEL", "INFO"), format="%(asctime)s %(message)s",
                        datefmt="%H:%M:%S")


def write_metrics(output_dir: str | os.PathLike, metrics: dict) -> Path:
    """Writes ``metrics.json`` ({split: {metric: value}}) and each split's text report."""
    out = Path(output_dir)
    out.mkdir(parents=True, exist_ok=True)
    summary = {}
    for split, values in metrics.items():
        if "report" in values:
            (out / f"report_{split}.txt").write_text(values["report"], encoding="utf-8")
        summary[split] = {k: v for k, v in values.items() if k not in ("report", "confusion")}
    path = out / "metrics.json"
    path.write_text(json.dumps(summary, indent=2), encoding="utf-8")
    return path
