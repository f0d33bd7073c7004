"""PNG plots of a run: the training curve and a confusion matrix (matplotlib, no display needed).

Figures are built with ``matplotlib.figure.Figure`` directly (no ``pyplot`` global state, no GUI
backend) and written atomically, so a viewer refreshing the file never sees half a PNG.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from lstm_nlp.training.checkpoint import umask_modes

#: Confusion matrices with more labels keep the most frequent gold labels and pool the rest.
MAX_CONFUSION_LABELS = 40
OTHER_LABEL = "(other)"


def _save(fig, path: str | os.PathLike, *, tight: bool = False) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, tmp = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=".png", dir=path.parent)
    try:
        os.fchmod(handle, umask_modes()[0]) if hasattr(os, "fchmod") else None  # mkstemp makes it 0600
        os.close(handle)
        fig.savefig(tmp, dpi=110, format="png", **({"bbox_inches": "tight", "pad_inches": 0.15} if tight else {}))
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def plot_training_curve(history: Sequence[Mapping], path: str | os.PathLike, *, metric: str | None = None,
                        best_epoch: int = 0, title: str = "Training curve") -> Path:
    """Draws loss and dev metric per epoch (and the learning rate if it changed) to a PNG.

    Args:
        history: One record per epoch with ``epoch``, ``train_loss`` and optionally ``dev_<metric>``,
            ``dev_loss`` and ``lr`` (the trainer's ``metrics.jsonl`` records).
        path: Output ``.png``.
        metric: The dev metric to plot (``dev_<metric>`` in the records).
        best_epoch: Epoch to mark as the selected one (0: none).
        title: Figure title.
    """
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    epochs = [r["epoch"] for r in history]
    dev_key = f"dev_{metric}" if metric else None
    has_dev = dev_key is not None and any(dev_key in r for r in history)
    lrs = [r.get("lr") for r in history]
    has_lr = all(v is not None for v in lrs) and len({round(v, 12) for v in lrs}) > 1
    panels = 1 + has_dev + has_lr
    fig = Figure(figsize=(4.6 * panels, 3.8), layout="constrained")
    axes = list(np.atleast_1d(fig.subplots(1, panels)))
    fig.suptitle(title, fontsize=12)

    loss_ax = axes.pop(0)
    loss_ax.plot(epochs, [r.get("train_loss", np.nan) for r in history], "o-", label="train loss")
    if any("dev_loss" in r for r in history):
        loss_ax.plot(epochs, [r.get("dev_loss", np.nan) for r in history], "s--", label="dev loss")
    loss_ax.set(title="Loss", xlabel="epoch", ylabel="loss")
    if has_dev:
        metric_ax = axes.pop(0)
        values = [r.get(dev_key, np.nan) for r in history]
        metric_ax.plot(epochs, values, "o-", color="tab:green", label=f"dev {metric}")
        if best_epoch in epochs:
            best = values[epochs.index(best_epoch)]
            metric_ax.plot([best_epoch], [best], "*", color="tab:red", markersize=14,
                           label=f"best: epoch {best_epoch} ({best:.4f})")
        metric_ax.set(title=f"Dev {metric}", xlabel="epoch", ylabel=metric)
    if has_lr:
        lr_ax = axes.pop(0)
        lr_ax.plot(epochs, lrs, "o-", color="tab:purple", label="learning rate (end of epoch)")
        lr_ax.set(title="Learning rate", xlabel="epoch", ylabel="lr")
        lr_ax.ticklabel_format(axis="y", style="sci", scilimits=(-2, 3))
    for ax in fig.axes:
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8, loc="best")
    return _save(fig, path)


def _cap_labels(labels: list[str], matrix: np.ndarray, limit: int) -> tuple[list[str], np.ndarray]:
    """Keeps the ``limit - 1`` most frequent gold labels and pools the others into one row/column."""
    if len(labels) <= limit:
        return labels, matrix
    support = matrix.sum(axis=1)
    keep = sorted(np.argsort(-support, kind="stable")[: limit - 1].tolist())
    rest = [i for i in range(len(labels)) if i not in set(keep)]
    groups = [[i] for i in keep] + [rest]
    pooled = np.array([[matrix[np.ix_(rows, cols)].sum() for cols in groups] for rows in groups])
    return [labels[i] for i in keep] + [OTHER_LABEL], pooled


def plot_confusion_matrix(confusion: Mapping, path: str | os.PathLike, *, title: str = "Confusion matrix",
                          max_labels: int = MAX_CONFUSION_LABELS) -> Path:
    """Draws a row-normalised confusion matrix (rows gold, columns predicted) to a PNG.

    Args:
        confusion: ``{"labels": [str], "matrix": [[count]]}`` as returned in a pipeline's
            ``evaluate()["confusion"]``; ``matrix[i][j]`` counts gold ``labels[i]`` predicted as ``labels[j]``.
        path: Output ``.png``.
        title: Figure title.
        max_labels: At most this many rows/columns; rarer gold labels are pooled into ``(other)``.
    """
    from matplotlib.figure import Figure

    labels = [str(label) for label in confusion["labels"]]
    matrix = np.asarray(confusion["matrix"], dtype=float).reshape(len(labels), len(labels))
    total = matrix.sum()
    accuracy = np.trace(matrix) / total if total else 0.0
    original = len(labels)
    labels, matrix = _cap_labels(labels, matrix, max_labels)
    pooled = ""
    if original > len(labels):
        pooled = f"; {original - len(labels) + 1} rarest gold labels pooled as {OTHER_LABEL}"
    support = matrix.sum(axis=1, keepdims=True)
    normalised = np.divide(matrix, support, out=np.zeros_like(matrix), where=support > 0)
    n = len(labels)
    side = min(max(4.0, 0.32 * n + 2.5), 16.0)
    fig = Figure(figsize=(side + 1.2, side))  # laid out by savefig's tight bounding box
    ax = fig.subplots()
    image = ax.imshow(normalised, cmap="Blues", vmin=0.0, vmax=1.0, interpolation="nearest")
    fig.colorbar(image, ax=ax, shrink=0.8, aspect=30, pad=0.02, label="fraction of gold row")
    font = 9 if n <= 20 else 8 if n <= 30 else 7
    ax.set_xticks(range(n), labels, rotation=90, fontsize=font)
    ax.set_yticks(range(n), [f"{label} ({int(s)})" for label, s in zip(labels, support[:, 0])], fontsize=font)
    ax.set(xlabel="predicted label", ylabel="gold label (support)")
    ax.set_title(f"{title}\nrows normalised; accuracy {accuracy:.2%} over {int(total)} items{pooled}", fontsize=11)
    if n <= 20:
        for i in range(n):
            for j in range(n):
                if normalised[i, j] >= 0.005:
                    ax.text(j, i, f"{normalised[i, j]:.2f}", ha="center", va="center", fontsize=7,
                            color="white" if normalised[i, j] > 0.5 else "black")
    return _save(fig, path, tight=True)
