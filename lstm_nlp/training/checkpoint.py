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

import errno
import json
import logging
import os
import pickle
import random
import re
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import IO, Any

import numpy as np
import torch

from lstm_nlp import __version__
from lstm_nlp.errors import BundleError, LstmNlpError, WriteError, write_error

logger = logging.getLogger("lstm_nlp")

#: Bumped when the checkpoint layout changes incompatibly; newer files are refused.
CHECKPOINT_FORMAT_VERSION = 1
CHECKPOINT_DIR = "checkpoints"
INDEX_NAME = "index.json"
_NAME = re.compile(r"^ckpt-(\d{9})\.pt$")
REQUIRED_KEYS = ("format_version", "model", "optimizer", "epoch", "batches_done", "global_step", "history")


# ---------------------------------------------------------------------- files
class CheckpointWriteError(WriteError):
    """A checkpoint (or its index) could not be written; the message names the path and why."""


def umask_modes() -> tuple[int, int]:
    """``(file mode, directory mode)`` that ``open``/``mkdir`` give under the current umask."""
    mask = os.umask(0o022)
    os.umask(mask)
    return 0o666 & ~mask, 0o777 & ~mask


def _free_bytes(directory: Path) -> int | None:
    try:
        stats = os.statvfs(directory)
    except (OSError, AttributeError):  # no statvfs on Windows
        return None
    return stats.f_bavail * stats.f_frsize


def _write_error(err: BaseException, path: Path) -> CheckpointWriteError:
    """The clear error for a failed write of ``path`` (:func:`~lstm_nlp.errors.write_error`), and torch's zip
    writer failing with ``unexpected pos`` on a full disk also read as ``no space left on device``."""
    free = None if isinstance(err, OSError) else _free_bytes(path.parent)
    if free is not None and free < 1 << 20:  # torch reports a short write as "unexpected pos ..."
        return CheckpointWriteError(errno.ENOSPC, f"no space left on device ({path})")
    general = write_error(err, path)
    return CheckpointWriteError(general.errno, general.strerror)


def _atomic_write(path: str | os.PathLike, write: Callable[[IO[bytes]], None]) -> Path:
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as err:
        raise _write_error(err, path) from None
    try:
        os.fchmod(handle, umask_modes()[0]) if hasattr(os, "fchmod") else None  # mkstemp makes it 0600
        with os.fdopen(handle, "wb") as stream:
            write(stream)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(tmp, path)
    except BaseException as err:
        Path(tmp).unlink(missing_ok=True)
        if isinstance(err, (OSError, RuntimeError)) and not isinstance(err, LstmNlpError):
            raise _write_error(err, path) from None
        raise
    return path


def atomic_save(obj: Any, path: str | os.PathLike) -> Path:
    """``torch.save`` to a temporary file next to ``path``, fsync, then ``os.replace`` into place.

    The file gets the umask's mode (like any file ``open`` creates), not the temporary file's 0600.

    Raises:
        CheckpointWriteError: the write failed; ``"no space left on device (PATH)"`` when the disk or
            quota is full. ``path`` is then unchanged.
    """
    return _atomic_write(path, lambda stream: torch.save(obj, stream))


def atomic_write_text(text: str, path: str | os.PathLike) -> Path:
    """Writes a small text file atomically (temporary file + ``os.replace``); errors as :func:`atomic_save`."""
    return _atomic_write(path, lambda stream: stream.write(text.encode("utf-8")))


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
        raise BundleError(f"{path} is not a loadable lstm_nlp checkpoint (it must contain only tensors and "
                          f"plain values): {_unloadable_reason(path, err)}") from None
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
    problem = checkpoint_field_problem(state)
    if problem is not None:
        raise BundleError(f"{path} is not a valid lstm_nlp checkpoint: {problem}")
    return state


def _unloadable_reason(path: Path, err: Exception) -> str:
    """Why ``torch.load(weights_only=True)`` refused ``path``, in our words.

    PyTorch's own message advises re-running with ``weights_only=False``, which would run any code
    a planted file holds: it is never passed on.
    """
    with open(path, "rb") as handle:
        start = handle.read(4)
    saved = start.startswith((b"PK\x03\x04", b"\x80"))  # torch.save's zip archive, or a (legacy) pickle
    if isinstance(err, pickle.UnpicklingError) and saved:
        return "it holds other Python objects, which a safe load refuses without running anything from the file"
    if not saved:
        return "it is not a file torch.save wrote (a text file, or another format?)"
    return f"the file is truncated or damaged ({type(err).__name__})"


# ---------------------------------------------------------------------- schema
def _is_int(value: Any, low: int = 0) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= low


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _tensor_dict(value: Any) -> bool:
    return isinstance(value, dict) and all(isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in value.items())


def _rng_problem(value: Any) -> str | None:
    if not isinstance(value, dict):
        return f"is {type(value).__name__}, not dict"
    python, numpy = value.get("python"), value.get("numpy")
    checks = [
        (isinstance(python, dict) and _is_int(python.get("version"))
         and isinstance(python.get("state"), torch.Tensor) and python["state"].dtype == torch.int64
         and python["state"].dim() == 1 and (python.get("gauss") is None or _is_number(python["gauss"])), "python"),
        (isinstance(numpy, dict) and isinstance(numpy.get("keys"), torch.Tensor) and numpy["keys"].shape == (624,)
         and _is_int(numpy.get("pos")) and _is_int(numpy.get("has_gauss"))
         and _is_number(numpy.get("cached_gaussian")), "numpy"),
        (isinstance(value.get("torch"), torch.Tensor) and value["torch"].dtype == torch.uint8, "torch"),
        (isinstance(value.get("cuda", []), list)
         and all(isinstance(t, torch.Tensor) and t.dtype == torch.uint8 for t in value.get("cuda", [])), "cuda"),
    ]
    bad = next((name for ok, name in checks if not ok), None)
    return None if bad is None else f"has a malformed {bad!r} generator state"


def checkpoint_field_problem(state: Mapping) -> str | None:
    """What is wrong with the fields of a loaded checkpoint (types and ranges), or ``None``.

    The answer names the field, e.g. ``"field 'epoch' must be an integer >= 0, got str"``; the
    file passed the safe loader, so this catches checkpoints that are well-formed pickles of the
    wrong values (hand-edited, from another program, or crafted).
    """
    def got(value: Any) -> str:
        return type(value).__name__

    rules: list[tuple[str, Callable[[Any], bool], str]] = [
        ("format_version", lambda v: _is_int(v, 1), "an integer >= 1"),
        ("model", _tensor_dict, "a dict of name -> tensor"),
        ("optimizer", lambda v: isinstance(v, dict), "a dict (an optimizer state_dict)"),
        ("epoch", _is_int, "an integer >= 0"),
        ("batches_done", _is_int, "an integer >= 0"),
        ("global_step", _is_int, "an integer >= 0"),
        ("history", lambda v: isinstance(v, list) and all(isinstance(r, dict) and _is_int(r.get("epoch"), 1)
                                                          for r in v), "a list of epoch records (dicts with an epoch)"),
        ("config", lambda v: isinstance(v, dict) and all(isinstance(k, str) for k in v), "a dict of options"),
        ("world_size", lambda v: _is_int(v, 1), "an integer >= 1"),
        ("rng", lambda v: isinstance(v, list), "a list of per-rank generator states"),
        ("best_epoch", _is_int, "an integer >= 0"),
        ("best_metric", lambda v: v is None or _is_number(v), "a number or None"),
        ("best_model", lambda v: v is None or _tensor_dict(v), "None or a dict of name -> tensor"),
        ("bad_epochs", _is_int, "an integer >= 0"),
        ("stopped_early", lambda v: isinstance(v, bool), "true or false"),
        ("epoch_stats", lambda v: isinstance(v, dict) and set(v) >= {"loss_sum", "batches", "tokens", "seconds"}
         and all(_is_number(v[k]) for k in ("loss_sum", "batches", "tokens", "seconds")),
         "a dict of loss_sum, batches, tokens, seconds (numbers)"),
        ("scheduler", lambda v: v is None or isinstance(v, dict), "None or a dict"),
        ("scaler", lambda v: v is None or isinstance(v, dict), "None or a dict"),
    ]
    for name, ok, expected in rules:
        if name in state and not ok(state[name]):
            return f"field {name!r} must be {expected}, got {got(state[name])}"
    for rank, rng in enumerate(state.get("rng") or []):
        problem = _rng_problem(rng)
        if problem is not None:
            return f"field 'rng' (rank {rank}) {problem}"
    return None


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

    def save(self, state: Mapping[str, Any], *, global_step: int, is_best: bool, replace_others: bool = False) -> Path:
        """Writes ``state`` atomically, updates ``index.json`` and removes old checkpoints.

        A later save at the same ``global_step`` (the end-of-epoch save after a step save)
        replaces the earlier file.

        Args:
            replace_others: The first save of a fresh run: once the new file is safely on disk,
                every other checkpoint in the folder (an earlier run's) is removed. If the write
                fails they are all still there.

        Raises:
            CheckpointWriteError: the file or the index could not be written (e.g. the disk is full).
        """
        path = atomic_save(dict(state), self.directory / self.file_name(global_step))
        index = {} if replace_others else self.index()
        best = path.name if is_best else index.get("best")
        atomic_write_text(json.dumps({"latest": path.name, "best": best}), self.directory / INDEX_NAME)
        if replace_others:
            for file in self.checkpoints():
                if file.name != path.name:
                    file.unlink(missing_ok=True)
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
