"""docs/reliability.md is what docs/make_reliability_table.py writes from the cases in tests/reliability,
and every case either has a command (run by tests/reliability/test_documented_cases.py) or names its test."""

from __future__ import annotations

import ast
import importlib.util
from functools import cache
from pathlib import Path
from types import ModuleType


@cache
def _generator(repo_root: Path) -> ModuleType:
    path = repo_root / "docs" / "make_reliability_table.py"
    spec = importlib.util.spec_from_file_location("make_reliability_table", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_committed_table_is_what_the_generator_writes(repo_root):
    generator = _generator(repo_root)
    committed = (repo_root / "docs" / "reliability.md").read_text(encoding="utf-8")
    assert committed == generator.render(generator.cases()), "run: python docs/make_reliability_table.py"


def test_every_case_has_a_command_or_names_a_test_that_exists(repo_root):
    cases = _generator(repo_root).cases()
    assert len({case.id for case in cases if case.run}) == sum(bool(case.run) for case in cases)
    defined: dict[str, set[str]] = {}
    for case in cases:
        assert bool(case.run) != bool(case.test), case
        if case.test:
            path, _, name = case.test.partition("::")
            if path not in defined:
                tree = ast.parse((repo_root / path).read_text(encoding="utf-8"))
                defined[path] = {node.name for node in ast.walk(tree) if isinstance(node, ast.FunctionDef)}
            assert name.startswith("test_") and name in defined[path], case.test
