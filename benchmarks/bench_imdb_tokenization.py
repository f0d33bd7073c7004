"""Tokenizing + numericalizing the 25,000 IMDB training reviews: first run and cached run.

    python benchmarks/bench_imdb_tokenization.py            # IMDB train.jsonl ($LSTM_NLP_DATA or ../shared/data)
    python benchmarks/bench_imdb_tokenization.py --smoke    # the bundled sample, seconds

What ``recipes/imdb_sentiment.py`` does before training, timed phase by phase in an empty cache
folder (first run) and again with the caches in place (cached run, a fresh ``load`` ->
``tokenize`` -> ``vocab`` -> ``numericalize`` call chain that finds every Arrow file):

1. ``load_text_classification(train.jsonl)`` (``Dataset.from_json`` + label names);
2. ``tokenize_dataset`` (spaCy ``blank("en")`` tokenizer, lower-cased, ``<br />`` removed) via ``datasets.map``;
3. ``build_vocab`` (25,000 most frequent tokens, counted in Arrow);
4. ``numericalize_dataset`` (Arrow ``index_in``) via ``datasets.map``.

Targets: <= 20 s first, <= 3 s cached. Writes ``docs/benchmarks-imdb-tokenization.md``
(not with ``--smoke``). Turning the ids into Python lists for the DataLoader
(``ClassificationPipeline.encode``) is reported separately.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from pathlib import Path

import datasets

from common import (REPO_ROOT, SAMPLE_DIR, BenchResult, base_parser, fmt, machine_info, markdown_table,
                    require_data_root, setup)
from lstm_nlp.data import TextTokenizer, build_vocab, load_text_classification, numericalize_dataset, tokenize_dataset

DOC = REPO_ROOT / "docs" / "benchmarks-imdb-tokenization.md"
PHASES = ("load", "tokenize", "vocab", "numericalize")


def run_once(source: Path, cache: Path, num_proc: int | None, max_vocab: int) -> tuple[dict, object]:
    """Times the four phases; returns ({phase: seconds, "tokens": n}, numericalized dataset)."""
    times = {}
    start = time.perf_counter()
    data = load_text_classification(source, label_names=["neg", "pos"], cache_dir=cache)
    times["load"] = time.perf_counter() - start
    start = time.perf_counter()
    tokens = tokenize_dataset(data, TextTokenizer("spacy"), num_proc=num_proc, cache_dir=cache)
    times["tokenize"] = time.perf_counter() - start
    start = time.perf_counter()
    vocab = build_vocab(tokens, min_freq=2, max_size=max_vocab)
    times["vocab"] = time.perf_counter() - start
    start = time.perf_counter()
    ids = numericalize_dataset(tokens, vocab, cache_dir=cache)
    times["numericalize"] = time.perf_counter() - start
    times["total"] = sum(times[p] for p in PHASES)
    times["reviews"] = len(ids)
    times["tokens"] = sum(len(row) for row in ids.with_format("arrow")["token_ids"].to_pylist())
    return times, ids


def main() -> None:
    parser = base_parser(__doc__.split("\n")[0])
    parser.add_argument("--num-proc", default="1,2", help="comma-separated datasets.map process counts to time")
    parser.add_argument("--max-vocab", type=int, default=25000)
    parser.add_argument("--keep-cache", help="use this cache folder and keep it (default: a temporary one)")
    args = parser.parse_args()
    setup(args)
    datasets.disable_progress_bars()
    source = SAMPLE_DIR / "imdb" / "train.jsonl" if args.smoke else require_data_root() / "imdb" / "train.jsonl"
    info_before = machine_info()
    result = BenchResult("imdb_tokenization")
    rows = []
    for num_proc in [int(n) for n in args.num_proc.split(",")]:
        cache = Path(args.keep_cache or tempfile.mkdtemp(prefix="bench_imdb_tok_")) / f"num_proc_{num_proc}"
        shutil.rmtree(cache, ignore_errors=True)
        first, _ = run_once(source, cache, num_proc if num_proc > 1 else None, args.max_vocab)
        cached, ids = run_once(source, cache, num_proc if num_proc > 1 else None, args.max_vocab)
        start = time.perf_counter()
        ids.with_format("arrow")["token_ids"].to_pylist()
        to_lists = time.perf_counter() - start
        for name, times in (("first run", first), ("cached run", cached)):
            rows.append([num_proc, name, *(f"{times[p]:.2f}" for p in PHASES), f"**{times['total']:.2f}**",
                         fmt(times["tokens"] / times["total"]), fmt(times["reviews"])])
        result.metrics[f"num_proc_{num_proc}"] = {"first": first, "cached": cached, "to_python_lists_s": to_lists}
        result.notes.append(f"num_proc={num_proc}: ids -> Python lists for the DataLoader took {to_lists:.2f} s "
                            f"({first['tokens']:,} tokens)")
        if not args.keep_cache:
            shutil.rmtree(cache.parent, ignore_errors=True)
    headers = ["num_proc", "run", *(f"{p} s" for p in PHASES), "total s", "tokens/s", "reviews"]
    table = markdown_table(headers, rows)
    result.add_section("Tokenize + numericalize IMDB train (seconds)", table)
    result.emit(args)
    if not args.smoke:
        write_doc(table, result, info_before, machine_info())


def _tokenize_rate(result: BenchResult) -> str:
    single = result.metrics.get("num_proc_1")
    if not single:
        return "see the tokenize column"
    first = single["first"]
    return f"{first['reviews'] / first['tokenize']:,.0f} reviews/s in one process in this run"


def write_doc(table: str, result: BenchResult, before: dict, after: dict) -> None:
    best_first = min(m["first"]["total"] for m in result.metrics.values() if isinstance(m, dict) and "first" in m)
    best_cached = min(m["cached"]["total"] for m in result.metrics.values() if isinstance(m, dict) and "cached" in m)
    verdict = (f"Best first run {best_first:.1f} s (target <= 20 s: {'met' if best_first <= 20 else 'NOT met'}), "
               f"best cached run {best_cached:.2f} s (target <= 3 s: {'met' if best_cached <= 3 else 'NOT met'}).")
    text = f"""# IMDB tokenization benchmark

`python benchmarks/bench_imdb_tokenization.py` on {before['date']}: {before['cpu']}, {before['cpu_count']} cores,
torch {before['torch']}, spaCy {before['spacy']}, datasets {before['datasets']}. The machine is shared:
load average {', '.join(f'{x:.2f}' for x in before['loadavg'])} before the run and
{', '.join(f'{x:.2f}' for x in after['loadavg'])} after it (1, 5, 15 minutes).

The 25,000 reviews of IMDB `train.jsonl` are read (`Dataset.from_json`), tokenized with spaCy's
`blank("en")` tokenizer (lower-cased, `<br />` removed) through `datasets.map`, counted into a
25,000-word vocabulary in Arrow, and turned into ids with Arrow's `index_in` through `datasets.map`.
The first run starts from an empty cache folder; the cached run repeats the same calls and reads
the Arrow files that the first run wrote (fingerprints of the input and of the tokenizer /
vocabulary settings name them).

{table}

{verdict}

""" + "\n".join(f"- {note}" for note in result.notes) + """

Where the time goes: spaCy's tokenizer itself ({rate}); Arrow does the counting and the id lookup
in well under a second. `num_proc=2` splits the texts over two processes, which helps only as
far as the second core is free of other work.
""".format(rate=_tokenize_rate(result))
    DOC.write_text(text, encoding="utf-8")
    print(f"\nwrote {DOC}")


if __name__ == "__main__":
    main()
