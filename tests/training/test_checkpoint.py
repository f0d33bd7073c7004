"""Checkpoint files: atomic rotation, safe loading (no unpickling of code), versions, RNG round trips."""

import json
import pickle
import random

import numpy as np
import pytest
import torch

from lstm_nlp.errors import BundleError
from lstm_nlp.training.checkpoint import (
    CHECKPOINT_FORMAT_VERSION,
    CheckpointManager,
    atomic_save,
    capture_rng_state,
    load_checkpoint,
    resolve_resume,
    restore_rng_state,
)


def minimal_state(step=0, **extra):
    return {"format_version": CHECKPOINT_FORMAT_VERSION, "model": {"w": torch.ones(2)}, "optimizer": {},
            "epoch": 1, "batches_done": 0, "global_step": step, "history": [], **extra}


class PlantsAMarker:
    """Unpickling this object would create a file: proof that code ran."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (open, (str(self.marker), "w"))


@pytest.mark.filterwarnings("ignore:Detected pickle protocol")
@pytest.mark.parametrize("writer", ["pickle", "torch.save"])
def test_a_planted_malicious_pickle_is_refused_without_running(tmp_path, writer):
    marker = tmp_path / "pwned"
    path = tmp_path / "checkpoints" / "ckpt-000000005.pt"
    path.parent.mkdir()
    payload = minimal_state(5, config=PlantsAMarker(marker))
    if writer == "pickle":
        path.write_bytes(pickle.dumps(payload))
    else:
        torch.save(payload, path)
    assert not marker.exists()
    with pytest.raises(BundleError, match="not a loadable lstm_nlp checkpoint"):
        load_checkpoint(resolve_resume("auto", tmp_path))
    assert not marker.exists()
    # Control: an unrestricted load does run the payload.
    pickle.loads(path.read_bytes()) if writer == "pickle" else torch.load(path, weights_only=False)
    assert marker.exists()


def test_newer_format_and_malformed_files_are_clear_errors(tmp_path):
    newer = tmp_path / "newer.pt"
    torch.save(minimal_state(format_version=CHECKPOINT_FORMAT_VERSION + 1), newer)
    with pytest.raises(BundleError, match=f"format version {CHECKPOINT_FORMAT_VERSION + 1}.*Upgrade lstm_nlp"):
        load_checkpoint(newer)
    partial = tmp_path / "partial.pt"
    torch.save({"format_version": 1, "model": {}}, partial)
    with pytest.raises(BundleError, match="lacks checkpoint field"):
        load_checkpoint(partial)
    truncated = tmp_path / "truncated.pt"
    torch.save(minimal_state(), truncated)
    truncated.write_bytes(truncated.read_bytes()[:50])
    with pytest.raises(BundleError, match="not a loadable"):
        load_checkpoint(truncated)
    with pytest.raises(BundleError, match="checkpoint not found"):
        load_checkpoint(tmp_path / "missing.pt")


def test_manager_keeps_last_k_plus_best_and_indexes_latest(tmp_path):
    manager = CheckpointManager(tmp_path, keep=2)
    for step in range(1, 6):
        manager.save(minimal_state(step), global_step=step, is_best=step == 2)
    assert [p.name for p in manager.checkpoints()] == ["ckpt-000000002.pt", "ckpt-000000004.pt",
                                                        "ckpt-000000005.pt"]
    assert json.loads((tmp_path / "index.json").read_text()) == {"latest": "ckpt-000000005.pt",
                                                                 "best": "ckpt-000000002.pt"}
    assert manager.latest().name == "ckpt-000000005.pt"
    assert not list(tmp_path.glob(".*.tmp"))
    # A later save at the same step (the end-of-epoch one) replaces the file.
    manager.save(minimal_state(5, epoch=2), global_step=5, is_best=False)
    assert load_checkpoint(manager.latest())["epoch"] == 2
    # Without the index, the highest step wins.
    (tmp_path / "index.json").unlink()
    assert manager.latest().name == "ckpt-000000005.pt"


def test_failed_write_leaves_the_previous_file(tmp_path, monkeypatch):
    path = tmp_path / "ckpt-000000001.pt"
    atomic_save(minimal_state(1), path)

    def boom(obj, stream):
        stream.write(b"half")
        raise OSError("disk full")

    monkeypatch.setattr(torch, "save", boom)
    with pytest.raises(OSError, match="disk full"):
        atomic_save(minimal_state(2), path)
    monkeypatch.undo()
    assert load_checkpoint(path)["global_step"] == 1
    assert [p.name for p in tmp_path.iterdir()] == [path.name]


def test_resolve_resume_forms(tmp_path):
    assert resolve_resume(None, tmp_path) is None and resolve_resume(False, tmp_path) is None
    assert resolve_resume("auto", tmp_path) is None  # nothing yet: fresh run
    saved = CheckpointManager(tmp_path / "checkpoints").save(minimal_state(3), global_step=3, is_best=True)
    assert resolve_resume(True, tmp_path) == saved
    assert resolve_resume(str(tmp_path), None) == saved
    assert resolve_resume(str(tmp_path / "checkpoints"), None) == saved
    assert resolve_resume(str(saved), None) == saved
    with pytest.raises(BundleError, match="no such checkpoint"):
        resolve_resume(str(tmp_path / "nope.pt"), None)
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(BundleError, match="no checkpoint"):
        resolve_resume(str(empty), None)


def test_rng_state_round_trip_through_a_weights_only_file(tmp_path):
    random.seed(1), np.random.seed(2), torch.manual_seed(3)
    random.random(), np.random.normal(), torch.rand(1)  # leaves a cached numpy gaussian
    path = atomic_save({"rng": capture_rng_state()}, tmp_path / "rng.pt")
    expected = (random.random(), np.random.normal(), np.random.rand(), torch.rand(3))
    random.seed(9), np.random.seed(9), torch.manual_seed(9)
    restore_rng_state(torch.load(path, weights_only=True)["rng"])
    got = (random.random(), np.random.normal(), np.random.rand(), torch.rand(3))
    assert got[:3] == expected[:3] and torch.equal(got[3], expected[3])
