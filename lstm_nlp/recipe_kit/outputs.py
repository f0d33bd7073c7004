"""What a recipe leaves behind: scores per split, ``metrics.json``, reports, the confusion plot, the bundle.

Under ``torchrun`` only rank 0 writes (the other ranks compute the same scores and return).
"""

from __future__ import annotations

import json
import logging
import os
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from lstm_nlp.training.distributed import is_main_process

logger = logging.getLogger("lstm_nlp")

CONFUSION_PNG = "confusion_matrix.png"
METRICS_JSON = "metrics.json"
MODEL_DIR = "model"


def evaluate_splits(evaluate: Callable[[Any], dict], splits: dict[str, Any]) -> dict[str, dict]:
    """``{split: evaluate(data)}`` for every split whose data is not ``None``, in the given order."""
    return {name: evaluate(data) for name, data in splits.items() if data is not None}


def write_metrics(output_dir: str | os.PathLike, metrics: dict) -> Path:
    """Writes ``metrics.json`` ({split: {metric: value}}, plus any run-wide entries that are not a
    split's dict), each split's text report and ``confusion_matrix.png``.

    The confusion matrix is drawn from the ``"confusion"`` entry of the dev split (else test,
    else train) when a split has one. On ``torchrun`` ranks other than 0 nothing is written.

    Returns:
        The path of ``metrics.json``.
    """
    out = Path(output_dir)
    path = out / METRICS_JSON
    if not is_main_process():
        return path
    out.mkdir(parents=True, exist_ok=True)
    summary = {}
    for split, values in metrics.items():
        if not isinstance(values, dict):  # a run-wide entry, e.g. best_epoch
            summary[split] = values
            continue
        if "report" in values:
            (out / f"report_{split}.txt").write_text(values["report"], encoding="utf-8")
        summary[split] = {k: v for k, v in values.items() if k not in ("report", "confusion")}
    path.write_text(json.dumps(summary, indent=2), encoding="utf-8")
    split = next((s for s in ("dev", "test", "train") if isinstance(metrics.get(s, {}).get("confusion"), dict)), None)
    if split is not None:
        from lstm_nlp.training.plots import plot_confusion_matrix

        try:
            plot_confusion_matrix(metrics[split]["confusion"], out / CONFUSION_PNG,
                                  title=f"Confusion matrix ({split})")
        except (KeyError, ValueError, OSError) as err:
            logger.warning("could not draw %s: %s", out / CONFUSION_PNG, err)
    return path


def save_model(pipeline, output_dir: str | os.PathLike) -> Path:
    """Saves the trained pipeline's bundle to ``OUTPUT_DIR/model`` (rank 0 only under torchrun)."""
    target = Path(output_dir) / MODEL_DIR
    if is_main_process():
        pipeline.save_pretrained(target)
    return target


def format_reports(metrics: dict[str, dict]) -> str:
    """The text report of every split that has one, each under a ``== split ==`` header line."""
    return "".join(f"== {split} ==\n{values['report'].rstrip()}\n\n"
                   for split, values in metrics.items() if "report" in values)


def finish(pipeline, metrics: dict[str, dict], output_dir: str | os.PathLike, *, keys: Iterable[str],
           **extra) -> dict:
    """Writes the metrics and the bundle, then prints the reports and a one-line JSON summary on stdout.

    Args:
        pipeline: The trained pipeline (saved to ``OUTPUT_DIR/model``).
        metrics: ``{split: scores}`` as :func:`evaluate_splits` returns them.
        output_dir: The run's OUTPUT_DIR.
        keys: The scores of each split shown in the summary (rounded to 4 digits).
        **extra: More summary entries, e.g. ``best_epoch``.

    Returns:
        The summary printed on the last line.
    """
    keys = tuple(keys)
    write_metrics(output_dir, metrics)
    model = save_model(pipeline, output_dir)
    summary = {split: {k: round(m[k], 4) for k in keys if k in m} for split, m in metrics.items()}
    summary.update(extra, model=str(model))
    if is_main_process():
        sys.stdout.write(format_reports(metrics) + json.dumps(summary) + "\n")
    return summary
