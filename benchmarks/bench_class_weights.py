"""Class weights on CoNLL-2003: does ``--class-weights auto`` help the rare entity types (MISC)?

    python benchmarks/bench_class_weights.py                     # $LSTM_NLP_DATA/conll2003, 3 seeds
    python benchmarks/bench_class_weights.py --fraction 0.25 --epochs 8 --seeds 0 1 2 \\
        --output docs/benchmark_runs/class_weights.md --json docs/benchmark_runs/class_weights.json
    python benchmarks/bench_class_weights.py --smoke             # the bundled sample, seconds (figures mean nothing)

For each seed: a seeded ``--fraction`` of the train sentences (the same slice for every setting),
then the NER recipe's model (``recipes/ner.py`` defaults: BiLSTM-CRF over words + character CNN,
best epoch on dev F1) trained once per ``--settings`` value of ``--class-weights`` with that seed.
Reported: dev F1 per entity type (seqeval, strict IOB2) and the micro F1, the median over the
seeds, and the difference auto - none. Only ``--epochs`` and the slice differ from the recipe.
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
from lstm_nlp.recipe_kit.tagging import bio_tagger_pipeline, fit_tagger  # noqa: E402
from lstm_nlp.training import seed_everything  # noqa: E402

TYPES = ("PER", "LOC", "ORG", "MISC")


def train_and_score(recipe, train, dev) -> dict:
    """``{type: dev F1, "micro": F1, "seconds": s}`` of the recipe's model trained on ``train``."""
    started = time.perf_counter()
    seed_everything(recipe.seed)
    pipeline = bio_tagger_pipeline(recipe, train)
    fit_tagger(pipeline, recipe, train, dev, metric="f1")
    metrics = pipeline.evaluate(dev)
    scores = {kind: metrics["per_tag"].get(kind, {}).get("f1", 0.0) for kind in TYPES}
    return {**scores, "micro": metrics["f1"], "seconds": time.perf_counter() - started}


def table(rows: list[dict], settings: list[str]) -> str:
    """Per-type and micro dev F1: the median over seeds per setting, then the median difference to the first."""
    columns = [*TYPES, "micro"]
    body = []
    for setting in settings:
        body.append([f"`{setting}`", *(f"{statistics.median(r[setting][c] for r in rows):.4f}" for c in columns)])
    for setting in settings[1:]:
        body.append([f"`{setting}` - `{settings[0]}` (median of per-seed differences)",
                     *(f"{statistics.median(r[setting][c] - r[settings[0]][c] for r in rows):+.4f}"
                       for c in columns)])
    for setting in settings[1:]:
        body.append([f"seeds where `{setting}` > `{settings[0]}`",
                     *(f"{sum(r[setting][c] > r[settings[0]][c] for r in rows)} of {len(rows)}" for c in columns)])
    return markdown_table(["--class-weights (dev F1, median over seeds)", *columns], body)


def main() -> None:
    parser = base_parser(__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--epochs", type=int, default=8, help="epochs of every training run (the recipe: 30)")
    parser.add_argument("--fraction", type=float, default=0.25, help="share of the train sentences trained on")
    parser.add_argument("--settings", nargs="+", default=["none", "auto"], help="--class-weights values, baseline first")
    parser.add_argument("--output", default=None, help="also write the markdown table to this file")
    args = parser.parse_args()
    setup(args)
    import logging

    import datasets

    logging.getLogger("lstm_nlp").setLevel(logging.WARNING)  # the per-epoch training logs
    datasets.disable_progress_bars()
    folder = SAMPLE_DIR / "ner" if args.smoke else require_data_root() / "conll2003"
    if args.smoke:
        args.epochs, args.seeds, args.fraction = 1, args.seeds[:1], 1.0
    recipe = recipe_defaults("ner")
    recipe.epochs, recipe.no_progress, recipe.no_checkpoints = args.epochs, True, True
    recipe.output_dir = tempfile.mkdtemp(prefix="bench_class_weights_")
    train, dev = (read_conll(folder / name, token_column=recipe.token_column, tag_column=recipe.tag_column,
                             scheme=recipe.scheme) for name in ("train.txt", "dev.txt"))
    size = max(1, round(args.fraction * len(train)))
    caption = (f"{'bundled sample' if args.smoke else 'CoNLL-2003'}: a seeded {args.fraction:.0%} of train ({size} of "
               f"{len(train)} sentences, the same slice for both settings of a seed), scored on dev ({len(dev)} "
               f"sentences); {args.epochs} epochs per run, best epoch on dev F1, recipes/ner.py defaults otherwise "
               f"(BiLSTM-CRF, char CNN, IOB2); seeds {', '.join(map(str, args.seeds))}; "
               f"{args.threads} torch thread(s)")
    rows = []
    for seed in args.seeds:  # the table and JSON after each seed: a stopped run keeps what it measured
        order = list(range(len(train)))
        random.Random(seed).shuffle(order)
        part, row = train.select(sorted(order[:size])), {"seed": seed}
        for setting in args.settings:
            recipe.seed, recipe.class_weights = seed, setting
            row[setting] = train_and_score(recipe, part, dev)
            print(f"seed {seed} --class-weights {setting}: " + ", ".join(
                f"{c} {row[setting][c]:.4f}" for c in (*TYPES, "micro")) + f" ({row[setting]['seconds']:.0f} s)",
                flush=True)
        rows.append(row)
        markdown = table(rows, args.settings)
        if args.output:
            Path(args.output).parent.mkdir(parents=True, exist_ok=True)
            Path(args.output).write_text(markdown + "\n\n" + caption + "\n", encoding="utf-8")
        if args.json:
            Path(args.json).parent.mkdir(parents=True, exist_ok=True)
            Path(args.json).write_text(json.dumps({"name": "class_weights", "smoke": args.smoke, "settings": caption,
                                                   "rows": rows, "table": markdown}, indent=1) + "\n",
                                       encoding="utf-8")
    print("\n" + markdown + "\n\n" + caption)


if __name__ == "__main__":
    main()
