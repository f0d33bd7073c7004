"""Where each ``torchrun`` rank writes the files a recipe writes itself.

Rank 0 (and a run without ``torchrun``) writes to OUTPUT_DIR. The other ranks get a private
temporary folder, created the first time it is asked for (never at parse time) and removed at
exit, so that a file a recipe writes on every rank still appears once in OUTPUT_DIR. The Trainer
and :func:`~lstm_nlp.recipe_kit.outputs.finish` need none of this: they write on rank 0 only.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from pathlib import Path

from lstm_nlp.training.distributed import env_rank, env_world_size

_SCRATCH: dict[str, Path] = {}


def local_output_dir(output_dir: str | os.PathLike) -> Path:
    """This process's folder for ``output_dir``: itself on rank 0, else a private temporary folder.

    Args:
        output_dir: The run's OUTPUT_DIR.

    Returns:
        ``Path(output_dir)`` (created if missing) on rank 0 or without ``torchrun``; on other ranks
        the same private folder on every call, created on the first and removed when the process exits.
    """
    if env_world_size() <= 1 or env_rank() == 0:
        Path(output_dir).mkdir(parents=True, exist_ok=True)
        return Path(output_dir)
    key = os.fspath(output_dir)
    if key not in _SCRATCH:
        scratch = tempfile.mkdtemp(prefix=f"lstm_nlp-rank{env_rank()}-")
        atexit.register(shutil.rmtree, scratch, ignore_errors=True)
        _SCRATCH[key] = Path(scratch)
    return _SCRATCH[key]
