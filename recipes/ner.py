"""Named-entity recognition (CoNLL-2003 format) with a BiLSTM-CRF over word + character-CNN features.

    python recipes/ner.py                           # the bundled demo sample in data/ner (seconds)
    python recipes/ner.py \
        --train $LSTM_NLP_DATA/conll2003/train.txt \
        --dev   $LSTM_NLP_DATA/conll2003/dev.txt --output-dir runs/ner_conll03
    python recipes/ner.py ... --vectors glove.6B.100d.txt.gz --extend-vocab   # with pretrained vectors

Files have whitespace columns ``token POS chunk NER`` (tags in column 3, IOB2; ``--scheme iob1``
converts IOB1 files). Scores are seqeval entity-level precision/recall/F1 (strict IOB2); the best
epoch is selected on dev F1. Writes OUTPUT_DIR/metrics.json ({split: {f1, precision, recall, ...}}),
metrics.jsonl (per epoch), report_<split>.txt (per entity type) and the bundle OUTPUT_DIR/model/.
Its steps are shared with ``chunking.py`` (:mod:`lstm_nlp.recipe_kit.tagging`).
"""

from __future__ import annotations

from lstm_nlp.recipe_kit import bundled_sample, data_paths, recipe_parser, run, setup_logging
from lstm_nlp.recipe_kit.tagging import (
    add_bio_tagger_options,
    bio_tagger_pipeline,
    fit_tagger,
    read_column_splits,
    score_and_save,
)
from lstm_nlp.training import seed_everything

SAMPLE_DIR = bundled_sample(__file__, "ner")


def parse_args(argv=None):
    parser = recipe_parser(__doc__.split("\n")[0], epochs=30, batch_size=16, lr=2e-3, output_dir="runs/ner",
                           scheduler="plateau", lr_patience=2)
    add_bio_tagger_options(parser, tag_column=3)
    return data_paths(parser.parse_args(argv), SAMPLE_DIR, suffix=".txt")


def main(argv=None) -> dict:
    setup_logging()
    args = parse_args(argv)
    seed_everything(args.seed)
    train, dev, test = read_column_splits(args)
    pipeline = bio_tagger_pipeline(args, train)  # vocabularies, --vectors, the BiLSTM-CRF, --init-from
    result = fit_tagger(pipeline, args, train, dev, metric="f1")
    return score_and_save(pipeline, args, result, {"train": train, "dev": dev, "test": test},
                          keys=("f1", "precision", "recall"))  # seqeval spans, strict IOB2


if __name__ == "__main__":
    run(main)
