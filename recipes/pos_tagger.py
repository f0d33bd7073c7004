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
from lstm_nlp.models import SequenceTagger, TaggerConfig
from lstm_nlp.pipelines import TaggingPipeline
from lstm_nlp.pipelines.tagging import build_char_vocab
from lstm_nlp.recipe_kit import bundled_sample, data_paths, evaluate_splits, finish, recipe_parser, run, setup_logging
from lstm_nlp.recipe_kit.args import POSITIVE_INT, PROBABILITY
from lstm_nlp.recipe_kit.pretrained import add_pretrained_options, load_vectors, warm_start
from lstm_nlp.recipe_kit.tagging import fit_tagger
from lstm_nlp.training import seed_everything

SAMPLE_DIR = bundled_sample(__file__, "pos")


def parse_args(argv=None):
    parser = recipe_parser(__doc__.split("\n")[0], epochs=30, batch_size=32, lr=2e-3, output_dir="runs/pos",
                           scheduler="plateau", lr_patience=1)
    model = parser.add_argument_group("model")
    model.add_argument("--tag-column", choices=["upos", "xpos"], default="upos", help="CoNLL-U tag column")
    model.add_argument("--max-length", type=POSITIVE_INT, default=None,
                       help="train on the first N tokens of longer sentences")
    model.add_argument("--embedding-dim", type=POSITIVE_INT, default=100, help="ignored with --vectors (their size)")
    model.add_argument("--hidden-size", type=POSITIVE_INT, default=128, help="LSTM size per direction")
    model.add_argument("--num-layers", type=POSITIVE_INT, default=2, help="stacked LSTM layers")
    model.add_argument("--dropout", type=PROBABILITY, default=0.33,
                       help="dropout on the embeddings, between LSTM layers and before the output layer")
    model.add_argument("--min-freq", type=POSITIVE_INT, default=1, help="rarer training words become <unk>")
    model.add_argument("--word-dropout", type=PROBABILITY, default=0.1, help="training words replaced by <unk>")
    model.add_argument("--char-encoder", choices=["none", "cnn", "lstm"], default="lstm", help="character features")
    model.add_argument("--char-dim", type=POSITIVE_INT, default=50, help="character vector size")
    model.add_argument("--char-hidden", type=POSITIVE_INT, default=50,
                       help="CNN filters or char-LSTM size per direction")
    model.add_argument("--head", choices=["softmax", "crf"], default="softmax",
                       help="tag decoder: softmax per token, or a CRF over the sentence")
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
    config = TaggerConfig(vocab_size=len(words), num_labels=len(labels),
                          embedding_dim=vectors.dim if vectors else args.embedding_dim,
                          hidden_size=args.hidden_size, num_layers=args.num_layers, dropout=args.dropout,
                          char_encoder=args.char_encoder, char_vocab_size=len(chars), char_embedding_dim=args.char_dim,
                          char_hidden_size=args.char_hidden, head=args.head, word_dropout=args.word_dropout)
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
