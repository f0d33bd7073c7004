"""Phrase chunking (CoNLL-2000 format) with a BiLSTM-CRF over word + character-CNN features.

    python recipes/chunking.py                      # the bundled demo sample in data/chunking (seconds)
    python recipes/chunking.py --train $LSTM_NLP_DATA/conll2000/train.txt --output-dir runs/chunk_conll00

Files have whitespace columns ``token POS chunk`` (tags in the last column, IOB2). Without
``--dev``, a seeded ``--dev-fraction`` of the training sentences is held out as the dev split
(``--split-seed``; CoNLL-2000 has no dev set). Scores are seqeval chunk-level precision/recall/F1
(strict IOB2); the best epoch is selected on dev F1. Writes OUTPUT_DIR/metrics.json
({split: {f1, precision, recall, ...}}), metrics.jsonl (per epoch), report_<split>.txt (per chunk
type) and the bundle OUTPUT_DIR/model/. Its steps are shared with ``ner.py``
(:mod:`lstm_nlp.recipe_kit.tagging`).
"""

from __future__ import annotations

from lstm_nlp.argtypes import PROBABILITY, SEED
from lstm_nlp.recipe_kit import bundled_sample, data_paths, recipe_parser, run, setup_logging
from lstm_nlp.recipe_kit.tagging import (
    add_bio_tagger_options,
    bio_tagger_pipeline,
    fit_tagger,
    held_out_split,
    read_column_splits,
    score_and_save,
)
from lstm_nlp.training import seed_everything

SAMPLE_DIR = bundled_sample(__file__, "chunking")


def parse_args(argv=None):
    parser = recipe_parser(__doc__.split("\n")[0], epochs=30, batch_size=16, lr=1e-3, output_dir="runs/chunking",
                           scheduler="plateau", lr_patience=2)
    add_bio_tagger_options(parser, tag_column=-1)
    split = parser.add_argument_group("dev split")
    split.add_argument("--dev-fraction", type=PROBABILITY, default=0.1,
                       help="held-out share of train when --dev is not given")
    split.add_argument("--split-seed", type=SEED, default=0, help="seed of the held-out dev split")
    return data_paths(parser.parse_args(argv), SAMPLE_DIR, suffix=".txt")


def main(argv=None) -> dict:
    setup_logging()
    args = parse_args(argv)
    seed_everything(args.seed)
    train, dev, test = read_column_splits(args)
    if dev is None and args.dev_fraction:  # CoNLL-2000 has no dev set
        train, dev = held_out_split(train, args.dev_fraction, seed=args.split_seed)
    pipeline = bio_tagger_pipeline(args, train)  # vocabularies, --vectors, the BiLSTM-CRF, --init-from
    result = fit_tagger(pipeline, args, train, dev, metric="f1")
    return score_and_save(pipeline, args, result, {"train": train, "dev": dev, "test": test},
                          keys=("f1", "precision", "recall"))  # seqeval spans, strict IOB2


if __name__ == "__main__":
    run(main)
