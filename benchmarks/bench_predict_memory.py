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

import json
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


def reviews() -> list[str]:
    """IMDB's unlabelled reviews (``$LSTM_NLP_DATA/imdb/unsup.jsonl``), one per line: long lines of distinct text."""
    root = data_root()
    path = root / "imdb" / "unsup.jsonl" if root else None
    if path is None or not path.exists():
        return []
    with open(path, encoding="utf-8") as handle:
        return [" ".join(json.loads(line)["text"].replace("<br />", " ").split()) for line in handle]


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
    parser.add_argument("--review-sizes-mb", default="",
                        help="comma-separated sizes of inputs made of IMDB reviews, one a line ($LSTM_NLP_DATA/imdb/"
                             "unsup.jsonl: 50,000 distinct texts, about 65 MB, repeated beyond that; default: none)")
    parser.add_argument("--only-sizes", action="store_true",
                        help="skip the short-line and single-line rows (long runs of the size rows only)")
    args = parser.parse_args(argv)
    setup(args)
    sizes = [float(s) for s in (args.sizes_mb or ("0.2,1" if args.smoke else "1,5,20")).split(",")]
    workdir = Path(tempfile.mkdtemp(prefix="bench_predict_memory-"))
    rows, metrics = [], {}
    try:
        model = Path(args.model) if args.model else tiny_bundle(workdir / "pos")
        texts = sentences()
        inputs = [] if args.only_sizes else [
            ("one short line", lambda: write_lines(workdir / "one.txt", texts[:1], 0)),
            ("a single 50 MB line", lambda: write_single_line(workdir / "line50.txt", 50)),
            ("a single line of 99,995 characters (just under the limit)",
             lambda: write_single_line(workdir / "line1.txt", 0.099995))]
        inputs += [(f"{size:g} MB of normal lines (EWT sentences)",
                    lambda size=size: write_lines(workdir / "lines.txt", texts, size)) for size in sizes]
        review_sizes = [float(s) for s in args.review_sizes_mb.split(",") if s.strip()]
        long_texts = reviews() if review_sizes else []
        inputs += [(f"{size:g} MB of IMDB reviews, one a line", lambda size=size: write_lines(
                    workdir / "reviews.txt", long_texts, size)) for size in review_sizes if long_texts]
        for name, make in inputs:
            path = make()  # one input file on disk at a time: a 1 GB row needs 1 GB of free space, not more
            rss, seconds, code, first = run_predict(model, path)
            size_mb = path.stat().st_size / 1e6
            path.unlink()
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
        "Normal lines are EWT sentences repeated to the size shown; review rows hold IMDB's distinct unlabelled "
        "reviews, one a line (about 230 words each), repeated only beyond their 65 MB.\n\n"
        + markdown_table(["input", "MB", "peak RSS MiB", "wall s", "MB/s", "outcome"], rows))
    result.metrics = metrics
    result.emit(args)
    return result


if __name__ == "__main__":
    main()
