"""Running a recipe's ``main()``: logging set-up and the one-line error convention."""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path
from typing import Callable

from lstm_nlp.errors import LstmNlpError


def setup_logging() -> None:
    """Log lines ``HH:MM:SS message`` on stderr, at ``$LSTM_NLP_LOGLEVEL`` (default INFO)."""
    logging.basicConfig(level=os.environ.get("LSTM_NLP_LOGLEVEL", "INFO"), format="%(asctime)s %(message)s",
                        datefmt="%H:%M:%S")


def run(main: Callable[[], object]) -> None:
    """Runs a recipe's ``main()``; the toolkit's own errors end it with one clear line and exit code 2."""
    try:
        main()
    except LstmNlpError as err:
        sys.stderr.write(f"{Path(sys.argv[0]).name}: error: {err}\n")
        raise SystemExit(2) from None
