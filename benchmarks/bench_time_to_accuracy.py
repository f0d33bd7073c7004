"""Time to accuracy: wall-clock minutes until a POS run first reaches a dev accuracy target (default 95%).

    python benchmarks/bench_time_to_accuracy.py --runs runs/pos_ewt [more run dirs ...]
    python benchmarks/bench_time_to_accuracy.py --smoke

Reads each run's ``metrics.jsonl`` (one record per epoch, written by the Trainer): time =
cumulative ``train_seconds`` + one dev evaluation per epoch. The Trainer does not log evaluation
time, so it is measured here: ``pipeline.evaluate`` on EWT dev with the run's saved bundle
(``RUN/model``), median of 3. The run's ``config.json``/``metrics.json`` give the model settings.
With ``--smoke`` the POS recipe is run for 3 epochs on the bundled sample (target 50%).
"""

from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path

from common import BenchResult, base_parser, ewt_paths, markdown_table, median, portable, setup
from lstm_nlp.pipelines import load_pipeline


def eval_seconds(model_dir: Path, dev_path: Path, n: int = 3) -> float | None:
    if not (model_dir / "config.json").exists():
        return None
    pipeline = load_pipeline(model_dir, device="cpu")
    dev = pipeline.read_labelled(dev_path)
    times = []
    for _ in range(n):
        start = time.perf_counter()
        pipeline.evaluate(dev)
        times.append(time.perf_counter() - start)
    return median(times)


def describe(model_dir: Path) -> str:
    try:
        config = json.loads((model_dir / "config.json").read_text())
        config = config.get("config", config)
    except (OSError, ValueError):
        return "?"
    keys = ("embedding_dim", "hidden_size", "num_layers", "char_encoder", "head", "dropout")
    return ", ".join(f"{k}={config[k]}" for k in keys if k in config)


def analyse(run_dir: Path, dev_path: Path, target: float) -> dict:
    records = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines() if line.strip()]
    per_eval = eval_seconds(run_dir / "model", dev_path)
    elapsed, reached, best = 0.0, None, (None, -1.0, 0.0)
    for record in records:
        elapsed += record.get("train_seconds", 0.0) + (per_eval or 0.0)
        accuracy = record.get("dev_accuracy")
        if accuracy is None:
            continue
        if accuracy > best[1]:
            best = (record["epoch"], accuracy, elapsed)
        if reached is None and accuracy >= target:
            reached = (record["epoch"], accuracy, elapsed)
    train_tps = [r["train_tokens_per_s"] for r in records if "train_tokens_per_s" in r]
    return {"run": portable(run_dir), "epochs": len(records), "eval_seconds": per_eval, "reached": reached, "best": best,
            "total_minutes": elapsed / 60, "median_train_tokens_per_s": median(train_tps),
            "model": describe(run_dir / "model")}


def main(argv=None) -> BenchResult:
    parser = base_parser(__doc__.split("\n")[0])
    parser.add_argument("--runs", nargs="*", default=[], help="run directories holding metrics.jsonl (+ model/)")
    parser.add_argument("--target", type=float, default=None, help="dev accuracy target (default 0.95)")
    args = parser.parse_args(argv)
    setup(args)
    _, dev_path = ewt_paths(args.smoke)
    target = args.target or (0.5 if args.smoke else 0.95)
    runs = [Path(r) for r in args.runs]
    if args.smoke:
        from bench_inference import run_recipe

        out = Path(tempfile.mkdtemp(prefix="bench_tta_"))
        run_recipe("pos_tagger", ["--output-dir", str(out), "--epochs", "3", "--no-progress", "--device", "cpu"])
        runs.append(out)
    rows, metrics = [], {}
    for run in runs:
        if not (run / "metrics.jsonl").exists():
            rows.append([str(run), "no metrics.jsonl", "", "", "", "", ""])
            continue
        a = analyse(run, dev_path, target)
        reached = (f"**{a['reached'][2] / 60:.1f} min** (epoch {a['reached'][0]}, {100 * a['reached'][1]:.2f}%)"
                   if a["reached"] else "not reached")
        best = f"{100 * a['best'][1]:.2f}% at epoch {a['best'][0]} ({a['best'][2] / 60:.1f} min)"
        rows.append([run.name, a["model"], a["epochs"], f"{a['median_train_tokens_per_s']:,.0f}",
                     f"{a['eval_seconds']:.1f} s" if a["eval_seconds"] is not None else "n/a (no bundle)",
                     reached, best])
        metrics[run.name] = a
    result = BenchResult("time_to_accuracy")
    result.add_section(
        f"Time to accuracy: POS tagger, {100 * target:.0f}% UD English-EWT dev accuracy",
        "From each run's `metrics.jsonl`: cumulative training seconds plus one dev evaluation per epoch "
        "(evaluation timed here with the run's saved model; the Trainer does not log it). Data loading and vocabulary "
        "building before the first epoch are not counted. Training seconds are as logged by that run, on this "
        "shared machine under whatever load it had.\n\n"
        + markdown_table(["run", "model", "epochs", "median train tokens/s", "one dev evaluation",
                          f"first >= {100 * target:.0f}%", "best dev accuracy"], rows))
    result.metrics = {"target": target, "runs": metrics}
    result.emit(args)
    return result


if __name__ == "__main__":
    main()
