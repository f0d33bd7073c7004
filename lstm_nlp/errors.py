"""The toolkit's own exception types: every user-facing failure raises one of these."""

from __future__ import annotations

from os import PathLike


class LstmNlpError(Exception):
    """Base class of every error raised on purpose by lstm_nlp."""


class ConfigError(LstmNlpError, ValueError):
    """A configuration or argument value that cannot work (raised at build time)."""


class VocabError(LstmNlpError, KeyError):
    """A token or label that a vocabulary does not know, or a malformed vocabulary file."""

    def __str__(self) -> str:  # KeyError would repr() the message; show it plainly.
        return str(self.args[0]) if self.args else ""


class DataFormatError(LstmNlpError, ValueError):
    """Malformed input data. The message names the file and, when known, the line.

    Args:
        message: What is wrong and what was expected.
        path: The offending file.
        line: 1-based line number in ``path``.
    """

    def __init__(self, message: str, path: str | PathLike | None = None, line: int | None = None):
        self.path = None if path is None else str(path)
        self.line = line
        where = ""
        if self.path is not None:
            where = f"{self.path}:{line}: " if line is not None else f"{self.path}: "
        super().__init__(where + message)


class BundleError(LstmNlpError, ValueError):
    """A model bundle or checkpoint that is missing, corrupt or inconsistent."""


#: errno values of a full disk or an exhausted quota.
DISK_FULL_ERRNOS = frozenset({28, 122})  # ENOSPC, EDQUOT (Linux)


class WriteError(LstmNlpError, OSError):
    """A file the toolkit writes (a bundle) could not be written; the message names the path and why."""

    def __str__(self) -> str:  # the message alone, without OSError's "[Errno 28]" prefix
        return str(self.strerror)


def write_error(err: BaseException, path: str | PathLike) -> WriteError:
    """The one-line error for a failed write of ``path``: ``no space left on device (PATH)`` for a full disk
    (an ``OSError`` with ENOSPC/EDQUOT, or a writer's message saying so), else the reason."""
    errno_ = getattr(err, "errno", None)
    text = str(err)
    if errno_ in DISK_FULL_ERRNOS or "No space left on device" in text or "os error 28" in text \
            or "code: 28" in text:
        return WriteError(errno_ if errno_ in DISK_FULL_ERRNOS else 28, f"no space left on device ({path})")
    reason = getattr(err, "strerror", None) or (text.strip().splitlines()[0] if text.strip() else type(err).__name__)
    return WriteError(errno_ or 5, f"could not write {path}: {reason}")
