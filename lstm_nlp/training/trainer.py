"""``Trainer``: the training loop, device handling, dev evaluation and best-model selection.

The trainer only sees a model (whose ``forward(**batch)`` returns an object with ``.loss``),
a loader of batches and an ``evaluate(model) -> dict`` callable; recipes wire the rest.
"""

from __future__ import annotations

import copy
import json
import logging
import math
import random
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch import nn
from tqdm.auto import tqdm

from lstm_nlp.errors import ConfigError
from lstm_nlp.training.device import move_batch, resolve_device

logger = logging.getLogger("lstm_nlp")

NON_MODEL_KEYS = ("lengths", "index")


@dataclass
class TrainerConfig:
    """Training options.

    Attributes:
        epochs: Passes over the training data.
        optimizer: ``"adam"``, ``"adamw"`` or ``"sgd"`` (momentum 0.9).
        lr: Learning rate.
        weight_decay: L2 / decoupled weight decay.
        grad_clip: Clip the global gradient norm to this (``None``: no clipping).
        device: ``"auto"``, ``"cpu"``, ``"cuda"``, ``"cuda:N"`` or ``"mps"``.
        metric: Dev metric that selects the best epoch (a key of ``evaluate``'s result).
        mode: ``"max"`` if a larger ``metric`` is better, else ``"min"``.
        output_dir: Where ``metrics.jsonl`` goes (``None``: nowhere).
        progress: Show tqdm progress bars.
        seed: Seed for Python, NumPy and torch.
    """

    epochs: int = 10
    optimizer: str = "adam"
    lr: float = 1e-3
    weight_decay: float = 0.0
    grad_clip: float | None = 5.0
    device: str = "auto"
    metric: str = "accuracy"
    mode: str = "max"
    output_dir: str | None = None
    progress: bool = True
    seed: int = 0

    def __post_init__(self) -> None:
        if self.epochs < 0:
            raise ConfigError(f"epochs must be >= 0, got {self.epochs}")
        if self.optimizer not in ("adam", "adamw", "sgd"):
            raise ConfigError(f"optimizer must be adam, adamw or sgd, got {self.optimizer!r}")
        if self.lr <= 0:
            raise ConfigError(f"lr must be > 0, got {self.lr}")
        if self.mode not in ("max", "min"):
            raise ConfigError(f"mode must be 'max' or 'min', got {self.mode!r}")


@dataclass
class TrainResult:
    """Outcome of :meth:`Trainer.fit`: per-epoch records and the best epoch (1-based; 0 = none)."""

    history: list[dict] = field(default_factory=list)
    best_epoch: int = 0
    best_metric: float | None = None


def seed_everything(seed: int) -> None:
    """Seeds Python, NumPy and torch (all devices)."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def build_optimizer(model: nn.Module, config: TrainerConfig) -> torch.optim.Optimizer:
    params = [p for p in model.parameters() if p.requires_grad]
    if config.optimizer == "adam":
        return torch.optim.Adam(params, lr=config.lr, weight_decay=config.weight_decay)
    if config.optimizer == "adamw":
        return torch.optim.AdamW(params, lr=config.lr, weight_decay=config.weight_decay)
    return torch.optim.SGD(params, lr=config.lr, momentum=0.9, weight_decay=config.weight_decay)


class Trainer:
    """Trains a model, evaluates it after every epoch and keeps the best weights.

    Args:
        model: A module whose ``forward(**batch)`` returns an object with a scalar ``.loss``.
        config: Training options.
        train_loader: Iterable of batches (dicts of tensors from a collate function).
        evaluate: ``evaluate(model) -> {metric: value}`` on dev data; the model is already on the
            trainer's device and in eval mode. Without it the last epoch is kept.
    """

    def __init__(
        self,
        model: nn.Module,
        config: TrainerConfig,
        *,
        train_loader: Iterable[dict[str, torch.Tensor]],
        evaluate: Callable[[nn.Module], dict] | None = None,
    ):
        self.config = config
        self.device = resolve_device(config.device)
        self.model = model.to(self.device)
        self.train_loader = train_loader
        self.evaluate = evaluate
        self.optimizer = build_optimizer(self.model, config)

    def _better(self, value: float, best: float | None) -> bool:
        if best is None:
            return True
        return value > best if self.config.mode == "max" else value < best

    def train_epoch(self, epoch: int) -> dict:
        """Runs one pass over ``train_loader``; returns mean loss, tokens and tokens/s."""
        self.model.train()
        sampler = getattr(getattr(self.train_loader, "batch_sampler", None), "set_epoch", None)
        if sampler is not None:
            sampler(epoch)
        total_loss, total_tokens, steps = 0.0, 0, 0
        start = time.perf_counter()
        bar = tqdm(self.train_loader, desc=f"epoch {epoch}", leave=False, disable=not self.config.progress,
                   unit="batch")
        for batch in bar:
            batch = move_batch(batch, self.device)
            output = self.model(**{k: v for k, v in batch.items() if k not in NON_MODEL_KEYS})
            loss = output.loss
            if not torch.isfinite(loss):
                raise FloatingPointError(f"loss is {loss.item()} at epoch {epoch}, step {steps + 1}; "
                                         "lower the learning rate or check the data")
            self.optimizer.zero_grad(set_to_none=True)
            loss.backward()
            if self.config.grad_clip:
                nn.utils.clip_grad_norm_(self.model.parameters(), self.config.grad_clip)
            self.optimizer.step()
            steps += 1
            total_loss += loss.item()
            total_tokens += int(batch["mask"].sum())
            bar.set_postfix(loss=f"{total_loss / steps:.4f}")
        elapsed = time.perf_counter() - start
        return {"train_loss": total_loss / max(steps, 1), "train_tokens": total_tokens,
                "train_tokens_per_s": total_tokens / elapsed if elapsed > 0 else math.nan,
                "train_seconds": elapsed}

    @torch.no_grad()
    def run_evaluation(self) -> dict:
        if self.evaluate is None:
            return {}
        self.model.eval()
        return self.evaluate(self.model)

    def fit(self) -> TrainResult:
        """Trains for ``config.epochs`` epochs and leaves the best dev-metric weights in the model."""
        seed_everything(self.config.seed)
        result = TrainResult()
        best_state = None
        log_path = None
        if self.config.output_dir:
            Path(self.config.output_dir).mkdir(parents=True, exist_ok=True)
            log_path = Path(self.config.output_dir) / "metrics.jsonl"
            log_path.write_text("", encoding="utf-8")
        for epoch in range(1, self.config.epochs + 1):
            record = {"epoch": epoch, **self.train_epoch(epoch)}
            dev = self.run_evaluation()
            record.update({f"dev_{k}": v for k, v in dev.items() if isinstance(v, (int, float))})
            result.history.append(record)
            metric = dev.get(self.config.metric)
            if metric is None and dev:
                raise ConfigError(f"evaluate() returned {sorted(dev)}, not the selection metric "
                                  f"{self.config.metric!r}")
            if metric is None or self._better(metric, result.best_metric):
                result.best_epoch, result.best_metric = epoch, metric
                best_state = copy.deepcopy(self.model.state_dict())
            if log_path is not None:
                with log_path.open("a", encoding="utf-8") as handle:
                    handle.write(json.dumps(record) + "\n")
            logger.info("epoch %d: loss %.4f, %.0f tokens/s%s", epoch, record["train_loss"],
                        record["train_tokens_per_s"],
                        f", dev {self.config.metric} {metric:.4f}" if metric is not None else "")
        if best_state is not None:
            self.model.load_state_dict(best_state)
        return result

    def config_dict(self) -> dict:
        return asdict(self.config)
