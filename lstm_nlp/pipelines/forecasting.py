"""``ForecastPipeline``: a trained :class:`Forecaster` from raw series to forecasts, metrics and plots.

Used by ``recipes/forecast.py`` and by ``lstm-nlp predict/evaluate`` for bundles of type ``forecaster``:

* ``predict``: each input line is a history (numbers separated by commas or spaces); the output line
  holds the next ``horizon`` values. Lines without a number give an empty line.
* ``evaluate --data series.csv``: MAE/RMSE over every window of the file's column (the one the model
  was trained on), next to the naive last-value and seasonal-naive baselines.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Iterable, Iterator

import numpy as np
import torch
from torch.utils.data import DataLoader

from lstm_nlp.data.series import make_windows, read_series_csv, window_loader
from lstm_nlp.errors import ConfigError
from lstm_nlp.models.forecaster import MODEL_TYPE, Forecaster, naive_forecast, seasonal_naive_forecast
from lstm_nlp.serialization import read_bundle
from lstm_nlp.training.device import resolve_device

_NUMBER_SPLIT = re.compile(r"[,;\s]+")


def error_metrics(predictions: torch.Tensor, targets: torch.Tensor) -> dict[str, float]:
    """``{"mae", "rmse"}`` over every element of two same-shaped tensors."""
    error = (predictions.double() - targets.double()).flatten()
    return {"mae": float(error.abs().mean()), "rmse": float(error.square().mean().sqrt())}


class ForecastPipeline:
    """A :class:`Forecaster` (with its scaler) plus the task settings of its training data.

    Args:
        model: The forecaster.
        period: Season length in steps for the seasonal-naive baseline (``None``: no seasonal baseline).
        column: The CSV column the model was trained on (default column for :meth:`read_labelled`).
    """

    def __init__(self, model: Forecaster, *, period: int | None = None, column: str | None = None):
        if period is not None and not 1 <= period <= model.config.window:
            raise ConfigError(f"period must be in [1, window={model.config.window}], got {period}")
        self.model = model
        self.period = period
        self.column = column

    @property
    def window(self) -> int:
        return self.model.config.window

    @property
    def horizon(self) -> int:
        return self.model.config.horizon

    @property
    def device(self) -> torch.device:
        return next(self.model.parameters()).device

    # ------------------------------------------------------------------ data
    def loader(self, values: np.ndarray, *, batch_size: int = 64, shuffle: bool = False, seed: int = 0) -> DataLoader:
        """Training batches (scaled ``history``/``targets`` + ``mask``) of every window of a raw series."""
        history, targets = make_windows(self.model.scaler.transform(np.asarray(values)), self.window, self.horizon)
        return window_loader(history, targets, batch_size=batch_size, shuffle=shuffle, seed=seed)

    def read_labelled(self, path: str | os.PathLike, column: str | None = None, **_ignored) -> np.ndarray:
        """Reads a CSV column (default: the training column) for :meth:`evaluate`."""
        column = column or self.column
        if column is None:
            raise ConfigError("this model does not know its CSV column; pass column=")
        return read_series_csv(path, column, min_length=self.window + self.horizon)

    # ------------------------------------------------------------------ inference
    @torch.no_grad()
    def predict(self, history: torch.Tensor, *, batch_size: int = 256) -> torch.Tensor:
        """Raw-unit forecasts for raw histories ``[n, seq]`` -> ``FloatTensor[n, horizon]`` (CPU)."""
        chunks = [self.model.forecast(history[start:start + batch_size])
                  for start in range(0, len(history), batch_size)]
        return torch.cat(chunks) if chunks else torch.empty(0, self.horizon)

    def predict_lines(self, lines: Iterable[str], *, batch_size: int = 256) -> Iterator[str]:
        """One line of ``horizon`` space-separated forecasts per input line of past values."""
        for line in lines:
            try:
                values = [float(v) for v in _NUMBER_SPLIT.split(line.strip()) if v]
            except ValueError:
                values = []
            values = [v for v in values if math.isfinite(v)]
            if not values:
                yield ""
                continue
            yield " ".join(f"{v:.6g}" for v in self.model.forecast(values).tolist())

    def evaluate(self, values: np.ndarray, *, batch_size: int = 256) -> dict:
        """Scores every window of a raw series (its first ``window`` values are context only).

        Returns:
            ``mae``/``rmse`` of the model and of the baselines (``naive_last_*``, ``seasonal_naive_*``)
            in the series' units, ``windows`` (count) and a text ``report``.
        """
        history, targets = make_windows(np.asarray(values), self.window, self.horizon)
        metrics = error_metrics(self.predict(history, batch_size=batch_size), targets)
        forecasts = {"naive_last": naive_forecast(history, self.horizon)}
        if self.period is not None:
            forecasts["seasonal_naive"] = seasonal_naive_forecast(history, self.horizon, self.period)
        for name, forecast in forecasts.items():
            metrics.update({f"{name}_{k}": v for k, v in error_metrics(forecast, targets).items()})
        metrics["windows"] = len(history)
        rows = [("model", "")] + [(name, f"{name}_") for name in forecasts]
        report = [f"{'forecast':<16}{'MAE':>10}{'RMSE':>10}   ({len(history)} windows x {self.horizon} steps)"]
        report += [f"{label:<16}{metrics[prefix + 'mae']:>10.4f}{metrics[prefix + 'rmse']:>10.4f}"
                   for label, prefix in rows]
        metrics["report"] = "\n".join(report)
        return metrics

    def plot(self, values: np.ndarray, path: str | os.PathLike, *, start: int = 0, title: str | None = None) -> None:
        """Saves a PNG of consecutive ``horizon``-step forecasts against the truth on one axis.

        Args:
            values: Raw series; the first ``window`` values are context, the rest is forecast block by block.
            path: Output image file.
            start: Time index of ``values[0]`` in the full series (for the x axis).
            title: Plot title.
        """
        from matplotlib.figure import Figure  # no pyplot: no global state, no GUI backend

        history, targets = make_windows(np.asarray(values), self.window, self.horizon, stride=self.horizon)
        forecast = self.predict(history).flatten().numpy()
        steps = start + self.window + np.arange(len(forecast))
        figure = Figure(figsize=(11, 4.5), dpi=110)
        axis = figure.add_subplot()
        axis.plot(start + np.arange(len(values)), values, color="black", linewidth=1.0, label="truth")
        if self.period is not None:
            seasonal = seasonal_naive_forecast(history, self.horizon, self.period).flatten().numpy()
            axis.plot(steps, seasonal, color="tab:gray", linewidth=1.0, linestyle=":", label="seasonal naive")
        axis.plot(steps, forecast, color="tab:red", linewidth=1.4, label=f"forecast ({self.horizon} steps at a time)")
        axis.axvline(start + self.window - 0.5, color="tab:blue", linestyle="--", linewidth=0.8,
                     label="first forecast")
        axis.set_title(title or f"Forecast vs. truth (window {self.window}, horizon {self.horizon})")
        axis.set_xlabel("time step")
        axis.set_ylabel(self.column or "value")
        axis.legend(loc="best")
        axis.grid(alpha=0.3)
        figure.tight_layout()
        figure.savefig(path)

    # ------------------------------------------------------------------ bundles
    def save_pretrained(self, directory: str | os.PathLike) -> None:
        """Writes the model bundle (scaler, period and column in ``meta``)."""
        self.model.save_pretrained(directory, meta={"period": self.period, "column": self.column})

    @classmethod
    def from_pretrained(cls, directory: str | os.PathLike, *, device: str | torch.device = "cpu") -> ForecastPipeline:
        """Loads a bundle written by :meth:`save_pretrained` (or ``Forecaster.save_pretrained``)."""
        bundle = read_bundle(directory, expected_type=MODEL_TYPE)
        model = Forecaster.from_bundle(bundle).to(resolve_device(device) if isinstance(device, str) else device)
        return cls(model, period=bundle.meta.get("period"), column=bundle.meta.get("column"))
