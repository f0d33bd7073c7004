"""Training checkpoints: atomic writes, safe loading, rotation and RNG state capture.

A checkpoint is one ``torch.save`` file holding only tensors and plain Python values (dicts,
lists, tuples, numbers, strings), so it loads with ``torch.load(weights_only=True)``: loading
never runs code from the file. Files are written to a temporary name in the same directory and
moved into place with ``os.replace``, so a crash or ``SIGKILL`` during a save leaves the previous
checkpoint intact.

Layout of ``OUTPUT_DIR/checkpoints/``::

    ckpt-000000120.pt      one file per save, named by the global optimizer step
    index.json             {"latest": file name, "best": file name}, rewritten after each save
"""

from __future__ import annotations

import json
import logging
import os
import random
import re
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import torch

from lstm_nlp import __version__
from lstm_nlp.errors import BundleError

logger = logging.getLogger("lstm_nlp")

#: Bumped when the checkpoint layout changes incompatibly; newer files are refused.
CHECKPOINT_FORMAT_VERSION = 1
CHECKPOINT_DIR = "checkpoints"
INDEX_NAME = "index.json"
_NAME = re.compile(r"^ckpt-(\d{9})\.pt$")
REQUIRED_KEYS = ("format_version", "model", "optimizer", "epoch", "batches_done", "global_step", "history")


# ---------------------------------------------------------------------- files
def atomic_save(obj: Any, path: str | os.PathLike) -> Path:
    """``torch.save`` to a temporary file next to ``path``, fsync, then ``os.replace`` into place."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as stream:
            torch.save(obj, stream)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def atomic_write_text(text: str, path: str | os.PathLike) -> Path:
    """Writes a small text file atomically (temporary file + ``os.replace``)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def load_checkpoint(path: str | os.PathLike, *, map_location: str | torch.device = "cpu") -> dict:
    """Loads and checks a checkpoint written by :class:`CheckpointManager`.

    Only tensors and plain Python values are accepted (``torch.load(weights_only=True)``); a file
    that would need arbitrary unpickling (e.g. a planted malicious pickle) is refused without
    running anything from it.

    Raises:
        BundleError: missing or unreadable file, disallowed pickle content, missing keys, or a
            format version newer than this lstm_nlp understands.
    """
    path = Path(path)
    if not path.is_file():
        raise BundleError(f"checkpoint not found: {path}")
    try:
        state = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as err:  # UnpicklingError, RuntimeError, EOFError, zipfile errors, ...
        reason = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise BundleError(f"{path} is not a loadable lstm_nlp checkpoint (it must contain only tensors and "
                          f"plain values): {reason}") from None
    if not isinstance(state, dict):
        raise BundleError(f"{path} is not an lstm_nlp checkpoint (top level is {type(state).__name__}, not dict)")
    version = state.get("format_version")
    if not isinstance(version, int):
        raise BundleError(f"{path} is not an lstm_nlp checkpoint (no integer format_version)")
    if version > CHECKPOINT_FORMAT_VERSION:
        raise BundleError(
            f"{path} has checkpoint format version {version}; this lstm_nlp ({__version__}) reads up to "
            f"{CHECKPOINT_FORMAT_VERSION}. Upgrade lstm_nlp to resume from it.")
    missing = [key for key in REQUIRED_KEYS if key not in state]
    if missing:
        raise BundleError(f"{path} lacks checkpoint field(s) {missing}")
    return state


# ---------------------------------------------------------------------- rotation
class CheckpointManager:
    """Writes checkpoints into ``directory`` and keeps the last ``keep`` plus the best one.

    Args:
        directory: The checkpoint folder (usually ``OUTPUT_DIR/checkpoints``).
        keep: How many of the most recent checkpoints to keep (>= 1); the one saved when the dev
            metric last improved is kept as well.
    """

    def __init__(self, directory: str | os.PathLike, *, keep: int = 2):
        self.directory = Path(directory)
        self.keep = max(1, keep)

    @staticmethod
    def file_name(global_step: int) -> str:
        return f"ckpt-{global_step:09d}.pt"

    def checkpoints(self) -> list[Path]:
        """Checkpoint files present, oldest first."""
        if not self.directory.is_dir():
            return []
        return sorted(p for p in self.directory.iterdir() if _NAME.match(p.name))

    def index(self) -> dict:
        try:
            value = json.loads((self.directory / INDEX_NAME).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return value if isinstance(value, dict) else {}

    def latest(self) -> Path | None:
        """The most recent checkpoint (the index's ``latest``, else the highest step present)."""
        name = self.index().get("latest")
        if isinstance(name, str) and _NAME.match(name) and (self.directory / name).is_file():
            return self.directory / name
        files = self.checkpoints()
        return files[-1] if files else None

    def save(self, state: Mapping[str, Any], *, global_step: int, is_best: bool) -> Path:
        """Writes ``state`` atomically, updates ``index.json`` and removes old checkpoints.

        A later save at the same ``global_step`` (the end-of-epoch save after a step save)
        replaces the earlier file.
        """
        path = atomic_save(dict(state), self.directory / self.file_name(global_step))
        index = self.index()
        best = path.name if is_best else index.get("best")
        atomic_write_text(json.dumps({"latest": path.name, "best": best}), self.directory / INDEX_NAME)
        self._prune(keep_names={path.name, best})
        return path

    def _prune(self, keep_names: set) -> None:
        files = self.checkpoints()
        recent = {p.name for p in files[-self.keep:]}
        for file in files:
            if file.name not in recent and file.name not in keep_names:
                file.unlink(missing_ok=True)

    def clear(self) -> int:
        """Removes all checkpoints, the index and stale temporary files (a fresh run); returns the count."""
        removed = 0
        if not self.directory.is_dir():
            return 0
        for file in self.directory.iterdir():
            if _NAME.match(file.name) or file.name == INDEX_NAME or (file.name.startswith(".")
                                                                    and file.name.endswith(".tmp")):
                file.unlink(missing_ok=True)
                removed += _NAME.match(file.name) is not None
        return removed

    def remove_stale_temporaries(self) -> None:
        """Deletes half-written temporary files a killed process may have left."""
        if self.directory.is_dir():
            for file in self.directory.glob(".*.tmp"):
                file.unlink(missing_ok=True)


def resolve_resume(resume: str | os.PathLike | bool | None, output_dir: str | os.PathLike | None) -> Path | None:
    """Turns a ``resume`` request into a checkpoint file (or ``None``: start fresh).

    Args:
        resume: ``None``/``False`` (fresh run), ``True``/``"auto"`` (the latest checkpoint under
            ``output_dir/checkpoints`` if there is one, else a fresh run), a checkpoint file, a
            checkpoint folder, or a run's output directory.
        output_dir: The run's output directory.

    Raises:
        BundleError: an explicit path that holds no checkpoint.
    """
    if resume is None or resume is False or resume == "":
        return None
    if resume is True or str(resume).lower() == "auto":
        if output_dir is None:
            return None
        return CheckpointManager(Path(output_dir) / CHECKPOINT_DIR).latest()
    path = Path(resume)
    if path.is_file():
        return path
    if path.is_dir():
        folder = path / CHECKPOINT_DIR if (path / CHECKPOINT_DIR).is_dir() else path
        latest = CheckpointManager(folder).latest()
        if latest is None:
            raise BundleError(f"--resume {path}: no checkpoint (ckpt-*.pt) found in {folder}")
        return latest
    raise BundleError(f"--resume {path}: no such checkpoint file or directory")


# ---------------------------------------------------------------------- RNG state
def capture_rng_state() -> dict:
    """Python, NumPy, torch CPU and CUDA generator states as tensors and plain values."""
    version, words, gauss = random.getstate()
    legacy = np.random.get_state(legacy=True)
    state = {
        "python": {"version": version, "state": torch.tensor(words, dtype=torch.int64), "gauss": gauss},
        "numpy": {"keys": torch.from_numpy(legacy[1].astype(np.int64)), "pos": int(legacy[2]),
                  "has_gauss": int(legacy[3]), "cached_gaussian": float(legacy[4])},
        "torch": torch.get_rng_state(),
        "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
    }
    return state


def restore_rng_state(state: Mapping) -> None:
    """Restores what :func:`capture_rng_state` captured (CUDA states only if the device count matches)."""
    python = state["python"]
    random.setstate((python["version"], tuple(int(v) for v in python["state"].tolist()), python["gauss"]))
    numpy = state["numpy"]
    np.random.set_state(("MT19937", numpy["keys"].numpy().astype(np.uint32), numpy["pos"], numpy["has_gauss"],
                         numpy["cached_gaussian"]))
    torch.set_rng_state(state["torch"].cpu())
    cuda = state.get("cuda") or []
    if cuda and torch.cuda.is_available():
        if len(cuda) == torch.cuda.device_count():
            torch.cuda.set_rng_state_all([s.cpu() for s in cuda])
        else:
            logger.warning("checkpoint has CUDA RNG states for %d device(s) but %d are visible; CUDA RNG not "
                           "restored", len(cuda), torch.cuda.device_count())
