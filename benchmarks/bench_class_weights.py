"""Class weights on CoNLL-2003: does ``--class-weights auto`` help the rare entity types (MISC)?

    python benchmarks/bench_class_weights.py --fraction 0.25 --epochs 8 --seeds 0 1 2 \
        --output docs/benchmark_runs/class_weights.md --json docs/benchmark_runs/class_weights.json
    python benchmarks/bench_class_weights.py --smoke             # the bundled sample, seconds (figures mean nothing)

Per seed, the NER recipe's model trained on a seeded ``--fraction`` of train once per ``--settings`` value;
dev F1 per entity type and micro, the median over seeds and the per-seed differences to the first setting.
"""

from __future__ import annotations

import random
import statistics

from common import base_parser, markdown_table, ner_study, setup, train_ner, write_study

TYPES = ("PER", "LOC", "ORG", "MISC")


def table(rows: list[dict], settings: list[str]) -> str:
    """Per-type and micro dev F1: the median over seeds per setting, then the median difference to the first."""
    columns, base = [*TYPES, "micro"], settings[0]
    body = [[f"`{s}`", *(f"{statistics.median(r[s][c] for r in rows):.4f}" for c in columns)] for s in settings]
    body += [[f"`{s}` - `{base}` (median of per-seed differences)",
              *(f"{statistics.median(r[s][c] - r[base][c] for r in rows):+.4f}" for c in columns)]
             for s in settings[1:]]
    body += [[f"seeds where `{s}` > `{base}`", *(f"{sum(r[s][c] > r[base][c] for r in rows)} of {len(rows)}"
                                                 for c in columns)] for s in settings[1:]]
    return markdown_table(["--class-weights (dev F1, median over seeds)", *columns], body)


def main() -> None:
    parser = base_parser(__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--epochs", type=int, default=8, help="epochs of every training run (the recipe: 30)")
    parser.add_argument("--fraction", type=float, default=0.25, help="share of the train sentences trained on")
    parser.add_argument("--settings", nargs="+", default=["none", "auto"],
                        help="--class-weights values, baseline first")
    parser.add_argument("--output", default=None, help="also write the markdown table to this file")
    args = parser.parse_args()
    setup(args)
    if args.smoke:
        args.epochs, args.seeds, args.fraction = 1, args.seeds[:1], 1.0
    recipe, train, dev = ner_study(args, args.epochs)
    size = max(1, round(args.fraction * len(train)))
    caption = (f"{'bundled sample' if args.smoke else 'CoNLL-2003'}: a seeded {args.fraction:.0%} of train ({size} of "
               f"{len(train)} sentences, the same slice for both settings of a seed), scored on dev ({len(dev)} "
               f"sentences); {args.epochs} epochs per run, best epoch on dev F1, recipes/ner.py defaults otherwise "
               f"(BiLSTM-CRF, char CNN, IOB2); seeds {', '.join(map(str, args.seeds))}; "
               f"{args.threads} torch thread(s)")
    rows = []
    for seed in args.seeds:
        order = random.Random(seed).sample(range(len(train)), len(train))
        part, row = train.select(sorted(order[:size])), {"seed": seed}
        for setting in args.settings:
            recipe.seed, recipe.class_weights = seed, setting
            _, metrics, seconds = train_ner(recipe, part, dev)
            row[setting] = {**{kind: metrics["per_tag"].get(kind, {}).get("f1", 0.0) for kind in TYPES},
                            "micro": metrics["f1"], "seconds": seconds}
            print(f"seed {seed} --class-weights {setting}: " + ", ".join(
                f"{c} {row[setting][c]:.4f}" for c in (*TYPES, "micro")) + f" ({seconds:.0f} s)", flush=True)
        rows.append(row)
        markdown = table(rows, args.settings)
        write_study(args, markdown + "\n\n" + caption, {"name": "class_weights", "smoke": args.smoke,
                                                        "settings": caption, "rows": rows, "table": markdown})
    print("\n" + markdown + "\n\n" + caption)


if __name__ == "__main__":
    main()
