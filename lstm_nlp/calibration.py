"""Calibration: temperature scaling, expected calibration error, Brier score, reliability diagrams.

A model's probabilities are *calibrated* when, of the predictions made with probability 0.8, about 80%
are right. Neural taggers and classifiers are usually over-confident; temperature scaling (Guo et al.,
2017) divides every score by one scalar ``T`` fitted on held-out data to minimise the negative
log-likelihood. It changes no decision (the argmax, and a CRF's best sequence, are the same for any
``T > 0``), only how sure the model says it is.

The measures here take, per prediction, the probability the model gave its choice (``confidence``)
and whether the choice was right (``correct``):

* ECE (expected calibration error): predictions are put in 15 equal-width confidence bins; the
  difference between each bin's mean confidence and its accuracy, weighted by the bin's share;
* Brier score: the mean of ``(confidence - correct)^2`` (the binary form, for the chosen label).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from pathlib import Path

from lstm_nlp.errors import ConfigError

ECE_BINS = 15
#: How far past [0, 1] a probability may stray by rounding (a marginal ``exp(alpha + beta - log Z)`` in
#: float32 can come out at 1 + 1e-7); it is clipped, anything further is refused.
_ROUNDING = 1e-4
#: Temperatures searched by :func:`fit_temperature` (a bracket wide enough for any trained model).
TEMPERATURE_RANGE = (0.05, 20.0)


def check_temperature(value: float) -> float:
    """``value`` as a float if it is a usable temperature (finite, in :data:`TEMPERATURE_RANGE`), else ConfigError."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not (
            TEMPERATURE_RANGE[0] <= value <= TEMPERATURE_RANGE[1]):
        raise ConfigError(f"temperature must be a number in [{TEMPERATURE_RANGE[0]}, {TEMPERATURE_RANGE[1]}], "
                          f"got {value!r}")
    return float(value)


def fit_temperature(nll: Callable[[float], float], *, low: float = TEMPERATURE_RANGE[0],
                    high: float = TEMPERATURE_RANGE[1], steps: int = 25) -> float:
    """The temperature in ``[low, high]`` minimising ``nll(T)``, by golden-section search over ``log T``.

    The NLL of temperature-scaled scores is convex in ``1/T``, so it has one minimum in the bracket;
    25 steps narrow ``log T`` to a 1e-5 fraction of the bracket (``T`` to 0.01%).
    """
    if not 0 < low < high:
        raise ConfigError(f"the temperature bracket must satisfy 0 < low < high, got [{low}, {high}]")
    ratio = (math.sqrt(5) - 1) / 2
    a, b = math.log(low), math.log(high)
    c, d = b - ratio * (b - a), a + ratio * (b - a)
    fc, fd = nll(math.exp(c)), nll(math.exp(d))
    for _ in range(steps):
        if fc <= fd:
            b, d, fd = d, c, fc
            c = b - ratio * (b - a)
            fc = nll(math.exp(c))
        else:
            a, c, fc = c, d, fd
            d = a + ratio * (b - a)
            fd = nll(math.exp(d))
    return math.exp((a + b) / 2)


def _checked(confidence: Sequence[float], correct: Sequence[bool | int]) -> tuple[list[float], list[float]]:
    if len(confidence) != len(correct):
        raise ConfigError(f"{len(confidence)} confidences but {len(correct)} correctness values")
    values = [float(c) for c in confidence]
    if any(not -_ROUNDING <= c <= 1.0 + _ROUNDING for c in values):
        raise ConfigError("confidences must be probabilities in [0, 1]")
    return [min(1.0, max(0.0, c)) for c in values], [float(bool(c)) for c in correct]


def reliability_bins(confidence: Sequence[float], correct: Sequence[bool | int], *,
                     bins: int = ECE_BINS) -> list[tuple[float, float, int]]:
    """``(mean confidence, accuracy, count)`` of each of ``bins`` equal-width bins (empty bins: zeros).

    Bin ``i`` holds confidences in ``(i / bins, (i + 1) / bins]``; 0 goes to the first bin.
    """
    values, hits = _checked(confidence, correct)
    sums = [[0.0, 0.0, 0] for _ in range(bins)]
    for value, hit in zip(values, hits):
        index = min(bins - 1, max(0, math.ceil(value * bins) - 1))
        sums[index][0] += value
        sums[index][1] += hit
        sums[index][2] += 1
    return [(s / n, h / n, n) if n else (0.0, 0.0, 0) for s, h, n in sums]


def expected_calibration_error(confidence: Sequence[float], correct: Sequence[bool | int], *,
                               bins: int = ECE_BINS) -> float:
    """ECE: ``sum_b (n_b / n) * |accuracy_b - confidence_b|`` over ``bins`` equal-width bins (``nan`` if empty)."""
    table = reliability_bins(confidence, correct, bins=bins)
    total = sum(n for _, _, n in table)
    if total == 0:
        return math.nan
    return sum(n / total * abs(accuracy - mean) for mean, accuracy, n in table)


def brier_score(confidence: Sequence[float], correct: Sequence[bool | int]) -> float:
    """Mean of ``(confidence - correct)^2`` (``nan`` if empty)."""
    values, hits = _checked(confidence, correct)
    return sum((v - h) ** 2 for v, h in zip(values, hits)) / len(values) if values else math.nan


def calibration_metrics(confidence: Sequence[float], correct: Sequence[bool | int]) -> dict[str, float | int]:
    """``{"ece", "brier", "mean_confidence", "accuracy", "count"}`` of the predictions."""
    values, hits = _checked(confidence, correct)
    n = len(values)
    return {"ece": expected_calibration_error(values, hits), "brier": brier_score(values, hits),
            "mean_confidence": sum(values) / n if n else math.nan, "accuracy": sum(hits) / n if n else math.nan,
            "count": n}


def plot_reliability(confidence: Sequence[float], correct: Sequence[bool | int], path: str | Path, *,
                     title: str, bins: int = ECE_BINS) -> Path:
    """Writes a reliability diagram PNG: each bin's accuracy against its mean confidence, with the
    diagonal a calibrated model would follow and a histogram of the confidences below."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    table = reliability_bins(confidence, correct, bins=bins)
    width = 1.0 / bins
    edges = [i * width for i in range(bins)]
    figure, (top, bottom) = plt.subplots(2, 1, figsize=(4.8, 5.6), sharex=True,
                                         gridspec_kw={"height_ratios": [3, 1]})
    top.bar(edges, [a if n else 0 for _, a, n in table], width=width, align="edge", edgecolor="black",
            color="#4c72b0", label="accuracy")
    top.plot([0, 1], [0, 1], linestyle="--", color="grey", label="calibrated")
    top.set_ylabel("accuracy")
    top.set_ylim(0, 1)
    ece = expected_calibration_error(confidence, correct, bins=bins)
    top.set_title(f"{title}\nECE {ece:.4f}, Brier {brier_score(confidence, correct):.4f}", fontsize=10)
    top.legend(loc="upper left", fontsize=8)
    bottom.bar(edges, [n for _, _, n in table], width=width, align="edge", color="#999999")
    bottom.set_yscale("log")
    bottom.set_xlabel("confidence")
    bottom.set_ylabel("count")
    bottom.set_xlim(0, 1)
    figure.tight_layout()
    path = Path(path)
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path
