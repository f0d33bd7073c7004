"""The shared value checks of every command line (lstm_nlp.argtypes)."""

import argparse

import pytest

from lstm_nlp.argtypes import AT_LEAST_ONE, PORT, POSITIVE_FLOAT, PROBABILITY, SEED, OneLineParser, int_list


@pytest.mark.parametrize("check, text, message", [
    (POSITIVE_FLOAT, "0", "must be > 0, got 0"),
    (AT_LEAST_ONE, "0.5", "must be >= 1, got 0.5"),
    (PROBABILITY, "1", "must be in [0, 1), got 1"),
    (PROBABILITY, "nan", "must be in [0, 1), got nan"),
    (SEED, "-1", "must be in [0, 4294967295], got -1"),
    (PORT, "x", "expected an integer, got 'x'"),
    (int_list, "1,x", "expected comma-separated integers, got '1,x'"),
])
def test_a_bad_value_says_what_is_needed(check, text, message):
    with pytest.raises(argparse.ArgumentTypeError, match=f"^{message.replace('[', '.').replace(')', '.')}$"):
        check(text)


def test_good_values_pass():
    assert (PORT("0"), PROBABILITY("0"), AT_LEAST_ONE("2.6"), int_list("2000, 10000,")) == (0, 0.0, 2.6, [2000, 10000])


def test_parse_errors_are_one_line(capsys):
    parser = OneLineParser(prog="tool")
    parser.add_argument("--port", type=PORT)
    with pytest.raises(SystemExit) as caught:
        parser.parse_args(["--port", "70000"])
    assert caught.value.code == 2
    assert capsys.readouterr().err == "tool: error: argument --port: must be in [0, 65535], got 70000\n"
