"""A bundle's file names and its ``config.json`` header, read without torch (the ONNX backend reads them too).

See :mod:`lstm_nlp.serialization` for the bundle as a whole.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from lstm_nlp import __version__
from lstm_nlp.errors import BundleError
from lstm_nlp.schema import Field, check_fields, read_json_file

CONFIG_NAME = "config.json"
WEIGHTS_NAME = "model.safetensors"
VOCAB_SUFFIX = ".vocab.json"
FORMAT_VERSION = 1
_BACKUP_PREFIX = ".{name}.old-"
#: The top level of ``config.json``; ``config`` and ``meta`` are checked by the model and the task.
HEADER_SCHEMA = {
    "model_type": Field((str,), required=True),
    "format_version": Field((int,), low=1, high=FORMAT_VERSION),
    "lstm_nlp_version": Field((str,)),
    "config": Field((dict,), required=True),
    "meta": Field((dict,)),
}

logger = logging.getLogger("lstm_nlp")


def locate_bundle(directory: str | os.PathLike) -> Path:
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
    """Reads and checks a bundle's ``config.json`` (``model_type``, ``format_version``, ``config``, ``meta``).

    Raises:
        BundleError: no bundle there, ``config.json`` missing, not a regular file, over
            :data:`~lstm_nlp.schema.MAX_JSON_BYTES`, not JSON, a newer format version, or a top-level
            field of the wrong type (one line naming the file and field).
    """
    path = locate_bundle(directory)
    if not path.is_dir():
        raise BundleError(f"model bundle not found: {path} is not a directory")
    config_path = path / CONFIG_NAME
    try:
        header = read_json_file(config_path)
    except FileNotFoundError:
        raise BundleError(f"{path} has no {CONFIG_NAME}; is it a model saved with save_pretrained?") from None
    if isinstance(header, dict):
        version = header.get("format_version", 1)
        if isinstance(version, int) and not isinstance(version, bool) and version > FORMAT_VERSION:
            raise BundleError(
                f"{config_path} has bundle format version {version}; this lstm_nlp ({__version__}) reads up to "
                f"{FORMAT_VERSION}. Upgrade lstm_nlp to load it.")
    check_fields(header, HEADER_SCHEMA, source=config_path, what="a bundle's config.json")
    return header
