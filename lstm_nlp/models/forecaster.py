"""``Forecaster``: a BiLSTM over a history window, linear to the next ``horizon`` values.

``forward`` works in scaled units (what training sees); :meth:`Forecaster.forecast` takes raw
values and returns raw values, using the :class:`~lstm_nlp.data.series.Scaler` fitted on the
training period, which the bundle stores in ``config.json``'s ``meta``.

With ``anchor="last"`` (default) the encoder reads the window minus its last value and the head
predicts offsets from that value. A trend then moves no input out of the range seen in training,
which is what makes LSTMs extrapolate badly on trending series.

Also here: the two baselines every forecast must beat, :func:`naive_forecast` (repeat the last
value) and :func:`seasonal_naive_forecast` (repeat the last season).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from lstm_nlp.data.series import Scaler
from lstm_nlp.errors import BundleError, ConfigError
from lstm_nlp.models.base import PretrainedModel
from lstm_nlp.modules.encoder import LSTMEncoder
from lstm_nlp.modules.forecast_head import ForecastHead
from lstm_nlp.modules.pooling import final_states
from lstm_nlp.schema import MAX_DIM, MAX_LAYERS, Field, check_fields, dataclass_schema
from lstm_nlp.serialization import Bundle

MODEL_TYPE = "forecaster"
SCALER_KEY = "scaler"  # where the bundle's meta keeps the scaler


@dataclass(frozen=True)
class ForecasterConfig:
    """Sizes and options of a :class:`Forecaster`.

    Attributes:
        window: History length the model is trained on.
        horizon: Number of future values predicted.
        hidden_size: LSTM size per direction.
        num_layers: Stacked LSTM layers.
        bidirectional: Read the window both ways (the window is all in the past, so this is allowed).
        dropout: Dropout between LSTM layers and before the head.
        anchor: ``"last"``: predict offsets from the window's last value; ``"none"``: raw scaled values.
        loss: ``"l1"`` (robust, optimises MAE) or ``"mse"``.
        encoder_impl: :class:`LSTMEncoder` implementation (``"auto"``, ``"packed"``, ``"dense"``).
    """

    window: int = 48
    horizon: int = 12
    hidden_size: int = 64
    num_layers: int = 1
    bidirectional: bool = True
    dropout: float = 0.0
    anchor: str = "last"
    loss: str = "l1"
    encoder_impl: str = "auto"

    def __post_init__(self) -> None:
        for name in ("window", "horizon", "hidden_size", "num_layers"):
            if getattr(self, name) < 1:
                raise ConfigError(f"ForecasterConfig.{name} must be >= 1, got {getattr(self, name)}")
        if not 0.0 <= self.dropout < 1.0:
            raise ConfigError(f"ForecasterConfig.dropout must be in [0, 1), got {self.dropout}")
        if self.anchor not in ("last", "none"):
            raise ConfigError(f"ForecasterConfig.anchor must be 'last' or 'none', got {self.anchor!r}")
        if self.loss not in ("l1", "mse"):
            raise ConfigError(f"ForecasterConfig.loss must be 'l1' or 'mse', got {self.loss!r}")


#: What ``config.json``'s ``config`` may hold: :class:`ForecasterConfig`'s field types, with bounded sizes.
CONFIG_SCHEMA = dataclass_schema(ForecasterConfig, bounds={
    "window": (1, MAX_DIM), "horizon": (1, MAX_DIM), "hidden_size": (1, MAX_DIM), "num_layers": (1, MAX_LAYERS)})
_FLOAT32_MAX = float(np.finfo(np.float32).max)
#: ``meta.scaler``: finite float32 numbers, a positive ``std``.
SCALER_SCHEMA = {"mean": Field((float,), low=-_FLOAT32_MAX, high=_FLOAT32_MAX, required=True),
                 "std": Field((float,), low=1e-30, high=_FLOAT32_MAX, required=True)}


@dataclass
class ForecastOutput:
    """What :class:`Forecaster` returns.

    Attributes:
        predictions: ``FloatTensor[batch, horizon]`` in scaled units.
        loss: Mean loss over batch and horizon (scalar) when targets were given, else ``None``.
    """

    predictions: torch.Tensor
    loss: torch.Tensor | None = None


class Forecaster(PretrainedModel):
    """History window -> next ``horizon`` values: ``LSTMEncoder`` -> final states -> ``ForecastHead``.

    Args:
        config: Model sizes and options.
        scaler: The scaling fitted on the training period (identity when ``None``).
    """

    model_type = MODEL_TYPE
    config_class = ForecasterConfig
    config_schema = CONFIG_SCHEMA

    def __init__(self, config: ForecasterConfig, *, scaler: Scaler | None = None):
        super().__init__()
        self.config = config
        self.scaler = scaler or Scaler()
        self.encoder = LSTMEncoder(1, config.hidden_size, num_layers=config.num_layers,
                                   bidirectional=config.bidirectional, dropout=config.dropout,
                                   impl=config.encoder_impl)
        self.head = ForecastHead(self.encoder.output_dim, config.horizon, dropout=config.dropout, loss=config.loss)

    def forward(
        self, history: torch.Tensor, *, mask: torch.Tensor | None = None, targets: torch.Tensor | None = None
    ) -> ForecastOutput:
        """Forecasts from scaled histories.

        Args:
            history: ``FloatTensor[batch, seq]`` scaled values, oldest first.
            mask: Optional ``BoolTensor[batch, seq]``, True at real values (which come first in each row),
                for histories shorter than ``seq``; all True when ``None``.
            targets: Optional ``FloatTensor[batch, horizon]`` scaled next values.
        """
        if history.dim() != 2:
            raise ValueError(f"history must be [batch, seq], got shape {tuple(history.shape)}")
        if mask is None:
            mask = torch.ones_like(history, dtype=torch.bool)
        anchor = torch.zeros_like(history[:, :1])  # [batch, 1]
        if self.config.anchor == "last":
            last = mask.sum(-1) - 1
            anchor = history.gather(1, last[:, None])
        inputs = (history - anchor).masked_fill(~mask, 0.0).unsqueeze(-1)  # [batch, seq, 1]
        encoded = self.encoder(inputs, mask=mask)
        summary = final_states(encoded.h_n, num_directions=self.encoder.num_directions)  # [batch, dirs * H]
        # The head predicts offsets from the anchor; its loss on (offsets, targets - anchor) is the loss on
        # (predictions, targets).
        offsets, loss = self.head(summary, targets=None if targets is None else targets - anchor)
        return ForecastOutput(offsets + anchor, loss)  # predictions: [batch, horizon]

    @torch.no_grad()
    def forecast(self, history) -> torch.Tensor:
        """Forecasts in the series' own units.

        Args:
            history: Raw past values, oldest first: ``[seq]`` or ``[batch, seq]`` (array, list or tensor).
                Only the last ``config.window`` values are used.

        Returns:
            ``FloatTensor[horizon]`` (or ``[batch, horizon]``) on the CPU, raw units.
        """
        values = torch.as_tensor(np.asarray(history, dtype=np.float32))
        single = values.dim() == 1
        values = values[None] if single else values
        if values.dim() != 2 or values.shape[1] == 0:
            raise ValueError(f"history must be [seq] or [batch, seq] with seq >= 1, got {tuple(values.shape)}")
        values = values[:, -self.config.window:]
        device = next(self.parameters()).device
        was_training = self.training
        self.eval()
        scaled = self(self.scaler.transform(values).to(device)).predictions
        self.train(was_training)
        raw = self.scaler.inverse_transform(scaled.float().cpu())
        return raw[0] if single else raw

    def bundle_meta(self) -> dict:
        """The scaler, under ``meta["scaler"]``."""
        return {SCALER_KEY: self.scaler.to_dict()}

    @classmethod
    def from_config(cls, config: ForecasterConfig, bundle: Bundle) -> Forecaster:
        """The model with the bundle's scaler (``meta.scaler``, checked against :data:`SCALER_SCHEMA`)."""
        if SCALER_KEY not in bundle.meta:
            raise BundleError(f"{bundle.config_file}: meta.{SCALER_KEY} is missing (expected {{'mean': float, "
                              "'std': float}})")
        check_fields(bundle.meta[SCALER_KEY], SCALER_SCHEMA, source=bundle.config_file, prefix=f"meta.{SCALER_KEY}.")
        return cls(config, scaler=Scaler.from_dict(bundle.meta[SCALER_KEY]))


def naive_forecast(history: torch.Tensor, horizon: int) -> torch.Tensor:
    """Repeats each window's last value: ``[batch, window]`` -> ``[batch, horizon]``."""
    return history[:, -1:].expand(-1, horizon).clone()


def seasonal_naive_forecast(history: torch.Tensor, horizon: int, period: int) -> torch.Tensor:
    """Repeats each window's last full season: ``y_{T+h} = y_{T+h-period*k}``, ``k = ceil(h / period)``.

    Args:
        history: ``FloatTensor[batch, window]``, ``window >= period``.
        horizon: Values to forecast.
        period: Season length in steps.

    Returns:
        ``FloatTensor[batch, horizon]``.
    """
    window = history.shape[1]
    if not 1 <= period <= window:
        raise ConfigError(f"seasonal naive needs 1 <= period <= window, got period {period}, window {window}")
    index = window - period + torch.arange(horizon) % period  # [horizon]
    return history[:, index]
