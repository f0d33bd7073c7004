"""The ``lstm_nlp`` logger's default: its INFO lines on stderr until the application configures logging.

A script that trains without setting up logging (the README's Quick start pasted into a file) would
otherwise show only progress bars: Python prints a library's INFO records nowhere by default, so the
per-epoch loss and dev score were lost. As PyTorch Lightning does, the toolkit's logger is set to INFO
and given a handler of its own; unlike Lightning's, this handler steps aside as soon as the root logger
has a handler (``logging.basicConfig``, pytest, a web server), so configured applications see each line
once, in their own format. ``LSTM_NLP_LOGLEVEL`` (e.g. ``WARNING``) sets the level, as for the recipes;
``logging.getLogger("lstm_nlp").setLevel(...)`` does it in code.
"""

from __future__ import annotations

import logging
import os
import sys

LOGGER_NAME = "lstm_nlp"


class UntilConfiguredHandler(logging.StreamHandler):
    """Writes records to stderr only while the root logger has no handler."""

    def __init__(self) -> None:
        super().__init__()
        self.setFormatter(logging.Formatter("%(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        if not logging.getLogger().handlers:
            self.stream = sys.stderr  # the stderr of now: pytest and notebooks swap it
            super().emit(record)


def install_default_handler() -> None:
    """Gives the ``lstm_nlp`` logger its default level and handler (once; idempotent)."""
    logger = logging.getLogger(LOGGER_NAME)
    if any(isinstance(h, UntilConfiguredHandler) for h in logger.handlers):
        return
    if logger.level == logging.NOTSET:
        level = os.environ.get("LSTM_NLP_LOGLEVEL", "INFO").upper()
        logger.setLevel(level if isinstance(logging.getLevelName(level), int) else logging.INFO)
    logger.addHandler(UntilConfiguredHandler())
