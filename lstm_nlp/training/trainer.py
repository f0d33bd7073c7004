"""``Trainer``: the training loop, with checkpoints and exact resume, schedules, early stopping, AMP and DDP.

The trainer only sees a model (whose ``forward(**batch)`` returns an object with ``.loss``),
a loader of batches and an ``evaluate(model) -> dict`` callable; recipes wire the rest.

One epoch is: ``set_epoch`` on the batch sampler, forward/backward over the batches (an
optimizer step every ``grad_accum`` batches), evaluation on dev (rank 0), schedule and early
stopping decisions, a ``metrics.jsonl`` record, ``training_curve.png`` and a checkpoint.
Checkpoints hold everything that influences what comes next (weights, optimizer, schedule,
scaler, every RNG, the position in the epoch), so resuming continues bit for bit on CPU.
"""

from __future__ import annotations

import logging
import math
import random
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import nullcontext
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch import nn
from tqdm.auto import tqdm

from lstm_nlp import __version__
from lstm_nlp.batch import model_inputs
from lstm_nlp.device import adapt_cpu_threads, move_batch
from lstm_nlp.errors import BundleError, ConfigError, LstmNlpError
from lstm_nlp.precision import autocast_dtype
from lstm_nlp.training import distributed as dist_utils
from lstm_nlp.training.checkpoint import (
    CHECKPOINT_DIR,
    CHECKPOINT_FORMAT_VERSION,
    CheckpointManager,
    capture_rng_state,
    load_checkpoint,
    resolve_resume,
    restore_rng_state,
)
from lstm_nlp.training.config import TrainerConfig, resolve_precision
from lstm_nlp.training.interrupts import StopRequest, TrainingInterrupted
from lstm_nlp.training.optim import LRSchedule, build_optimizer
from lstm_nlp.training.run_lock import RunLock
from lstm_nlp.training.run_state import RunState
from lstm_nlp.training.tracking import RunLog, summary_table

logger = logging.getLogger("lstm_nlp")


__all__ = ["RESUMABLE_CHANGES", "NonFiniteLossError", "TrainResult", "Trainer", "TrainerConfig", "TrainingInterrupted",
           "build_optimizer", "changed_options", "seed_everything"]


class NonFiniteLossError(LstmNlpError, FloatingPointError):
    """The training loss became NaN or infinite; the message names the epoch and step."""


def metric_ceiling(name: str) -> float:
    """The best value ``name`` can take: 1.0 for accuracies, F1, precision and recall, else infinity."""
    return 1.0 if name.rsplit("_", 1)[-1] in ("accuracy", "acc", "f1", "precision", "recall") else math.inf


@dataclass
class TrainResult:
    """Outcome of :meth:`Trainer.fit`.

    Attributes:
        history: One record per epoch (the ``metrics.jsonl`` lines), including epochs run before a resume.
        best_epoch: The selected epoch (1-based; 0 = none).
        best_metric: Its dev metric (``None`` without dev evaluation).
        stopped_early: True if early stopping ended the run.
        global_step: Optimizer steps taken in total.
        checkpoint: The last checkpoint written (``None`` if checkpoints are off).
        summary: The final summary table (also logged).
    """

    history: list[dict] = field(default_factory=list)
    best_epoch: int = 0
    best_metric: float | None = None
    stopped_early: bool = False
    global_step: int = 0
    checkpoint: str | None = None
    summary: str = ""


def seed_everything(seed: int) -> None:
    """Seeds Python, NumPy and torch (all devices)."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


#: TrainerConfig fields (and recipe options in ``run_options``) that may differ between a checkpoint
#: and the run resuming it: how long it runs, where, and how it is logged and checkpointed. Anything
#: else (data, batch size, seed, optimiser, schedule, model sizes, precision...) changes the run.
RESUMABLE_CHANGES = frozenset({
    "epochs", "device", "output_dir", "progress", "no_progress", "checkpoint_every", "keep_checkpoints",
    "save_checkpoints", "no_checkpoints", "resume", "plots", "tensorboard", "throughput_unit",
    "find_unused_parameters", "eval_train", "test", "num_proc", "cache_dir", "threads"})


def changed_options(saved: Mapping, current: Mapping) -> list[str]:
    """``["--name old -> new", ...]`` for each option that differs and may not change on resume.

    Both arguments are ``asdict(TrainerConfig)``; their ``run_options`` (the recipe's command-line
    options) are compared too. Options the checkpoint does not record are not compared. With
    ``scheduler="linear"`` the schedule's length depends on ``epochs``, which then may not change either.
    """
    def flat(config: Mapping) -> dict:
        values = {k: v for k, v in config.items() if k != "run_options"}
        values.update(config.get("run_options") or {})
        return values

    old, new = flat(saved), flat(current)
    allowed = set(RESUMABLE_CHANGES)
    if new.get("scheduler") == "linear":
        allowed.discard("epochs")
    out = []
    for name in sorted(old.keys() & new.keys() - allowed):
        a, b = old[name], new[name]
        if a != b and not (isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)) and list(a) == list(b)):
            out.append(f"--{name.replace('_', '-')} {_show(a)} -> {_show(b)}")
    return out


def _show(value) -> str:
    return value if isinstance(value, str) and value and " " not in value else repr(value)


def _with_last(iterator: Iterator) -> Iterator[tuple[object, bool]]:
    """Yields ``(item, is_last)``; works for loaders without ``len``."""
    try:
        previous = next(iterator)
    except StopIteration:
        return
    for item in iterator:
        yield previous, False
        previous = item
    yield previous, True


class Trainer:
    """Trains a model, evaluates it after every epoch and keeps the best weights.

    Under ``torchrun`` (``WORLD_SIZE > 1``) it joins the process group, shards the loader's
    :class:`~lstm_nlp.data.batching.BucketBatchSampler` across ranks and trains a
    ``DistributedDataParallel`` wrapper; dev evaluation runs on rank 0 and its numbers are
    broadcast, so every rank takes the same schedule, early-stopping and best-epoch decisions and
    ends with the same weights. Only rank 0 writes files.

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
        self.dist = dist_utils.setup_distributed(config.device)
        self.device = self.dist.device
        self.model = model.to(self.device)
        self.train_loader = train_loader
        self.evaluate = evaluate
        #: Called with the epoch number (1-based) before each epoch trains, a resumed one included
        #: (e.g. :func:`lstm_nlp.training.finetune.use_gradual_unfreezing`).
        self.on_epoch_start: Callable[[int], None] | None = None
        self.precision = resolve_precision(config.precision, self.device)
        self.optimizer = build_optimizer(self.model, config)
        self.scaler = torch.amp.GradScaler(self.device.type, enabled=self.precision == "fp16")
        self._prepare_loader()
        steps_per_epoch = self._steps_per_epoch()
        self.schedule = LRSchedule(self.optimizer, config, total_steps=steps_per_epoch * config.epochs,
                                   metric_mode=config.mode if evaluate is not None else "min")
        self.train_model: nn.Module = self.model
        if self.dist.enabled:
            from torch.nn.parallel import DistributedDataParallel

            self.train_model = DistributedDataParallel(
                self.model, device_ids=[self.device.index] if self.device.type == "cuda" else None,
                find_unused_parameters=config.find_unused_parameters)
        self._stop = StopRequest()
        self._info = logger.info if self.dist.is_main else (lambda *args, **kwargs: None)
        self._manager: CheckpointManager | None = None
        self._last_checkpoint: Path | None = None
        self._replace_old_checkpoints = False

    # ------------------------------------------------------------------ setup
    def _prepare_loader(self) -> None:
        loader = self.train_loader
        if self.device.type == "cuda" and isinstance(loader, torch.utils.data.DataLoader) and not loader.pin_memory:
            loader.pin_memory = True  # page-locked host batches make the non-blocking copies asynchronous
        if not self.dist.enabled:
            return
        sampler = getattr(loader, "batch_sampler", None)
        if sampler is not None and hasattr(sampler, "num_replicas") and hasattr(sampler, "rank"):
            sampler.num_replicas, sampler.rank = self.dist.world_size, self.dist.rank
        elif not isinstance(getattr(loader, "sampler", None), torch.utils.data.DistributedSampler):
            raise ConfigError("under torchrun the training loader must shard batches across ranks: build it with a "
                              "BucketBatchSampler (pipeline.loader) or a DistributedSampler")
        if hasattr(loader, "__len__") and len(loader) == 0:
            raise ConfigError(f"the training data has too few batches for {self.dist.world_size} ranks")

    def _steps_per_epoch(self) -> int:
        try:
            return math.ceil(len(self.train_loader) / self.config.grad_accum)
        except TypeError:
            if self.config.scheduler == "linear":
                raise ConfigError("scheduler 'linear' needs a training loader with a length") from None
            return 0

    def request_stop(self) -> None:
        """Asks :meth:`fit` to checkpoint and raise :class:`TrainingInterrupted` after the current step."""
        self._stop.set()

    # ------------------------------------------------------------------ fit
    def fit(self, resume: str | bool | None = None) -> TrainResult:
        """Trains up to ``config.epochs`` epochs and leaves the best dev-metric weights in the model.

        Args:
            resume: ``None`` (use ``config.resume``), ``False`` (fresh run), ``True``/``"auto"``
                (latest checkpoint in ``output_dir/checkpoints`` if any), or a checkpoint file/folder.

        Raises:
            NonFiniteLossError: the loss became NaN/inf (no checkpoint is written after it).
            TrainingInterrupted: Ctrl-C, SIGTERM or :meth:`request_stop`; a checkpoint was written first.
            BundleError: the checkpoint to resume from is missing, unsafe, corrupt, too new or holds
                fields of the wrong type.
            ConfigError: the checkpoint was saved with other options (see :data:`RESUMABLE_CHANGES`).
            RunLockedError: another live process trains into the same ``output_dir`` (its lock
                ``OUTPUT_DIR/.lstm_nlp.lock`` is held for the whole of ``fit``).
            CheckpointWriteError: a checkpoint could not be written (e.g. no space left on device).
        """
        lock, error = None, None
        if self.config.output_dir and self.dist.is_main:
            try:
                lock = RunLock(self.config.output_dir).acquire()
            except ConfigError as err:
                error = err
        message = dist_utils.broadcast_object(None if error is None else str(error))  # every rank stops together
        if message is not None:
            self.dist.close()
            raise error if error is not None else ConfigError(message)
        try:
            return self._fit(resume)
        finally:
            if lock is not None:
                lock.release()

    def _fit(self, resume: str | bool | None) -> TrainResult:
        cfg = self.config
        seed_everything(cfg.seed + self.dist.rank)
        out = Path(cfg.output_dir) if cfg.output_dir else None
        if out is not None and cfg.save_checkpoints:
            self._manager = CheckpointManager(out / CHECKPOINT_DIR, keep=cfg.keep_checkpoints)
        request = cfg.resume if resume is None else resume
        state, rng = RunState(), None
        path = resolve_resume(request, out) if request not in (None, False) else None
        if path is not None:
            state, rng = self._restore(load_checkpoint(path), path)
            self._last_checkpoint = path
            self._info("resuming from %s (epoch %d, batch %d, step %d)", path, state.completed_epochs + 1,
                       state.batches_done, state.global_step)
        elif request not in (None, False, ""):
            self._info("no checkpoint to resume from%s; starting a fresh run",
                       f" in {out / CHECKPOINT_DIR}" if out else " (no output_dir)")
        self._info("training on %s%s", self.device,
                   f" with {torch.get_num_threads()} CPU thread(s)" if self.device.type == "cpu" else "")
        self._replace_old_checkpoints = False
        if self._manager is not None and self.dist.is_main:
            self._manager.remove_stale_temporaries()
            if path is None and (old := self._manager.checkpoints()):
                # Kept until this run writes its first checkpoint: stopping right away still saves them.
                self._replace_old_checkpoints = True
                logger.warning("%s holds %d checkpoint(s) of an earlier run; this fresh run replaces them when it "
                               "writes its first checkpoint (use --resume to continue that run instead)",
                               self._manager.directory, len(old))
        run_log = RunLog(out if self.dist.is_main else None, metric=cfg.metric, plots=cfg.plots,
                         tensorboard=cfg.tensorboard)
        run_log.start(state.history)
        self.optimizer.zero_grad(set_to_none=True)
        try:
            with self._stop:
                self._run(state, run_log, rng)
        except BaseException:
            self.dist.close()
            raise
        finally:
            run_log.close()
        if state.best_model is not None:
            self.model.load_state_dict(state.best_model)
        result = TrainResult(history=state.history, best_epoch=state.best_epoch, best_metric=state.best_metric,
                             stopped_early=state.stopped_early, global_step=state.global_step,
                             checkpoint=str(self._last_checkpoint) if self._last_checkpoint else None)
        result.summary = summary_table(state.history, metric=cfg.metric if self.evaluate else None,
                                       best_epoch=state.best_epoch, unit=cfg.throughput_unit)
        self._info("training summary (%s):\n%s", "stopped early" if state.stopped_early else "finished",
                   result.summary)
        dist_utils.barrier()
        self.dist.close()
        return result

    def _run(self, state: RunState, run_log: RunLog, rng: dict | None) -> None:
        cfg = self.config
        for epoch in range(state.completed_epochs + 1, cfg.epochs + 1):
            if state.stopped_early:
                break
            if self.on_epoch_start is not None:
                self.on_epoch_start(epoch)
            stop = self._train_epoch(epoch, state, run_log, rng)
            rng = None
            every_rank = dist_utils.all_gather_object(dict(state.epoch_stats)) if self.dist.enabled else None
            record = {"epoch": epoch, **state.epoch_record(every_rank), "lr": self.schedule.lr}
            dev = self._evaluate()
            record.update({f"dev_{k}": v for k, v in dev.items()})
            metric = dev.get(cfg.metric)
            improved = metric is None or state.best_metric is None or (
                metric > state.best_metric if cfg.mode == "max" else metric < state.best_metric)
            if improved:
                state.best_epoch, state.best_metric, state.bad_epochs = epoch, metric, 0
                state.best_model = {k: v.detach().to("cpu", copy=True) for k, v in self.model.state_dict().items()}
            else:
                state.bad_epochs += 1
            self.schedule.after_epoch(metric if metric is not None else record["train_loss"])
            state.end_epoch(record)
            if cfg.patience and state.bad_epochs >= cfg.patience:
                state.stopped_early = True
            at_ceiling = improved and metric is not None and cfg.mode == "max" and metric >= metric_ceiling(cfg.metric)
            state.stopped_early = state.stopped_early or at_ceiling
            run_log.epoch(record, state.history, state.best_epoch)
            self._info(f"epoch %d: loss %.4f, %.0f {cfg.throughput_unit}/s, lr %.3g%s", epoch, record["train_loss"],
                       record["train_tokens_per_s"], record["lr"],
                       f", dev {cfg.metric} {metric:.4f}" if metric is not None else "")
            self._save(state, is_best=improved)
            stop = dist_utils.any_across_ranks([stop or self._stop.requested], self.device)[0]
            if stop:
                self._interrupted(state, epoch)
            if at_ceiling:
                self._info("dev %s reached %.4f, its maximum, at epoch %d: no later epoch could replace this model "
                           "(only a better dev score does), so training stops", cfg.metric, metric, epoch)
            elif state.stopped_early:
                self._info("early stopping: no dev improvement for %d epochs (best: epoch %d)", state.bad_epochs,
                           state.best_epoch)

    def _train_epoch(self, epoch: int, state: RunState, run_log: RunLog, rng: dict | None) -> bool:
        """Trains the rest of ``epoch``; returns whether a stop was requested during it."""
        cfg = self.config
        self.train_model.train()
        skip = state.batches_done
        iterator = self._epoch_iterator(epoch, skip, rng)
        stats = state.epoch_stats
        started = time.perf_counter() - stats["seconds"]
        total = len(self.train_loader) if hasattr(self.train_loader, "__len__") else None
        bar = tqdm(total=total, initial=skip, desc=f"epoch {epoch}", leave=False, unit="batch",
                   disable=not (cfg.progress and self.dist.is_main))
        autocast = torch.autocast(self.device.type, dtype=autocast_dtype(self.precision),
                                  enabled=self.precision != "fp32")
        stop_pending, index = False, skip
        for batch, is_last in _with_last(iterator):
            index += 1
            boundary = is_last or index % cfg.grad_accum == 0
            tokens = self._throughput_count(batch)
            value, stop = self._backward(batch, autocast, sync=boundary, where=(epoch, index, state))
            stop_pending = stop_pending or stop
            stats["loss_sum"] += value
            stats["batches"] += 1
            stats["tokens"] += tokens
            bar.update(1)
            bar.set_postfix(loss=f"{stats['loss_sum'] / stats['batches']:.4f}", refresh=False)
            if not boundary:
                continue
            self._optimizer_step()
            if self.device.type == "cpu":
                adapt_cpu_threads()
            state.global_step += 1
            state.batches_done = index
            self.schedule.after_step()
            run_log.step(state.global_step, value, self.schedule.lr)
            # At the last batch the end-of-epoch save (after evaluation) follows right away.
            if not is_last and (stop_pending or (cfg.checkpoint_every
                                                 and state.global_step % cfg.checkpoint_every == 0)):
                stats["seconds"] = time.perf_counter() - started
                self._save(state, is_best=False)
                if stop_pending:
                    bar.close()
                    self._interrupted(state, epoch)
        bar.close()
        stats["seconds"] = time.perf_counter() - started
        return stop_pending

    def _epoch_iterator(self, epoch: int, skip: int, rng: dict | None) -> Iterator[dict]:
        """The train loader's iterator for ``epoch``, past the ``skip`` batches a resumed run already trained."""
        for holder in (getattr(self.train_loader, "batch_sampler", None), getattr(self.train_loader, "sampler", None)):
            if hasattr(holder, "set_epoch"):
                holder.set_epoch(epoch)
        # Creating a DataLoader iterator draws from torch's RNG: restore the saved state on the
        # same side of that draw as when it was captured (before it at an epoch boundary, after it mid-epoch).
        if rng is not None and skip == 0:
            restore_rng_state(rng)
        iterator = iter(self.train_loader)
        if rng is not None and skip > 0:
            restore_rng_state(rng)
        for _ in range(skip):
            if next(iterator, None) is None:
                break
        return iterator

    def _throughput_count(self, batch: dict) -> int:
        """What one batch adds to the throughput figure: tokens, or examples (e.g. forecast windows)."""
        if self.config.throughput_unit != "tokens":
            return int(batch["mask"].shape[0])
        return int(batch["lengths"].sum()) if "lengths" in batch else int(batch["mask"].sum())

    def _backward(self, batch: dict, autocast, sync: bool, where: tuple[int, int, RunState]) -> tuple[float, bool]:
        """Forward and backward on one batch; returns its loss and whether any rank asked to stop.

        ``sync``: whether this batch ends an accumulation step (other batches skip DDP's gradient all-reduce).
        ``where``: (epoch, batch index, run state), for the non-finite loss report.
        """
        context = self.train_model.no_sync() if self.dist.enabled and not sync else nullcontext()
        with context:
            batch = move_batch(batch, self.device)
            with autocast:
                output = self.train_model(**model_inputs(batch))
            loss = output.loss
            if loss is None:
                raise ConfigError("the model returned no loss: training batches must carry labels")
            value = float(loss.detach())
            nonfinite, stop = dist_utils.any_across_ranks([not math.isfinite(value), self._stop.requested],
                                                          self.device)
            if nonfinite:
                self._non_finite(value, *where)
            self.scaler.scale(loss / self.config.grad_accum).backward()
        return value, stop

    def _optimizer_step(self) -> None:
        if self.config.grad_clip:
            self.scaler.unscale_(self.optimizer)
            nn.utils.clip_grad_norm_(self.model.parameters(), self.config.grad_clip)
        self.scaler.step(self.optimizer)
        self.scaler.update()
        self.optimizer.zero_grad(set_to_none=True)

    @torch.no_grad()
    def run_evaluation(self) -> dict:
        """Runs ``evaluate`` on this rank (eval mode); ``{}`` without it."""
        if self.evaluate is None:
            return {}
        self.model.eval()
        try:
            return self.evaluate(self.model)
        finally:
            self.model.train()

    def _evaluate(self) -> dict:
        """Numeric dev metrics: computed on rank 0, broadcast to every rank."""
        if self.evaluate is None:
            return {}
        numbers = None
        if self.dist.is_main:  # plain Python numbers: checkpoints must not need numpy to unpickle
            numbers = {k: int(v) if isinstance(v, (int, np.integer)) else float(v)
                       for k, v in self.run_evaluation().items()
                       if isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, (bool, np.bool_))}
        numbers = dist_utils.broadcast_object(numbers)
        if numbers and self.config.metric not in numbers:
            raise ConfigError(f"evaluate() returned {sorted(numbers)}, not the selection metric {self.config.metric!r}")
        return numbers

    # ------------------------------------------------------------------ safety
    def _non_finite(self, value: float, epoch: int, index: int, state: RunState) -> None:
        kept = (f"the last good checkpoint is {self._last_checkpoint}" if self._last_checkpoint else
                "no checkpoint was written in this run")
        raise NonFiniteLossError(
            f"training loss is {value} at epoch {epoch}, batch {index} (optimizer step {state.global_step + 1}); "
            f"training stopped and {kept}. Lower the learning rate, set gradient clipping, or check the data.")

    def _interrupted(self, state: RunState, epoch: int) -> None:
        where = self._last_checkpoint if self._last_checkpoint else "nowhere (checkpoints are off)"
        reason = self._stop.signal_name or "signal"
        message = (f"training stopped at epoch {epoch}, step {state.global_step} ({reason}); "
                   f"checkpoint written to {where}; continue with the same command plus --resume")
        raise TrainingInterrupted(message, str(self._last_checkpoint) if self._last_checkpoint else None,
                                  self._stop.signal_name)

    # ------------------------------------------------------------------ checkpoints
    def _save(self, state: RunState, *, is_best: bool) -> None:
        if self._manager is None:
            return
        rngs = dist_utils.all_gather_object(capture_rng_state())  # collective: every rank takes part
        if not self.dist.is_main:  # rank 0 writes it
            self._last_checkpoint = self._manager.directory / self._manager.file_name(state.global_step)
            return
        payload = {
            "format_version": CHECKPOINT_FORMAT_VERSION, "lstm_nlp_version": __version__,
            "config": asdict(self.config), "world_size": self.dist.world_size, "model": self.model.state_dict(),
            "optimizer": self.optimizer.state_dict(), "scheduler": self.schedule.state_dict(),
            "scaler": self.scaler.state_dict(), "rng": rngs, **state.to_checkpoint(),
        }
        self._last_checkpoint = self._manager.save(payload, global_step=state.global_step, is_best=is_best,
                                                   replace_others=self._replace_old_checkpoints)
        self._replace_old_checkpoints = False

    def _restore(self, ckpt: dict, path: Path) -> tuple[RunState, dict | None]:
        """Loads a checkpoint into the model, optimizer, schedule and scaler; returns the run state and this
        rank's RNG state (``None`` if the checkpoint has none for this rank)."""
        changed = changed_options(ckpt.get("config", {}), asdict(self.config))
        if changed:
            raise ConfigError(f"{path} was saved with other options: {', '.join(changed)}; resume with the "
                              "checkpoint's values (only --epochs, --device, progress, logging and checkpoint "
                              "options may change) or start a fresh run without --resume")
        world = ckpt.get("world_size", 1)
        if ckpt["batches_done"] and world != self.dist.world_size:
            raise ConfigError(f"{path} was saved mid-epoch by {world} rank(s); resume it with the same number of "
                              f"ranks (now {self.dist.world_size}) or from an end-of-epoch checkpoint")
        try:
            self.model.load_state_dict(ckpt["model"])
            self.optimizer.load_state_dict(ckpt["optimizer"])
            self.schedule.load_state_dict(ckpt.get("scheduler"))
            if ckpt.get("scaler") and self.scaler.is_enabled():
                self.scaler.load_state_dict(ckpt["scaler"])
        except (RuntimeError, ValueError, KeyError, TypeError, IndexError, AttributeError) as err:
            reason = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
            raise BundleError(f"{path} does not fit this model or optimizer: {reason}") from None
        problem = _best_model_problem(ckpt.get("best_model"), self.model)
        if problem is not None:  # found now, not as a traceback when training ends
            raise BundleError(f"{path}: field 'best_model' {problem}")
        state = RunState.from_checkpoint(ckpt)
        rngs = ckpt.get("rng") or []
        if len(rngs) == self.dist.world_size:
            return state, rngs[self.dist.rank]
        logger.warning("%s holds RNG states for %d rank(s), this run has %d: random streams are reseeded, so the "
                       "continuation is not bit-identical", path, len(rngs), self.dist.world_size)
        seed_everything(self.config.seed + self.dist.rank + 7919 * (state.global_step + 1))
        return state, None


def _best_model_problem(best: dict | None, model: nn.Module) -> str | None:
    """Why a checkpoint's copy of the best weights cannot be loaded into ``model`` at the end, or ``None``."""
    if best is None:
        return None
    expected = {name: tuple(value.shape) for name, value in model.state_dict().items()}
    missing = sorted(expected.keys() - best.keys())
    if missing:
        return f"lacks {len(missing)} of the model's {len(expected)} weights ({', '.join(missing[:3])}" + \
            (", ..." if len(missing) > 3 else "") + ")"
    unknown = sorted(best.keys() - expected.keys())
    if unknown:
        return f"holds weights this model does not have ({', '.join(unknown[:3])})"
    wrong = next((name for name, shape in expected.items() if tuple(best[name].shape) != shape), None)
    if wrong is not None:
        return f"weight {wrong!r} has shape {tuple(best[wrong].shape)}, the model's is {expected[wrong]}"
    return None
