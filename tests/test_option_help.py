"""Every option of every recipe and of every ``lstm-nlp`` subcommand says what it means and its default."""

from __future__ import annotations

import argparse

import pytest

from lstm_nlp import cli

RECIPE_MODULES = sorted(module for module, _ in cli.RECIPES.values())
NOT_OPTIONS = (argparse._HelpAction, argparse._VersionAction, argparse._SubParsersAction)


class _Captured(Exception):
    def __init__(self, parser: argparse.ArgumentParser):
        super().__init__()
        self.parser = parser


def recipe_parser(load_recipe, name: str, monkeypatch) -> argparse.ArgumentParser:
    """The parser a recipe's ``parse_args`` builds, taken at the moment it would parse."""
    def capture(self, args=None, namespace=None):
        raise _Captured(self)

    monkeypatch.setattr(argparse.ArgumentParser, "parse_known_args", capture)
    with pytest.raises(_Captured) as caught:
        load_recipe(name).parse_args([])
    return caught.value.parser


def undocumented(parser: argparse.ArgumentParser) -> list[str]:
    """The options without a help text, and those with a default their help does not show."""
    problems = []
    formatter = parser._get_formatter()
    for action in parser._actions:
        if isinstance(action, NOT_OPTIONS):
            continue
        name = "/".join(action.option_strings) or action.dest
        if not (action.help or "").strip():
            problems.append(f"{name}: no help")
            continue
        has_default = action.default not in (None, argparse.SUPPRESS, []) and action.default is not False
        if has_default and "default" not in formatter._expand_help(action):
            problems.append(f"{name}: help without its default {action.default!r}")
    return problems


def test_the_command_knows_every_recipe(repo_root):
    scripts = {p.stem for p in (repo_root / "recipes").glob("*.py") if p.stem != "__init__"}
    assert set(RECIPE_MODULES) == scripts


@pytest.mark.parametrize("name", RECIPE_MODULES)
def test_every_recipe_option_has_help_with_its_default_and_there_is_version(name, load_recipe, monkeypatch):
    parser = recipe_parser(load_recipe, name, monkeypatch)
    monkeypatch.undo()
    assert undocumented(parser) == []
    assert any(isinstance(action, argparse._VersionAction) for action in parser._actions)


def test_every_lstm_nlp_option_has_help_with_its_default():
    top = cli.build_parser()
    commands = next(a for a in top._actions if isinstance(a, argparse._SubParsersAction)).choices
    assert {"train", "predict", "evaluate", "export"} <= set(commands)
    problems = {name: undocumented(parser) for name, parser in {"lstm-nlp": top, **commands}.items()}
    assert problems == {name: [] for name in problems}


def test_a_default_is_shown_once_and_not_for_off_flags():
    parser = argparse.ArgumentParser(formatter_class=cli.DefaultsHelpFormatter)
    parser.add_argument("--size", type=int, default=3, help="the size")
    parser.add_argument("--limit", type=int, default=5, help="the limit (default: %(default)s; 0: none)")
    parser.add_argument("--quiet", action="store_true", help="say less")
    parser.add_argument("--name", help="a name")
    text = " ".join(parser.format_help().split())
    assert "the size (default: 3)" in text and "the limit (default: 5; 0: none) " in text
    assert "say less " in text and "default: False" not in text and "default: None" not in text
