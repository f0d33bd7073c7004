"""Model bundles: a directory with ``config.json``, ``model.safetensors`` and vocabulary JSON files.

Nothing here unpickles: weights are safetensors, everything else is JSON. A bundle is written
into a temporary sibling directory and swapped into place, so a crash or a full disk while
saving leaves the previous bundle loadable.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from lstm_nlp import __version__
from lstm_nlp.data.vocab import Vocab
from lstm_nlp.errors import BundleError, VocabError

CONFIG_NAME = "config.json"
WEIGHTS_NAME = "model.safetensors"
VOCAB_SUFFIX = ".vocab.json"
FORMAT_VERSION = 1
_BACKUP_PREFIX = ".{name}.old-"

logger = logging.getLogger("lstm_nlp")


@dataclass
class Bundle:
    """The contents of a bundle directory, read and checked for well-formedness."""

    path: Path
    model_type: str
    config: dict
    state_dict: dict[str, torch.Tensor]
    vocabs: dict[str, Vocab]
    meta: dict


def write_bundle(
    directory: str | os.PathLike,
    *,
    model_type: str,
    config: Mapping,
    state_dict: Mapping[str, torch.Tensor],
    vocabs: Mapping[str, Vocab] | None = None,
    meta: Mapping | None = None,
    extra_files: Mapping[str, Callable[[Path], None]] | None = None,
) -> Path:
    """Writes a bundle atomically.

    Args:
        directory: Target directory (created; an existing bundle there is replaced).
        model_type: Name that :func:`lstm_nlp.pipelines.load_pipeline` dispatches on.
        config: JSON-serialisable model configuration.
        state_dict: Tensors to store (made contiguous and moved to CPU).
        vocabs: Named vocabularies, written as ``NAME.vocab.json``.
        meta: Extra JSON metadata (task settings such as the tag scheme).
        extra_files: ``filename -> writer(path)`` for other artefacts (e.g. a subword tokenizer).

    Returns:
        The bundle directory.
    """
    target = Path(directory)
    if target.exists() and not target.is_dir():
        raise BundleError(f"{target} exists and is not a directory; save_pretrained needs a directory path")
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-{os.getpid()}-", dir=target.parent))
    try:
        header = {"model_type": model_type, "format_version": FORMAT_VERSION, "lstm_nlp_version": __version__,
                  "config": dict(config), "meta": dict(meta or {})}
        (staging / CONFIG_NAME).write_text(json.dumps(header, indent=2, ensure_ascii=False), encoding="utf-8")
        tensors = {k: v.detach().to("cpu").contiguous() for k, v in state_dict.items()}
        save_file(tensors, str(staging / WEIGHTS_NAME), metadata={"format": "pt", "model_type": model_type})
        for name, vocab in (vocabs or {}).items():
            vocab.save(staging / f"{name}{VOCAB_SUFFIX}")
        for name, writer in (extra_files or {}).items():
            writer(staging / name)
        _swap_into_place(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return target


def _swap_into_place(staging: Path, target: Path) -> None:
    # A directory cannot be atomically renamed over a non-empty one, so the old bundle is first
    # moved aside. An exception between the two renames puts it back; a kill in that instant
    # leaves it as ``.NAME.old-PID``, which :func:`read_header` / :func:`read_bundle` fall back to.
    backup = None
    if target.exists():
        backup = target.with_name(f"{_BACKUP_PREFIX.format(name=target.name)}{os.getpid()}")
        shutil.rmtree(backup, ignore_errors=True)
        os.replace(target, backup)
    try:
        os.replace(staging, target)
    except BaseException:
        if backup is not None and not target.exists():
            os.replace(backup, target)
        raise
    if backup is not None:
        shutil.rmtree(backup, ignore_errors=True)
    _remove_leftovers(target)


def _remove_leftovers(target: Path) -> None:
    """Deletes staging and moved-aside copies of ``target`` that killed saves (dead processes) left."""
    pattern = re.compile(rf"^\.{re.escape(target.name)}\.(?:tmp|old)-(\d+)(?:-.*)?$")
    for path in target.parent.iterdir():
        match = pattern.match(path.name)
        if match and not _process_alive(int(match.group(1))):
            shutil.rmtree(path, ignore_errors=True)


def _process_alive(pid: int) -> bool:
    if pid == os.getpid():
        return False  # this process's own copies are finished with once the swap is done
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # e.g. PermissionError: it exists, owned by someone else
        return True
    return True


def _locate(directory: str | os.PathLike) -> Path:
    """``directory``, or the previous bundle that a save killed mid-swap left beside it."""
    path = Path(directory)
    if path.exists():
        return path
    backups = sorted(path.parent.glob(_BACKUP_PREFIX.format(name=path.name) + "*"),
                     key=lambda p: p.stat().st_mtime) if path.parent.is_dir() else []
    backups = [b for b in backups if (b / CONFIG_NAME).is_file() and (b / WEIGHTS_NAME).is_file()]
    if not backups:
        return path
    logger.warning("%s is missing but %s holds the bundle an interrupted save moved aside; loading that "
                   "(rename it to %s to keep it)", path, backups[-1], path.name)
    return backups[-1]


def read_header(directory: str | os.PathLike) -> dict:
    """Reads and checks a bundle's ``config.json`` (``model_type``, ``format_version``, ``config``, ``meta``)."""
    path = _locate(directory)
    if not path.is_dir():
        raise BundleError(f"model bundle not found: {path} is not a directory")
    config_path = path / CONFIG_NAME
    try:
        header = json.loads(config_path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BundleError(f"{path} has no {CONFIG_NAME}; is it a model saved with save_pretrained?") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise BundleError(f"{config_path} is not valid JSON ({err})") from None
    if not isinstance(header, dict) or "model_type" not in header or "config" not in header:
        raise BundleError(f"{config_path} lacks 'model_type' / 'config'")
    version = header.get("format_version", 1)
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise BundleError(
            f"{config_path} has bundle format version {version}; this lstm_nlp ({__version__}) reads up to "
            f"{FORMAT_VERSION}. Upgrade lstm_nlp to load it.")
    return header


def read_bundle(directory: str | os.PathLike, *, expected_type: str | None = None) -> Bundle:
    """Reads and checks a bundle directory (no code from the files is executed).

    Raises:
        BundleError: missing files, unreadable JSON or safetensors, a newer format version, or a
            ``model_type`` other than ``expected_type``.
    """
    path = _locate(directory)
    header = read_header(path)
    if expected_type is not None and header["model_type"] != expected_type:
        raise BundleError(f"{path} holds a {header['model_type']!r} model, expected {expected_type!r}")
    weights_path = path / WEIGHTS_NAME
    if not weights_path.exists():
        raise BundleError(f"{path} has no {WEIGHTS_NAME}")
    try:
        state_dict = load_file(str(weights_path))
    except (SafetensorError, OSError, ValueError) as err:
        raise BundleError(f"{weights_path} is not a readable safetensors file ({err})") from None
    vocabs = {}
    for file in sorted(path.glob(f"*{VOCAB_SUFFIX}")):
        try:
            vocabs[file.name[: -len(VOCAB_SUFFIX)]] = Vocab.load(file)
        except VocabError as err:
            raise BundleError(str(err)) from None
    return Bundle(path, header["model_type"], header["config"], state_dict, vocabs, header.get("meta", {}))


def load_state_dict_strict(model: torch.nn.Module, state_dict: Mapping[str, torch.Tensor], source: str) -> None:
    """Loads weights, refusing missing/unexpected keys or shape mismatches with a clear message."""
    own = model.state_dict()
    missing = sorted(set(own) - set(state_dict))
    unexpected = sorted(set(state_dict) - set(own))
    if missing or unexpected:
        raise BundleError(f"{source}: weights do not match the config (missing {missing[:5]}, "
                          f"unexpected {unexpected[:5]})")
    for key, tensor in own.items():
        if tuple(state_dict[key].shape) != tuple(tensor.shape):
            raise BundleError(f"{source}: weight {key!r} has shape {tuple(state_dict[key].shape)} but the "
                              f"config implies {tuple(tensor.shape)}")
    model.load_state_dict(state_dict, strict=True)
