"""Executes the tutorial notebooks and renders them, outputs and plots included, into docs/tutorials/.

    python tutorials/render.py                 # every tutorial
    python tutorials/render.py 01_lstm_shapes  # one (the file's stem)

The sources are the jupytext percent-format files ``tutorials/NN_name.py``; each is run in a fresh
kernel from the repository root (so ``data/...`` paths work) and written as ``docs/tutorials/NN_name.md``
with its images in ``docs/tutorials/NN_name_files/``. Needs ``pip install -e ".[tutorials]"``.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TUTORIALS = ROOT / "tutorials"
DOCS = ROOT / "docs" / "tutorials"
TIME_LIMIT_S = 120  # per notebook: each lesson runs on a laptop CPU in under two minutes


def tutorial_paths() -> list[Path]:
    """The notebook sources, in lesson order."""
    return sorted(TUTORIALS.glob("[0-9][0-9]_*.py"))


def execute(path: Path, *, timeout: int = TIME_LIMIT_S):
    """Runs one notebook source in a fresh kernel; returns ``(notebook, seconds)``.

    Raises:
        nbclient.exceptions.CellExecutionError: a cell failed (an assert included).
        nbclient.exceptions.CellTimeoutError: a cell ran past ``timeout`` seconds.
    """
    import jupytext
    from nbclient import NotebookClient

    notebook = jupytext.read(path)
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    start = time.perf_counter()
    NotebookClient(notebook, timeout=timeout, kernel_name="python3",
                   resources={"metadata": {"path": str(ROOT)}}).execute()
    return notebook, time.perf_counter() - start


def render(path: Path) -> float:
    """Executes ``path`` and writes its markdown rendering; returns the execution time in seconds."""
    from nbconvert import MarkdownExporter

    notebook, seconds = execute(path)
    files = f"{path.stem}_files"
    body, resources = MarkdownExporter().from_notebook_node(
        notebook, resources={"output_files_dir": files, "unique_key": path.stem})
    DOCS.mkdir(parents=True, exist_ok=True)
    (DOCS / f"{path.stem}.md").write_text(
        f"<!-- rendered from tutorials/{path.name} by tutorials/render.py: edit the source, not this file -->\n\n"
        + body, encoding="utf-8")
    for name, data in resources.get("outputs", {}).items():
        (DOCS / name).parent.mkdir(parents=True, exist_ok=True)
        (DOCS / name).write_bytes(data)
    return seconds


def main(argv: list[str]) -> int:
    paths = tutorial_paths()
    if argv:
        unknown = sorted(set(argv) - {p.stem for p in paths})
        if unknown:
            print(f"render.py: no tutorial named {', '.join(unknown)} (have: {', '.join(p.stem for p in paths)})",
                  file=sys.stderr)
            return 2
        paths = [p for p in paths if p.stem in argv]
    total = 0.0
    for path in paths:
        seconds = render(path)
        total += seconds
        print(f"{path.stem:<32}{seconds:>7.1f} s")
    print(f"{'total':<32}{total:>7.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
