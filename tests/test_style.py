"""Style holds without review: ruff passes with the rules of pyproject.toml's ``[tool.ruff]``, and no
function of the package is 60 lines or longer (split it into named helpers instead).
"""

from __future__ import annotations

import ast
import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LINTED = ["lstm_nlp", "recipes", "tests", "benchmarks", "docs", "tutorials"]
FUNCTION_LINES_LIMIT = 60  # a function this long or longer is a list of steps: give each step a name


def ruff_command() -> list[str]:
    """``python -m ruff``, or the ``ruff`` executable installed beside this Python."""
    if importlib.util.find_spec("ruff") is not None:
        return [sys.executable, "-m", "ruff"]
    beside = Path(sys.executable).with_name("ruff.exe" if os.name == "nt" else "ruff")
    if beside.is_file():
        return [str(beside)]
    pytest.skip('ruff is not installed (pip install -e ".[test]")')


def test_ruff_finds_no_violations():
    result = subprocess.run([*ruff_command(), "check", "--no-cache", "--output-format", "concise", *LINTED],
                            cwd=ROOT, capture_output=True, text=True, timeout=300)
    if result.returncode != 0:
        pytest.fail("ruff check found violations (`ruff check --fix` fixes the ones marked [*]):\n"
                    f"{result.stdout}{result.stderr}", pytrace=False)


def function_lengths(tree: ast.AST, prefix: str = ""):
    """``(qualified name, first line, number of lines)`` of each function and method in ``tree``."""
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            yield f"{prefix}{node.name}", node.lineno, node.end_lineno - node.lineno + 1
            yield from function_lengths(node, f"{prefix}{node.name}.")
        elif isinstance(node, ast.ClassDef):
            yield from function_lengths(node, f"{prefix}{node.name}.")
        else:
            yield from function_lengths(node, prefix)


def test_no_function_of_the_package_is_60_lines_or_longer():
    offenders = []
    for path in sorted((ROOT / "lstm_nlp").rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        offenders += [f"{path.relative_to(ROOT).as_posix()}:{line}: {name} ({length} lines)"
                      for name, line, length in function_lengths(tree) if length >= FUNCTION_LINES_LIMIT]
    if offenders:
        pytest.fail(f"functions of {FUNCTION_LINES_LIMIT} lines or more (split them into named helpers):\n"
                    + "\n".join(offenders), pytrace=False)
