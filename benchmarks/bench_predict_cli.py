"""`lstm-nlp predict` end to end on 10x the EWT dev text: tokens/s of the command as users run it, per option.

    python benchmarks/bench_predict_cli.py --model runs/pos_ewt/model     # a POS bundle; a few minutes
    python benchmarks/bench_predict_cli.py --smoke                         # the bundled sample, a tiny bundle

The input is the raw text of every EWT dev sentence (``# text =`` lines) repeated 10 times (20,010 lines).
Each option set runs as a new process (start-up, spaCy tokenization, formatting and writing included),
interleaved with the others and with the floor any torch + spaCy program pays (``import torch, spacy``),
median of ``--repeats`` after a warm-up round. Tokens are those of the output; tags are compared with the
first row (fp32, one process). ``--threads`` is ignored here: each row names its own threads.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench_startup import tiny_bundle
from common import BenchResult, base_parser, ewt_paths, fmt, markdown_table, median, repeats, setup

# (threads, workers, precision): the default first (the reference for tags)
OPTIONS = [(2, 1, "fp32"), (1, 1, "fp32"), (2, 2, "fp32"), (2, 1, "bf16"), (2, 2, "bf16")]
FLOOR = 'python -c "import torch, spacy"'


def sentence_texts(conllu: Path) -> list[str]:
    """The ``# text = ...`` line of each sentence of a CoNLL-U file."""
    with open(conllu, encoding="utf-8") as lines:
        return [line[len("# text = "):].rstrip("\n") for line in lines if line.startswith("# text = ")]


def run(command: list[str], output: Path) -> float:
    start = time.perf_counter()
    with open(output, "w", encoding="utf-8") as out:
        done = subprocess.run(command, stdout=out, stderr=subprocess.PIPE, text=True, check=False)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{done.stderr[-2000:]}")
    return seconds


def tags(path: Path) -> list[str]:
    return [item.rsplit("/", 1)[-1] for line in path.read_text(encoding="utf-8").splitlines() for item in line.split()]


def main(argv=None) -> BenchResult:
    parser = base_parser(__doc__.split("\n")[0])
    parser.add_argument("--model", help="POS bundle (default: one trained for an epoch on the bundled sample)")
    parser.add_argument("--copies", type=int, default=10, help="times the dev text is repeated (default: 10)")
    args = parser.parse_args(argv)
    setup(args)
    n = repeats(args, 3)
    workdir = Path(tempfile.mkdtemp(prefix="bench_predict_cli-"))
    try:
        model = Path(args.model) if args.model else tiny_bundle(workdir / "pos")
        texts = sentence_texts(ewt_paths(args.smoke)[1])
        source = workdir / "input.txt"
        source.write_text("\n".join(texts * args.copies) + "\n", encoding="utf-8")
        commands = {FLOOR: [sys.executable, "-c", "import torch, spacy"]}
        for threads, workers, precision in OPTIONS:
            commands[f"--threads {threads} --workers {workers} --precision {precision}"] = [
                sys.executable, "-m", "lstm_nlp.cli", "predict", "--model", str(model), "--input", str(source),
                "--threads", str(threads), "--workers", str(workers), "--precision", precision]
        times: dict[str, list[float]] = {name: [] for name in commands}
        outputs = {name: workdir / f"out{i}.txt" for i, name in enumerate(commands)}
        for r in range(n + 1):  # round 0 warms the page cache
            for name, command in commands.items():
                seconds = run(command, outputs[name])
                if r:
                    times[name].append(seconds)
        reference = tags(outputs[list(commands)[1]])
        changed = {name: sum(a != b for a, b in zip(tags(outputs[name]), reference)) / max(len(reference), 1)
                   for name in list(commands)[1:]}
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    tokens = len(reference)
    floor = median(times[FLOOR])
    rows = [[f"`{FLOOR}`", fmt(floor, 2), "-", "-", "-", "-"]]
    base = median(times[list(commands)[1]])
    for name in list(commands)[1:]:
        seconds = median(times[name])
        beyond = fmt(tokens / (seconds - floor)) if seconds > floor else "-"
        rows.append([f"`{name}`", fmt(seconds, 2), fmt(tokens / seconds), beyond, f"**{base / seconds:.2f}x**",
                     f"{100 * changed[name]:.2f}%"])
    result = BenchResult("predict_cli")
    result.add_section(
        "`lstm-nlp predict` end to end, per option",
        f"`lstm-nlp predict --model M --input TEXT` with each option set: {len(texts) * args.copies:,} lines "
        f"({args.copies}x the EWT dev text{' of the bundled sample' if args.smoke else ''}), {tokens:,} output "
        f"tokens; `M` is {'a bundle trained for one epoch on the sample' if not args.model else 'the given POS bundle'}. "
        f"Wall seconds of the command (a new process each time), median of {n} interleaved repeats after a warm-up "
        "round; the speed-up is against the first row, measured in the same run; tags changed are against it too. "
        "Tokens/s beyond the floor divides the tokens by the seconds after the imports.\n\n"
        + markdown_table(["command", "median s", "tokens/s", "tokens/s beyond the floor", "vs first row",
                          "tags changed"], rows))
    result.metrics = {"tokens": tokens, "floor_seconds": floor,
                      "seconds": {name: median(t) for name, t in times.items()}, "tags_changed": changed}
    result.emit(args)
    return result


if __name__ == "__main__":
    main()
