"""Model bundles: a directory with ``config.json``, ``model.safetensors`` and vocabulary JSON files.

Nothing here unpickles: weights are safetensors, everything else is JSON. A bundle is written
into a temporary sibling directory and swapped into place, so a crash or a full disk while
saving leaves the previous bundle loadable; it gets the modes of any other output (the umask's).

Reading trusts nothing in the files: each is read only if it is a regular file of bounded size
(see :mod:`lstm_nlp.schema`), ``config.json`` is checked against a schema, and a model is built
(:func:`build_from_bundle`) only after its size and every weight shape in the safetensors header
agree with the config, so a crafted size allocates nothing.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import stat
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import load_file, save_file
from torch.overrides import TorchFunctionMode

from lstm_nlp import __version__
from lstm_nlp.bundle_header import (  # noqa: F401
    _BACKUP_PREFIX,
    CONFIG_NAME,
    FORMAT_VERSION,
    HEADER_SCHEMA,
    VOCAB_SUFFIX,
    WEIGHTS_NAME,
    locate_bundle,
    read_header,
)
from lstm_nlp.data.vocab import Vocab
from lstm_nlp.errors import BundleError, LstmNlpError, VocabError, write_error
from lstm_nlp.schema import MAX_PARAMETERS, Field, check_fields, check_regular_file


@dataclass
class Bundle:
    """The contents of a bundle directory, read and checked for well-formedness.

    The weights are not read yet: :attr:`weight_shapes` comes from the safetensors header, and
    :meth:`load_state_dict` reads the tensors (see :func:`build_from_bundle`).
    """

    path: Path
    model_type: str
    config: dict
    weight_shapes: dict[str, tuple[int, ...]]
    vocabs: dict[str, Vocab]
    meta: dict

    @property
    def config_file(self) -> Path:
        return self.path / CONFIG_NAME

    def load_state_dict(self) -> dict[str, torch.Tensor]:
        """Reads the tensors of ``model.safetensors`` (memory: the file's size)."""
        weights_path = self.path / WEIGHTS_NAME
        check_regular_file(weights_path)
        try:
            return load_file(str(weights_path))
        except (SafetensorError, OSError, ValueError) as err:
            raise BundleError(f"{weights_path} is not a readable safetensors file ({err})") from None

    @property
    def state_dict(self) -> dict[str, torch.Tensor]:
        """The tensors of ``model.safetensors``, read on each access (see :meth:`load_state_dict`)."""
        return self.load_state_dict()


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

    Raises:
        WriteError: the files could not be written (``no space left on device (DIRECTORY)`` on a full
            disk); a bundle already at ``directory`` is left as it was.
    """
    target = Path(directory)
    if target.exists() and not target.is_dir():
        raise BundleError(f"{target} exists and is not a directory; save_pretrained needs a directory path")
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = _make_staging_dir(target)
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
        _give_umask_modes(staging)
        _swap_into_place(staging, target)
    except BaseException as err:
        shutil.rmtree(staging, ignore_errors=True)  # the previous bundle at ``target`` is untouched
        if isinstance(err, (OSError, SafetensorError)) and not isinstance(err, LstmNlpError):
            raise write_error(err, target) from None
        raise
    return target


def _make_staging_dir(target: Path) -> Path:
    """A new sibling directory for the files of ``target``, with the umask's modes.

    (``tempfile.mkdtemp`` would make it 0700, and the swapped-in bundle unreadable by others.)
    """
    while True:
        staging = target.with_name(f".{target.name}.tmp-{os.getpid()}-{secrets.token_hex(4)}")
        try:
            staging.mkdir(mode=0o777)  # minus the umask, like every other output
            return staging
        except FileExistsError:
            continue


def _give_umask_modes(staging: Path) -> None:
    """Gives every file the mode of ``config.json`` (written by ``open``: 0o666 minus the umask).

    safetensors writes through a temporary file (0600), which other users could not read.
    """
    mode = stat.S_IMODE((staging / CONFIG_NAME).stat().st_mode)
    for path in staging.iterdir():
        if path.is_file() and not path.is_symlink():
            os.chmod(path, mode)


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


def read_bundle(directory: str | os.PathLike, *, expected_type: str | None = None) -> Bundle:
    """Reads and checks a bundle directory (no code from the files is executed).

    Reads ``config.json``, the vocabularies and the safetensors *header* (names and shapes); the
    tensors are read by :meth:`Bundle.load_state_dict`, once the config has been checked against them.

    Raises:
        BundleError: missing files, files that are not regular files of bounded size (a FIFO, a
            device, a directory), unreadable JSON or safetensors, a newer format version, or a
            ``model_type`` other than ``expected_type``.
    """
    path = locate_bundle(directory)
    header = read_header(path)
    if expected_type is not None and header["model_type"] != expected_type:
        raise BundleError(f"{path} holds a {header['model_type']!r} model, expected {expected_type!r}")
    weights_path = path / WEIGHTS_NAME
    try:
        check_regular_file(weights_path)  # a FIFO would block, /dev/zero never end
    except FileNotFoundError:
        raise BundleError(f"{path} has no {WEIGHTS_NAME}") from None
    try:
        with safe_open(str(weights_path), framework="pt") as weights:  # the header only (the rest is mapped)
            shapes = {name: tuple(weights.get_slice(name).get_shape()) for name in weights.keys()}
    except (SafetensorError, OSError, ValueError) as err:
        raise BundleError(f"{weights_path} is not a readable safetensors file ({err})") from None
    vocabs = {}
    for file in sorted(path.glob(f"*{VOCAB_SUFFIX}")):
        try:
            vocabs[file.name[: -len(VOCAB_SUFFIX)]] = Vocab.load(file)
        except VocabError as err:
            raise BundleError(str(err)) from None
    return Bundle(path, header["model_type"], header["config"], shapes, vocabs, header.get("meta", {}))


def check_config(bundle: Bundle, config_class: type, schema: Mapping[str, Field]):
    """The config dataclass of a bundle, after its schema check.

    Raises:
        BundleError: a field of the wrong type or out of range, unknown or missing (naming
            ``config.json`` and the field), or a value the dataclass refuses.
    """
    check_fields(bundle.config, schema, source=bundle.config_file, prefix="config.", what=config_class.__name__)
    try:
        return config_class(**bundle.config)
    except ValueError as err:  # ConfigError from __post_init__
        raise BundleError(f"{bundle.config_file}: {err}") from None


def build_from_bundle(build: Callable[[], torch.nn.Module], bundle: Bundle) -> torch.nn.Module:
    """Builds a model and loads the bundle's weights strictly, allocating nothing a crafted config asks for.

    ``build()`` first runs on the ``meta`` device (no memory): the model's parameter count is
    bounded by :data:`~lstm_nlp.schema.MAX_PARAMETERS` and each weight's shape must match the
    safetensors header. Only then is the real model built and the tensors read.

    Raises:
        BundleError: too many parameters, missing/unexpected weights or a shape mismatch (named).
    """
    try:
        with torch.device("meta"), _SkipRandomInit(), warnings.catch_warnings():
            warnings.filterwarnings("ignore", "Initializing zero-element tensors")  # nothing is initialised on meta
            skeleton = build()
    except ValueError as err:  # a ConfigError from a module's own checks
        raise BundleError(f"{bundle.config_file}: {err}") from None
    total = sum(p.numel() for p in skeleton.parameters())
    if total > MAX_PARAMETERS:
        raise BundleError(f"{bundle.config_file}: the config asks for a model of {total:,} parameters, more than "
                          f"the {MAX_PARAMETERS:,} a bundle may hold")
    check_weight_shapes({k: tuple(v.shape) for k, v in skeleton.state_dict().items()}, bundle.weight_shapes,
                        str(bundle.path))
    del skeleton
    model = build()
    model.load_state_dict(bundle.load_state_dict(), strict=True)
    return model


class _SkipRandomInit(TorchFunctionMode):
    """Random initialisers as no-ops, for the ``meta`` build (which has no values to fill anyway).

    On ``meta``, ``normal_`` runs through ``torch._refs``, whose first call imports ``torch._dynamo``:
    about 1.2 s of every ``lstm-nlp predict``'s start-up, for nothing.
    """

    SKIPPED = frozenset({torch.nn.init.uniform_, torch.nn.init.normal_, torch.nn.init.kaiming_uniform_,
                         torch.nn.init.trunc_normal_, torch.Tensor.normal_, torch.Tensor.uniform_})

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        if func in self.SKIPPED:
            return args[0] if args else kwargs["tensor"]
        return func(*args, **kwargs)


def check_weight_shapes(expected: Mapping[str, tuple[int, ...]], found: Mapping[str, tuple[int, ...]],
                        source: str) -> None:
    """Refuses missing/unexpected weight names or shape mismatches with a clear message."""
    missing = sorted(set(expected) - set(found))
    unexpected = sorted(set(found) - set(expected))
    if missing or unexpected:
        raise BundleError(f"{source}: weights do not match the config (missing {missing[:5]}, "
                          f"unexpected {unexpected[:5]})")
    for key, shape in expected.items():
        if tuple(found[key]) != tuple(shape):
            raise BundleError(f"{source}: weight {key!r} has shape {tuple(found[key])} but the config implies "
                              f"{tuple(shape)}")
