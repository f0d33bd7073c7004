"""Graceful stop on Ctrl-C / SIGTERM: finish the current optimizer step, checkpoint, then exit.

Interrupting in the middle of ``optimizer.step()`` could leave half-updated weights, so the first
SIGINT or SIGTERM only sets a flag that the trainer checks at step boundaries. A second signal
acts immediately (``KeyboardInterrupt`` / termination), for when the user really means it.
"""

from __future__ import annotations

import logging
import signal
import threading
from types import FrameType

logger = logging.getLogger("lstm_nlp")

_SIGNALS = tuple(s for s in (getattr(signal, "SIGINT", None), getattr(signal, "SIGTERM", None)) if s is not None)


class TrainingInterrupted(KeyboardInterrupt):
    """Training stopped on request (Ctrl-C, SIGTERM or :meth:`Trainer.request_stop`) after checkpointing.

    Attributes:
        checkpoint: The checkpoint written before stopping (``None`` if checkpoints are off).
        signal_name: ``"SIGINT"``, ``"SIGTERM"``, or the reason given to :meth:`StopRequest.set`.
        exit_code: The shell's code for the signal: 130 for SIGINT, 143 for SIGTERM (``128 + signum``),
            1 for a stop requested in code.
    """

    def __init__(self, message: str, checkpoint: str | None = None, signal_name: str | None = None):
        super().__init__(message)
        self.checkpoint = checkpoint
        self.signal_name = signal_name

    @property
    def exit_code(self) -> int:
        try:
            return 128 + int(signal.Signals[self.signal_name or ""])
        except KeyError:
            return 1


class StopRequest:
    """A flag set by SIGINT/SIGTERM while installed (``with StopRequest() as stop:``) or by :meth:`set`."""

    def __init__(self) -> None:
        self.requested = False
        self.signal_name: str | None = None
        self._previous: dict[int, object] = {}

    def set(self, reason: str = "request_stop()") -> None:
        self.requested = True
        self.signal_name = reason

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        name = signal.Signals(signum).name
        if self.requested:  # second signal: behave like the default handler
            self._restore()
            if signum == signal.SIGINT:
                raise KeyboardInterrupt
            signal.raise_signal(signum)
            return
        self.set(name)
        logger.warning("%s received: stopping after the current step and writing a checkpoint "
                       "(send it again to stop immediately)", name)

    def __enter__(self) -> StopRequest:
        if threading.current_thread() is threading.main_thread():
            for signum in _SIGNALS:
                try:
                    self._previous[signum] = signal.signal(signum, self._handle)
                except (ValueError, OSError):  # e.g. embedded interpreters
                    pass
        return self

    def _restore(self) -> None:
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)
        self._previous.clear()

    def __exit__(self, *exc) -> None:
        self._restore()
