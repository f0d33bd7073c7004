"""Time-to-accuracy curves from commands: each output line timed from the command's start, and a plot.

Used by ``bench_vs_spacy.py`` (the POS recipe beside ``spacy train``).
"""

from __future__ import annotations

import re
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path

_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_EPOCH_LINE = r"epoch (\d+): .*dev {metric} ([0-9.]+)"

Curve = list[tuple[float, float]]


def timed_lines(command: Sequence[str], env: dict, cwd: Path) -> tuple[list[tuple[float, str]], float, int]:
    """Runs ``command``; returns each output line with its seconds since the start, the total seconds, the exit code."""
    start = time.perf_counter()
    process = subprocess.Popen(list(command), cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               text=True, bufsize=1)
    lines = [(time.perf_counter() - start, _ANSI.sub("", line.rstrip("\n"))) for line in process.stdout]
    code = process.wait()
    return lines, time.perf_counter() - start, code


def recipe_curve(lines: list[tuple[float, str]], metric: str = "accuracy") -> Curve:
    """(seconds, dev score) for each ``epoch N: ... dev METRIC X`` line of a recipe's log."""
    pattern = re.compile(_EPOCH_LINE.format(metric=re.escape(metric)))
    return [(seconds, float(match.group(2))) for seconds, line in lines if (match := pattern.search(line))]


def summary(name: str, curve: Curve, total: float, thresholds: Sequence[float]) -> list[str]:
    """A table row: the best score and when it came, the first time at or above each threshold, the total time."""
    if not curve:
        return [name, "no evaluation printed", *["-"] * len(thresholds), f"{total / 60:.1f} min"]
    best_seconds, best = max(curve, key=lambda point: (point[1], -point[0]))
    reached = [next((f"{s / 60:.1f} min" for s, a in curve if a >= t), "not reached") for t in thresholds]
    return [name, f"{100 * best:.2f} at {best_seconds / 60:.1f} min", *reached, f"{total / 60:.1f} min"]


def plot(curves: dict[str, Curve], path: Path, title: str, ylabel: str, floor: float) -> None:
    """Writes the curves (minutes on x, score in % on y) to a PNG; y starts near ``floor`` % so the race shows."""
    from matplotlib.figure import Figure

    figure = Figure(figsize=(7, 4.2), dpi=110)
    axes = figure.subplots()
    for name, curve in curves.items():
        axes.plot([s / 60 for s, _ in curve], [100 * a for _, a in curve], marker=".", label=name)
    axes.set_xlabel("minutes since the command started")
    axes.set_ylabel(ylabel)
    values = [100 * a for curve in curves.values() for _, a in curve] or [floor]
    axes.set_ylim(max(min(values), floor) - 0.5, max(values) + 0.5)
    axes.grid(alpha=0.3)
    axes.legend(loc="lower right")
    axes.set_title(title)
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, bbox_inches="tight")
