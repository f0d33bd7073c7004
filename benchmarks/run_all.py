"""Runs the harness benchmarks and writes a report: machine, versions, acceptance targets, every table.

    python benchmarks/run_all.py                   # docs/benchmarks.md, ~15-25 min on 2 CPU cores
    python benchmarks/run_all.py --quick           # runs/benchmarks-quick.md: the real corpora, small slices
    python benchmarks/run_all.py --smoke --output bench-smoke.md      # seconds: checks the code paths
    python benchmarks/run_all.py --only training encoder              # a subset

Each benchmark runs in its own process (its peak resident memory is its own) with ``--threads`` intra-op
threads and writes its sections, metrics and acceptance targets as JSON; the targets and their goals live
in the benchmarks, the report only lists them. The raw results of a full run are kept as
``docs/benchmark_runs/<date>.json``; the report adds the target figures of all kept runs.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import REPO_ROOT, machine_info, markdown_table

BENCHMARKS = {"encoder": ["bench_encoder.py"], "training": ["bench_training.py", "--task", "pos"],
              "training_imdb": ["bench_training.py", "--task", "imdb"], "inference": ["bench_inference.py"]}
RUNS_DIR = REPO_ROOT / "docs" / "benchmark_runs"


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    size = parser.add_mutually_exclusive_group()
    size.add_argument("--smoke", action="store_true", help="tiny runs on the bundled sample")
    size.add_argument("--quick", action="store_true", help="the real corpora, small slices, one repeat")
    parser.add_argument("--only", nargs="*", choices=list(BENCHMARKS), help="run only these benchmarks")
    parser.add_argument("--output", help="markdown report (default: docs/benchmarks.md; with --quick or --smoke "
                                         "runs/benchmarks-quick.md or runs/benchmarks-smoke.md)")
    parser.add_argument("--threads", type=int, default=1, help="torch intra-op threads in every benchmark")
    parser.add_argument("--extra", action="append", default=[],
                        help="NAME=ARGS: extra arguments for one benchmark, e.g. inference=--pos-model=DIR")
    parser.add_argument("--no-keep", action="store_true", help="do not store the raw results in docs/benchmark_runs")
    parser.add_argument("--render", metavar="RUN_JSON", help="only re-render the report from a kept run")
    args = parser.parse_args(argv)
    mode = "quick" if args.quick else "smoke" if args.smoke else None
    if args.output is None:
        args.output = str(REPO_ROOT / (f"runs/benchmarks-{mode}.md" if mode else "docs/benchmarks.md"))
        Path(args.output).parent.mkdir(exist_ok=True)
    from lstm_nlp.outputs import output_file_problem

    if problem := output_file_problem(args.output, option="--output"):
        parser.error(problem)  # before the benchmarks, not after them
    return args


def run_benchmark(name: str, args: argparse.Namespace, workdir: Path) -> dict:
    out = workdir / f"{name}.json"
    command = [sys.executable, str(REPO_ROOT / "benchmarks" / BENCHMARKS[name][0]), *BENCHMARKS[name][1:],
               "--json", str(out), "--threads", str(args.threads)]
    command += ["--smoke"] if args.smoke else ["--quick"] if args.quick else []
    command += [word for extra in args.extra if extra.partition("=")[0] == name
                for word in extra.partition("=")[2].split()]
    print(f"[run_all] {' '.join(command)}", flush=True)
    start = time.perf_counter()
    done = subprocess.run(command, cwd=REPO_ROOT, text=True, capture_output=True, check=False)
    seconds = time.perf_counter() - start
    print(done.stdout[-3000:], flush=True)
    if done.returncode != 0 or not out.exists():
        sys.stderr.write(done.stderr[-4000:])
        return {"name": name, "failed": True, "seconds": seconds, "error": done.stderr[-1500:]}
    return {**json.loads(out.read_text(encoding="utf-8")), "seconds": seconds}


def acceptance(results: dict) -> str:
    rows = [[t["target"], t["shown"], "n/a" if t["met"] is None else "**yes**" if t["met"] else "**no**"]
            for result in results.values() for t in result.get("targets", [])]
    return markdown_table(["target", "measured", "met"], rows)


def across_runs(report: dict) -> str:
    """The target figures of every kept full run (and this one), by the metric each target reads, with medians."""
    targets = [(name, t) for name, result in report["results"].items() for t in result.get("targets", [])]
    runs = [json.loads(path.read_text()) for path in sorted(RUNS_DIR.glob("*.json"))] if RUNS_DIR.exists() else []
    runs = [r for r in runs if "machine" in r and r["machine"]["date"] != report["machine"]["date"]] + [report]
    if len(runs) < 2 or not targets:
        return ""
    columns: list[list[float]] = [[] for _ in targets]
    rows = []
    for run in runs:
        row = [run["machine"]["date"]]
        for column, (name, target) in zip(columns, targets):
            value = run["results"].get(name, {}).get("metrics", {}).get(target["metric"])
            row.append("-" if value is None else target["format"].format(value))
            column += [] if value is None else [value]
        rows.append(row)
    rows.append(["**median**"] + [t["format"].format(statistics.median(c)) if c else "-"
                                  for c, (_, t) in zip(columns, targets)])
    return ("## Across runs\n\nThe target figures of every full run kept in `docs/benchmark_runs/` (each from one run; "
            "the acceptance table above uses the latest run only).\n\n"
            + markdown_table(["run"] + [t["metric"] for _, t in targets], rows))


def render(report: dict) -> str:
    m, results, mode = report["machine"], report["results"], report.get("mode")
    command = f"python benchmarks/run_all.py{' --' + mode if mode else ''}"
    lines = [
        "# Benchmarks", "",
        (f"Generated by `{command}` on {m['date']} (total {report['seconds'] / 60:.1f} min). Every speed figure is a "
         "median of repeated, interleaved measurements and is compared with baselines measured in the same run."
         + {"smoke": " **Smoke run on the bundled sample: the figures mean nothing.**",
            "quick": " **Quick run: small slices, one repeat.**"}.get(mode, "")), "",
        markdown_table(["machine", ""], [
            ["CPU", f"{m['cpu']} ({m['cpu_count']} cores; {m['simd']})"], ["memory", f"{m['memory_gib']} GiB"],
            ["GPU", m["gpu"] or "none"], ["threads", f"{report['threads']} torch intra-op thread(s) per benchmark"],
            ["load average before / after", " ".join(f"{x:.2f}" for x in m["loadavg"]) + " / "
             + " ".join(f"{x:.2f}" for x in report["loadavg_after"])],
            ["versions", (f"Python {m['python']}, torch {m['torch']} (oneDNN: {m['mkldnn']}), lstm_nlp "
                          f"{m['lstm_nlp']}, spaCy {m['spacy']}, datasets {m['datasets']}")],
            ["platform", m["platform"]]]), "",
        ("On a shared 2-core machine a second intra-op thread waits at every op's barrier for the core another "
         "process holds, so the benchmarks run with 1 thread unless `--threads` says otherwise."), "",
        "## Acceptance", "", acceptance(results), ""]
    for name, result in results.items():
        if result.get("failed"):
            lines += [f"## {name}: FAILED", "", "```", result.get("error", ""), "```", ""]
        for section in result.get("sections", []):
            command = f"python benchmarks/{' '.join(BENCHMARKS[name])}"
            lines += [f"## {section['title']}", "", f"`{command}` regenerates this table.", "", section["markdown"], ""]
    lines += ["## Peak resident memory", "", markdown_table(["benchmark", "peak RSS (MiB)", "wall time (s)"], [
        [n, f"{r.get('metrics', {}).get('peak_rss_mb', float('nan')):,.0f}", f"{r.get('seconds', 0):.0f}"]
        for n, r in results.items()]), ""]
    if not mode:
        lines += [across_runs(report), ""]
        analysis = REPO_ROOT / "benchmarks" / "analysis.md"
        lines += [analysis.read_text(encoding="utf-8").strip(), ""] if analysis.exists() else []
    return "\n".join(lines)


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.render:
        Path(args.output).write_text(render(json.loads(Path(args.render).read_text(encoding="utf-8"))),
                                     encoding="utf-8")
        print(f"[run_all] re-rendered {args.output} from {args.render}")
        return 0
    info, start, results = machine_info(), time.perf_counter(), {}
    with tempfile.TemporaryDirectory(prefix="lstm_nlp_bench_") as tmp:
        for name in args.only or BENCHMARKS:
            results[name] = run_benchmark(name, args, Path(tmp))
    report = {"machine": info, "results": results, "seconds": time.perf_counter() - start,
              "loadavg_after": list(os.getloadavg()), "threads": args.threads,
              "mode": "quick" if args.quick else "smoke" if args.smoke else None}
    Path(args.output).write_text(render(report), encoding="utf-8")
    if not (args.smoke or args.quick or args.no_keep or args.only):
        RUNS_DIR.mkdir(parents=True, exist_ok=True)
        (RUNS_DIR / f"{info['date'].replace(':', '')}.json").write_text(json.dumps(report, indent=1), encoding="utf-8")
    print(f"[run_all] wrote {args.output} ({report['seconds'] / 60:.1f} min)")
    return 1 if any(r.get("failed") for r in results.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
