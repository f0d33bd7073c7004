"""Phrase chunking (CoNLL-2000 format) with a BiLSTM-CRF over word + character-CNN features.

    python recipes/chunking.py                      # the bundled demo sample in data/chunking (seconds)
    python recipes/chunking.py --train $LSTM_NLP_DATA/conll2000/train.txt --output-dir runs/chunk_conll00

Files have whitespace columns ``token POS chunk`` (tags in the last column, IOB2). Without
``--dev``, a seeded ``--dev-fraction`` of the training sentences is held out as the dev split
(``--split-seed``; CoNLL-2000 has no dev set). Scores are seqeval chunk-level precision/recall/F1
(strict IOB2); the best epoch is selected on dev F1. Writes OUTPUT_DIR/metrics.json
({split: {f1, precision, recall, ...}}), metrics.jsonl (per epoch), report_<split>.txt (per chunk
type) and the bundle OUTPUT_DIR/model/. The body is
:func:`lstm_nlp.recipe_kit.tagging.run_bio_tagger`, shared with ``ner.py``.
"""

from __future__ import annotations


from lstm_nlp.recipe_kit import bundled_sample, data_paths, recipe_parser, run, setup_logging
from lstm_nlp.recipe_kit.args import PROBABILITY, SEED
from lstm_nlp.recipe_kit.tagging import add_bio_tagger_options, run_bio_tagger

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
    return run_bio_tagger(args, dev_fraction=args.dev_fraction, split_seed=args.split_seed)


if __name__ == "__main__":
    run(main)
