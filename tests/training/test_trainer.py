"""The Trainer on a tiny seeded tagging task: exact resume, stops, schedules, early stopping, precision."""

import importlib.util
import json
import os
import signal
from pathlib import Path

import pytest
import torch

from lstm_nlp.errors import ConfigError
from lstm_nlp.training import NonFiniteLossError, Trainer, TrainerConfig, TrainingInterrupted, load_checkpoint
from lstm_nlp.training.checkpoint import CheckpointManager

_spec = importlib.util.spec_from_file_location("tiny_task", Path(__file__).with_name("_tiny.py"))
tiny = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(tiny)

TRAIN, DEV = tiny.examples(48, seed=1), tiny.examples(16, seed=2)
TIMING = ("train_tokens_per_s", "train_seconds")


def make_trainer(out, *, epochs=3, evaluate="accuracy", model=None, **options):
    options = {"lr": 0.01, "device": "cpu", "progress": False, "seed": 5, "plots": False, **options}
    config = TrainerConfig(epochs=epochs, output_dir=str(out) if out else None, **options)
    net = model if model is not None else tiny.model()
    if evaluate == "accuracy":
        evaluate = lambda m: {"accuracy": tiny.accuracy(m, DEV)}  # noqa: E731
    return Trainer(net, config, train_loader=tiny.loader(TRAIN), evaluate=evaluate)


def stop_at_batch(trainer, call):
    """Calls ``trainer.request_stop()`` during the ``call``-th training forward pass."""
    calls = [0]

    def hook(module, args):
        if module.training:
            calls[0] += 1
            if calls[0] == call:
                trainer.request_stop()

    trainer.model.register_forward_pre_hook(hook)


def same_weights(a, b):
    sa, sb = a.state_dict(), b.state_dict()
    return sa.keys() == sb.keys() and all(torch.equal(sa[k], sb[k]) for k in sa)


def without_timing(history):
    return [{k: v for k, v in record.items() if k not in TIMING} for record in history]


def test_one_epoch_then_resume_equals_three_epochs_bit_for_bit(tmp_path):
    straight = make_trainer(tmp_path / "a", epochs=3)
    result = straight.fit()
    make_trainer(tmp_path / "b", epochs=1).fit()
    resumed = make_trainer(tmp_path / "b", epochs=3)
    resumed_result = resumed.fit(resume="auto")
    assert same_weights(straight.model, resumed.model)
    assert without_timing(resumed_result.history) == without_timing(result.history)
    assert resumed_result.best_epoch == result.best_epoch and resumed_result.global_step == result.global_step
    lines = (tmp_path / "b" / "metrics.jsonl").read_text().splitlines()
    assert [json.loads(line)["epoch"] for line in lines] == [1, 2, 3]


def test_stop_mid_epoch_and_resume_is_exact_with_warmup_accumulation_and_dropout(tmp_path):
    options = {"scheduler": "linear", "warmup_steps": 3, "grad_accum": 2, "optimizer": "adamw",
               "weight_decay": 0.01}
    straight = make_trainer(tmp_path / "a", **options)
    result = straight.fit()
    interrupted = make_trainer(tmp_path / "b", **options)
    stop_at_batch(interrupted, 9)  # epoch 2 (6 batches per epoch), mid accumulation window
    with pytest.raises(TrainingInterrupted) as info:
        interrupted.fit()
    state = load_checkpoint(info.value.checkpoint)
    assert (state["epoch"], state["batches_done"]) == (1, 4)  # finished the window, then stopped
    resumed = make_trainer(tmp_path / "b", **options)
    resumed_result = resumed.fit(resume=True)
    assert same_weights(straight.model, resumed.model)
    assert without_timing(resumed_result.history) == without_timing(result.history)
    assert result.history[-1]["lr"] == 0.0  # linear decay reaches zero at the last step


def test_sigint_writes_a_checkpoint_before_stopping(tmp_path):
    trainer = make_trainer(tmp_path, epochs=2)
    calls = [0]

    def hook(module, args):
        calls[0] += 1
        if module.training and calls[0] == 3:
            os.kill(os.getpid(), signal.SIGINT)

    trainer.model.register_forward_pre_hook(hook)
    before = signal.getsignal(signal.SIGINT)
    with pytest.raises(TrainingInterrupted, match="SIGINT"):
        trainer.fit()
    latest = CheckpointManager(tmp_path / "checkpoints").latest()
    assert load_checkpoint(latest)["batches_done"] == 3
    assert signal.getsignal(signal.SIGINT) is before  # handler restored


class NanAfter(torch.nn.Module):
    """Wraps a model; its loss becomes NaN from the ``at``-th training call on."""

    def __init__(self, inner, at):
        super().__init__()
        self.inner, self.at, self.calls = inner, at, 0

    def forward(self, **batch):
        output = self.inner(**batch)
        self.calls += self.training
        if self.training and self.calls >= self.at:
            output.loss = output.loss * float("nan")
        return output


def test_nan_loss_stops_naming_the_step_and_keeps_the_last_good_checkpoint(tmp_path):
    trainer = make_trainer(tmp_path, epochs=3, evaluate=None, model=NanAfter(tiny.model(), at=8))
    with pytest.raises(NonFiniteLossError, match=r"loss is nan at epoch 2, batch 2 \(optimizer step 8\)") as info:
        trainer.fit()
    assert "ckpt-000000006.pt" in str(info.value)
    manager = CheckpointManager(tmp_path / "checkpoints")
    assert [p.name for p in manager.checkpoints()] == ["ckpt-000000006.pt"]
    state = load_checkpoint(manager.latest())
    assert state["epoch"] == 1 and all(torch.isfinite(v).all() for v in state["model"].values())


def test_early_stopping_after_patience_epochs_without_improvement(tmp_path):
    scores = iter([0.5, 0.6, 0.55, 0.6, 0.59, 0.9])
    trainer = make_trainer(tmp_path, epochs=6, patience=3, evaluate=lambda m: {"accuracy": next(scores)})
    result = trainer.fit()
    assert result.stopped_early and result.best_epoch == 2 and len(result.history) == 5
    assert "* selected epoch 2" in result.summary
    # Resuming a run that stopped early does not train further.
    again = make_trainer(tmp_path, epochs=6, patience=3, evaluate=lambda m: {"accuracy": 1.0})
    assert len(again.fit(resume="auto").history) == 5


def lrs(tmp_path, scores, **options):
    values = iter(scores)
    trainer = make_trainer(tmp_path, epochs=len(scores), evaluate=lambda m: {"accuracy": next(values)}, **options)
    return [record["lr"] for record in trainer.fit().history], trainer


def test_plateau_step_and_linear_schedules(tmp_path):
    plateau, trainer = lrs(tmp_path / "p", [0.5, 0.5, 0.5, 0.5], scheduler="plateau", lr_patience=1, lr_factor=0.5)
    assert plateau == [0.01, 0.01, 0.01, 0.005]  # recorded lr is the one used during the epoch
    assert trainer.optimizer.param_groups[0]["lr"] == 0.005
    step, _ = lrs(tmp_path / "s", [0.1, 0.2, 0.3], scheduler="step", lr_step_size=1, lr_factor=0.5)
    assert step == [0.01, 0.005, 0.0025]
    linear, trainer = lrs(tmp_path / "l", [0.1, 0.2, 0.3], scheduler="linear", warmup_steps=6)
    assert linear[0] == pytest.approx(0.01) and linear[1] == pytest.approx(0.01 * 6 / 12) and linear[2] == 0.0


def test_optimizers_accumulation_and_clipping(tmp_path):
    trainer = make_trainer(None, epochs=1, optimizer="sgd", momentum=0.8, weight_decay=1e-4, grad_accum=4,
                           grad_clip=0.5, evaluate=None)
    assert isinstance(trainer.optimizer, torch.optim.SGD)
    assert trainer.optimizer.param_groups[0]["momentum"] == 0.8
    result = trainer.fit()
    assert result.global_step == 2  # 6 batches, 4 per step, the last partial window also steps
    assert isinstance(make_trainer(None, optimizer="adamw").optimizer, torch.optim.AdamW)


def test_bf16_autocast_runs_on_cpu_and_fp16_needs_cuda(tmp_path):
    result = make_trainer(None, epochs=1, precision="bf16").fit()
    assert torch.isfinite(torch.tensor(result.history[0]["train_loss"]))
    if not torch.cuda.is_available():
        with pytest.raises(ConfigError, match="fp16 needs a CUDA device"):
            make_trainer(None, precision="fp16")
        assert make_trainer(None, precision="amp").precision == "fp32"


def test_bad_options_are_config_errors():
    for options, message in [({"scheduler": "cosine"}, "scheduler must be one of"),
                             ({"grad_accum": 0}, "grad_accum must be >= 1"),
                             ({"precision": "fp8"}, "precision must be one of"),
                             ({"optimizer": "lbfgs"}, "optimizer must be one of")]:
        with pytest.raises(ConfigError, match=message):
            TrainerConfig(**options)


def test_resuming_with_another_optimizer_is_refused(tmp_path):
    make_trainer(tmp_path, epochs=1).fit()
    with pytest.raises(ConfigError, match="saved with other options: --optimizer adam -> sgd; "):
        make_trainer(tmp_path, epochs=2, optimizer="sgd").fit(resume="auto")


def test_curve_and_metrics_log_are_written(tmp_path):
    result = make_trainer(tmp_path, epochs=2, plots=True).fit()
    png = tmp_path / "training_curve.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    records = [json.loads(line) for line in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    assert records == result.history and {"train_loss", "dev_accuracy", "lr"} <= set(records[0])


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
@pytest.mark.parametrize("precision", ["bf16", "fp16"])
def test_mixed_precision_on_cuda_resumes(tmp_path, precision):
    if precision == "bf16" and not torch.cuda.is_bf16_supported():
        pytest.skip("GPU without bf16")
    trainer = make_trainer(tmp_path, epochs=2, device="cuda", precision=precision)
    assert trainer.precision == precision and trainer.scaler.is_enabled() == (precision == "fp16")
    result = trainer.fit()
    assert all(torch.isfinite(torch.tensor(r["train_loss"])) for r in result.history)
    state = load_checkpoint(result.checkpoint)
    assert bool(state["scaler"]) == (precision == "fp16")
    resumed = make_trainer(tmp_path, epochs=3, device="cuda", precision=precision).fit(resume="auto")
    assert len(resumed.history) == 3


def test_a_fresh_run_replaces_old_checkpoints_only_once_it_saves_its_own(tmp_path):
    make_trainer(tmp_path, epochs=2, evaluate=None).fit()
    manager = CheckpointManager(tmp_path / "checkpoints")
    old = [p.name for p in manager.checkpoints()]
    with pytest.raises(NonFiniteLossError):  # dies before its first checkpoint: the old run's survive
        make_trainer(tmp_path, epochs=2, evaluate=None, model=NanAfter(tiny.model(), at=1)).fit()
    assert [p.name for p in manager.checkpoints()] == old
    make_trainer(tmp_path, epochs=1, evaluate=None).fit()
    assert [p.name for p in manager.checkpoints()] == ["ckpt-000000006.pt"]
    assert load_checkpoint(manager.latest())["epoch"] == 1


@pytest.mark.parametrize("metric", ["accuracy", "f1", "token_accuracy"])
def test_a_run_stops_when_the_dev_metric_reaches_its_maximum(tmp_path, caplog, metric):
    scores = iter([0.5, 1.0, 1.0, 1.0, 1.0])
    trainer = make_trainer(tmp_path, epochs=5, metric=metric, evaluate=lambda m: {metric: next(scores)})
    with caplog.at_level("INFO", logger="lstm_nlp"):
        result = trainer.fit()
    assert len(result.history) == 2 and result.best_epoch == 2 and result.stopped_early
    assert f"dev {metric} reached 1.0000, its maximum, at epoch 2" in caplog.text
    assert "no dev improvement" not in caplog.text


def test_the_model_kept_at_the_maximum_is_the_one_a_full_run_keeps(tmp_path):
    full_scores, unbounded_scores = iter([0.5, 1.0, 1.0, 1.0]), iter([0.5, 1.0, 1.0, 1.0])
    full = make_trainer(tmp_path / "full", epochs=4, metric="f1", mode="max",
                        evaluate=lambda m: {"f1": next(full_scores)})
    # the same run with no ceiling: the "score" metric is unbounded, so all 4 epochs run
    unbounded = make_trainer(tmp_path / "all", epochs=4, metric="score",
                             evaluate=lambda m: {"score": next(unbounded_scores)})
    assert len(full.fit().history) == 2 and len(unbounded.fit().history) == 4
    assert same_weights(full.model, unbounded.model)  # both keep epoch 2


@pytest.mark.parametrize("metric, mode, scores", [("dev_loss", "min", [0.5, 0.0, 0.0]),
                                                  ("accuracy", "max", [0.5, 0.99, 0.999])])
def test_no_stop_below_the_maximum_or_for_a_metric_without_one(tmp_path, metric, mode, scores):
    values = iter(scores)
    trainer = make_trainer(tmp_path, epochs=3, metric=metric, mode=mode, evaluate=lambda m: {metric: next(values)})
    result = trainer.fit()
    assert len(result.history) == 3 and not result.stopped_early
