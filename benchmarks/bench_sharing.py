"""Two trainings on one machine: each one's tokens/s beside its solo figure, for several thread settings.

    python benchmarks/bench_sharing.py                    # CoNLL-2003 slice ($LSTM_NLP_DATA or ../shared/data)
    python benchmarks/bench_sharing.py --smoke            # bundled sample, seconds (figures mean nothing)

Each row runs the NER recipe as users run it (``python recipes/ner.py ...``, default options but the data
and epochs) as the *measured* run, with a *neighbour* started at the same moment: the same command with
more epochs, killed when the measured run ends, so the measured run shares the machine from start to
end. Its tokens/s are read from its ``metrics.jsonl`` (training time only, every epoch) and divided by the
solo run's figure measured in the same round. Settings:

* ``auto``: no ``--threads`` (the default: the thread count follows the free cores during the run);
* ``N``: ``--threads N`` (fixed, as before);
* ``N passive``: ``--threads N`` with ``OMP_WAIT_POLICY=PASSIVE`` (OpenMP threads sleep at barriers
  instead of spinning).

A row ``A+B`` measures a run with setting A beside a neighbour with setting B.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RECIPE = ROOT / "recipes" / "ner.py"
PAIRS = ["solo auto", "solo 2", "2+2", "2 passive+2 passive", "1+1", "2+1", "1+2", "auto+auto", "auto+2"]


def slice_corpus(source: Path, sentences: int, target: Path) -> None:
    """The first ``sentences`` blank-line-separated sentences of a CoNLL file."""
    blocks = source.read_text(encoding="utf-8").split("\n\n")
    target.write_text("\n\n".join(blocks[:sentences]) + "\n", encoding="utf-8")


def command(setting: str, train: Path, dev: Path, epochs: int, out: Path) -> tuple[list[str], dict]:
    args = [sys.executable, str(RECIPE), "--train", str(train), "--dev", str(dev), "--epochs", str(epochs),
            "--output-dir", str(out), "--no-progress", "--no-checkpoints"]
    env = {k: v for k, v in os.environ.items() if k not in ("OMP_NUM_THREADS", "OMP_WAIT_POLICY")}
    threads, _, policy = setting.partition(" ")
    if threads != "auto":
        args += ["--threads", threads]
    if policy == "passive":
        env["OMP_WAIT_POLICY"] = "PASSIVE"
    return args, env


def tokens_per_s(out: Path) -> float:
    records = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines() if line.strip()]
    return sum(r["train_tokens"] for r in records) / sum(r["train_seconds"] for r in records)


def run_row(row: str, train: Path, dev: Path, epochs: int, work: Path) -> float:
    """The measured run's tokens/s for ``row`` ("solo S" or "S+T")."""
    solo = row.startswith("solo ")
    measured, _, neighbour = row.removeprefix("solo ").partition("+")
    out = Path(tempfile.mkdtemp(dir=work))
    others = []
    if not solo:
        args, env = command(neighbour, train, dev, epochs * 20, Path(tempfile.mkdtemp(dir=work)))
        others.append(subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                       start_new_session=True))
    args, env = command(measured, train, dev, epochs, out)
    try:
        subprocess.run(args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=True, text=True)
    finally:
        for process in others:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    return tokens_per_s(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--smoke", action="store_true", help="the bundled sample, 1 epoch, 1 round")
    parser.add_argument("--sentences", type=int, default=2000, help="CoNLL-2003 train sentences")
    parser.add_argument("--epochs", type=int, default=2, help="epochs of the measured run")
    parser.add_argument("--rounds", type=int, default=1, help="rounds over the rows (medians are reported)")
    parser.add_argument("--rows", nargs="+", default=PAIRS, help=f"rows to run (default: {' | '.join(PAIRS)})")
    parser.add_argument("--output", default=None, help="also write the markdown table to this file")
    args = parser.parse_args()
    for row in args.rows:
        settings = row.removeprefix("solo ").split("+")
        if any(not (s.partition(" ")[0] == "auto" or s.partition(" ")[0].isdigit() and int(s.partition(" ")[0]) > 0)
               or s.partition(" ")[2] not in ("", "passive") for s in settings) or len(settings) > 2:
            parser.error(f"--rows: {row!r} is not 'solo S' or 'S+T' with S, T = auto | N | N passive")
    work = Path(tempfile.mkdtemp(prefix="bench_sharing_"))
    if args.smoke:
        train, dev = ROOT / "data/ner/train.txt", ROOT / "data/ner/dev.txt"
        args.epochs, args.rounds = 1, 1
    else:
        data = Path(os.environ.get("LSTM_NLP_DATA", ROOT.parent / "shared" / "data")) / "conll2003"
        train, dev = work / "train.txt", work / "dev.txt"
        slice_corpus(data / "train.txt", args.sentences, train)
        slice_corpus(data / "dev.txt", 300, dev)
    rows = ["solo auto"] + [r for r in args.rows if r != "solo auto"]
    figures: dict[str, list[float]] = {row: [] for row in rows}
    ratios: dict[str, list[float]] = {row: [] for row in rows}
    for round_ in range(args.rounds):
        for row in rows:
            started = time.perf_counter()
            figures[row].append(run_row(row, train, dev, args.epochs, work))
            ratios[row].append(figures[row][-1] / figures["solo auto"][-1])
            print(f"round {round_ + 1} {row:>22}: {figures[row][-1]:7.0f} tokens/s "
                  f"({ratios[row][-1]:.2f}x solo auto, {time.perf_counter() - started:.0f} s)", flush=True)
    threads = os.cpu_count()
    lines = [f"NER recipe, {args.sentences if not args.smoke else 'sample'} train sentences, {args.epochs} epoch(s) "
             f"measured, {threads} cores, median of {args.rounds} round(s)", "",
             "| measured + neighbour | tokens/s (measured run) | x solo auto (same round) |", "|---|---:|---:|"]
    for row in rows:
        lines.append(f"| {row} | {statistics.median(figures[row]):.0f} | {statistics.median(ratios[row]):.2f} |")
    table = "\n".join(lines)
    print("\n" + table)
    if args.output:
        Path(args.output).write_text(table + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
