"""``RunState``: where a training run stands, as saved in (and restored from) every checkpoint."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

import torch


def _empty_stats() -> dict:
    return {"loss_sum": 0.0, "batches": 0, "tokens": 0, "seconds": 0.0}


@dataclass
class RunState:
    """Progress and selection state of a run (everything but the model, optimizer and RNGs).

    Attributes:
        completed_epochs: Epochs fully trained and evaluated.
        batches_done: This rank's batches of epoch ``completed_epochs + 1`` already trained.
        global_step: Optimizer steps so far.
        best_epoch: Epoch with the best dev metric so far (0: none).
        best_metric: Its metric.
        best_model: CPU copy of its weights.
        bad_epochs: Epochs since the last improvement (early stopping).
        stopped_early: Early stopping ended the run.
        history: One record per completed epoch (the ``metrics.jsonl`` lines).
        epoch_stats: Running sums of the epoch in progress (loss, batches, tokens, seconds), so a
            mid-epoch resume reports the same epoch record.
    """

    completed_epochs: int = 0
    batches_done: int = 0
    global_step: int = 0
    best_epoch: int = 0
    best_metric: float | None = None
    best_model: dict[str, torch.Tensor] | None = None
    bad_epochs: int = 0
    stopped_early: bool = False
    history: list[dict] = field(default_factory=list)
    epoch_stats: dict = field(default_factory=_empty_stats)

    def end_epoch(self, record: dict) -> None:
        """Appends ``record`` and moves the position to the start of the next epoch."""
        self.history.append(record)
        self.completed_epochs, self.batches_done = record["epoch"], 0
        self.epoch_stats = _empty_stats()

    def epoch_record(self, all_ranks: list[dict] | None = None) -> dict:
        """The training part of the current epoch's record: mean loss, tokens, tokens/s, seconds.

        Args:
            all_ranks: Every rank's ``epoch_stats`` under DDP: the loss is then the mean over all ranks'
                batches, tokens are summed and the time is the slowest rank's.
        """
        ranks = all_ranks or [self.epoch_stats]
        loss_sum, batches = sum(r["loss_sum"] for r in ranks), sum(r["batches"] for r in ranks)
        tokens, seconds = sum(r["tokens"] for r in ranks), max(r["seconds"] for r in ranks)
        return {"train_loss": loss_sum / max(batches, 1), "train_tokens": tokens,
                "train_tokens_per_s": tokens / seconds if seconds > 0 else math.nan, "train_seconds": seconds}

    def to_checkpoint(self) -> dict:
        """The checkpoint fields (plain values and tensors only)."""
        return {"epoch": self.completed_epochs, "batches_done": self.batches_done, "global_step": self.global_step,
                "best_epoch": self.best_epoch, "best_metric": self.best_metric, "best_model": self.best_model,
                "bad_epochs": self.bad_epochs, "stopped_early": self.stopped_early, "history": self.history,
                "epoch_stats": dict(self.epoch_stats)}

    @classmethod
    def from_checkpoint(cls, ckpt: Mapping) -> RunState:
        """Inverse of :meth:`to_checkpoint` (missing optional fields take their defaults)."""
        return cls(completed_epochs=ckpt["epoch"], batches_done=ckpt["batches_done"], global_step=ckpt["global_step"],
                   best_epoch=ckpt.get("best_epoch", 0), best_metric=ckpt.get("best_metric"),
                   best_model=ckpt.get("best_model"), bad_epochs=ckpt.get("bad_epochs", 0),
                   stopped_early=ckpt.get("stopped_early", False), history=list(ckpt["history"]),
                   epoch_stats=dict(ckpt.get("epoch_stats") or _empty_stats()))
