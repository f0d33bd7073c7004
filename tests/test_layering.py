"""The package's layers, measured from its imports: imports point down, no cycles.

``modules`` and ``data`` never import each other, ``pipelines`` never import ``training`` (a
pipeline predicts without the Trainer), and no module imports itself through others.
"""

from __future__ import annotations

import ast
from pathlib import Path

import lstm_nlp

PACKAGE = Path(lstm_nlp.__file__).parent


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports() -> dict[str, set[str]]:
    """``module -> lstm_nlp modules it imports`` (anywhere in the file, type-checking-only imports too)."""
    graph = {}
    for path in PACKAGE.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        targets = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("lstm_nlp"):
                targets.add(node.module)
            elif isinstance(node, ast.Import):
                targets.update(a.name for a in node.names if a.name.startswith("lstm_nlp"))
        graph[module_name(path)] = targets
    return graph


def test_modules_and_data_never_import_each_other():
    for source, targets in imports().items():
        for layer, other in (("lstm_nlp.modules", "lstm_nlp.data"), ("lstm_nlp.data", "lstm_nlp.modules")):
            if source.startswith(layer):
                assert not [t for t in targets if t.startswith(other)], f"{source} imports {targets}"


def test_pipelines_never_import_training():
    for source, targets in imports().items():
        if source.startswith("lstm_nlp.pipelines"):
            assert not [t for t in targets if t.startswith("lstm_nlp.training")], f"{source} imports {targets}"


def test_no_import_cycle_between_files():
    found = imports()
    graph = {source: {t for t in targets if t in found and t != source} for source, targets in found.items()}
    packages = {m for m in graph if (PACKAGE.parent / m.replace(".", "/") / "__init__.py").exists()}
    # a package's __init__ hands names on: importing it is not an edge into its own modules
    graph = {s: {t for t in ts if not (t in packages and s.startswith(t + "."))} for s, ts in graph.items()}
    state: dict[str, int] = {}

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for nxt in graph[node]:
            if state.get(nxt) == 1:
                raise AssertionError("import cycle: " + " -> ".join(path[path.index(nxt):] + [node, nxt]))
            if nxt not in state:
                visit(nxt, path + [node])
        state[node] = 2

    for node in graph:
        if node not in state:
            visit(node, [])
