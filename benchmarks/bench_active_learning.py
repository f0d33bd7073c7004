"""Active learning on CoNLL-2003: does adding the sentences ``lstm-nlp rank --by entropy`` picks beat random ones?

    python benchmarks/bench_active_learning.py --seeds 0 1 2 3 4 --arms entropy random random-same-tokens \
        --json docs/benchmark_runs/active_learning.json
    python benchmarks/bench_active_learning.py --smoke     # the bundled sample, seconds (figures mean nothing)

Per seed: the NER recipe's model trained on a shuffled ``--fraction`` of train, then fresh models on it plus as
many pool sentences again: those it is least sure of (mean token entropy, ``rank --by entropy``), random ones,
or random ones holding as many tokens as the entropy pick. Dev F1 per seed and the median; only ``--epochs``
differs from the recipe.
"""

from __future__ import annotations

import os
import random
import statistics
import time

from common import base_parser, markdown_table, ner_study, run, setup, train_ner, write_study

from lstm_nlp.pipelines.ranking import rank


def same_tokens(pool: list[int], lengths: dict[int, int], budget: int, seed: int) -> list[int]:
    """Random pool sentences, in a seeded order, until they hold ``budget`` tokens."""
    picked, total = [], 0
    for index in random.Random(seed).sample(pool, len(pool)):
        if total >= budget:
            break
        picked.append(index)
        total += lengths[index]
    return picked


def run_seed(seed: int, recipe, train, dev, fraction: float, arms: list[str]) -> dict:
    order = random.Random(seed).sample(range(len(train)), len(train))
    size = round(fraction * len(train))
    start, pool = order[:size], order[size:]
    recipe.seed = seed
    model, metrics, seconds = train_ner(recipe, train.select(start), dev)
    f1_start = metrics["f1"]
    print(f"seed {seed}: start model ({len(start)} sentences) dev F1 {f1_start:.4f} ({seconds:.0f} s)", flush=True)
    pool_tokens = train.select(pool)["tokens"]
    lengths = {index: len(tokens) for index, tokens in zip(pool, pool_tokens)}
    started = time.perf_counter()
    entropy = [pool[r.index] for r in rank(model, pool_tokens, by="entropy", top=size)]
    row = {"seed": seed, "start_sentences": len(start), "start_f1": f1_start,
           "rank_seconds": time.perf_counter() - started}
    picks = {"entropy": lambda: entropy, "random": lambda: random.Random(seed + 1000).sample(pool, size),
             "random-same-tokens": lambda: same_tokens(pool, lengths, sum(lengths[i] for i in entropy), seed + 2000)}
    for arm in arms:
        added = picks[arm]()
        _, metrics, seconds = train_ner(recipe, train.select(start + added), dev)
        f1 = metrics["f1"]
        row[arm] = {"f1": f1, "sentences": len(added), "tokens": sum(lengths[i] for i in added)}
        print(f"seed {seed}: + {len(added)} sentences by {arm} ({row[arm]['tokens']} tokens) dev F1 {f1:.4f} "
              f"({seconds:.0f} s)", flush=True)
    return row


def table(rows: list[dict], arms: list[str]) -> str:
    def line(label, values, signed=False):
        shown = f"{{:{'+' if signed else ''}.4f}}"
        return [label, *(shown.format(v) for v in values), shown.format(statistics.median(values))]

    headers = ["dev F1", *(f"seed {r['seed']}" for r in rows), "median"]
    body = [line(f"start: {rows[0]['start_sentences']} sentences", [r["start_f1"] for r in rows])]
    names = {"entropy": "by entropy", "random": "at random",
             "random-same-tokens": "holding as many tokens as entropy's"}
    for arm in arms:
        count = "random sentences" if arm == "random-same-tokens" else f"{rows[0][arm]['sentences']} sentences"
        body.append(line(f"+ {count} {names[arm]}", [r[arm]["f1"] for r in rows]))
    for arm in arms[1:]:
        body.append(line(f"entropy - {arm}", [r["entropy"]["f1"] - r[arm]["f1"] for r in rows], signed=True))
    body.append(["added: sentences / tokens", *("; ".join(f"{arm} {r[arm]['sentences']} / {r[arm]['tokens']}"
                                                           for arm in arms) for r in rows), ""])
    return markdown_table(headers, body)


def main() -> None:
    parser = base_parser(__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--epochs", type=int, default=15, help="epochs of every training run (the recipe: 30)")
    parser.add_argument("--fraction", type=float, default=0.1, help="share of train in the start set and added")
    parser.add_argument("--arms", nargs="+", choices=["entropy", "random", "random-same-tokens"],
                        default=["entropy", "random"], help="what is added (entropy first)")
    parser.add_argument("--output", default=None, help="also write the markdown table to this file")
    args = parser.parse_args()
    setup(args)
    if args.smoke:
        args.epochs, args.seeds, args.fraction = 1, args.seeds[:1], 0.3
    recipe, train, dev = ner_study(args, args.epochs)
    settings = (f"{'bundled sample' if args.smoke else 'CoNLL-2003'} train ({len(train)} sentences), dev "
                f"({len(dev)}); {args.epochs} epochs per run, recipes/ner.py defaults otherwise (CPU threads: the "
                f"recipe's default, the free cores of this {os.cpu_count()}-core machine)")
    rows = []
    for seed in args.seeds:  # the table and JSON after each seed: a stopped run keeps what it measured
        rows.append(run_seed(seed, recipe, train, dev, args.fraction, args.arms))
        markdown = table(rows, args.arms)
        write_study(args, markdown + "\n\n" + settings, {
            "name": "active_learning", "smoke": args.smoke, "settings": settings, "epochs": args.epochs,
            "fraction": args.fraction, "arms": args.arms, "rows": rows, "table": markdown})
    print("\n" + markdown + "\n\n" + settings)


if __name__ == "__main__":
    run(main)
