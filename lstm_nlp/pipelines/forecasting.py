"""``ForecastPipeline``: a trained :class:`Forecaster` from raw series to forecasts, metrics and plots.

Used by ``recipes/forecast.py`` and by ``lstm-nlp predict/evaluate`` for bundles of type ``forecaster``:

* ``predict``: each input line is a history, oldest value first, numbers separated by spaces, commas
  or semicolons; the output line holds the next ``horizon`` values. An empty line gives an empty
  line; a value that is not a finite float32 number stops with an error naming the line; a history
  shorter than the model's window is forecast from what there is, with a warning.
* ``evaluate --data series.csv``: MAE/RMSE over every window of the file's column (the one the model
  was trained on), next to the naive last-value and seasonal-naive baselines.
"""

from __future__ import annotations

import logging
import math
import os
import re

import numpy as np
import torch
from torch.utils.data import DataLoader

from lstm_nlp.data.series import make_windows, read_series_csv, window_loader
from lstm_nlp.errors import ConfigError, DataFormatError
from lstm_nlp.models.forecaster import MODEL_TYPE, Forecaster, naive_forecast, seasonal_naive_forecast
from lstm_nlp.pipelines.base import TaskPipeline
from lstm_nlp.pipelines.tasks import TASKS
from lstm_nlp.schema import MAX_DIM, Field
from lstm_nlp.serialization import Bundle

logger = logging.getLogger("lstm_nlp")

_NUMBER_SPLIT = re.compile(r"[,;\s]+")
_FLOAT32_MAX = float(np.finfo(np.float32).max)
_SHORT_LINE_WARNINGS = 3  # per chunk of input; more would bury the output


def error_metrics(predictions: torch.Tensor, targets: torch.Tensor) -> dict[str, float]:
    """``{"mae", "rmse"}`` over every element of two same-shaped tensors."""
    error = (predictions.double() - targets.double()).flatten()
    return {"mae": float(error.abs().mean()), "rmse": float(error.square().mean().sqrt())}


class ForecastPipeline(TaskPipeline):
    """A :class:`Forecaster` (with its scaler) plus the task settings of its training data.

    Args:
        model: The forecaster.
        period: Season length in steps for the seasonal-naive baseline (``None``: no seasonal baseline).
        column: The CSV column the model was trained on (default column for :meth:`read_labelled`).
    """

    model_type = MODEL_TYPE
    task_name = TASKS[MODEL_TYPE].title
    read_options = ("column",)
    meta_schema = {"period": Field((int, type(None)), low=1, high=MAX_DIM), "column": Field((str, type(None))),
                   "scaler": Field((dict,))}  # the scaler's fields: Forecaster.from_bundle

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

    # ------------------------------------------------------------------ data
    def loader(self, values: np.ndarray, *, batch_size: int = 64, shuffle: bool = False, seed: int = 0) -> DataLoader:
        """Training batches (scaled ``history``/``targets`` + ``mask``) of every window of a raw series."""
        history, targets = make_windows(self.model.scaler.transform(np.asarray(values)), self.window, self.horizon)
        return window_loader(history, targets, batch_size=batch_size, shuffle=shuffle, seed=seed)

    def _read_labelled(self, path: str | os.PathLike, *, column: str | None = None) -> np.ndarray:
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

    def format_predictions(self, lines: list[str], *, batch_size: int, first_line: int) -> list[str]:
        """``horizon`` space-separated forecasts for each line of past values (see the module docstring).

        Raises:
            DataFormatError: a value that is not a finite float32 number (the line is named).
        """
        outputs, short = [], 0
        for number, line in enumerate(lines, start=first_line):
            values = self._parse_history(line, number)
            if not values:
                outputs.append("")
                continue
            if len(values) < self.window:
                short += 1
                if short <= _SHORT_LINE_WARNINGS:
                    logger.warning("line %d: %d value(s), fewer than the model's window of %d; the forecast uses "
                                   "what there is", number, len(values), self.window)
            outputs.append(" ".join(f"{v:.6g}" for v in self.model.forecast(values).tolist()))
        if short > _SHORT_LINE_WARNINGS:
            logger.warning("%d more line(s) shorter than the window", short - _SHORT_LINE_WARNINGS)
        return outputs

    @staticmethod
    def _parse_history(line: str, number: int) -> list[float]:
        values = []
        for token in _NUMBER_SPLIT.split(line.strip()):
            if not token:
                continue
            try:
                value = float(token)
            except ValueError:
                raise DataFormatError(f"line {number}: {token[:40]!r} is not a number; each line holds past values "
                                      "of the series, oldest first, separated by spaces or commas") from None
            if not math.isfinite(value) or abs(value) > _FLOAT32_MAX:
                raise DataFormatError(f"line {number}: {token[:40]!r} is not a finite number the model can take "
                                      f"(float32: |x| <= {_FLOAT32_MAX:.3g})")
            values.append(value)
        return values

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
    def bundle_contents(self) -> dict:
        return {"meta": {"period": self.period, "column": self.column}}  # the model adds its scaler

    @classmethod
    def _from_bundle(cls, bundle: Bundle) -> ForecastPipeline:
        return cls(Forecaster.from_bundle(bundle), period=bundle.meta.get("period"), column=bundle.meta.get("column"))
