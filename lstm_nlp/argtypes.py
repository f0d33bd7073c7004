"""The value checks of every command line (argparse ``type=``), and its one-line parse errors.

Shared by the recipes (:func:`lstm_nlp.recipe_kit.recipe_parser` and the scripts in ``recipes/``)
and ``lstm-nlp`` (:mod:`lstm_nlp.cli`), so an option means the same range and says the same thing
about a bad value wherever it appears: ``argument --epochs: must be >= 1, got 0``. Imports nothing
heavy, so ``--help`` stays instant.
"""

from __future__ import annotations

import argparse
import math
import os
from collections.abc import Callable


class OneLineParser(argparse.ArgumentParser):
    """An ``ArgumentParser`` whose errors are one line, ``PROG: error: MESSAGE``, exit 2 (``--help`` shows usage)."""

    def error(self, message: str):
        """Exits with one line and code 2 (no usage block)."""
        self.exit(2, f"{self.prog}: error: {message}\n")


def int_at_least(low: int, high: int | None = None) -> Callable[[str], int]:
    """An argparse ``type=`` for integers ``>= low`` (and ``<= high``): a bad value is a one-line error (exit 2)."""
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
        if value < low or (high is not None and value > high):
            bound = f">= {low}" if high is None else f"in [{low}, {high}]"
            raise argparse.ArgumentTypeError(f"must be {bound}, got {value}")
        return value

    parse.__name__ = f"integer >= {low}" if high is None else f"integer in [{low}, {high}]"
    return parse


def float_between(low: float, high: float = math.inf, *, low_open: bool = False,
                  high_open: bool = False) -> Callable[[str], float]:
    """An argparse ``type=`` for finite floats in ``[low, high]`` (``(`` / ``)`` with ``low_open`` / ``high_open``)."""
    if high == math.inf:  # a half-line reads as the integers' bound does: ">= 1"
        interval = f"{'>' if low_open else '>='} {low:g}"
    else:
        interval = f"in {'(' if low_open else '['}{low:g}, {high:g}{')' if high_open else ']'}"

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
        inside = (value > low if low_open else value >= low) and (value < high if high_open else value <= high)
        if not math.isfinite(value) or not inside:
            raise argparse.ArgumentTypeError(f"must be {interval}, got {text}")
        return value

    parse.__name__ = f"number {interval}"
    return parse


def int_list(text: str) -> list[int]:
    """An argparse ``type=`` for comma-separated integers (``"2000,10000"``; empty items are skipped)."""
    try:
        return [int(item) for item in text.split(",") if item.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated integers, got {text!r}") from None


int_list.__name__ = "comma-separated integers"

POSITIVE_INT = int_at_least(1)
NON_NEGATIVE_INT = int_at_least(0)
POSITIVE_FLOAT = float_between(0.0, low_open=True)
NON_NEGATIVE_FLOAT = float_between(0.0)
PROBABILITY = float_between(0.0, 1.0, high_open=True)  # dropout rates, momentum: [0, 1)
FRACTION = float_between(0.0, 1.0, low_open=True, high_open=True)  # (0, 1)
AT_LEAST_ONE = float_between(1.0)  # factors such as --lr-decay (1: no effect)
SEED = int_at_least(0, 2**32 - 1)
PORT = int_at_least(0, 65535)  # 0: any free port


def class_weights_spec(text: str) -> str:
    """An argparse ``type=`` for ``--class-weights``: ``auto``, ``none`` or an existing file.

    The file is read later, with the labels.
    """
    if text in ("auto", "none") or os.path.isfile(text):
        return text
    raise argparse.ArgumentTypeError(f"expected auto, none or a class weights file, got {text!r} (no such file)")


class_weights_spec.__name__ = "auto, none or a file"
