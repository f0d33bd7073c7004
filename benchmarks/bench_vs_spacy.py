"""Time to accuracy on UD English-EWT POS: the POS recipe beside spaCy's morphologizer, in one run.

    python benchmarks/bench_vs_spacy.py --threads 2     # EWT train -> dev, both systems (about 20 minutes)
    python benchmarks/bench_vs_spacy.py --smoke         # the bundled sample, a few steps of each

Each system runs as its users run it, as its own command, one after the other on the same files with the
same thread count (``--threads``, also given to numpy's BLAS through the environment):

* spaCy: ``spacy convert`` (CoNLL-U, 10 sentences a doc) -> ``spacy init config --lang en --pipeline
  morphologizer --optimize efficiency`` -> ``spacy train`` with that config's defaults (dev evaluation every
  200 steps, stop after 1,600 steps without gain). Its ``POS_ACC`` is UPOS accuracy on the gold dev tokens.
* lstm_nlp: ``recipes/pos_tagger.py`` with its defaults; UPOS accuracy on the same dev tokens after every epoch.

The clock is wall time since the command started (start-up, reading and converting the data, evaluation
included), read when each evaluation line is printed. Writes a table and, with ``--plot``, a PNG of both curves.
"""

from __future__ import annotations

import os
import shlex
import sys
import tempfile
from pathlib import Path

from lstm_nlp.outputs import output_file_problem

from common import REPO_ROOT, BenchResult, base_parser, ewt_paths, markdown_table, portable, setup
from curves import Curve, plot, recipe_curve, summary, timed_lines

THRESHOLDS = (0.94, 0.945, 0.95)


def spacy_curve(lines: list[tuple[float, str]]) -> Curve:
    """(seconds, dev UPOS accuracy in [0, 1]) for each evaluation row of ``spacy train``'s table."""
    curve, from_end = [], None
    for seconds, line in lines:
        tokens = line.split()
        if "POS_ACC" in tokens:
            from_end = len(tokens) - tokens.index("POS_ACC")
        elif from_end and tokens and tokens[0].isdigit() and len(tokens) >= from_end:
            curve.append((seconds, float(tokens[-from_end]) / 100))
    return curve


def main(argv=None) -> BenchResult:
    parser = base_parser(__doc__.split("\n")[0])
    parser.add_argument("--plot", type=Path, default=None, help="write the curves to this PNG")
    args = parser.parse_args(argv)
    if args.plot is not None and (problem := output_file_problem(args.plot, option="--plot")):
        parser.error(problem)  # before the runs, not after them
    setup(args)
    threads = str(args.threads or os.cpu_count() or 1)
    train, dev = ewt_paths(args.smoke)
    for path in (train, dev):
        if not path.is_file():
            raise SystemExit(f"bench_vs_spacy.py: error: {portable(path)}: no such file (the EWT CoNLL-U files "
                             "are expected under $LSTM_NLP_DATA/ud_english_ewt)")
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "OMP_NUM_THREADS": threads, "OPENBLAS_NUM_THREADS": threads,
           "MKL_NUM_THREADS": threads, "NO_COLOR": "1"}
    spacy_steps = ["--training.max_steps", "40", "--training.eval_frequency", "20"] if args.smoke else []
    recipe_epochs = ["--epochs", "2"] if args.smoke else []
    with tempfile.TemporaryDirectory(prefix="bench_vs_spacy_") as scratch:
        work = Path(scratch)
        q = {name: shlex.quote(str(value)) for name, value in
             {"python": sys.executable, "train": train, "dev": dev, "work": work,
              "train_docs": work / f"{train.stem}.spacy", "dev_docs": work / f"{dev.stem}.spacy"}.items()}
        spacy_script = (
            f"{q['python']} -m spacy convert {q['train']} {q['work']} --converter conllu -n 10 && "
            f"{q['python']} -m spacy convert {q['dev']} {q['work']} --converter conllu -n 10 && "
            f"{q['python']} -m spacy init config {q['work']}/config.cfg --lang en --pipeline morphologizer "
            f"--optimize efficiency && {q['python']} -m spacy train {q['work']}/config.cfg "
            f"--output {q['work']}/spacy --paths.train {q['train_docs']} --paths.dev {q['dev_docs']} "
            + " ".join(spacy_steps))
        spacy_lines, spacy_total, spacy_code = timed_lines(["bash", "-c", spacy_script], env, work)
        recipe_lines, recipe_total, recipe_code = timed_lines(
            [sys.executable, str(REPO_ROOT / "recipes" / "pos_tagger.py"), "--train", str(train), "--dev", str(dev),
             "--threads", threads, "--no-progress", "--no-checkpoints", "--output-dir", str(work / "pos"),
             *recipe_epochs], env, REPO_ROOT)
    for name, code, lines in (("spaCy (convert, init config, train)", spacy_code, spacy_lines), ("pos_tagger.py", recipe_code, recipe_lines)):
        if code != 0:
            raise SystemExit(f"{name} failed (exit {code}):\n" + "\n".join(line for _, line in lines[-30:]))
    curves = {"spaCy morphologizer (efficiency)": spacy_curve(spacy_lines),
              "lstm_nlp POS recipe": recipe_curve(recipe_lines)}
    totals = {"spaCy morphologizer (efficiency)": spacy_total, "lstm_nlp POS recipe": recipe_total}
    rows = [summary(name, curve, totals[name], THRESHOLDS) for name, curve in curves.items()]
    points = [[name, ", ".join(f"{s / 60:.1f} min {100 * a:.2f}" for s, a in curve)] for name, curve in curves.items()]
    data = "bundled sample (smoke run)" if args.smoke else "UD English-EWT train -> dev"
    result = BenchResult("vs_spacy")
    result.add_section(
        "Time to accuracy: lstm_nlp POS recipe vs spaCy's morphologizer",
        f"`python benchmarks/bench_vs_spacy.py --threads {threads}`: {data}, {threads} thread(s) each, one after "
        "the other. Minutes since each command started (start-up, data conversion and evaluations included).\n\n"
        + markdown_table(["system", "best dev UPOS", *[f"first >= {100 * t:g}%" for t in THRESHOLDS],
                          "whole command"], rows)
        + "\n\nEvery evaluation (minutes, dev UPOS %):\n\n" + markdown_table(["system", "curve"], points))
    result.metrics.update({"curves": curves, "totals_seconds": totals, "threads": int(threads)})
    if args.plot:
        plot(curves, args.plot, f"POS on {data}, {threads} thread(s)", "dev UPOS accuracy (%)", floor=90.0)
        result.notes.append(f"plot: {portable(args.plot)}")
    result.emit(args)
    return result


if __name__ == "__main__":
    main()
