"""Start-up of the command line: `lstm-nlp predict` on one sentence vs importing torch and spaCy, and `evaluate`.

    python benchmarks/bench_startup.py --model runs/pos_ewt/model     # a POS bundle; about a minute
    python benchmarks/bench_startup.py --smoke                         # trains a tiny bundle on the sample first

What a user waits for when tagging one sentence is mostly start-up. The floor is what any spaCy +
PyTorch program pays before its first line of work: ``python -c "import torch, spacy"``, measured
in the same run, interleaved, so the ratio holds on a busy machine. ``lstm-nlp evaluate`` on EWT
dev (when ``$LSTM_NLP_DATA`` is set) is timed as users run it too, start-up included.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import BenchResult, base_parser, data_root, fmt, markdown_table, median, repeats, setup

SENTENCE = "The cat sat.\n"


def timed(command: list[str], stdin: str | None = None) -> float:
    start = time.perf_counter()
    done = subprocess.run(command, input=stdin, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{done.stderr[-2000:]}")
    return seconds


def tiny_bundle(workdir: Path) -> Path:
    """A POS bundle with the recipe's default sizes, trained for one epoch on the bundled sample."""
    repo = Path(__file__).resolve().parents[1]
    subprocess.run([sys.executable, str(repo / "recipes" / "pos_tagger.py"), "--epochs", "1", "--no-progress",
                    "--no-checkpoints", "--output-dir", str(workdir)], check=True, capture_output=True)
    return workdir / "model"


def main(argv=None) -> BenchResult:
    parser = base_parser(__doc__.split("\n")[0])
    parser.add_argument("--model", help="POS bundle to run (default: one trained for an epoch on the sample)")
    args = parser.parse_args(argv)
    setup(args)
    n = repeats(args, 7)
    cli = shutil.which("lstm-nlp") or "lstm-nlp"
    workdir = Path(tempfile.mkdtemp(prefix="bench_startup-"))
    try:
        model = Path(args.model) if args.model else tiny_bundle(workdir / "pos")
        commands = {
            'python -c "import torch, spacy"': ([sys.executable, "-c", "import torch, spacy"], None),
            'echo "The cat sat." | lstm-nlp predict --model M': ([cli, "predict", "--model", str(model)], SENTENCE),
        }
        root = data_root()
        dev = root / "ud_english_ewt" / "en_ewt-ud-dev.conllu" if root and not args.smoke else None
        if dev is not None and dev.exists():
            commands["lstm-nlp evaluate --model M --data $LSTM_NLP_DATA/ud_english_ewt/en_ewt-ud-dev.conllu"] = (
                [cli, "evaluate", "--model", str(model), "--data", str(dev)], None)
        times: dict[str, list[float]] = {name: [] for name in commands}
        for r in range(n + 1):  # round 0 warms the page cache
            for name, (command, stdin) in commands.items():
                seconds = timed(command, stdin)
                if r:
                    times[name].append(seconds)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    floor = median(times['python -c "import torch, spacy"'])
    rows = [[f"`{name}`", fmt(median(t), 2), f"{min(t):.2f}-{max(t):.2f}", f"**{median(t) / floor:.2f}x**"]
            for name, t in times.items()]
    result = BenchResult("startup")
    result.add_section(
        "Start-up: the command as users run it",
        f"Wall seconds of each command (a new process each time), median of {n} interleaved repeats after a warm-up "
        "round, with the ratio to importing torch and spaCy measured in the same run. `M` is a POS bundle "
        f"({'trained for one epoch on the bundled sample' if not args.model else 'the recipe default model'}).\n\n"
        + markdown_table(["command", "median s", "range s", "vs import torch, spacy"], rows))
    result.metrics = {"seconds": {name: median(t) for name, t in times.items()},
                      "predict_over_import": median(times['echo "The cat sat." | lstm-nlp predict --model M']) / floor}
    result.emit(args)
    return result


if __name__ == "__main__":
    main()
