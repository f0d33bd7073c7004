"""Calibration on the real dev sets: ECE and Brier score before and after temperature scaling.

    python benchmarks/bench_calibration.py                        # NER, POS and IMDB, with the corpora
    python benchmarks/bench_calibration.py --smoke                # bundled samples, seconds (figures mean nothing)

Each recipe is trained as users run it (fewer epochs; IMDB on a slice), fitting a temperature on dev. Dev is
cross-fitted to score data the temperature was not fitted on: a temperature fitted on each half (even / odd
rows) scores the other. ECE: 15 equal-width bins. Reliability diagrams go to ``--plots`` (docs/img).
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from pathlib import Path

import datasets
from common import REPO_ROOT as ROOT
from common import markdown_table, require_data_root, run, run_recipe, write_study

from lstm_nlp.calibration import calibration_metrics, plot_reliability
from lstm_nlp.pipelines import load_pipeline

CORPORA = {  # task: (recipe, train and dev files under $LSTM_NLP_DATA, the bundled sample's dev file, described)
    "ner": ("ner", "conll2003/train.txt", "conll2003/dev.txt", "data/ner/dev.txt", "CoNLL-2003 train"),
    "pos": ("pos_tagger", "ud_english_ewt/en_ewt-ud-train.conllu", "ud_english_ewt/en_ewt-ud-dev.conllu",
            "data/pos/dev.conllu", "UD EWT train"),
    "imdb": ("imdb_sentiment", None, None, "data/imdb/dev.jsonl", None)}


def train(task: str, args: argparse.Namespace, work: Path) -> tuple[Path, Path, str]:
    """Runs the task's recipe; returns (bundle, dev file, what was trained)."""
    recipe, train_name, dev_name, sample_dev, what = CORPORA[task]
    epochs = 2 if args.smoke else getattr(args, f"{task}_epochs")
    if args.smoke:
        dev, extra, what = ROOT / sample_dev, [], "sample"
    elif task == "imdb":  # a shuffled slice of IMDB train.jsonl as train and dev (the test split stays held out)
        lines = (require_data_root() / "imdb" / "train.jsonl").read_text(encoding="utf-8").splitlines()
        random.Random(0).shuffle(lines)
        train_file, dev = work / "imdb_train.jsonl", work / "imdb_dev.jsonl"
        train_file.write_text("\n".join(lines[args.imdb_dev:args.imdb_dev + args.imdb_train]) + "\n", encoding="utf-8")
        dev.write_text("\n".join(lines[:args.imdb_dev]) + "\n", encoding="utf-8")
        extra = ["--train", str(train_file), "--dev", str(dev)]
        what = f"{args.imdb_train} IMDB train reviews (dev: {args.imdb_dev} others)"
    else:
        dev = require_data_root() / dev_name
        extra = ["--train", str(require_data_root() / train_name), "--dev", str(dev)]
    started = time.perf_counter()
    bundle = run_recipe(recipe, work / task, "--epochs", str(epochs), *extra)
    print(f"{task}: trained in {time.perf_counter() - started:.0f} s ({epochs} epochs on {what})", flush=True)
    return bundle, dev, f"{epochs} epochs on {what}"


def report(pipeline, data) -> dict:
    """``{kind: calibration figures}`` of the pipeline at its current temperature."""
    if hasattr(pipeline, "calibration"):
        return pipeline.calibration(data)
    return pipeline.evaluate(data, calibration=True)["calibration"]


def measure(task: str, bundle: Path, dev: Path, plots: Path, trained: str) -> list[dict]:
    pipeline = load_pipeline(bundle)
    data = pipeline.read_labelled(dev)
    if not hasattr(pipeline, "calibration"):  # a classifier: its encoded examples
        data = pipeline.encode(data, unknown_labels="keep")
    parts = ([data[0::2], data[1::2]] if isinstance(data, list)  # even and odd rows
             else [data.select(range(0, len(data), 2)), data.select(range(1, len(data), 2))])
    stored, pipeline.temperature = pipeline.temperature, 1.0
    raw = report(pipeline, data)
    fitted, pooled = [], {}
    for fit_on, score_on in ((parts[0], parts[1]), (parts[1], parts[0])):
        pipeline.temperature = 1.0
        fitted.append(pipeline.fit_temperature(fit_on))
        for kind, values in report(pipeline, score_on).items():
            for key in ("confidence", "correct"):
                pooled.setdefault(kind, {"confidence": [], "correct": []})[key] += values[key]
    rows = []
    for kind in raw:
        after = calibration_metrics(pooled[kind]["confidence"], pooled[kind]["correct"])
        for label, values in (("raw", raw[kind]), ("cross-fitted", pooled[kind])):
            plot_reliability(values["confidence"], values["correct"], plots / f"calibration_{task}_{kind}_{label}.png",
                             title=f"{task} dev, {kind} probabilities, {label}")
        rows.append({"task": task, "kind": kind, "trained": trained, "count": raw[kind]["count"],
                     "accuracy": raw[kind]["accuracy"], "ece_raw": raw[kind]["ece"], "ece_after": after["ece"],
                     "brier_raw": raw[kind]["brier"], "brier_after": after["brier"],
                     "temperature_halves": fitted, "temperature_bundle": stored})
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--smoke", action="store_true", help="the bundled samples, 2 epochs")
    parser.add_argument("--tasks", nargs="+", choices=["ner", "pos", "imdb"], default=["ner", "pos", "imdb"])
    parser.add_argument("--ner-epochs", type=int, default=6)
    parser.add_argument("--pos-epochs", type=int, default=5)
    parser.add_argument("--imdb-epochs", type=int, default=2)
    parser.add_argument("--imdb-train", type=int, default=6000, help="IMDB train reviews used")
    parser.add_argument("--imdb-dev", type=int, default=2500, help="IMDB dev reviews (other train reviews)")
    parser.add_argument("--plots", default=str(ROOT / "docs" / "img"), help="folder of the reliability diagrams")
    parser.add_argument("--output", default=None, help="also write the markdown table to this file")
    parser.add_argument("--json", default=None, help="also write the rows as JSON to this file")
    args = parser.parse_args()
    datasets.disable_progress_bars()
    plots, work = Path(args.plots), Path(tempfile.mkdtemp(prefix="bench_calibration_"))
    plots.mkdir(parents=True, exist_ok=True)
    headers = ["task", "probabilities", "trained", "dev predictions", "accuracy", "ECE raw", "ECE cross-fitted",
               "Brier raw", "Brier cross-fitted", "T (halves)", "T (bundle, all dev)"]
    rows = []
    for task in args.tasks:
        bundle, dev, trained = train(task, args, work)
        rows += measure(task, bundle, dev, plots, trained)
        table = markdown_table(headers, [
            [r["task"], r["kind"], r["trained"], r["count"], f"{r['accuracy']:.4f}", f"{r['ece_raw']:.4f}",
             f"{r['ece_after']:.4f}", f"{r['brier_raw']:.4f}", f"{r['brier_after']:.4f}",
             ", ".join(f"{t:.3f}" for t in r["temperature_halves"]), f"{r['temperature_bundle']:.3f}"] for r in rows])
        write_study(args, table, rows)
    print("\n" + table)


if __name__ == "__main__":
    run(main)
