"""The ``lstm_nlp`` logger shows its INFO lines in a script that configured no logging, once in one that did."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

SCRIPT = "import logging, lstm_nlp\n{setup}\nlogging.getLogger('lstm_nlp').info('epoch 1: loss 0.5')\n"


def stderr_of(setup: str = "", **env: str) -> str:
    environment = {k: v for k, v in os.environ.items() if k != "LSTM_NLP_LOGLEVEL"} | env
    done = subprocess.run([sys.executable, "-c", SCRIPT.format(setup=setup)], capture_output=True, text=True,
                          env=environment, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stderr


def test_a_script_without_logging_set_up_sees_the_info_lines():
    assert stderr_of() == "epoch 1: loss 0.5\n"


@pytest.mark.parametrize("setup", ["logging.basicConfig(level=logging.INFO, format='app: %(message)s')",
                                   "logging.getLogger().addHandler(logging.StreamHandler())"])
def test_an_application_that_configures_logging_sees_each_line_once_in_its_format(setup):
    expected = "app: epoch 1: loss 0.5\n" if "app:" in setup else "epoch 1: loss 0.5\n"
    assert stderr_of(setup) == expected


@pytest.mark.parametrize("level", ["WARNING", "warning", "ERROR"])
def test_lstm_nlp_loglevel_quiets_the_info_lines(level):
    assert stderr_of(LSTM_NLP_LOGLEVEL=level) == ""


def test_an_unknown_level_name_keeps_info_rather_than_failing_at_import():
    assert stderr_of(LSTM_NLP_LOGLEVEL="chatty") == "epoch 1: loss 0.5\n"


def test_a_level_set_in_code_wins():
    assert stderr_of("logging.getLogger('lstm_nlp').setLevel(logging.WARNING)") == ""
