"""One training run per output folder: a lock file holding the owner's PID and host.

``OUTPUT_DIR/.lstm_nlp.lock`` is locked with ``fcntl.flock`` for as long as a run trains into the
folder. The kernel drops the lock when its process dies (even by ``SIGKILL``), so a lock file left
by a dead run is simply taken over. Where ``flock`` is unavailable (Windows, some network file
systems) the file is created exclusively instead, and a file whose PID is not running on this host
counts as stale and is taken over.
"""

from __future__ import annotations

import errno
import os
import socket
from pathlib import Path

from lstm_nlp.errors import ConfigError

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None

LOCK_NAME = ".lstm_nlp.lock"


class RunLockedError(ConfigError):
    """Another live process is training into the same output folder."""


def _owner(path: Path) -> tuple[int | None, str]:
    try:
        fields = path.read_text(encoding="utf-8", errors="replace").split()
    except OSError:
        return None, ""
    pid = int(fields[0]) if fields and fields[0].isdigit() else None
    return pid, fields[1] if len(fields) > 1 else ""


def _locked_message(directory: Path, path: Path) -> str:
    pid, host = _owner(path)
    who = f"PID {pid}" if pid is not None else "another process"
    where = f" on {host}" if host and host != socket.gethostname() else ""
    return (f"{directory} is in use by another training run ({who}{where}, lock file {path}); wait for it to finish "
            "or choose another --output-dir")


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    except OSError:
        return True
    return True


class RunLock:
    """An exclusive lock on an output folder (``with RunLock(out):`` or :meth:`acquire`/:meth:`release`).

    Args:
        directory: The run's output folder (created if missing).

    Raises:
        RunLockedError: from :meth:`acquire`, when another live process holds the lock; the
            message names its PID (and host, if not this one).
        ConfigError: the folder cannot be created or written.
    """

    def __init__(self, directory: str | os.PathLike):
        self.directory = Path(directory)
        self.path = self.directory / LOCK_NAME
        self._fd: int | None = None
        self._exclusive_file = False

    @property
    def held(self) -> bool:
        return self._fd is not None or self._exclusive_file

    def acquire(self) -> RunLock:
        if self.held:
            return self
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            if fcntl is not None:
                self._acquire_flock()
            else:
                self._acquire_exclusive_file()
        except OSError as err:
            raise ConfigError(f"cannot write to the output folder {self.directory}: "
                              f"{err.strerror or err}") from None
        return self

    def _acquire_flock(self) -> None:
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o666)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as err:
            os.close(fd)
            if err.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                raise RunLockedError(_locked_message(self.directory, self.path)) from None
            if err.errno in (errno.ENOLCK, errno.EOPNOTSUPP, errno.EINVAL):  # no flock on this file system
                self._acquire_exclusive_file()
                return
            raise
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()} {socket.gethostname()}\n".encode())
        self._fd = fd

    def _acquire_exclusive_file(self) -> None:
        for _ in range(2):
            try:
                fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
            except FileExistsError:
                pid, host = _owner(self.path)
                stale = pid is not None and host in ("", socket.gethostname()) and not _pid_alive(pid)
                if not stale:
                    raise RunLockedError(_locked_message(self.directory, self.path)) from None
                self.path.unlink(missing_ok=True)  # a dead run's lock: take it over
                continue
            with os.fdopen(fd, "w") as stream:
                stream.write(f"{os.getpid()} {socket.gethostname()}\n")
            self._exclusive_file = True
            return
        raise RunLockedError(_locked_message(self.directory, self.path))

    def release(self) -> None:
        """Releases the lock (the file stays; the next run takes it over)."""
        if self._fd is not None:
            os.close(self._fd)  # closing drops the flock
            self._fd = None
        if self._exclusive_file:
            self.path.unlink(missing_ok=True)
            self._exclusive_file = False

    def __enter__(self) -> RunLock:
        return self.acquire()

    def __exit__(self, *exc) -> None:
        self.release()


def check_not_locked(directory: str | os.PathLike) -> None:
    """Raises :class:`RunLockedError` at once if a live process holds ``directory``'s lock (takes nothing).

    Recipes call it at parse time, so a second run into a busy folder fails before loading data.
    """
    path = Path(directory) / LOCK_NAME
    if not path.is_file():
        return
    if fcntl is None:
        pid, host = _owner(path)
        if pid is not None and host in ("", socket.gethostname()) and _pid_alive(pid) and pid != os.getpid():
            raise RunLockedError(_locked_message(Path(directory), path))
        return
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except OSError as err:
        if err.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
            raise RunLockedError(_locked_message(Path(directory), path)) from None
    finally:
        os.close(fd)
