"""Two trainings on one machine: each one's tokens/s beside its solo figure, for several thread settings.

    python benchmarks/bench_sharing.py                    # CoNLL-2003 slice ($LSTM_NLP_DATA or ../shared/data)
    python benchmarks/bench_sharing.py --smoke            # bundled sample, seconds (figures mean nothing)

Each row runs the NER recipe as users run it (``python recipes/ner.py ...``, default options but the data
and epochs) as the *measured* run, beside a *neighbour*: the same command with more epochs, killed when the
measured run ends, so the measured run shares the machine to its end. Its tokens/s are read from its
``metrics.jsonl`` (training time only) and divided by the solo run's figure of the same round. Settings:

* ``auto``: no ``--threads`` (the default: the thread count follows the free cores during the run);
* ``N``: ``--threads N`` (fixed, the old default's behaviour once chosen);
* ``N passive``: ``--threads N`` with ``OMP_WAIT_POLICY=PASSIVE`` (OpenMP threads sleep at barriers
  instead of spinning).

A row ``A+B`` starts the measured run (setting A) and its neighbour (setting B) at the same moment. A row
``A+B late`` starts the measured run alone and its neighbour once the first epoch is done; the figure is then
the epochs from the third on (the neighbour is running by then): a run that began on an idle machine, joined
by another. Before each row the benchmark waits (up to 3 minutes) until processes at normal priority keep less
than a quarter of a core busy, and prints what it saw; niced processes (``nice -n 19``) do not count, as they
yield their cores (with the kernel's autogroup scheduling off, ``/proc/sys/kernel/sched_autogroup_enabled``
0, which makes nice apply across sessions). A measured run still going after 150 s (a collapsed setting) is
stopped: the epochs it finished give its figure, or, when none did, the bound "one epoch's tokens in
150 s" (shown as ``< N``). The last column counts the measured run's logged thread changes.
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
sys.path.insert(0, str(ROOT))

from common import require_data_root  # noqa: E402

from lstm_nlp.device import _busy_jiffies  # noqa: E402

RECIPE = ROOT / "recipes" / "ner.py"
PAIRS = ["solo auto", "solo 2", "2+2", "2 passive+2 passive", "1+1", "2+1", "auto+auto", "auto+2",
         "2+2 late", "auto+auto late"]
QUIET_CORES, QUIET_WAIT_S = 0.25, 180
ROW_LIMIT_S = 150  # a measured run still going then is stopped; its finished epochs give the figure


def slice_corpus(source: Path, sentences: int, target: Path) -> None:
    """The first ``sentences`` blank-line-separated sentences of a CoNLL file."""
    blocks = source.read_text(encoding="utf-8").split("\n\n")
    target.write_text("\n\n".join(blocks[:sentences]) + "\n", encoding="utf-8")


def parse_row(row: str) -> tuple[str, str | None, bool]:
    """``row`` as (measured setting, neighbour setting or None, whether the neighbour starts late)."""
    if row.startswith("solo "):
        settings, late = [row.removeprefix("solo ")], False
    else:
        late = row.endswith(" late")
        settings = row.removesuffix(" late").split("+")
    for setting in settings:
        threads, _, policy = setting.partition(" ")
        if not (threads == "auto" or threads.isdigit() and int(threads) > 0) or policy not in ("", "passive"):
            raise ValueError(f"{row!r} is not 'solo S', 'S+T' or 'S+T late' with S, T = auto | N | N passive")
    if len(settings) > 2:
        raise ValueError(f"{row!r} names more than two runs")
    return settings[0], (settings[1] if len(settings) == 2 else None), late


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


def epoch_records(out: Path) -> list[dict]:
    path = out / "metrics.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def tokens_per_s(records: list[dict]) -> float:
    return sum(r["train_tokens"] for r in records) / sum(r["train_seconds"] for r in records)


def others_busy(seconds: float = 3.0) -> float:
    """Cores kept busy by processes at normal priority over ``seconds`` (niced ones yield, so they do not count)."""
    start = _busy_jiffies(count_nice=False)
    time.sleep(seconds)
    return (_busy_jiffies(count_nice=False) - start) / os.sysconf("SC_CLK_TCK") / seconds


def wait_for_quiet() -> float:
    """Waits until processes at normal priority keep less than ``QUIET_CORES`` busy (at most ``QUIET_WAIT_S``);
    returns the figure last measured."""
    deadline = time.monotonic() + QUIET_WAIT_S
    busy = others_busy()
    while busy >= QUIET_CORES and time.monotonic() < deadline:
        busy = others_busy()
    return busy


def run_row(row: str, train: Path, dev: Path, epochs: int, work: Path,
            epoch_tokens: int | None) -> tuple[float, bool, int, int]:
    """The measured run's tokens/s for ``row``, whether that is an upper bound, the thread changes it logged
    and the training tokens of one epoch.

    A run stopped at ``ROW_LIMIT_S`` before finishing a measured epoch gets the bound ``epoch_tokens / limit``
    (its training time was at most the limit); ``epoch_tokens`` comes from an earlier row of the round.
    """
    measured, neighbour, late = parse_row(row)
    out = Path(tempfile.mkdtemp(dir=work))
    others: list[subprocess.Popen] = []

    def start_neighbour() -> None:
        args, env = command(neighbour, train, dev, epochs * 20, Path(tempfile.mkdtemp(dir=work)))
        others.append(subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                       start_new_session=True))

    if neighbour is not None and not late:
        start_neighbour()
    args, env = command(measured, train, dev, epochs + (2 if late else 0), out)
    log = out / "stderr.log"
    try:
        with log.open("w") as stderr:
            run = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=stderr)
            deadline = time.monotonic() + ROW_LIMIT_S
            while run.poll() is None and time.monotonic() < deadline:
                if neighbour is not None and late and not others and epoch_records(out):
                    start_neighbour()
                time.sleep(0.2)
            if run.poll() is None:  # a collapsed row: stop it and count the epochs it finished
                run.kill()
            elif run.returncode != 0:
                raise SystemExit(f"{row}: the recipe failed:\n{log.read_text()[-3000:]}")
            run.wait()
    finally:
        for process in others:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    changes = log.read_text().count("CPU threads ")
    records = epoch_records(out)[2:] if late else epoch_records(out)
    if not records:
        if epoch_tokens is None:
            raise SystemExit(f"{row}: no measured epoch finished within {ROW_LIMIT_S} s; use fewer --sentences")
        return epoch_tokens / ROW_LIMIT_S, True, changes, epoch_tokens
    return tokens_per_s(records), False, changes, records[0]["train_tokens"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--smoke", action="store_true", help="the bundled sample, 1 epoch, 1 round")
    parser.add_argument("--sentences", type=int, default=4000, help="CoNLL-2003 train sentences")
    parser.add_argument("--epochs", type=int, default=2, help="epochs of the measured run (2 more for a late row)")
    parser.add_argument("--rounds", type=int, default=1, help="rounds over the rows (medians are reported)")
    parser.add_argument("--rows", nargs="+", default=PAIRS, help=f"rows to run (default: {' | '.join(PAIRS)})")
    parser.add_argument("--output", default=None, help="also write the markdown table to this file")
    args = parser.parse_args()
    for row in args.rows:
        try:
            parse_row(row)
        except ValueError as error:
            parser.error(f"--rows: {error}")
    work = Path(tempfile.mkdtemp(prefix="bench_sharing_"))
    if args.smoke:
        train, dev = ROOT / "data/ner/train.txt", ROOT / "data/ner/dev.txt"
        args.epochs, args.rounds = 1, 1
    else:
        data = require_data_root() / "conll2003"
        train, dev = work / "train.txt", work / "dev.txt"
        slice_corpus(data / "train.txt", args.sentences, train)
        slice_corpus(data / "dev.txt", 300, dev)
    rows = ["solo auto"] + [r for r in args.rows if r != "solo auto"]
    figures: dict[str, list[float]] = {row: [] for row in rows}
    ratios: dict[str, list[float]] = {row: [] for row in rows}
    changes: dict[str, list[int]] = {row: [] for row in rows}
    bounds: dict[str, list[bool]] = {row: [] for row in rows}
    epoch_tokens = None
    for round_ in range(args.rounds):
        for row in rows:
            busy = wait_for_quiet() if not args.smoke else others_busy(0.5)
            started = time.perf_counter()
            figure, bound, changed, epoch_tokens = run_row(row, train, dev, args.epochs, work, epoch_tokens)
            figures[row].append(figure)
            bounds[row].append(bound)
            changes[row].append(changed)
            ratios[row].append(figure / figures["solo auto"][-1])
            print(f"round {round_ + 1} {row:>22}: {'<' if bound else ' '}{figure:7.0f} tokens/s "
                  f"({ratios[row][-1]:.2f}x solo auto, "
                  f"{time.perf_counter() - started:.0f} s, {busy:.2f} cores busy before, {changed} thread changes)",
                  flush=True)
    lines = [f"NER recipe, {args.sentences if not args.smoke else 'sample'} train sentences, {args.epochs} epoch(s) "
             f"measured, {os.cpu_count()} cores, median of {args.rounds} round(s)", "",
             "| measured + neighbour | tokens/s (measured run) | x solo auto (same round) | thread changes |",
             "|---|---:|---:|---:|"]
    for row in rows:
        below = "< " if any(bounds[row]) else ""  # a bound in any round: the median is one too, at most
        lines.append(f"| {row} | {below}{statistics.median(figures[row]):.0f} | {below}{statistics.median(ratios[row]):.2f} "
                     f"| {statistics.median(changes[row]):.0f} |")
    table = "\n".join(lines)
    print("\n" + table)
    if args.output:
        Path(args.output).write_text(table + "\n", encoding="utf-8")

if __name__ == "__main__":
    main()
