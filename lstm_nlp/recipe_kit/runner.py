"""Running a recipe's ``main()``: logging set-up, the one-line error convention and the exit codes."""

from __future__ import annotations

import logging
import os
import signal
import sys
from collections.abc import Callable
from pathlib import Path

from lstm_nlp.errors import LstmNlpError
from lstm_nlp.training.distributed import is_main_process
from lstm_nlp.training.interrupts import TrainingInterrupted


def setup_logging() -> None:
    """Log lines ``HH:MM:SS message`` on stderr, at ``$LSTM_NLP_LOGLEVEL`` (default INFO)."""
    logging.basicConfig(level=os.environ.get("LSTM_NLP_LOGLEVEL", "INFO"), format="%(asctime)s %(message)s",
                        datefmt="%H:%M:%S")


def run(main: Callable[[], object]) -> None:
    """Runs a recipe's ``main()`` and turns the ways it can stop into one line on stderr and an exit code.

    * the toolkit's own errors (:class:`~lstm_nlp.errors.LstmNlpError`): ``RECIPE: error: MESSAGE``, exit 2;
    * Ctrl-C or SIGTERM during training (the Trainer checkpoints first): ``RECIPE: MESSAGE`` saying
      where the checkpoint is and how to resume, exit 130 (SIGINT) or 143 (SIGTERM);
    * Ctrl-C anywhere else: ``RECIPE: interrupted``, exit 130.
    """
    name = Path(sys.argv[0]).name
    try:
        main()
    except TrainingInterrupted as stop:
        if is_main_process():
            sys.stderr.write(f"{name}: {stop}\n")
        raise SystemExit(stop.exit_code) from None
    except KeyboardInterrupt:
        sys.stderr.write(f"{name}: interrupted\n")
        raise SystemExit(128 + signal.SIGINT) from None
    except LstmNlpError as err:
        sys.stderr.write(f"{name}: error: {err}\n")
        raise SystemExit(2) from None
