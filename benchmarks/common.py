"""Shared helpers for the benchmarks: data paths, timing, memory, machine facts and result files.

Every benchmark script is runnable on its own::

    python benchmarks/bench_training.py [--smoke] [--json out.json] [--repeats N]

It prints its tables and, with ``--json``, writes a result ``{"name", "sections": [{"title",
"markdown"}], "metrics": {...}, "peak_rss_mb"}`` that ``benchmarks/run_all.py`` assembles into
``docs/benchmarks.md``. ``--smoke`` runs on the bundled sample in ``data/`` in a few seconds
(checks the code path, the figures mean nothing).
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import platform
import resource
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import torch

REPO_ROOT = Path(__file__).resolve().parents[1]
SAMPLE_DIR = REPO_ROOT / "data"
CACHE_DIR = Path(os.environ.get("LSTM_NLP_BENCH_CACHE", Path.home() / ".cache" / "lstm_nlp_benchmarks"))

# The POS recipe's word-level model and optimisation defaults; refreshed from recipes/pos_tagger.py
# by pos_recipe_defaults() so the benchmarks follow the recipe.
POS_DEFAULTS = {"embedding_dim": 100, "hidden_size": 128, "num_layers": 2, "dropout": 0.33, "batch_size": 32,
                "lr": 2e-3, "min_freq": 2, "grad_clip": 5.0}


def pos_recipe_defaults():
    """(``POS_DEFAULTS`` updated from the recipe's ``parse_args([])``, that Namespace or None)."""
    args = recipe_defaults("pos_tagger")
    if args is not None:
        for key in POS_DEFAULTS:
            POS_DEFAULTS[key] = getattr(args, key, POS_DEFAULTS[key])
    return POS_DEFAULTS, args


def data_root() -> Path | None:
    """The real corpora: ``$LSTM_NLP_DATA``, else ``../shared/data`` beside the repository, else None."""
    for candidate in (os.environ.get("LSTM_NLP_DATA"), REPO_ROOT.parent / "shared" / "data"):
        if candidate and Path(candidate).is_dir():
            return Path(candidate)
    return None


def require_data_root() -> Path:
    root = data_root()
    if root is None:
        sys.exit("real corpora not found: set LSTM_NLP_DATA (or run with --smoke on the bundled sample)")
    return root


def ewt_paths(smoke: bool) -> tuple[Path, Path]:
    """(train, dev) CoNLL-U files: UD English-EWT, or the bundled sample with ``smoke``."""
    if smoke:
        return SAMPLE_DIR / "pos" / "train.conllu", SAMPLE_DIR / "pos" / "dev.conllu"
    ewt = require_data_root() / "ud_english_ewt"
    return ewt / "en_ewt-ud-train.conllu", ewt / "en_ewt-ud-dev.conllu"


def portable(text: object) -> str:
    """``text`` with this machine's folders replaced by placeholders, for records kept in ``docs/``.

    The repository becomes ``.``, the corpora ``$LSTM_NLP_DATA``, the benchmark cache
    ``$LSTM_NLP_BENCH_CACHE``, the temporary folder ``$TMPDIR`` and the home folder ``~``.
    """
    import tempfile

    text = str(text)
    root = data_root()
    for folder, name in ((CACHE_DIR, "$LSTM_NLP_BENCH_CACHE"), (root, "$LSTM_NLP_DATA"), (REPO_ROOT, "."),
                         (Path(tempfile.gettempdir()), "$TMPDIR"), (Path.home(), "~")):
        if folder is not None:
            text = text.replace(str(Path(folder).resolve()), name).replace(str(folder), name)
    return text


def base_parser(description: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--smoke", action="store_true", help="tiny run on the bundled sample (checks code paths)")
    parser.add_argument("--json", help="write the result here (for run_all.py)")
    parser.add_argument("--repeats", type=int, default=None, help="timed repeats per measurement (median reported)")
    parser.add_argument("--threads", type=int, default=1,
                        help="torch intra-op threads (default 1: on a shared 2-core machine a second thread waits "
                             "at every op's barrier for a core another process holds; 0 = torch's default)")
    return parser


def setup(args: argparse.Namespace) -> None:
    """Applies ``--threads`` (call right after parsing)."""
    if args.threads:
        torch.set_num_threads(args.threads)


def repeats(args: argparse.Namespace, default: int) -> int:
    if args.repeats:
        return args.repeats
    return 2 if args.smoke else default


# ---------------------------------------------------------------------- timing
def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else float("nan")


def time_call(fn: Callable[[], object], *, min_seconds: float = 0.0, max_calls: int = 1_000_000) -> float:
    """Seconds per call of ``fn``: calls it until ``min_seconds`` have passed (at least once)."""
    calls, start = 0, time.perf_counter()
    while True:
        fn()
        calls += 1
        elapsed = time.perf_counter() - start
        if elapsed >= min_seconds or calls >= max_calls:
            return elapsed / calls


class StopWatch:
    """Accumulates wall time over ``with watch:`` blocks."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self._start = 0.0

    def __enter__(self) -> StopWatch:
        self._start = time.perf_counter()
        return self

    def __exit__(self, *exc) -> None:
        self.seconds += time.perf_counter() - self._start


class TimedLoader:
    """Wraps a batch iterable and measures the time spent waiting for each batch (``next()``).

    Exposes the wrapped loader's ``batch_sampler`` so a Trainer can still call ``set_epoch``.
    """

    def __init__(self, loader) -> None:
        self.loader = loader
        self.batch_sampler = getattr(loader, "batch_sampler", None)
        self.wait_seconds = 0.0
        self.batches = 0

    def reset(self) -> None:
        self.wait_seconds, self.batches = 0.0, 0

    def __len__(self) -> int:
        return len(self.loader)

    def __iter__(self):
        iterator = iter(self.loader)
        while True:
            start = time.perf_counter()
            try:
                batch = next(iterator)
            except StopIteration:
                self.wait_seconds += time.perf_counter() - start
                return
            self.wait_seconds += time.perf_counter() - start
            self.batches += 1
            yield batch


def peak_rss_mb() -> float:
    """Peak resident set size of this process so far, in MiB (``ru_maxrss`` is KiB on Linux)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# ---------------------------------------------------------------------- machine facts
def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def cpu_flags() -> set[str]:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("flags"):
                return set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return set()


def memory_gib() -> float | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                return int(line.split()[1]) / 1024 / 1024
    except OSError:
        pass
    return None


def machine_info() -> dict:
    """Machine, library versions, date and load average, for the report header."""
    import datasets
    import spacy

    import lstm_nlp

    flags = cpu_flags()
    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else None
    return {
        "date": _dt.datetime.now().astimezone().isoformat(timespec="seconds"),
        "cpu": cpu_model(),
        "cpu_count": os.cpu_count(),
        "simd": " ".join(f for f in ("avx2", "avx512f", "avx512_bf16", "amx_bf16", "avx512_vnni") if f in flags),
        "memory_gib": round(memory_gib() or 0, 1),
        "gpu": gpu,
        "torch_threads": torch.get_num_threads(),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "mkldnn": torch.backends.mkldnn.is_available(),
        "lstm_nlp": lstm_nlp.__version__,
        "spacy": spacy.__version__,
        "datasets": datasets.__version__,
        "platform": platform.platform(),
        "loadavg": list(os.getloadavg()),
    }


# ---------------------------------------------------------------------- results
def fmt(value: float, digits: int = 0) -> str:
    if value is None or value != value:  # None or NaN
        return "n/a"
    return f"{value:,.{digits}f}"


def markdown_table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


@dataclass
class BenchResult:
    """One benchmark's output: markdown sections for the report plus machine-readable metrics."""

    name: str
    sections: list[dict] = field(default_factory=list)
    metrics: dict = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def add_section(self, title: str, markdown: str) -> None:
        self.sections.append({"title": title, "markdown": markdown})

    def emit(self, args: argparse.Namespace) -> None:
        """Prints the tables and writes the JSON result (with the peak RSS) when ``--json`` was given."""
        self.metrics["peak_rss_mb"] = round(peak_rss_mb(), 1)
        for section in self.sections:
            print(f"\n## {section['title']}\n\n{section['markdown']}")
        for note in self.notes:
            print(f"\nnote: {note}")
        print(f"\npeak RSS of this benchmark process: {self.metrics['peak_rss_mb']:.0f} MiB")
        if args.json:
            payload = {"name": self.name, "sections": self.sections, "metrics": self.metrics, "notes": self.notes,
                       "smoke": bool(args.smoke), "argv": [portable(a) for a in sys.argv[1:]],
                       "threads": torch.get_num_threads()}
            Path(args.json).parent.mkdir(parents=True, exist_ok=True)
            Path(args.json).write_text(json.dumps(payload, indent=2), encoding="utf-8")


# ---------------------------------------------------------------------- recipes and corpora
def recipe_defaults(name: str) -> argparse.Namespace | None:
    """The default options of ``recipes/<name>.py`` (``parse_args([])``), or None if it does not exist yet."""
    path = REPO_ROOT / "recipes" / f"{name}.py"
    if not path.exists():
        return None
    import importlib.util

    spec = importlib.util.spec_from_file_location(f"_recipe_{name}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    threads = torch.get_num_threads()
    try:
        return module.parse_args([])
    finally:  # a recipe's parser applies its --threads default; the benchmark's --threads stands
        torch.set_num_threads(threads)


def imdb_texts(limit: int | None = None, *, smoke: bool = False) -> tuple[list[str], list[int]]:
    """(texts, labels) of IMDB train.jsonl (file order: sorted by label), or a few sample lines with ``smoke``."""
    if smoke:
        texts = [line for line in (SAMPLE_DIR / "pos" / "train.conllu").read_text().splitlines()
                 if line.startswith("# text = ")]
        texts = [t[len("# text = "):] for t in texts] or ["a short review"]
        return texts, [i % 2 for i in range(len(texts))]
    texts, labels = [], []
    with open(require_data_root() / "imdb" / "train.jsonl", encoding="utf-8") as handle:
        for line in handle:
            record = json.loads(line)
            texts.append(record["text"])
            labels.append(int(record["label"]))
            if limit is not None and len(texts) >= limit:
                break
    return texts, labels


def imdb_token_lengths(*, smoke: bool = False) -> tuple[list[int], str]:
    """spaCy token counts of every IMDB training review (the toolkit's IMDB tokenizer: ``<br />`` removed,
    ``spacy.blank("en")``), cached in ``CACHE_DIR``; returns (lengths, how they were obtained)."""
    from lstm_nlp.data.tokenizers import SpacyTokenizer

    texts, _ = imdb_texts(smoke=smoke)
    try:
        from lstm_nlp.data.tokenizers import TextTokenizer

        tokenizer, name = TextTokenizer("spacy"), "lstm_nlp TextTokenizer('spacy')"
    except ImportError:
        tokenizer, name = SpacyTokenizer("en"), "SpacyTokenizer('en')"
    if smoke:
        return [len(t) for t in tokenizer.pipe(texts)], name
    import spacy

    source = require_data_root() / "imdb" / "train.jsonl"
    stat = source.stat()
    key = f"{stat.st_size}-{int(stat.st_mtime)}-{spacy.__version__}-{name}"
    cache = CACHE_DIR / "imdb_train_token_lengths.json"
    if cache.exists():
        cached = json.loads(cache.read_text())
        if cached.get("key") == key:
            return cached["lengths"], f"{name}, cached (took {cached['seconds']:.0f} s to compute)"
    start = time.perf_counter()
    lengths = [len(tokens) for tokens in tokenizer.pipe(texts)]
    seconds = time.perf_counter() - start
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    cache.write_text(json.dumps({"key": key, "lengths": lengths, "seconds": seconds}))
    return lengths, f"{name}, computed in {seconds:.0f} s"
