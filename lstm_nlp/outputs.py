"""Up-front checks of the paths a command will write, so that a bad one is refused before any work.

Each function returns why the path cannot be written (one line naming the option and the path,
in the user's words), or ``None``; callers turn the reason into their usage error (exit 2).
Nothing is created here.
"""

from __future__ import annotations

import os
from pathlib import Path


def _nearest_existing(path: Path) -> Path:
    """``path`` or its closest ancestor that exists (what a later ``mkdir(parents=True)`` would start from)."""
    probe = path
    while not probe.exists() and probe != probe.parent and not probe.is_symlink():
        probe = probe.parent
    return probe


def _not_writable(option: str, value: str | os.PathLike, folder: Path) -> str | None:
    if not os.access(folder, os.W_OK | os.X_OK):
        return f"{option} {value}: {folder} is not writable (no write permission, or a read-only file system)"
    return None


def output_dir_problem(output_dir: str | os.PathLike, *, option: str = "--output-dir",
                       what: str = "output folder") -> str | None:
    """Why a run cannot write to the folder ``output_dir`` (a file, under a file, not writable), or ``None``.

    ``what`` names the folder in the message (``"cache folder"`` for ``--cache-dir``).
    """
    path = Path(output_dir).expanduser()
    probe = _nearest_existing(path)
    if probe == path and path.exists() and not path.is_dir():
        return f"{option} {output_dir} is a file, not a folder"
    if not probe.is_dir():
        return f"{option} {output_dir}: {probe} is not a folder, so the {what} cannot be created there"
    return _not_writable(option, output_dir, probe)


def output_file_problem(path: str | os.PathLike, *, option: str = "--output",
                        make_parents: bool = False) -> str | None:
    """Why the file ``path`` cannot be written, or ``None``.

    Args:
        path: The file to write (replaced if it exists).
        option: The option that named it, for the message.
        make_parents: The command creates missing parent folders; otherwise the parent must exist.
    """
    target = Path(path).expanduser()
    if str(path).endswith(os.sep) or target.is_dir():
        return f"{option} {path} is a folder; give the name of the file to write"
    if target.exists() and not target.is_file():
        return f"{option} {path} is not a regular file"
    parent = target.parent
    probe = _nearest_existing(parent) if make_parents else parent
    if not probe.exists():
        return f"{option} {path}: the folder {parent} does not exist"
    if not probe.is_dir():
        return f"{option} {path}: {probe} is not a folder"
    if target.exists() and not os.access(target, os.W_OK):
        return f"{option} {path} is not writable (no write permission)"
    return _not_writable(option, path, probe)
