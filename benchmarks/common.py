"""The benchmark harness: options, data, ``compare()``, and result files with their acceptance targets.

A benchmark prints its tables and, with ``--json``, writes ``{"name", "sections", "metrics", "targets"}``
for ``run_all.py``. ``--smoke``: the bundled sample (checks the code path; the figures mean nothing);
``--quick``: the real corpora, smaller slices, one repeat.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import importlib.util
import json
import logging
import os
import platform
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import torch

from lstm_nlp.argtypes import NON_NEGATIVE_INT, POSITIVE_INT
from lstm_nlp.device import set_cpu_threads
from lstm_nlp.errors import LstmNlpError

REPO_ROOT = Path(__file__).resolve().parents[1]
SAMPLE_DIR = REPO_ROOT / "data"
CACHE_DIR = Path(os.environ.get("LSTM_NLP_BENCH_CACHE", Path.home() / ".cache" / "lstm_nlp_benchmarks"))


# ---------------------------------------------------------------------- options and data
def base_parser(description: str) -> argparse.ArgumentParser:
    """The options every benchmark takes."""
    parser = argparse.ArgumentParser(description=description)
    size = parser.add_mutually_exclusive_group()
    size.add_argument("--smoke", action="store_true", help="tiny run on the bundled sample (checks code paths)")
    size.add_argument("--quick", action="store_true", help="the real corpora, smaller slices, one repeat")
    parser.add_argument("--json", help="write the result here (for run_all.py)")
    parser.add_argument("--repeats", type=POSITIVE_INT, default=None,
                        help="timed repeats per measurement (median reported)")
    parser.add_argument("--threads", type=NON_NEGATIVE_INT, default=1, help="torch intra-op threads (0: torch's)")
    return parser


def run(main: Callable[[], int | None]) -> int | None:
    """Runs a benchmark's ``main`` and returns what it returns; the toolkit's own errors (a wrong ``--model``, a
    missing file) end it with their one-line message instead of a traceback."""
    try:
        return main()
    except LstmNlpError as err:
        sys.exit(f"{Path(sys.argv[0]).name}: error: {err}")


def setup(args: argparse.Namespace, default_repeats: int = 5) -> int:
    """Applies ``--threads``; returns ``--repeats``, else 1 with ``--quick``, 2 with ``--smoke``, else the default."""
    if args.threads:
        torch.set_num_threads(args.threads)
    return args.repeats or (1 if args.quick else 2 if args.smoke else default_repeats)


def data_root() -> Path | None:
    """The real corpora: ``$LSTM_NLP_DATA``, else ``../shared/data`` beside the repository, else None."""
    found = [Path(c) for c in (os.environ.get("LSTM_NLP_DATA"), REPO_ROOT.parent / "shared" / "data")
             if c and Path(c).is_dir()]
    return found[0] if found else None


def require_data_root() -> Path:
    return data_root() or sys.exit("real corpora not found: set LSTM_NLP_DATA (or use --smoke: the bundled sample)")


def ewt_paths(smoke: bool) -> tuple[Path, Path]:
    """(train, dev) CoNLL-U files: UD English-EWT, or the bundled sample with ``smoke``."""
    if smoke:
        return SAMPLE_DIR / "pos" / "train.conllu", SAMPLE_DIR / "pos" / "dev.conllu"
    ewt = require_data_root() / "ud_english_ewt"
    return ewt / "en_ewt-ud-train.conllu", ewt / "en_ewt-ud-dev.conllu"


def imdb_texts(*, smoke: bool = False) -> tuple[list[str], list[int]]:
    """(texts, labels) of IMDB train.jsonl (file order: sorted by label), or the bundled sample with ``smoke``."""
    path = SAMPLE_DIR / "imdb" / "train.jsonl" if smoke else require_data_root() / "imdb" / "train.jsonl"
    records = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [r["text"] for r in records], [int(r["label"]) for r in records]


def run_recipe(name: str, output_dir: Path, *options: str) -> Path:
    """Trains ``recipes/<name>.py`` (no progress bar, no checkpoints) into ``output_dir``; returns its bundle."""
    done = subprocess.run([sys.executable, str(REPO_ROOT / "recipes" / f"{name}.py"), "--output-dir", str(output_dir),
                           "--no-progress", "--no-checkpoints", *options], cwd=REPO_ROOT, capture_output=True,
                          text=True, check=False)
    if done.returncode:
        raise SystemExit(f"recipes/{name}.py failed:\n{done.stderr[-3000:]}")
    return Path(output_dir) / "model"


def recipe_defaults(name: str) -> argparse.Namespace:
    """The default options of ``recipes/<name>.py``: its own parser, ``parse_args([])``."""
    spec = importlib.util.spec_from_file_location(f"_recipe_{name}", REPO_ROOT / "recipes" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    threads = torch.get_num_threads()
    try:
        return module.parse_args([])
    finally:  # a recipe's parser applies its --threads default (automatic: governed); the benchmark's stands
        set_cpu_threads(threads)


def portable(text: object) -> str:
    """``text`` with this machine's folders replaced by ``$LSTM_NLP_DATA``, ``.``, ``~``... for records in docs/."""
    text = str(text)
    for folder, name in ((CACHE_DIR, "$LSTM_NLP_BENCH_CACHE"), (data_root(), "$LSTM_NLP_DATA"), (REPO_ROOT, "."),
                         (Path(tempfile.gettempdir()), "$TMPDIR"), (Path.home(), "~")):
        for spelling in {str(Path(folder).resolve()), str(folder)} if folder is not None else ():
            text = text.replace(spelling, name)
    return text


# ---------------------------------------------------------------------- timing
def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else float("nan")


@dataclass
class Timing:
    """One variant's timed repeats: the work of each call (tokens, texts...), its seconds and data-wait seconds."""

    work: list[float] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)
    waits: list[float] = field(default_factory=list)

    @property
    def rates(self) -> list[float]:
        return [w / s for w, s in zip(self.work, self.seconds)]

    @property
    def rate(self) -> float:  # the median work per second
        return median(self.rates)

    @property
    def wait_fraction(self) -> float:
        return median([w / s for w, s in zip(self.waits, self.seconds)])


def compare(variants: Mapping[str, Callable[[object], float | tuple[float, float]]], batches: object, repeats: int,
            *, sync: Callable[[], None] = lambda: None) -> dict[str, Timing]:
    """Times every variant on the same ``batches``: one warm-up round, then ``repeats`` interleaved rounds.

    A variant returns the work it did (tokens, texts), or (work, seconds it waited for data); ``sync``
    runs before each clock read (``torch.cuda.synchronize`` on a GPU).
    """
    timings = {name: Timing() for name in variants}
    for round_ in range(repeats + 1):
        for name, variant in variants.items():
            sync()
            start = time.perf_counter()
            done = variant(batches)
            sync()
            seconds = time.perf_counter() - start
            if round_:
                work, wait = done if isinstance(done, tuple) else (done, 0.0)
                timings[name].work.append(work)
                timings[name].seconds.append(seconds)
                timings[name].waits.append(wait)
    return timings


class TimedLoader:
    """Wraps a batch iterable and adds up the time spent waiting in ``next()``; exposes its ``batch_sampler``."""

    def __init__(self, loader) -> None:
        self.loader, self.batch_sampler, self.wait_seconds = loader, getattr(loader, "batch_sampler", None), 0.0

    def __len__(self) -> int:
        return len(self.loader)

    def __iter__(self):
        iterator = iter(self.loader)
        while True:
            start = time.perf_counter()
            batch = next(iterator, None)
            self.wait_seconds += time.perf_counter() - start
            if batch is None:
                return
            yield batch


# ---------------------------------------------------------------------- results
def markdown_table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    return "\n".join(lines + ["| " + " | ".join(str(c) for c in row) + " |" for row in rows])


@dataclass
class BenchResult:
    """One benchmark's output: markdown sections, machine-readable metrics, and the acceptance targets."""

    name: str
    sections: list[dict] = field(default_factory=list)
    metrics: dict = field(default_factory=dict)
    targets: list[dict] = field(default_factory=list)

    def add_section(self, title: str, markdown: str) -> None:
        self.sections.append({"title": title, "markdown": markdown})

    def target(self, text: str, metric: str, goal: str, form: str, detail: str = "") -> None:
        """An acceptance target on ``metrics[metric]``; ``goal`` is ``">= 5"``, ``"<= 0.05"`` or ``"|x| <= 0.3"``,
        ``form`` a format for the figure (``"{:.1f}x"``)."""
        value = self.metrics.get(metric)
        op, bound = goal.split()[-2:]
        checked = abs(value) if goal.startswith("|x|") and value is not None else value
        met = None if checked is None else checked >= float(bound) if op == ">=" else checked <= float(bound)
        self.targets.append({"target": text, "metric": metric, "goal": goal, "format": form, "value": value,
                             "met": met, "shown": "not measured" if value is None else form.format(value) + detail})

    def emit(self, args: argparse.Namespace) -> None:
        """Prints the tables and writes the JSON result (with the peak RSS) when ``--json`` was given."""
        self.metrics["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
        for section in self.sections:
            print(f"\n## {section['title']}\n\n{section['markdown']}")
        for target in self.targets:
            print(f"target: {target['target']}: {target['shown']} (met: {target['met']})")
        if args.json:
            payload = {"name": self.name, "sections": self.sections, "metrics": self.metrics,
                       "targets": self.targets, "smoke": bool(args.smoke), "quick": bool(getattr(args, "quick", 0)),
                       "argv": [portable(a) for a in sys.argv[1:]], "threads": torch.get_num_threads()}
            Path(args.json).parent.mkdir(parents=True, exist_ok=True)
            Path(args.json).write_text(json.dumps(payload, indent=2), encoding="utf-8")


# ---------------------------------------------------------------------- NER training studies
def ner_study(args: argparse.Namespace, epochs: int) -> tuple[argparse.Namespace, object, object]:
    """(the NER recipe's defaults with ``epochs``, train, dev): CoNLL-2003, or the bundled sample with ``--smoke``."""
    import datasets

    from lstm_nlp.data.conll import read_conll

    logging.getLogger("lstm_nlp").setLevel(logging.WARNING)  # the per-epoch training logs
    datasets.disable_progress_bars()
    folder = SAMPLE_DIR / "ner" if args.smoke else require_data_root() / "conll2003"
    recipe = recipe_defaults("ner")
    recipe.epochs, recipe.no_progress, recipe.no_checkpoints = epochs, True, True
    recipe.output_dir = tempfile.mkdtemp(prefix="bench_ner_")
    train, dev = (read_conll(folder / name, token_column=recipe.token_column, tag_column=recipe.tag_column,
                             scheme=recipe.scheme) for name in ("train.txt", "dev.txt"))
    return recipe, train, dev


def train_ner(recipe: argparse.Namespace, train, dev) -> tuple[object, dict, float]:
    """(pipeline, dev metrics, seconds) of the recipe's model trained on ``train`` with ``recipe.seed``."""
    from lstm_nlp.recipe_kit.tagging import bio_tagger_pipeline, fit_tagger
    from lstm_nlp.training import seed_everything

    started = time.perf_counter()
    seed_everything(recipe.seed)
    pipeline = bio_tagger_pipeline(recipe, train)
    fit_tagger(pipeline, recipe, train, dev, metric="f1")
    return pipeline, pipeline.evaluate(dev), time.perf_counter() - started


def write_study(args: argparse.Namespace, markdown: str, payload: dict) -> None:
    """The table to ``--output`` and ``payload`` to ``--json``, when given (after each step: a stopped run keeps it)."""
    for path, text in ((args.output, markdown + "\n"), (args.json, json.dumps(payload, indent=1) + "\n")):
        if path:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            Path(path).write_text(text, encoding="utf-8")


def machine_info() -> dict:
    """Machine, library versions, date and load average, for the report header."""
    import datasets
    import spacy

    import lstm_nlp

    info = dict(re.findall(r"^(model name|flags)\s*:\s*(.*)$", Path("/proc/cpuinfo").read_text(), re.MULTILINE))
    flags = set(info.get("flags", "").split())
    return {"date": _dt.datetime.now().astimezone().isoformat(timespec="seconds"),
            "cpu": info.get("model name", platform.machine()), "cpu_count": os.cpu_count(),
            "simd": " ".join(f for f in ("avx2", "avx512f", "avx512_bf16", "amx_bf16", "avx512_vnni") if f in flags),
            "memory_gib": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1),
            "gpu": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
            "python": platform.python_version(), "torch": torch.__version__,
            "mkldnn": torch.backends.mkldnn.is_available(), "lstm_nlp": lstm_nlp.__version__,
            "spacy": spacy.__version__, "datasets": datasets.__version__, "platform": platform.platform(),
            "loadavg": list(os.getloadavg())}
