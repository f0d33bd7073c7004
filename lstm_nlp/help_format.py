"""The ``--help`` layout of every command line: each option's meaning, then its default.

Shared by the recipes (:func:`lstm_nlp.recipe_kit.recipe_parser`) and ``lstm-nlp``; imports
nothing heavy, so ``--help`` stays instant.
"""

from __future__ import annotations

import argparse


class DefaultsHelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Shows defaults, except where there is nothing to show (``None``, off flags, no values) or the help says it."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        nothing = action.default is None or action.default is False or action.default == []
        if nothing or "default:" in (action.help or ""):
            return action.help
        return super()._get_help_string(action)


class DescribedDefaultsHelpFormatter(DefaultsHelpFormatter, argparse.RawDescriptionHelpFormatter):
    """:class:`DefaultsHelpFormatter` that keeps the description's own line breaks (a usage example block)."""
