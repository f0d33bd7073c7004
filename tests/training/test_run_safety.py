"""Fault injection around a training run: full disks, two runs in one folder, changed options on resume,
checkpoints of the wrong shape, file modes."""

import errno
import importlib.util
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lstm_nlp.errors import BundleError, ConfigError
from lstm_nlp.training import CheckpointManager, Trainer, TrainerConfig, load_checkpoint, run_lock
from lstm_nlp.training import checkpoint as checkpoint_module
from lstm_nlp.training.checkpoint import CheckpointWriteError, atomic_save, atomic_write_text
from lstm_nlp.training.run_lock import LOCK_NAME, RunLock, RunLockedError

_spec = importlib.util.spec_from_file_location("tiny_task", Path(__file__).with_name("_tiny.py"))
tiny = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(tiny)
TRAIN, DEV = tiny.examples(48, seed=1), tiny.examples(16, seed=2)


def make_trainer(out, *, epochs=3, evaluate="accuracy", **options):
    options = {"lr": 0.01, "device": "cpu", "progress": False, "seed": 5, "plots": False, **options}
    config = TrainerConfig(epochs=epochs, output_dir=str(out) if out else None, **options)
    if evaluate == "accuracy":
        evaluate = lambda m: {"accuracy": tiny.accuracy(m, DEV)}  # noqa: E731
    return Trainer(tiny.model(), config, train_loader=tiny.loader(TRAIN), evaluate=evaluate)


def same_weights(a, b):
    sa, sb = a.state_dict(), b.state_dict()
    return sa.keys() == sb.keys() and all(torch.equal(sa[k], sb[k]) for k in sa)

ENOSPC_POS = "[enforce fail at inline_container.cc:672] . unexpected pos 704 vs 598"


# ---------------------------------------------------------------------- disk full
def full_disk(monkeypatch, error):
    """Every torch.save in the checkpoint writer writes a little, then fails with ``error``."""
    def save(obj, stream):
        stream.write(b"partial")
        raise error

    monkeypatch.setattr(checkpoint_module.torch, "save", save)


def test_disk_full_on_the_first_save_of_a_fresh_run_keeps_the_old_checkpoints(tmp_path, monkeypatch):
    make_trainer(tmp_path, epochs=2, evaluate=None).fit()
    manager = CheckpointManager(tmp_path / "checkpoints")
    old = {p.name: p.read_bytes() for p in manager.checkpoints()}
    index = (tmp_path / "checkpoints" / "index.json").read_text()
    full_disk(monkeypatch, OSError(errno.ENOSPC, "No space left on device"))
    with pytest.raises(CheckpointWriteError, match=r"^no space left on device \(.*ckpt-000000006\.pt\)$"):
        make_trainer(tmp_path, epochs=2, evaluate=None).fit()
    assert {p.name: p.read_bytes() for p in manager.checkpoints()} == old
    assert (tmp_path / "checkpoints" / "index.json").read_text() == index
    assert not list((tmp_path / "checkpoints").glob(".*.tmp"))
    monkeypatch.undo()
    resumed = make_trainer(tmp_path, epochs=3, evaluate=None)
    assert resumed.fit(resume="auto").history[-1]["epoch"] == 3  # the old run still resumes


@pytest.mark.parametrize("error", [OSError(errno.ENOSPC, "No space left on device"),
                                   OSError(errno.EDQUOT, "Disk quota exceeded"), RuntimeError(ENOSPC_POS)],
                         ids=["ENOSPC", "EDQUOT", "torch-unexpected-pos"])
def test_disk_full_is_one_clear_line_naming_the_file(tmp_path, monkeypatch, error):
    monkeypatch.setattr(checkpoint_module, "_free_bytes", lambda directory: 0)  # the disk is full after the write
    full_disk(monkeypatch, error)
    with pytest.raises(CheckpointWriteError) as info:
        atomic_save({"a": torch.ones(3)}, tmp_path / "ckpt-000000001.pt")
    assert str(info.value) == f"no space left on device ({tmp_path / 'ckpt-000000001.pt'})"
    assert list(tmp_path.iterdir()) == []


def test_a_failed_write_with_space_left_names_the_reason(tmp_path, monkeypatch):
    monkeypatch.setattr(checkpoint_module, "_free_bytes", lambda directory: 10**12)
    full_disk(monkeypatch, RuntimeError(ENOSPC_POS))
    with pytest.raises(CheckpointWriteError, match=r"^could not write .*ckpt\.pt: \[enforce fail"):
        atomic_save({}, tmp_path / "ckpt.pt")


def test_index_write_on_a_full_disk(tmp_path, monkeypatch):
    monkeypatch.setattr(checkpoint_module.os, "fsync", lambda fd: (_ for _ in ()).throw(OSError(errno.ENOSPC, "x")))
    with pytest.raises(CheckpointWriteError, match=r"no space left on device \(.*index\.json\)"):
        atomic_write_text("{}", tmp_path / "index.json")


@pytest.fixture
def tiny_tmpfs(tmp_path):
    """A 32 KiB tmpfs (needs root and mount; skipped otherwise)."""
    mount = tmp_path / "tmpfs"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=32k", "tmpfs", str(mount)], capture_output=True)
    if done.returncode != 0:
        pytest.skip("cannot mount a tmpfs here")
    yield mount
    subprocess.run(["umount", str(mount)], check=False)


def test_a_real_full_tmpfs_gives_no_space_left(tiny_tmpfs):
    with pytest.raises(CheckpointWriteError, match=r"^no space left on device \(.*ckpt-000000006\.pt\)$"):
        make_trainer(tiny_tmpfs / "run", epochs=1, evaluate=None).fit()
    assert not list((tiny_tmpfs / "run" / "checkpoints").glob(".*.tmp"))


# ---------------------------------------------------------------------- file modes
@pytest.mark.parametrize("umask", [0o022, 0o027, 0o077])
def test_checkpoints_get_the_umask_modes(tmp_path, umask):
    previous = os.umask(umask)
    try:
        make_trainer(tmp_path / "run", epochs=1, evaluate=None).fit()
    finally:
        os.umask(previous)
    folder = tmp_path / "run" / "checkpoints"
    for path in [*folder.iterdir()]:
        assert path.stat().st_mode & 0o777 == 0o666 & ~umask, path
    assert folder.stat().st_mode & 0o777 == 0o777 & ~umask


# ---------------------------------------------------------------------- one run per folder
HOLD = ("import sys, time; from lstm_nlp.training.run_lock import RunLock; RunLock(sys.argv[1]).acquire(); "
        "print('locked', flush=True); time.sleep(60)")


@pytest.fixture
def other_process_holding(tmp_path):
    """A second Python process holding the lock on ``tmp_path/run``; yields its Popen."""
    folder = tmp_path / "run"
    process = subprocess.Popen([sys.executable, "-c", HOLD, str(folder)], stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout.readline().strip() == "locked"
        yield process
    finally:
        process.kill()
        process.wait(timeout=30)


def test_a_second_run_into_a_locked_folder_fails_at_once_naming_the_pid(tmp_path, other_process_holding):
    started = time.monotonic()
    with pytest.raises(RunLockedError) as info:
        make_trainer(tmp_path / "run", epochs=1).fit()
    message = str(info.value)
    assert f"PID {other_process_holding.pid}" in message and "\n" not in message
    assert "choose another --output-dir" in message and time.monotonic() - started < 5
    assert not (tmp_path / "run" / "checkpoints").exists()  # it wrote nothing
    # Once the other process is gone (even killed), its lock is taken over.
    other_process_holding.kill()
    other_process_holding.wait(timeout=30)
    assert make_trainer(tmp_path / "run", epochs=1).fit().history[-1]["epoch"] == 1


def test_the_recipes_refuse_a_locked_folder_at_parse_time(tmp_path, other_process_holding, load_recipe, capsys):
    with pytest.raises(SystemExit) as info:
        load_recipe("forecast").parse_args(["--output-dir", str(tmp_path / "run")])
    err = capsys.readouterr().err
    assert info.value.code == 2 and err.count("\n") == 1 and f"PID {other_process_holding.pid}" in err


def test_a_stale_lock_file_of_a_dead_process_is_taken_over(tmp_path):
    folder = tmp_path / "run"
    folder.mkdir()
    (folder / LOCK_NAME).write_text(f"999999999 {socket.gethostname()}\n")
    make_trainer(folder, epochs=1).fit()
    assert (folder / LOCK_NAME).read_text().split()[0] == str(os.getpid())


def test_without_flock_a_pid_file_is_used_and_stale_ones_taken_over(tmp_path, monkeypatch, other_process_holding):
    monkeypatch.setattr(run_lock, "fcntl", None)
    stale = tmp_path / "stale"
    stale.mkdir()
    (stale / LOCK_NAME).write_text(f"999999999 {socket.gethostname()}\n")
    with RunLock(stale) as lock:
        assert lock.held and (stale / LOCK_NAME).read_text().split()[0] == str(os.getpid())
        with pytest.raises(RunLockedError, match=f"PID {os.getpid()}"):
            RunLock(stale).acquire()
    assert not (stale / LOCK_NAME).exists()
    live = tmp_path / "live"
    live.mkdir()
    (live / LOCK_NAME).write_text(f"{other_process_holding.pid} {socket.gethostname()}\n")
    with pytest.raises(RunLockedError, match=f"PID {other_process_holding.pid}"):
        RunLock(live).acquire()


def test_the_lock_is_released_after_fit_and_after_a_failure(tmp_path):
    make_trainer(tmp_path, epochs=1).fit()
    with RunLock(tmp_path):
        pass
    make_trainer(tmp_path, epochs=2, evaluate=lambda m: {}).fit()  # another run afterwards is fine


# ---------------------------------------------------------------------- resume with other options
def test_resume_with_changed_options_names_each_one_old_to_new(tmp_path):
    make_trainer(tmp_path, epochs=1).fit()
    with pytest.raises(ConfigError) as info:
        make_trainer(tmp_path, epochs=2, lr=0.02, seed=6, grad_accum=2).fit(resume="auto")
    message = str(info.value)
    assert "\n" not in message and "ckpt-000000006.pt was saved with other options: " in message
    assert "--grad-accum 1 -> 2, --lr 0.01 -> 0.02, --seed 5 -> 6;" in message


def test_resume_may_change_epochs_device_and_checkpoint_options(tmp_path):
    straight = make_trainer(tmp_path / "a", epochs=3)
    straight.fit()
    make_trainer(tmp_path / "b", epochs=1, checkpoint_every=2, keep_checkpoints=3).fit()
    resumed = make_trainer(tmp_path / "b", epochs=3, checkpoint_every=0, keep_checkpoints=1, progress=True,
                           plots=True)
    resumed.fit(resume="auto")
    assert same_weights(straight.model, resumed.model)


def test_with_a_linear_schedule_the_epochs_may_not_change(tmp_path):
    make_trainer(tmp_path, epochs=1, scheduler="linear").fit()
    with pytest.raises(ConfigError, match="--epochs 1 -> 3"):
        make_trainer(tmp_path, epochs=3, scheduler="linear").fit(resume="auto")


def test_resume_compares_the_recipe_options_too(tmp_path, load_recipe):
    recipe = load_recipe("forecast")
    argv = ["--output-dir", str(tmp_path), "--window", "24", "--horizon", "6", "--hidden-size", "8", "--length",
            "400", "--no-progress", "--device", "cpu", "--epochs", "1"]
    recipe.main(argv)
    with pytest.raises(ConfigError) as info:
        recipe.main([*argv, "--epochs", "2", "--batch-size", "32", "--hidden-size", "16", "--resume"])
    assert "--batch-size 64 -> 32, --hidden-size 8 -> 16;" in str(info.value)
    recipe.main([*argv, "--epochs", "2", "--checkpoint-every", "5", "--no-progress", "--resume"])  # allowed



RECIPE_RUNS = {
    "pos_tagger": ["--embedding-dim", "8", "--hidden-size", "8", "--num-layers", "1", "--char-encoder", "none"],
    "forecast": ["--window", "24", "--horizon", "6", "--hidden-size", "8", "--length", "400"],
}


@pytest.mark.parametrize("recipe", sorted(RECIPE_RUNS))
def test_every_file_a_recipe_writes_follows_the_umask(tmp_path, load_recipe, recipe, capsys):
    """Plots (written through a temporary file) included: 0644 files and 0755 folders under umask 022."""
    out = tmp_path / "run"
    previous = os.umask(0o022)
    try:
        load_recipe(recipe).main(["--output-dir", str(out), "--epochs", "1", "--no-progress", "--device", "cpu",
                                  *RECIPE_RUNS[recipe]])
    finally:
        os.umask(previous)
    written = sorted(out.rglob("*"))
    assert {p.name for p in written} >= {"metrics.json", "metrics.jsonl", "training_curve.png", "model.safetensors",
                                         "forecast.png" if recipe == "forecast" else "confusion_matrix.png"}
    wrong = {str(p.relative_to(out)): oct(p.stat().st_mode & 0o777) for p in written
             if p.stat().st_mode & 0o777 != (0o755 if p.is_dir() else 0o644)}
    assert not wrong


# ---------------------------------------------------------------------- checkpoint fields of the wrong type
def valid_checkpoint(tmp_path) -> Path:
    trainer = make_trainer(tmp_path, epochs=1)
    return Path(trainer.fit().checkpoint)


WRONG = st.one_of(st.text(max_size=5), st.floats(allow_nan=True), st.integers(max_value=-1), st.booleans(),
                  st.lists(st.text(max_size=3), max_size=3), st.dictionaries(st.text(max_size=3), st.integers(),
                                                                              max_size=3), st.just(torch.ones(2)))


def acceptable(field, value) -> bool:
    """What each field may legitimately hold (written independently of the loader's schema)."""
    is_int = isinstance(value, int) and not isinstance(value, bool)
    return {
        "epoch": is_int and value >= 0, "global_step": is_int and value >= 0, "batches_done": is_int and value >= 0,
        "best_epoch": is_int and value >= 0, "bad_epochs": is_int and value >= 0,
        "config": isinstance(value, dict), "history": value == [], "rng": value == [],
        "epoch_stats": False, "best_model": value is None or value == {},
        "stopped_early": isinstance(value, bool), "best_metric": value is None or (
            isinstance(value, (int, float)) and not isinstance(value, bool)),
    }[field]


FIELDS = ["config", "history", "rng", "epoch", "epoch_stats", "best_model", "global_step", "batches_done",
          "best_epoch", "best_metric", "bad_epochs", "stopped_early"]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(field=st.sampled_from(FIELDS), value=WRONG)
def test_wrong_field_types_are_one_line_naming_the_file_and_field(tmp_path_factory, field, value):
    if acceptable(field, value):
        return
    folder = tmp_path_factory.mktemp("ckpt")
    state = {"format_version": 1, "model": {"w": torch.ones(2)}, "optimizer": {}, "epoch": 1, "batches_done": 0,
             "global_step": 3, "history": [{"epoch": 1}], "config": {}, "rng": [], "best_epoch": 1,
             "best_metric": 0.5, "best_model": None, "bad_epochs": 0, "stopped_early": False,
             "epoch_stats": {"loss_sum": 0.0, "batches": 0, "tokens": 0, "seconds": 0.0}}
    state[field] = value
    path = folder / "ckpt-000000003.pt"
    torch.save(state, path)
    with pytest.raises(BundleError) as info:
        load_checkpoint(path)
    message = str(info.value)
    assert str(path) in message and f"'{field}'" in message and "\n" not in message


@pytest.mark.parametrize("field, value", [("epoch", "1"), ("history", {"epoch": 1}), ("rng", [{"python": 1}]),
                                          ("config", ["lr"]), ("best_model", [1, 2]),
                                          ("epoch_stats", {"loss_sum": "x"})])
def test_resume_from_a_checkpoint_with_a_wrong_field_is_a_bundle_error(tmp_path, field, value):
    path = valid_checkpoint(tmp_path)
    state = torch.load(path, weights_only=True)
    state[field] = value
    torch.save(state, path)
    with pytest.raises(BundleError, match=f"{path.name} is not a valid lstm_nlp checkpoint: field '{field}'"):
        make_trainer(tmp_path, epochs=2).fit(resume=str(path))


@pytest.mark.parametrize("best, message", [
    ({}, r"field 'best_model' lacks \d+ of the model's \d+ weights"),
    ("drop-one", r"field 'best_model' lacks 1 of the model's"),
    ("extra", r"field 'best_model' holds weights this model does not have \(bogus\)"),
    ("reshape", r"field 'best_model' weight '.+' has shape \(1, 1\), the model's is"),
])
def test_resume_with_a_best_model_that_does_not_fit_is_one_line_before_training(tmp_path, best, message):
    path = valid_checkpoint(tmp_path)
    state = torch.load(path, weights_only=True)
    weights = dict(state["model"])
    first = next(iter(weights))
    state["best_model"] = best if isinstance(best, dict) else {
        "drop-one": {k: v for k, v in weights.items() if k != first},
        "extra": {**weights, "bogus": torch.ones(1)},
        "reshape": {**weights, first: torch.ones(1, 1)}}[best]
    torch.save(state, path)
    with pytest.raises(BundleError, match=message) as info:
        make_trainer(tmp_path, epochs=2).fit(resume=str(path))
    assert str(path) in str(info.value) and "\n" not in str(info.value)
