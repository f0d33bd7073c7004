"""Cost of ``--probabilities`` on a CRF NER tagger: predict with marginals and span probabilities vs Viterbi alone.

    python benchmarks/bench_probabilities.py                 # CoNLL-2003 dev, the NER recipe's model sizes
    python benchmarks/bench_probabilities.py --model DIR     # a trained NER bundle
    python benchmarks/bench_probabilities.py --smoke

Without ``--model`` the weights are untrained (the recipe's sizes and vocabularies built from
train), so only speed is meaningful. Both modes run ``predict_lines`` on the dev sentences as
pre-tokenized jsonl output, interleaved after a warm-up round; the median of ``--repeats`` runs is reported.
"""

from __future__ import annotations

import json
from pathlib import Path

from common import SAMPLE_DIR, base_parser, compare, median, recipe_defaults, require_data_root, run, setup

from lstm_nlp.data.conll import read_conll
from lstm_nlp.pipelines import load_pipeline
from lstm_nlp.recipe_kit.tagging import bio_tagger_pipeline


def main() -> None:
    parser = base_parser(__doc__.splitlines()[0])
    parser.add_argument("--model", help="a trained CRF NER bundle (default: untrained, the recipe's sizes)")
    args = parser.parse_args()
    repeats = setup(args)
    folder = SAMPLE_DIR / "ner" if args.smoke else require_data_root() / "conll2003"
    dev = read_conll(folder / "dev.txt", tag_column=-1)
    train = dev if args.smoke else read_conll(folder / "train.txt", tag_column=-1)  # the sample has no train
    pipeline = load_pipeline(args.model) if args.model else bio_tagger_pipeline(recipe_defaults("ner"), train)
    lines = [" ".join(tokens) for tokens in dev["tokens"]]
    tokens = sum(len(t) for t in dev["tokens"])

    def predict(probabilities: bool):
        return lambda _: len(list(pipeline.predict_lines(lines, input_format="tokens", output_format="jsonl",
                                                         probabilities=probabilities)))
    timings = compare({False: predict(False), True: predict(True)}, None, repeats)
    plain, marginal = median(timings[False].seconds), median(timings[True].seconds)
    print(f"CRF NER predict on {len(lines)} sentences, {tokens} tokens ({'trained' if args.model else 'untrained'})")
    print(f"  without --probabilities: {tokens / plain:,.0f} tokens/s ({plain:.2f} s)")
    print(f"  with --probabilities:    {tokens / marginal:,.0f} tokens/s ({marginal:.2f} s)")
    print(f"  cost: {marginal / plain:.2f}x (goal <= 1.5x)")
    if args.json:  # the figures, for scripts
        Path(args.json).write_text(json.dumps({"name": "probabilities", "smoke": args.smoke, "tokens": tokens,
                                               "tokens_per_s": tokens / plain,
                                               "tokens_per_s_probabilities": tokens / marginal,
                                               "cost": marginal / plain}), encoding="utf-8")


if __name__ == "__main__":
    run(main)
