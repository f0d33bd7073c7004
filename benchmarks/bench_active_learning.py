"""Active learning on CoNLL-2003: does adding the sentences ``lstm-nlp rank --by entropy`` picks beat random ones?

    python benchmarks/bench_active_learning.py                       # $LSTM_NLP_DATA/conll2003, 3 seeds
    python benchmarks/bench_active_learning.py --seeds 0 1 2 --epochs 15 --json docs/benchmark_runs/active_learning.json
    python benchmarks/bench_active_learning.py --smoke               # the bundled sample, seconds (figures mean nothing)

For each seed: shuffle train, take the first ``--fraction`` (10%) as the labelled start and the rest as
the pool; train the NER recipe's model (``recipes/ner.py`` defaults: BiLSTM-CRF over words + character
CNN, best epoch on dev F1, temperature fitted on dev) on the start; then add as many pool sentences
again (another 10% of train), either the ones the start model is least sure of (mean token entropy of
its CRF marginals, what ``lstm-nlp rank --by entropy`` writes first) or a random draw, and train a
fresh model on each enlarged set. Reported: dev F1 (seqeval, strict IOB2) of the start model and of
each arm, per seed and the median, with the tokens each arm added. Only ``--epochs`` (fewer than the
recipe's 30, to bound the run) differs from the recipe.
"""

from __future__ import annotations

import json
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # this checkout's lstm_nlp

from common import SAMPLE_DIR, base_parser, markdown_table, recipe_defaults, require_data_root, setup  # noqa: E402

from lstm_nlp.data.conll import read_conll  # noqa: E402
from lstm_nlp.pipelines.ranking import rank  # noqa: E402
from lstm_nlp.recipe_kit.tagging import bio_tagger_pipeline, fit_tagger  # noqa: E402
from lstm_nlp.training import seed_everything  # noqa: E402


def train_and_score(args, train, dev) -> tuple[object, float, float]:
    """(pipeline, dev F1, seconds) of the recipe's model trained on ``train``."""
    started = time.perf_counter()
    seed_everything(args.seed)
    pipeline = bio_tagger_pipeline(args, train)
    fit_tagger(pipeline, args, train, dev, metric="f1")
    return pipeline, pipeline.evaluate(dev)["f1"], time.perf_counter() - started


def run_seed(seed: int, recipe, train, dev, fraction: float) -> dict:
    order = list(range(len(train)))
    random.Random(seed).shuffle(order)
    size = round(fraction * len(train))
    start, pool = order[:size], order[size:]
    recipe.seed = seed
    model, f1_start, seconds = train_and_score(recipe, train.select(start), dev)
    print(f"seed {seed}: start model ({len(start)} sentences) dev F1 {f1_start:.4f} ({seconds:.0f} s)", flush=True)
    pool_tokens = train.select(pool)["tokens"]
    started = time.perf_counter()
    picked = [pool[r.index] for r in rank(model, pool_tokens, by="entropy", top=size)]
    rank_seconds = time.perf_counter() - started
    arms = {"entropy": picked, "random": random.Random(seed + 1000).sample(pool, size)}
    row = {"seed": seed, "start_sentences": len(start), "start_f1": f1_start, "rank_seconds": rank_seconds}
    for arm, added in arms.items():
        enlarged = train.select(start + added)
        _, f1, seconds = train_and_score(recipe, enlarged, dev)
        row[f"{arm}_f1"], row[f"{arm}_tokens"] = f1, sum(len(t) for t in train.select(added)["tokens"])
        print(f"seed {seed}: + {size} sentences by {arm} ({row[f'{arm}_tokens']} tokens) dev F1 {f1:.4f} "
              f"({seconds:.0f} s)", flush=True)
    return row


def table(rows: list[dict]) -> str:
    headers = ["", *(f"seed {r['seed']}" for r in rows), "median"]
    return markdown_table(headers, [
        [f"start: {rows[0]['start_sentences']} sentences", *(f"{r['start_f1']:.4f}" for r in rows),
         f"{statistics.median(r['start_f1'] for r in rows):.4f}"],
        [f"+ {rows[0]['start_sentences']} by entropy", *(f"{r['entropy_f1']:.4f}" for r in rows),
         f"{statistics.median(r['entropy_f1'] for r in rows):.4f}"],
        [f"+ {rows[0]['start_sentences']} at random", *(f"{r['random_f1']:.4f}" for r in rows),
         f"{statistics.median(r['random_f1'] for r in rows):.4f}"],
        ["entropy - random", *(f"{r['entropy_f1'] - r['random_f1']:+.4f}" for r in rows),
         f"{statistics.median(r['entropy_f1'] - r['random_f1'] for r in rows):+.4f}"],
        ["tokens added: entropy / random", *(f"{r['entropy_tokens']} / {r['random_tokens']}" for r in rows),
         ""],
    ])


def main() -> None:
    parser = base_parser(__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--epochs", type=int, default=15, help="epochs of every training run (the recipe: 30)")
    parser.add_argument("--fraction", type=float, default=0.1, help="share of train in the start set and added")
    parser.add_argument("--output", default=None, help="also write the markdown table to this file")
    args = parser.parse_args()
    setup(args)
    import logging

    import datasets

    logging.getLogger("lstm_nlp").setLevel(logging.WARNING)  # the per-epoch training logs

    datasets.disable_progress_bars()
    if args.smoke:
        folder, args.epochs, args.seeds, args.fraction = SAMPLE_DIR / "ner", 1, args.seeds[:1], 0.3
        train_file, dev_file = folder / "train.txt", folder / "dev.txt"
    else:
        folder = require_data_root() / "conll2003"
        train_file, dev_file = folder / "train.txt", folder / "dev.txt"
    recipe = recipe_defaults("ner")
    recipe.epochs, recipe.no_progress, recipe.no_checkpoints = args.epochs, True, True
    recipe.output_dir = tempfile.mkdtemp(prefix="bench_active_learning_")
    train, dev = (read_conll(f, token_column=recipe.token_column, tag_column=recipe.tag_column, scheme=recipe.scheme)
                  for f in (train_file, dev_file))
    rows = [run_seed(seed, recipe, train, dev, args.fraction) for seed in args.seeds]
    markdown = table(rows)
    print("\n" + markdown)
    settings = (f"{'bundled sample' if args.smoke else 'CoNLL-2003'} train ({len(train)} sentences), dev "
                f"({len(dev)}); {args.epochs} epochs per run, recipes/ner.py defaults otherwise; "
                f"{torch_threads()} thread(s)")
    print(settings)
    if args.output:
        Path(args.output).write_text(markdown + "\n\n" + settings + "\n", encoding="utf-8")
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps({"name": "active_learning", "smoke": args.smoke, "settings": settings,
                                               "epochs": args.epochs, "fraction": args.fraction, "rows": rows,
                                               "table": markdown}, indent=1) + "\n", encoding="utf-8")


def torch_threads() -> int:
    import torch

    return torch.get_num_threads()


if __name__ == "__main__":
    main()
