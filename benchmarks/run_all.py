"""Runs every benchmark and writes ``docs/benchmarks.md`` (machine, versions, date, tables, acceptance).

    python benchmarks/run_all.py                                            # ~15-25 min on 2 CPU cores
    python benchmarks/run_all.py --smoke --output bench-smoke.md            # seconds: checks the code paths
    python benchmarks/run_all.py --only training encoder                    # a subset

Each benchmark runs in its own process (so its peak resident memory is its own) with
``--threads`` intra-op threads. The raw results of a full run are also kept as
``docs/benchmark_runs/<date>.json``; the report adds the acceptance figures of all kept runs.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import REPO_ROOT, machine_info, markdown_table  # noqa: E402

BENCHMARKS = ["training", "training_imdb", "encoder", "padding", "inference", "time_to_accuracy", "startup",
              "predict_cli"]
RUNS_DIR = REPO_ROOT / "docs" / "benchmark_runs"


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--smoke", action="store_true", help="tiny runs on the bundled sample")
    parser.add_argument("--only", nargs="*", choices=BENCHMARKS, help="run only these benchmarks")
    parser.add_argument("--output", default=str(REPO_ROOT / "docs" / "benchmarks.md"), help="markdown report")
    parser.add_argument("--threads", type=int, default=1, help="torch intra-op threads in every benchmark")
    parser.add_argument("--tta-runs", nargs="*", default=[],
                        help="POS run directories (metrics.jsonl + model/) for the time-to-accuracy table")
    parser.add_argument("--extra", action="append", default=[],
                        help="NAME=ARGS: extra arguments for one benchmark, e.g. inference=--pos-model=DIR")
    parser.add_argument("--no-keep", action="store_true", help="do not store the raw results in docs/benchmark_runs")
    parser.add_argument("--render", metavar="RUN_JSON",
                        help="only re-render the report from a kept run (docs/benchmark_runs/*.json)")
    args = parser.parse_args(argv)
    from lstm_nlp.outputs import output_file_problem

    if problem := output_file_problem(args.output, option="--output"):
        parser.error(problem)  # before the benchmarks, not after them
    return args


def run_benchmark(name: str, args: argparse.Namespace, workdir: Path) -> dict:
    out = workdir / f"{name}.json"
    command = [sys.executable, str(REPO_ROOT / "benchmarks" / f"bench_{name}.py"), "--json", str(out),
               "--threads", str(args.threads)]
    if args.smoke:
        command.append("--smoke")
    if name == "time_to_accuracy" and args.tta_runs:
        command += ["--runs", *args.tta_runs]
    for extra in args.extra:
        key, _, value = extra.partition("=")
        if key == name:
            command += value.split()
    print(f"[run_all] {' '.join(command)}", flush=True)
    start = time.perf_counter()
    done = subprocess.run(command, cwd=REPO_ROOT, text=True, capture_output=True, check=False)
    seconds = time.perf_counter() - start
    (workdir / f"{name}.log").write_text(done.stdout + done.stderr, encoding="utf-8")
    print(done.stdout[-3000:], flush=True)
    if done.returncode != 0 or not out.exists():
        sys.stderr.write(done.stderr[-4000:])
        return {"name": name, "failed": True, "seconds": seconds, "error": done.stderr[-1500:]}
    result = json.loads(out.read_text(encoding="utf-8"))
    result["seconds"] = seconds
    return result


def _get(results: dict, name: str, *keys, default=None):
    value = results.get(name, {}).get("metrics", {})
    for key in keys:
        if not isinstance(value, dict) or key not in value:
            return default
        value = value[key]
    return value


def acceptance_rows(results: dict) -> list[list[str]]:
    """(target, measured, met) for the speed targets."""
    rows = []

    def add(target: str, value, ok, shown: str) -> None:
        rows.append([target, shown if value is not None else "not measured",
                     "n/a" if value is None else ("**yes**" if ok else "**no**")])

    v = _get(results, "encoder", "imdb_train_dense_vs_packed")
    add("IMDB-length batches (50-400 tokens) train on CPU >= 5x the packed path's real tokens/s: unsorted batches "
        "(lengths uniform over 50-400 within each batch)", v, v is not None and v >= 5, f"{v:.1f}x" if v else "")
    v = _get(results, "encoder", "imdb_train_dense_vs_packed_bucketed")
    add("... the same with length-bucketed batches (sorted pools, as the toolkit's sampler builds them)", v,
        v is not None and v >= 5, f"{v:.1f}x" if v else "")
    v = _get(results, "training_imdb", "imdb_train_tokens_per_s")
    if v:
        ratio = v["toolkit"] / v["toolkit, packed encoder"]
        add("... the whole IMDB training loop (real reviews, recipe defaults), dense vs packed encoder", ratio,
            ratio >= 5, f"{ratio:.1f}x ({v['toolkit']:,.0f} vs {v['toolkit, packed encoder']:,.0f} tokens/s)")
    pos, imdb = _get(results, "padding", "pos_padding_efficiency"), _get(results, "padding", "imdb_padding_efficiency")
    add("Padding efficiency >= 97%, POS (EWT train)", pos, pos is not None and pos >= 0.97,
        f"{100 * pos:.2f}%" if pos else "")
    add("Padding efficiency >= 97%, IMDB (train)", imdb, imdb is not None and imdb >= 0.97,
        f"{100 * imdb:.2f}%" if imdb else "")
    v = _get(results, "training", "pos_fraction_of_ceiling")
    add("POS training loop >= 60% of the measured matmul ceiling (FLOP count)", v, v is not None and v >= 0.6,
        f"{100 * v:.1f}% of the ceiling at the model's shapes "
        f"({100 * _get(results, 'training', 'pos_fraction_of_peak', default=0):.1f}% of a large torch.mm)" if v else "")
    v = _get(results, "training", "pos_toolkit_vs_handwritten")
    add("POS training loop >= 90% of the minimal hand-written loop", v, v is not None and v >= 0.9,
        f"{100 * v:.0f}% (toolkit vs naive loop: {_get(results, 'training', 'pos_toolkit_vs_naive', default=0):.1f}x)"
        if v else "")
    v = _get(results, "inference", "pos_predict_over_forward")
    add("`predict` end to end on EWT dev >= 80% of forward-only throughput", v, v is not None and v >= 0.8,
        f"{100 * v:.0f}%" if v else "")
    v = _get(results, "inference", "pos_bf16_predict_speedup")
    change = _get(results, "inference", "pos_bf16_accuracy_change_points")
    add("`--precision bf16` >= 1.5x faster than fp32 (predict end to end)", v, v is not None and v >= 1.5,
        f"{v:.2f}x end to end, {_get(results, 'inference', 'pos_bf16_forward_speedup', default=0):.2f}x forward only"
        if v else "")
    add("`--precision bf16` accuracy change <= 0.3 points", change, change is not None and abs(change) <= 0.3,
        f"{change:+.2f} points" if change is not None else "")
    v = _get(results, "training", "pos_dataloader_wait_fraction")
    recipe_wait = _get(results, "training", "pos_dataloader_wait_recipe_default")
    add("Data-loader wait <= 5% of training step time (POS, word-level model)", v, v is not None and v <= 0.05,
        f"{100 * v:.1f}%" if v is not None else "")
    if recipe_wait is not None:
        add("Data-loader wait <= 5% (POS recipe default model, with character features)", recipe_wait,
            recipe_wait <= 0.05, f"{100 * recipe_wait:.1f}%")
    v = _get(results, "training_imdb", "imdb_dataloader_wait_fraction")
    add("Data-loader wait <= 5% (IMDB classifier)", v, v is not None and v <= 0.05,
        f"{100 * v:.1f}%" if v is not None else "")
    return rows


def guidance(results: dict) -> list[str]:
    """'Which precision where', from this run's inference figures."""
    speeds = _get(results, "inference", "pos_inference")
    accuracy = _get(results, "inference", "pos_accuracy")
    if not speeds or not accuracy:
        return []
    rows = []
    for name, s in speeds.items():
        rows.append([name, f"{s['predict'] / speeds['fp32']['predict']:.2f}x",
                     f"{s['forward'] / speeds['fp32']['forward']:.2f}x",
                     f"{100 * (accuracy[name] - accuracy['fp32']):+.2f}"])
    word = _get(results, "inference", "pos_wordonly")
    extra = ""
    if word:
        ws, wa = word["speeds"], word["accuracy"]
        extra = (f" For the word-level POS model (no character encoder) bf16 gives "
                 f"{ws['bf16']['forward'] / ws['fp32']['forward']:.2f}x forward / "
                 f"{ws['bf16']['predict'] / ws['fp32']['predict']:.2f}x end to end "
                 f"({100 * (wa['bf16'] - wa['fp32']):+.2f} points).")
    return ["## Which inference precision to use", "",
            "Speed-ups over fp32 on this machine for the POS recipe's default model (EWT dev, same run):", "",
            markdown_table(["option", "predict end to end", "forward only", "accuracy change (points)"], rows), "",
            "- `fp32` (default): exact; the reference for every other option." + extra,
            "- `--precision bf16`: for CPUs with AVX-512 BF16 or AMX (this one has AVX-512 BF16) and for GPUs; the "
            "embedding, LSTM and linear weights are stored in bf16 and the forward runs under autocast. On CPUs "
            "without native bf16 it is emulated and usually slower: keep fp32 there.",
            "- int8 dynamic quantization (`torch.ao.quantization.quantize_dynamic` on LSTM + Linear) was last measured "
            "at commit `611a887` (`git checkout 611a887 && python benchmarks/bench_inference.py` reruns it); the library's `--quantize` option was removed because it "
            "no longer beats fp32: the quantized LSTM must take the packed path, which loses the dense path's "
            "advantage, and `torch.ao.quantization` is deprecated (torchao has no LSTM support).",
            "- End to end, spaCy tokenization, numericalization, batching and output formatting are not accelerated by "
            "bf16, which is why `predict` gains less than the forward pass.", ""]


def across_runs(current: dict) -> str:
    """The main figures of every kept run (and the current one), with their median."""
    keys = [("encoder", ("imdb_train_dense_vs_packed",), "dense/packed IMDB train", "{:.1f}x", 1),
            ("training", ("pos_toolkit_vs_handwritten",), "toolkit/hand-written", "{:.0f}%", 100),
            ("training", ("pos_fraction_of_ceiling",), "of matmul ceiling", "{:.0f}%", 100),
            ("training", ("pos_train_tokens_per_s", "toolkit"), "POS train tokens/s", "{:,.0f}", 1),
            ("inference", ("pos_predict_over_forward",), "predict/forward", "{:.0f}%", 100),
            ("inference", ("pos_bf16_predict_speedup",), "bf16 speed-up (predict)", "{:.2f}x", 1),
            ("training", ("pos_dataloader_wait_fraction",), "loader wait", "{:.1f}%", 100)]
    runs = []
    for path in sorted(RUNS_DIR.glob("*.json")) if RUNS_DIR.exists() else []:
        data = json.loads(path.read_text())
        runs.append((data["machine"]["date"], data["results"]))
    if not any(date == current["machine"]["date"] for date, _ in runs):
        runs.append((current["machine"]["date"], current["results"]))
    if len(runs) < 2:
        return ""
    rows = []
    columns = {label: [] for _, _, label, _, _ in keys}
    for date, results in runs:
        row = [date]
        for name, path, label, form, scale in keys:
            value = _get(results, name, *path)
            row.append(form.format(value * scale) if value is not None else "-")
            if value is not None:
                columns[label].append(value * scale)
        rows.append(row)
    import statistics

    rows.append(["**median**"] + [form.format(statistics.median(columns[label])) if columns[label] else "-"
                                  for _, _, label, form, _ in keys])
    return ("## Across runs\n\nThe main figures of every full run kept in `docs/benchmark_runs/` (each from one run; "
            "the acceptance table above uses the latest run only).\n\n"
            + markdown_table(["run"] + [label for _, _, label, _, _ in keys], rows))


def render(report: dict, args: argparse.Namespace) -> str:
    m = report["machine"]
    results = report["results"]
    lines = [
        "# Benchmarks",
        "",
        f"Generated by `python benchmarks/run_all.py{' --smoke' if args.smoke else ''}` on {m['date']} "
        f"(total {report['seconds'] / 60:.1f} min). Every speed figure is a median of repeated, interleaved "
        "measurements and is compared with baselines measured in the same run. "
        + ("**Smoke run on the bundled sample: the figures mean nothing.**" if args.smoke else ""),
        "",
        markdown_table(["machine", ""], [
            ["CPU", f"{m['cpu']} ({m['cpu_count']} cores; {m['simd']})"],
            ["memory", f"{m['memory_gib']} GiB"],
            ["GPU", m["gpu"] or "none"],
            ["threads", f"{args.threads} torch intra-op thread(s) per benchmark (see note)"],
            ["load average before / after", f"{' '.join(f'{x:.2f}' for x in m['loadavg'])} / "
                                            f"{' '.join(f'{x:.2f}' for x in report['loadavg_after'])}"],
            ["versions", f"Python {m['python']}, torch {m['torch']} (oneDNN: {m['mkldnn']}), lstm_nlp {m['lstm_nlp']}, "
                         f"spaCy {m['spacy']}, datasets {m['datasets']}"],
            ["platform", m["platform"]],
        ]),
        "",
        "Note on threads: this 2-core machine is shared with other jobs. With 2 intra-op threads every op waits at "
        "an OpenMP barrier for the core another process holds; a small `torch.mm` ([232,100]x[100,512]) then ran "
        "at 1.6 GFLOP/s instead of 69 GFLOP/s with 1 thread. The benchmarks therefore run with "
        f"{args.threads} thread(s) unless `--threads` says otherwise; figures on an idle machine with both "
        "cores would be higher for the large-matmul paths.",
        "",
        "## Acceptance",
        "",
        markdown_table(["target", "measured", "met"], acceptance_rows(results)),
        "",
    ]
    lines += guidance(results)
    for name in BENCHMARKS:
        result = results.get(name)
        if result is None:
            continue
        if result.get("failed"):
            lines += [f"## {name}: FAILED", "", "```", result.get("error", ""), "```", ""]
            continue
        for section in result["sections"]:
            lines += [f"## {section['title']}", "", section["markdown"], ""]
        for note in result.get("notes", []):
            lines += [f"- {note}"]
        if result.get("notes"):
            lines.append("")
    lines += ["## Peak resident memory", "",
              "`ru_maxrss` of each benchmark's own process (Python, torch, the data and the models it builds).", "",
              markdown_table(["benchmark", "peak RSS (MiB)", "wall time (s)"],
                             [[n, f"{r.get('metrics', {}).get('peak_rss_mb', float('nan')):,.0f}",
                               f"{r.get('seconds', 0):.0f}"] for n, r in results.items()]), ""]
    extra = across_runs(report) if not args.smoke else ""
    if extra:
        lines += [extra, ""]
    analysis = REPO_ROOT / "benchmarks" / "analysis.md"
    if analysis.exists() and not args.smoke:
        lines += [analysis.read_text(encoding="utf-8").strip(), ""]
    return "\n".join(lines)


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.render:
        report = json.loads(Path(args.render).read_text(encoding="utf-8"))
        args.threads, args.smoke = report["threads"], report["smoke"]
        Path(args.output).write_text(render(report, args), encoding="utf-8")
        print(f"[run_all] re-rendered {args.output} from {args.render}")
        return 0
    names = args.only or BENCHMARKS
    info = machine_info()
    start = time.perf_counter()
    results = {}
    with tempfile.TemporaryDirectory(prefix="lstm_nlp_bench_") as tmp:
        for name in names:
            results[name] = run_benchmark(name, args, Path(tmp))
    report = {"machine": info, "results": results, "seconds": time.perf_counter() - start,
              "loadavg_after": list(os.getloadavg()), "threads": args.threads, "smoke": args.smoke}
    Path(args.output).parent.mkdir(parents=True, exist_ok=True)
    Path(args.output).write_text(render(report, args), encoding="utf-8")
    if not args.smoke and not args.no_keep and not args.only:
        RUNS_DIR.mkdir(parents=True, exist_ok=True)
        (RUNS_DIR / f"{info['date'].replace(':', '')}.json").write_text(json.dumps(report, indent=1), encoding="utf-8")
    print(f"[run_all] wrote {args.output} ({report['seconds'] / 60:.1f} min)")
    return 1 if any(r.get("failed") for r in results.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
