"""Peak memory of `lstm-nlp predict`: a 50 MB line, the longest line taken, growing files of normal lines.

    python benchmarks/bench_predict_memory.py --model runs/pos_ewt/model   # a POS bundle; minutes per 10 MB
    python benchmarks/bench_predict_memory.py --smoke                       # tiny bundle, small inputs

Each input is run as users run it (``lstm-nlp predict --model M --input FILE > /dev/null``, a new
process), and its peak resident memory is read from the kernel's accounting of that one child
(``os.wait4``). The lines are EWT sentences (``$LSTM_NLP_DATA``, else the bundled POS sample)
repeated to the size asked for; flat memory means the peak does not grow with the input's size.
A 50 MB line is refused at ``--max-line-chars`` (100,000 by default) before it is held whole.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from bench_startup import tiny_bundle
from common import SAMPLE_DIR, BenchResult, base_parser, data_root, fmt, markdown_table, setup


def run_predict(model: Path, source: Path) -> tuple[float, float, int, str]:
    """``lstm-nlp predict`` on ``source``: (peak RSS MiB, wall seconds, exit code, first stderr line)."""
    cli = shutil.which("lstm-nlp") or "lstm-nlp"
    start = time.perf_counter()
    with open(os.devnull, "w") as sink:
        process = subprocess.Popen([cli, "predict", "--model", str(model), "--input", str(source)], stdout=sink,
                                   stderr=subprocess.PIPE, text=True)
        err = process.stderr.read()
        _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - start
    process.returncode = os.waitstatus_to_exitcode(status)
    first = next((line for line in err.splitlines() if line.strip()), "")
    return usage.ru_maxrss / 1024, seconds, process.returncode, first


def sentences() -> list[str]:
    """Raw text of EWT sentences (``# text =`` lines), or the bundled sample's tokens joined."""
    root = data_root()
    ewt = root / "ud_english_ewt" / "en_ewt-ud-train.conllu" if root else None
    source = ewt if ewt is not None and ewt.exists() else SAMPLE_DIR / "pos" / "train.conllu"
    texts = [line[len("# text = "):].strip() for line in source.read_text(encoding="utf-8").splitlines()
             if line.startswith("# text = ")]
    if not texts:  # the sample has no text comments: rebuild sentences from the word column
        words: list[str] = []
        for line in source.read_text(encoding="utf-8").splitlines() + [""]:
            if not line.strip():
                if words:
                    texts.append(" ".join(words))
                words = []
            elif not line.startswith("#"):
                words.append(line.split("\t")[1])
    return texts


def write_lines(path: Path, texts: list[str], megabytes: float) -> Path:
    """``texts`` repeated, one per line, until the file holds ``megabytes`` MB."""
    block = ("\n".join(texts) + "\n").encode("utf-8")
    target = int(megabytes * 1e6)
    with open(path, "wb") as handle:
        written = 0
        while written < target:
            piece = block[: target - written]
            handle.write(piece)
            written += len(piece)
        handle.write(b"\n")
    return path


def write_single_line(path: Path, megabytes: float) -> Path:
    word = b"word "
    with open(path, "wb") as handle:
        handle.write(word * int(megabytes * 1e6 / len(word)) + b"\n")
    return path


def main(argv=None) -> BenchResult:
    parser = base_parser(__doc__.split("\n")[0])
    parser.add_argument("--model", help="POS bundle to run (default: one trained for an epoch on the sample)")
    parser.add_argument("--sizes-mb", default=None,
                        help="comma-separated sizes of the normal-line inputs in MB (default 1,5,20; smoke 0.2,1)")
    args = parser.parse_args(argv)
    setup(args)
    sizes = [float(s) for s in (args.sizes_mb or ("0.2,1" if args.smoke else "1,5,20")).split(",")]
    workdir = Path(tempfile.mkdtemp(prefix="bench_predict_memory-"))
    rows, metrics = [], {}
    try:
        model = Path(args.model) if args.model else tiny_bundle(workdir / "pos")
        texts = sentences()
        inputs = [("one short line", write_lines(workdir / "one.txt", texts[:1], 0)),
                  ("a single 50 MB line", write_single_line(workdir / "line50.txt", 50)),
                  ("a single line of 99,995 characters (just under the limit)",
                   write_single_line(workdir / "line1.txt", 0.099995))]
        inputs += [(f"{size:g} MB of normal lines", write_lines(workdir / f"lines{size:g}.txt", texts, size))
                   for size in sizes]
        for name, path in inputs:
            rss, seconds, code, first = run_predict(model, path)
            size_mb = path.stat().st_size / 1e6
            outcome = "exit 0" if code == 0 else f"exit {code}: `{first[:110]}`"
            rows.append([name, fmt(size_mb, 2), fmt(rss, 0), fmt(seconds, 1),
                         f"{size_mb / seconds:.2f}" if code == 0 else "-", outcome])
            metrics[name] = {"input_mb": round(size_mb, 3), "peak_rss_mib": round(rss, 1),
                             "seconds": round(seconds, 2), "exit": code}
            print(f"{name}: {rss:.0f} MiB, {seconds:.1f} s, exit {code}", flush=True)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    result = BenchResult("predict_memory")
    result.add_section(
        "Peak memory of `lstm-nlp predict`",
        "Peak resident memory (MiB) of one `lstm-nlp predict --model M --input FILE > /dev/null` process per input "
        f"(`M`: a POS bundle, {'trained for one epoch on the bundled sample' if not args.model else 'given'}). "
        "Normal lines are EWT sentences repeated to the size shown.\n\n"
        + markdown_table(["input", "MB", "peak RSS MiB", "wall s", "MB/s", "outcome"], rows))
    result.metrics = metrics
    result.emit(args)
    return result


if __name__ == "__main__":
    main()
