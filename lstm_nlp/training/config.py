"""``TrainerConfig``: every option of a training run, checked when it is built."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from lstm_nlp.errors import ConfigError
from lstm_nlp.precision import PRECISIONS

OPTIMIZERS = ("adam", "adamw", "sgd")
SCHEDULERS = ("none", "plateau", "linear", "step")
_PRECISION_ALIASES = {"32": "fp32", "float32": "fp32", "no": "fp32", "bfloat16": "bf16", "16": "fp16",
                      "float16": "fp16", "half": "fp16", "auto": "amp"}


@dataclass
class TrainerConfig:
    """Training options.

    Attributes:
        epochs: Passes over the training data (the total, also when resuming).
        optimizer: ``"adam"``, ``"adamw"`` or ``"sgd"`` (with ``momentum``).
        lr: Peak learning rate.
        weight_decay: L2 (adam, sgd) or decoupled (adamw) weight decay.
        grad_clip: Clip the global gradient norm to this (``None`` or 0: no clipping).
        device: ``"auto"``, ``"cpu"``, ``"cuda"``, ``"cuda:N"`` or ``"mps"`` (under ``torchrun``
            CUDA ranks use ``cuda:LOCAL_RANK``).
        metric: Dev metric that selects the best epoch (a key of ``evaluate``'s result).
        mode: ``"max"`` if a larger ``metric`` is better, else ``"min"``.
        output_dir: Where ``metrics.jsonl``, ``training_curve.png`` and ``checkpoints/`` go
            (``None``: nowhere, and no checkpoints).
        progress: Show tqdm progress bars.
        seed: Seed for Python, NumPy and torch (rank ``r`` of a distributed run uses ``seed + r``).
        momentum: SGD momentum.
        grad_accum: Batches whose gradients are summed before each optimizer step.
        scheduler: ``"none"``, ``"plateau"``, ``"linear"`` or ``"step"`` (see :mod:`lstm_nlp.training.optim`).
        warmup_steps: Optimizer steps of linear warm-up (``linear`` schedule).
        lr_factor: Learning-rate multiplier of ``plateau`` and ``step``.
        lr_patience: Epochs without dev improvement before ``plateau`` lowers the learning rate.
        lr_step_size: Epochs between ``step`` decays.
        min_lr: Lower bound of ``plateau``.
        patience: Stop after this many epochs without dev improvement (``None`` or 0: never).
            Apart from it, a run stops once ``metric`` reaches its maximum (1.0 for an accuracy, F1,
            precision or recall): no later epoch could then be kept as the best.
        precision: ``"fp32"``, ``"bf16"``, ``"fp16"`` (CUDA only, with a gradient scaler) or
            ``"amp"`` (bf16 on GPUs that support it, else fp16; fp32 on CPU).
        checkpoint_every: Also checkpoint every N optimizer steps (0: only at epoch ends).
        keep_checkpoints: Most recent checkpoints to keep (the best one is kept as well).
        save_checkpoints: Write checkpoints at all (needs ``output_dir``).
        resume: Checkpoint to resume from: a file, a folder, or ``"auto"`` (the latest in
            ``output_dir/checkpoints`` if any). ``Trainer.fit(resume=...)`` overrides it.
        plots: Redraw ``training_curve.png`` every epoch.
        tensorboard: Log to ``output_dir/tensorboard`` when the tensorboard package is installed.
        find_unused_parameters: Passed to ``DistributedDataParallel`` (models with branches
            that some batches skip).
        throughput_unit: What the logged throughput counts: ``"tokens"`` (real tokens of each
            batch), or any other name for examples (e.g. ``"windows"`` of a forecaster). The
            ``metrics.jsonl`` key stays ``train_tokens_per_s``.
        run_options: Options of the program around the trainer (a recipe's command line: data,
            batch size, model sizes...) as plain values. Saved in every checkpoint and compared on
            resume like the fields above (see :data:`lstm_nlp.training.trainer.RESUMABLE_CHANGES`).
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
    momentum: float = 0.9
    grad_accum: int = 1
    scheduler: str = "none"
    warmup_steps: int = 0
    lr_factor: float = 0.5
    lr_patience: int = 2
    lr_step_size: int = 1
    min_lr: float = 0.0
    patience: int | None = None
    precision: str = "fp32"
    checkpoint_every: int = 0
    keep_checkpoints: int = 2
    save_checkpoints: bool = True
    resume: str | None = None
    plots: bool = True
    tensorboard: bool = False
    find_unused_parameters: bool = False
    throughput_unit: str = "tokens"
    run_options: dict | None = None

    def __post_init__(self) -> None:
        self.precision = _PRECISION_ALIASES.get(str(self.precision).lower(), str(self.precision).lower())
        checks = [
            (self.epochs >= 1, f"epochs must be >= 1, got {self.epochs}"),
            (self.optimizer in OPTIMIZERS, f"optimizer must be one of {', '.join(OPTIMIZERS)}, got {self.optimizer!r}"),
            (self.lr > 0, f"lr must be > 0, got {self.lr}"),
            (self.weight_decay >= 0, f"weight_decay must be >= 0, got {self.weight_decay}"),
            (self.grad_clip is None or self.grad_clip >= 0, f"grad_clip must be >= 0, got {self.grad_clip}"),
            (self.mode in ("max", "min"), f"mode must be 'max' or 'min', got {self.mode!r}"),
            (0 <= self.momentum < 1, f"momentum must be in [0, 1), got {self.momentum}"),
            (self.grad_accum >= 1, f"grad_accum must be >= 1, got {self.grad_accum}"),
            (self.scheduler in SCHEDULERS, f"scheduler must be one of {', '.join(SCHEDULERS)}, got {self.scheduler!r}"),
            (self.warmup_steps >= 0, f"warmup_steps must be >= 0, got {self.warmup_steps}"),
            (0 < self.lr_factor < 1, f"lr_factor must be in (0, 1), got {self.lr_factor}"),
            (self.lr_patience >= 0, f"lr_patience must be >= 0, got {self.lr_patience}"),
            (self.lr_step_size >= 1, f"lr_step_size must be >= 1, got {self.lr_step_size}"),
            (self.min_lr >= 0, f"min_lr must be >= 0, got {self.min_lr}"),
            (self.patience is None or self.patience >= 0, f"patience must be >= 0, got {self.patience}"),
            (self.precision in PRECISIONS, f"precision must be one of {', '.join(PRECISIONS)}, got {self.precision!r}"),
            (self.checkpoint_every >= 0, f"checkpoint_every must be >= 0, got {self.checkpoint_every}"),
            (self.keep_checkpoints >= 1, f"keep_checkpoints must be >= 1, got {self.keep_checkpoints}"),
        ]
        for ok, message in checks:
            if not ok:
                raise ConfigError(message)


def resolve_precision(precision: str, device: torch.device) -> str:
    """The autocast precision actually used on ``device``: ``"fp32"``, ``"bf16"`` or ``"fp16"``.

    Raises:
        ConfigError: ``fp16`` off CUDA (CPU LSTM kernels have no fp16 path and the gradient
            scaler is meant for CUDA), or ``bf16`` on a GPU without bf16 support.
    """
    if precision == "amp":
        if device.type != "cuda":
            return "fp32"
        return "bf16" if torch.cuda.is_bf16_supported() else "fp16"
    if precision == "fp16" and device.type != "cuda":
        raise ConfigError(f"precision fp16 needs a CUDA device (got {device}); use bf16 or fp32 on {device.type}")
    if precision == "bf16" and device.type == "cuda" and not torch.cuda.is_bf16_supported():
        raise ConfigError(f"{torch.cuda.get_device_name(device)} does not support bf16; use --precision fp16")
    return precision
