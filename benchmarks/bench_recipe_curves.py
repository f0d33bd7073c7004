"""Time to accuracy of one recipe at several git revisions, one after the other in one run: curves and a plot.

    python benchmarks/bench_recipe_curves.py --recipe ner --revisions 3f84564 . --labels before now --threads 2 \
        --plot docs/img/time_to_accuracy_ner.png           # CoNLL-2003 train -> dev, an older commit vs this tree
    python benchmarks/bench_recipe_curves.py --smoke       # the bundled sample, 2 epochs of this tree

Each revision runs as users run it: ``python recipes/RECIPE.py`` with its defaults, the real corpus and
``--threads``, checked out with ``git worktree`` into a temporary folder (``.`` is this working tree as it is).
The clock is wall time since the command started (start-up, reading the data and every dev evaluation
included), read when the recipe prints each ``epoch N: ... dev METRIC X`` line.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

from lstm_nlp.outputs import output_file_problem

from common import REPO_ROOT, BenchResult, base_parser, markdown_table, portable, require_data_root, setup
from curves import plot, recipe_curve, summary, timed_lines

# recipe -> (files under $LSTM_NLP_DATA as --train/--dev, the metric its epoch lines print, thresholds, label)
RECIPES = {
    "pos_tagger": (("ud_english_ewt/en_ewt-ud-train.conllu", "ud_english_ewt/en_ewt-ud-dev.conllu"), "accuracy",
                   (0.94, 0.945, 0.95), "dev UPOS accuracy (%)", "UD English-EWT train -> dev"),
    "ner": (("conll2003/train.txt", "conll2003/dev.txt"), "f1", (0.88, 0.89, 0.90), "dev entity F1 (%)",
            "CoNLL-2003 train -> dev"),
    "chunking": (("conll2000/train.txt", None), "f1", (0.92, 0.93, 0.935), "dev chunk F1 (%)",
                 "CoNLL-2000 train (10% carved as dev)"),
}


def checkout(revision: str, scratch: Path) -> tuple[Path, str]:
    """(a source tree of ``revision``, its label); ``.`` is this working tree, anything else a git worktree."""
    if revision == ".":
        return REPO_ROOT, "this tree"
    commit = subprocess.run(["git", "-C", str(REPO_ROOT), "rev-parse", "--short", revision], capture_output=True,
                            text=True)
    if commit.returncode != 0:
        raise SystemExit(f"bench_recipe_curves.py: error: --revisions: {revision!r} is not a git revision here")
    tree = scratch / f"tree_{commit.stdout.strip()}"
    subprocess.run(["git", "-C", str(REPO_ROOT), "worktree", "add", "--detach", "--quiet", str(tree), revision],
                   check=True)
    return tree, commit.stdout.strip()


def main(argv=None) -> BenchResult:
    parser = base_parser(__doc__.split("\n")[0])
    parser.add_argument("--recipe", choices=sorted(RECIPES), default="ner")
    parser.add_argument("--revisions", nargs="+", default=["."], metavar="REV",
                        help="git revisions to compare, run in this order ('.' = this working tree; default: .)")
    parser.add_argument("--labels", nargs="+", default=None, metavar="LABEL",
                        help="a name for each revision in the table and plot (default: its short commit)")
    parser.add_argument("--plot", type=Path, default=None, help="write the curves to this PNG")
    args = parser.parse_args(argv)
    if args.plot is not None and (problem := output_file_problem(args.plot, option="--plot")):
        parser.error(problem)  # before the runs, not after them
    if args.labels is not None and len(args.labels) != len(args.revisions):
        parser.error(f"--labels: {len(args.labels)} given for {len(args.revisions)} revisions")
    setup(args)
    files, metric, thresholds, ylabel, data = RECIPES[args.recipe]
    if args.smoke:
        data_args, data = ["--epochs", "2"], "bundled sample (smoke run)"
    else:
        root = require_data_root()
        paths = [root / name if name else None for name in files]
        for path in paths:
            if path is not None and not path.is_file():
                raise SystemExit(f"bench_recipe_curves.py: error: {portable(path)}: no such file")
        data_args = ["--train", str(paths[0])] + (["--dev", str(paths[1])] if paths[1] else [])
    threads = str(args.threads)
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "OMP_NUM_THREADS": threads, "NO_COLOR": "1"}
    curves, totals = {}, {}
    try:
        with tempfile.TemporaryDirectory(prefix="bench_recipe_curves_") as scratch:
            work = Path(scratch)
            for index, revision in enumerate(args.revisions):
                tree, label = checkout(revision, work)
                label = args.labels[index] if args.labels else label
                command = [sys.executable, str(tree / "recipes" / f"{args.recipe}.py"), *data_args, "--threads",
                           threads, "--no-progress", "--no-checkpoints", "--output-dir", str(work / f"run_{index}")]
                # PYTHONPATH puts the revision's package ahead of the installed one; the cwd is outside the tree
                lines, total, code = timed_lines(command, {**env, "PYTHONPATH": str(tree)}, work)
                if code != 0:
                    raise SystemExit(f"{args.recipe} at {label} failed (exit {code}):\n"
                                     + "\n".join(line for _, line in lines[-30:]))
                curves[label], totals[label] = recipe_curve(lines, metric), total
    finally:  # the temporary worktrees are gone; forget them
        subprocess.run(["git", "-C", str(REPO_ROOT), "worktree", "prune"], capture_output=True)
    rows = [summary(label, curve, totals[label], thresholds) for label, curve in curves.items()]
    points = [[label, ", ".join(f"{s / 60:.1f} min {100 * a:.2f}" for s, a in curve)] for label, curve in curves.items()]
    result = BenchResult("recipe_curves")
    labels = f"--labels {' '.join(args.labels)} " if args.labels else ""
    result.add_section(
        f"Time to accuracy: recipes/{args.recipe}.py at {len(curves)} revision(s)",
        f"`python benchmarks/bench_recipe_curves.py --recipe {args.recipe} --revisions {' '.join(args.revisions)} "
        f"{labels}--threads {threads}`: {data}, the recipe's defaults, {threads} thread(s), one revision after the "
        "other. Minutes since each command started (start-up, reading the data and evaluations included).\n\n"
        + markdown_table(["revision", f"best dev {metric}", *[f"first >= {100 * t:g}" for t in thresholds],
                          "whole command"], rows)
        + "\n\nEvery evaluation (minutes, dev score):\n\n" + markdown_table(["revision", "curve"], points))
    result.metrics.update({"recipe": args.recipe, "curves": curves, "totals_seconds": totals,
                           "threads": int(threads)})
    if args.plot:
        plot(curves, args.plot, f"recipes/{args.recipe}.py on {data}, {threads} thread(s)", ylabel,
             floor=100 * thresholds[0] - 3)
        result.notes.append(f"plot: {portable(args.plot)}")
    result.emit(args)
    return result


if __name__ == "__main__":
    main()
