"""Univariate time series: CSV reader, synthetic generator, chronological split, scaling and windowing.

The forecasting workflow is::

    values = read_series_csv("load.csv", "demand", min_length=window + horizon)   # or synthetic_series()
    split = chronological_split(values, window=window, horizon=horizon)       # train | val | test, in order
    scaler = Scaler.fit(split.train)                                          # statistics of train only
    history, targets = make_windows(scaler.transform(split.train), window, horizon)

``val`` and ``test`` start with the ``window`` values that precede them, so their first forecast is
for the first value of their own period and no target ever falls in an earlier split.
"""

from __future__ import annotations

import csv
import math
import os
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import DataLoader, Sampler

from lstm_nlp.errors import ConfigError, DataFormatError

_MISSING = {"", "na", "nan", "n/a", "null", "none", "-"}


def read_series_csv(path: str | os.PathLike, column: str, *, min_length: int = 1) -> np.ndarray:
    """Reads one numeric column of a CSV file with a header row, in file order.

    Args:
        path: CSV file (comma-separated, first row holds the column names).
        column: Name of the column to read.
        min_length: Fewest values accepted (a forecaster needs ``window + horizon``).

    Returns:
        ``float64`` array ``[rows]``.

    Raises:
        DataFormatError: unreadable or empty file, unknown column (the message lists the known ones),
            a missing or non-numeric value (the message gives file and line), or fewer than
            ``min_length`` values.
    """
    path = Path(path)
    try:
        handle = path.open(newline="", encoding="utf-8-sig")
    except OSError as err:
        raise DataFormatError(f"cannot read the file ({err.strerror})", path) from None
    values: list[float] = []
    with handle:
        reader = csv.reader(handle)
        try:
            header = next(reader, None)
            if header is None:
                raise DataFormatError("the file is empty; expected a header row with column names", path)
            names = [name.strip() for name in header]
            if column not in names:
                raise DataFormatError(f"no column {column!r}; the header has {names}", path, 1)
            index = names.index(column)
            for row in reader:
                if not row or all(not cell.strip() for cell in row):
                    continue  # blank line
                line = reader.line_num
                cell = row[index].strip() if index < len(row) else ""
                if cell.lower() in _MISSING:
                    raise DataFormatError(f"missing value in column {column!r} (got {cell!r}); fill or drop "
                                          "the row first", path, line)
                try:
                    value = float(cell)
                except ValueError:
                    raise DataFormatError(f"non-numeric value {cell!r} in column {column!r}", path, line) from None
                if not math.isfinite(value):
                    raise DataFormatError(f"non-finite value {cell!r} in column {column!r}", path, line)
                values.append(value)
        except csv.Error as err:
            raise DataFormatError(f"malformed CSV ({err})", path, reader.line_num) from None
        except UnicodeDecodeError:
            from lstm_nlp.data.textfiles import count_text_lines

            count_text_lines(path)  # raises naming the line with the bad bytes
            raise DataFormatError("the file is not UTF-8 text", path) from None
    if len(values) < min_length:
        raise DataFormatError(f"column {column!r} has {len(values)} values but at least {min_length} are needed "
                              "(window + horizon)", path)
    return np.asarray(values, dtype=np.float64)


def synthetic_series(
    length: int = 2000,
    *,
    period: int = 24,
    level: float = 10.0,
    slope: float = 0.01,
    amplitude: float = 3.0,
    noise: float = 0.5,
    seed: int = 0,
) -> np.ndarray:
    """A seeded series: linear trend + a two-harmonic seasonal cycle + Gaussian noise.

    ``y_t = level + slope * t + amplitude * (sin(2 pi t / period) + 0.5 sin(4 pi t / period + 1)) + noise * e_t``

    Returns:
        ``float64`` array ``[length]``; the same seed gives the same series.
    """
    if length < 1 or period < 1:
        raise ConfigError(f"length and period must be >= 1, got {length}, {period}")
    t = np.arange(length, dtype=np.float64)
    phase = 2 * np.pi * t / period
    seasonal = amplitude * (np.sin(phase) + 0.5 * np.sin(2 * phase + 1.0))
    rng = np.random.default_rng(seed)
    return level + slope * t + seasonal + noise * rng.standard_normal(length)


@dataclass(frozen=True)
class SeriesSplit:
    """A series cut chronologically.

    Attributes:
        train: The first part, ``float64 [n_train]``.
        val: The ``window`` values before the validation period, then the period itself.
        test: The ``window`` values before the test period, then the period itself.
        val_start: Index (in the full series) of the first validation target.
        test_start: Index of the first test target.
    """

    train: np.ndarray
    val: np.ndarray
    test: np.ndarray
    val_start: int
    test_start: int


def chronological_split(
    values: np.ndarray, *, window: int, horizon: int, val_fraction: float = 0.15, test_fraction: float = 0.15,
    names: Mapping[str, str] | None = None,
) -> SeriesSplit:
    """Cuts a series into train, validation and test periods, in time order (no shuffling).

    Args:
        names: How errors name ``window``, ``horizon``, ``val_fraction`` and ``test_fraction`` (a
            recipe passes its options, e.g. ``{"val_fraction": "--dev-fraction"}``); default: those names.

    Raises:
        ConfigError: bad fractions, or a period too short for one ``window + horizon`` example.
    """
    name = {key: key for key in ("window", "horizon", "val_fraction", "test_fraction")} | dict(names or {})
    if window < 1 or horizon < 1:
        raise ConfigError(f"{name['window']} and {name['horizon']} must be >= 1, got {window}, {horizon}")
    if not (0 <= val_fraction < 1 and 0 < test_fraction < 1):
        raise ConfigError(f"need 0 <= {name['val_fraction']} < 1 and 0 < {name['test_fraction']} < 1, "
                          f"got {val_fraction}, {test_fraction}")
    n = len(values)
    if val_fraction + test_fraction >= 1:
        raise ConfigError(f"{name['val_fraction']} {val_fraction:g} and {name['test_fraction']} {test_fraction:g} "
                          f"add up to {val_fraction + test_fraction:g}, which leaves 0 of the {n} values for "
                          "training (their sum must be below 1)")
    test_start = n - int(round(n * test_fraction))
    val_start = test_start - int(round(n * val_fraction))
    periods = {"train": val_start, "test": n - test_start}
    if val_fraction > 0:
        periods["validation"] = test_start - val_start
    for period, size in periods.items():
        need = window + horizon if period == "train" else horizon
        if size < need:
            raise ConfigError(f"a series of {n} values gives a {period} period of {size} values, fewer than the "
                              f"{need} needed for one example ({name['window']} {window}, {name['horizon']} "
                              f"{horizon}); use a longer series, a smaller {name['window']}/{name['horizon']} or "
                              f"other {name['val_fraction']}/{name['test_fraction']}")
    return SeriesSplit(train=values[:val_start], val=values[val_start - window:test_start],
                       test=values[test_start - window:], val_start=val_start, test_start=test_start)


@dataclass(frozen=True)
class Scaler:
    """Standardisation ``(x - mean) / std``, fitted on training data only."""

    mean: float = 0.0
    std: float = 1.0

    @classmethod
    def fit(cls, values: np.ndarray) -> Scaler:
        """Mean and standard deviation of ``values`` (std 1 for a constant series)."""
        values = np.asarray(values, dtype=np.float64)
        if values.size == 0 or not np.isfinite(values).all():
            raise ConfigError("Scaler.fit needs a non-empty series of finite values")
        std = float(values.std())
        return cls(float(values.mean()), std if std > 0 else 1.0)

    def transform(self, values):
        """Scales an array or tensor (any shape)."""
        return (values - self.mean) / self.std

    def inverse_transform(self, values):
        """Back to the original units (any shape)."""
        return values * self.std + self.mean

    def to_dict(self) -> dict:
        return {"mean": self.mean, "std": self.std}

    @classmethod
    def from_dict(cls, data: dict) -> Scaler:
        return cls(float(data["mean"]), float(data["std"]))


def make_windows(
    values: np.ndarray | Sequence[float], window: int, horizon: int, *, stride: int = 1
) -> tuple[torch.Tensor, torch.Tensor]:
    """Every ``(history, next values)`` pair of a series.

    Pair ``k`` has history ``values[s : s + window]`` and targets ``values[s + window : s + window + horizon]``
    with ``s = k * stride``.

    Returns:
        ``(history, targets)``: ``FloatTensor[n, window]`` and ``FloatTensor[n, horizon]``.

    Raises:
        ConfigError: the series is shorter than ``window + horizon``.
    """
    values = torch.as_tensor(np.asarray(values, dtype=np.float32))
    if values.dim() != 1:
        raise ConfigError(f"make_windows needs a 1-D series, got shape {tuple(values.shape)}")
    if window < 1 or horizon < 1 or stride < 1:
        raise ConfigError(f"window, horizon and stride must be >= 1, got {window}, {horizon}, {stride}")
    if len(values) < window + horizon:
        raise ConfigError(f"a series of {len(values)} values is shorter than window + horizon = {window + horizon}")
    pairs = values.unfold(0, window + horizon, stride)  # [n, window + horizon]
    return pairs[:, :window].contiguous(), pairs[:, window:].contiguous()


def collate_windows(examples: Sequence[tuple[torch.Tensor, torch.Tensor]]) -> dict[str, torch.Tensor]:
    """Stacks ``(history, targets)`` pairs into ``{"history", "mask", "targets"}`` (``mask`` all True)."""
    history = torch.stack([e[0] for e in examples])  # [batch, window]
    return {"history": history, "mask": torch.ones_like(history, dtype=torch.bool),
            "targets": torch.stack([e[1] for e in examples])}


class EpochShuffleSampler(Sampler[int]):
    """A random order of ``range(size)`` that depends only on ``seed + epoch`` (like ``BucketBatchSampler``).

    It holds no generator state between epochs, so a run resumed from a checkpoint (which calls
    :meth:`set_epoch` before each epoch) sees exactly the order the uninterrupted run saw.

    Args:
        size: Number of examples.
        seed: Base seed; the epoch set by :meth:`set_epoch` is added to it.
    """

    def __init__(self, size: int, *, seed: int = 0):
        self.size, self.seed, self.epoch = size, seed, 0

    def set_epoch(self, epoch: int) -> None:
        """Selects the order of ``epoch`` (the Trainer calls it before every epoch)."""
        self.epoch = epoch

    def __iter__(self) -> Iterator[int]:
        generator = torch.Generator().manual_seed(self.seed + self.epoch)
        return iter(torch.randperm(self.size, generator=generator).tolist())

    def __len__(self) -> int:
        return self.size


def window_loader(history: torch.Tensor, targets: torch.Tensor, *, batch_size: int = 64, shuffle: bool = False,
                  seed: int = 0) -> DataLoader:
    """A DataLoader of window batches for the Trainer (keys ``history``, ``mask``, ``targets``).

    With ``shuffle`` the order of epoch ``e`` is drawn from ``seed + e`` (:class:`EpochShuffleSampler`),
    never from a generator whose state would have to be checkpointed.
    """
    pairs = list(zip(history, targets))
    sampler = EpochShuffleSampler(len(pairs), seed=seed) if shuffle else None
    return DataLoader(pairs, batch_size=batch_size, sampler=sampler, collate_fn=collate_windows)
