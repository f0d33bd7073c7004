"""Part-of-speech tagging with a BiLSTM over word + character-BiLSTM features: train, select on dev, evaluate, save.

    python recipes/pos_tagger.py                    # the bundled demo sample in data/pos (seconds)
    python recipes/pos_tagger.py \
        --train $LSTM_NLP_DATA/ud_english_ewt/en_ewt-ud-train.conllu \
        --dev   $LSTM_NLP_DATA/ud_english_ewt/en_ewt-ud-dev.conllu --output-dir runs/pos_ewt

Writes OUTPUT_DIR/metrics.json, metrics.jsonl (per epoch), report_<split>.txt and the model
bundle OUTPUT_DIR/model/ (load it with ``TaggingPipeline.from_pretrained`` or ``lstm-nlp predict``).
"""

from __future__ import annotations

import functools

from lstm_nlp.data import Vocab, load_tagging_dataset
from lstm_nlp.models import SequenceTagger
from lstm_nlp.pipelines import TaggingPipeline
from lstm_nlp.pipelines.tagging import build_char_vocab
from lstm_nlp.recipe_kit import bundled_sample, data_paths, evaluate_splits, finish, recipe_parser, run, setup_logging
from lstm_nlp.recipe_kit.pretrained import add_pretrained_options, load_vectors, warm_start
from lstm_nlp.recipe_kit.tagging import add_tagger_options, fit_tagger, tagger_config
from lstm_nlp.training import seed_everything

SAMPLE_DIR = bundled_sample(__file__, "pos")


def parse_args(argv=None):
    parser = recipe_parser(__doc__.split("\n")[0], epochs=30, batch_size=32, lr=2e-3, output_dir="runs/pos",
                           scheduler="plateau", lr_patience=1)
    model = add_tagger_options(parser, min_freq=1, word_dropout=0.1, char_encoder="lstm", char_dim=50)
    model.add_argument("--tag-column", choices=["upos", "xpos"], default="upos", help="CoNLL-U tag column")
    add_pretrained_options(parser)
    return data_paths(parser.parse_args(argv), SAMPLE_DIR, suffix=".conllu", hub_ids=True)


def main(argv=None) -> dict:
    setup_logging()
    args = parse_args(argv)
    seed_everything(args.seed)
    load = functools.partial(load_tagging_dataset, tag_column=args.tag_column)
    train = load(args.train)
    dev = load(args.dev, split="validation") if args.dev else None
    test = load(args.test, split="test") if args.test else None  # read now: a bad file must not wait for training

    words = Vocab.build(train["tokens"], min_freq=args.min_freq)
    labels = Vocab.build_labels(train["tags"])
    chars = build_char_vocab(train["tokens"])
    vectors = load_vectors(args, words)
    config = tagger_config(args, vocab_size=len(words), labels=labels.itos, char_vocab_size=len(chars),
                           train_tags=train["tags"], vectors=vectors)
    model = SequenceTagger(config)
    warm_start(model, words, args, vectors)
    pipeline = TaggingPipeline(model, words, labels, chars=chars, scheme="none",
                               tag_column=args.tag_column)
    result = fit_tagger(pipeline, args, train, dev, metric="accuracy")

    metrics = evaluate_splits(pipeline.evaluate, {"train": train if args.eval_train else None, "dev": dev,
                                                  "test": test})
    finish(pipeline, metrics, args.output_dir, keys=("accuracy",), best_epoch=result.best_epoch)
    return metrics


if __name__ == "__main__":
    run(main)
