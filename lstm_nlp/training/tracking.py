"""What a run leaves behind for people: ``metrics.jsonl``, ``training_curve.png``, TensorBoard, a summary table.

Only the main process (rank 0) creates a :class:`RunLog` that writes anything; other ranks get
one with ``output_dir=None``, which does nothing.
"""

from __future__ import annotations

import json
import logging
import math
import os
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

logger = logging.getLogger("lstm_nlp")

METRICS_LOG = "metrics.jsonl"
CURVE_PNG = "training_curve.png"
TENSORBOARD_DIR = "tensorboard"


class RunLog:
    """Per-epoch records to ``metrics.jsonl``, the training-curve PNG and (optionally) TensorBoard.

    Args:
        output_dir: Where files go (``None``: write nothing).
        metric: The dev selection metric (plotted as ``dev_<metric>``).
        plots: Draw ``training_curve.png``: after an epoch when ``plot_interval`` seconds have
            passed since the last drawing (so every epoch of a real run, where epochs take longer),
            and always when the run ends (:meth:`close`).
        tensorboard: Also log scalars to ``output_dir/tensorboard`` if the ``tensorboard``
            package is installed (otherwise a warning, and the run goes on without it).
        plot_interval: Minimum seconds between two drawings during the run (a drawing costs
            ~0.2 s, which would dominate runs of sub-second epochs).
    """

    def __init__(self, output_dir: str | os.PathLike | None, *, metric: str, plots: bool = True,
                 tensorboard: bool = False, plot_interval: float = 20.0):
        self.dir = Path(output_dir) if output_dir else None
        self.metric = metric
        self.plots = plots
        self.plot_interval = plot_interval
        self.writer = None
        self._last_plot = time.monotonic()
        self._pending: tuple[Sequence[Mapping], int] | None = None
        if self.dir is not None:
            self.dir.mkdir(parents=True, exist_ok=True)
            if tensorboard:
                self.writer = _tensorboard_writer(self.dir / TENSORBOARD_DIR)

    def start(self, history: Sequence[Mapping]) -> None:
        """Rewrites ``metrics.jsonl`` with ``history`` (empty for a fresh run, the checkpoint's on resume)."""
        if self.dir is None:
            return
        lines = "".join(json.dumps(record) + "\n" for record in history)
        (self.dir / METRICS_LOG).write_text(lines, encoding="utf-8")

    def step(self, global_step: int, loss: float, lr: float) -> None:
        """Per optimizer step scalars (TensorBoard only)."""
        if self.writer is not None:
            self.writer.add_scalar("train/loss_step", loss, global_step)
            self.writer.add_scalar("train/lr", lr, global_step)

    def epoch(self, record: Mapping, history: Sequence[Mapping], best_epoch: int) -> None:
        """Appends one epoch's record and redraws the curve."""
        if self.dir is None:
            return
        with (self.dir / METRICS_LOG).open("a", encoding="utf-8") as handle:
            handle.write(json.dumps(record) + "\n")
        if self.plots:
            self._pending = (history, best_epoch)
            if time.monotonic() - self._last_plot >= self.plot_interval:
                self._draw()
        if self.writer is not None:
            for key, value in record.items():
                if key != "epoch" and isinstance(value, (int, float)) and math.isfinite(value):
                    group = "dev" if key.startswith("dev_") else "train" if key.startswith("train_") else "epoch"
                    self.writer.add_scalar(f"{group}/{key}", value, record["epoch"])
            self.writer.flush()

    def _draw(self) -> None:
        from lstm_nlp.training.plots import plot_training_curve

        history, best_epoch = self._pending
        self._pending = None
        try:
            plot_training_curve(history, self.dir / CURVE_PNG, metric=self.metric, best_epoch=best_epoch,
                                title=f"Training curve ({self.dir.name})")
        except (OSError, ValueError, RuntimeError) as err:  # a plot must never kill a long run
            logger.warning("could not draw %s: %s", self.dir / CURVE_PNG, err)
        self._last_plot = time.monotonic()

    def close(self) -> None:
        """Draws the curve if epochs were added since the last drawing; closes TensorBoard."""
        if self._pending is not None and self.dir is not None:
            self._draw()
        if self.writer is not None:
            self.writer.close()
            self.writer = None


def _tensorboard_writer(directory: Path):
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError:
        logger.warning("--tensorboard: the tensorboard package is not installed (pip install tensorboard); "
                       "continuing without TensorBoard logging")
        return None
    return SummaryWriter(log_dir=str(directory))


def summary_table(history: Sequence[Mapping], *, metric: str | None, best_epoch: int, unit: str = "tokens") -> str:
    """A fixed-width table of the run, one row per epoch, the selected epoch marked with ``*``.

    Columns: epoch, train loss, dev metric (if any), learning rate, ``unit``/s and seconds.
    """
    dev_key = f"dev_{metric}" if metric else None
    has_dev = dev_key is not None and any(dev_key in r for r in history)
    header = ["epoch", "train loss"] + ([f"dev {metric}"] if has_dev else []) + ["lr", f"{unit}/s", "seconds"]
    rows = []
    for r in history:
        row = [f"{r['epoch']}{'*' if r['epoch'] == best_epoch else ''}", _fmt(r.get("train_loss"), ".4f")]
        if has_dev:
            row.append(_fmt(r.get(dev_key), ".4f"))
        row += [_fmt(r.get("lr"), ".3g"), _fmt(r.get("train_tokens_per_s"), ",.0f"),
                _fmt(r.get("train_seconds"), ".1f")]
        rows.append(row)
    widths = [max(len(h), *(len(row[i]) for row in rows)) if rows else len(h) for i, h in enumerate(header)]
    line = lambda cells: "  ".join(c.rjust(w) for c, w in zip(cells, widths))  # noqa: E731
    out = [line(header), line(["-" * w for w in widths]), *(line(row) for row in rows)]
    if best_epoch:
        out.append(f"* selected epoch {best_epoch}")
    return "\n".join(out)


def _fmt(value, spec: str) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    return format(value, spec)
