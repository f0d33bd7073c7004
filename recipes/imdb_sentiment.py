"""IMDB sentiment with a BiLSTM text classifier: the torchtext.legacy tutorial, rebuilt.

    python recipes/imdb_sentiment.py                         # the bundled demo sample in data/imdb (seconds)
    python recipes/imdb_sentiment.py --train $LSTM_NLP_DATA/imdb/train.jsonl --output-dir runs/imdb
    python recipes/imdb_sentiment.py --train aclImdb/ --test aclImdb/ --tokenizer bpe
    python recipes/imdb_sentiment.py --train stanfordnlp/imdb --test stanfordnlp/imdb   # hub, online
    python recipes/imdb_sentiment.py --train reviews.csv --text-column review --label-column sentiment
    python recipes/imdb_sentiment.py --train ... --vectors runs/vectors/imdb.vec --init-from runs/lm/model  # warm start

Without --dev a seeded, stratified validation split (--val-fraction) is carved from --train and
selects the best epoch. Writes OUTPUT_DIR/metrics.json (accuracy, precision, recall, f1 per
split), metrics.jsonl (per epoch), report_<split>.txt and the bundle OUTPUT_DIR/model/
(``lstm-nlp predict --model OUTPUT_DIR/model`` prints ``label<TAB>probability`` per line).
"""

from __future__ import annotations

import logging
import time

from lstm_nlp.argtypes import FRACTION, POSITIVE_INT, PROBABILITY
from lstm_nlp.data import (
    TextTokenizer,
    Vocab,
    build_vocab,
    load_text_classification,
    tokenize_dataset,
    train_validation_split,
)
from lstm_nlp.models import ClassifierConfig, TextClassifier
from lstm_nlp.outputs import output_dir_problem
from lstm_nlp.pipelines import ClassificationPipeline
from lstm_nlp.recipe_kit import (
    bundled_sample,
    data_paths,
    evaluate_splits,
    finish,
    recipe_parser,
    run,
    setup_logging,
    trainer_config,
)
from lstm_nlp.recipe_kit.args import add_encoder_option
from lstm_nlp.recipe_kit.calibrate import calibrate_on_dev
from lstm_nlp.recipe_kit.class_weights import add_class_weights_option, class_weights_for
from lstm_nlp.recipe_kit.pretrained import (
    add_pretrained_options,
    apply_gradual_unfreezing,
    apply_lr_decay,
    load_vectors,
    warm_start,
)
from lstm_nlp.training import Trainer, seed_everything

logger = logging.getLogger("lstm_nlp")
SAMPLE_DIR = bundled_sample(__file__, "imdb")


def parse_args(argv=None):
    parser = recipe_parser(__doc__.split("\n")[0], epochs=4, batch_size=64, lr=2e-3, output_dir="runs/imdb")
    data = parser.add_argument_group("text")
    data.add_argument("--val-fraction", type=FRACTION, default=0.1,
                      help="validation share carved from train (no --dev)")
    data.add_argument("--text-column", default="text", help="column of the texts (jsonl/csv/parquet/hub data)")
    data.add_argument("--label-column", default="label", help="column of the labels (jsonl/csv/parquet/hub data)")
    data.add_argument("--label-names", default="neg,pos", help="names of integer labels 0,1,... ('' = digits)")
    data.add_argument("--tokenizer", choices=["spacy", "bpe", "wordpiece"], default="spacy",
                      help="spacy (English word rules) or a bpe/wordpiece model fitted on train")
    data.add_argument("--subword-vocab-size", type=POSITIVE_INT, default=16000, help="pieces of a bpe/wordpiece model")
    data.add_argument("--max-length", type=POSITIVE_INT, default=400, help="keep the first N tokens of a review")
    data.add_argument("--max-vocab", type=POSITIVE_INT, default=25000, help="most frequent training tokens kept")
    data.add_argument("--min-freq", type=POSITIVE_INT, default=2, help="rarer training tokens become <unk>")
    data.add_argument("--num-proc", type=POSITIVE_INT, default=None, help="processes for tokenization (datasets.map)")
    data.add_argument("--cache-dir", default="~/.cache/lstm_nlp", help="Arrow caches of parsed/tokenized data")
    model = parser.add_argument_group("model")
    model.add_argument("--pooling", choices=["final", "mean", "max"], default="max",
                       help="how the LSTM outputs become one vector: final states, mean or max over tokens")
    model.add_argument("--embedding-dim", type=POSITIVE_INT, default=128, help="ignored with --vectors (their size)")
    add_encoder_option(model)
    model.add_argument("--hidden-size", type=POSITIVE_INT, default=128, help="encoder size per direction")
    model.add_argument("--num-layers", type=POSITIVE_INT, default=1, help="stacked encoder layers")
    model.add_argument("--dropout", type=PROBABILITY, default=0.4,
                       help="dropout on the embeddings, between encoder layers and before the output layer")
    add_class_weights_option(model)
    add_pretrained_options(parser)
    parser.set_defaults(patience=1)  # IMDB overfits after a few epochs: stop at the first dev drop
    args = data_paths(parser.parse_args(argv), SAMPLE_DIR, suffix=".jsonl", hub_ids=True)
    problem = output_dir_problem(args.cache_dir, option="--cache-dir", what="cache folder")
    if problem is not None:  # else the first cache write fails, reported as a bad data file
        parser.error(problem)
    args.label_names = [n for n in args.label_names.split(",") if n] or None
    return args


def main(argv=None) -> dict:
    setup_logging()
    args = parse_args(argv)
    seed_everything(args.seed)
    start = time.perf_counter()
    load = lambda source, split: load_text_classification(  # noqa: E731
        source, split=split, label_names=args.label_names, text_column=args.text_column,
        label_column=args.label_column, cache_dir=args.cache_dir)
    train = load(args.train, "train")
    if args.dev:
        dev = load(args.dev, "validation")
    else:
        train, dev = train_validation_split(train, fraction=args.val_fraction, seed=args.seed,
                                            option="--val-fraction")
    test = load(args.test, "test") if args.test else None  # read now: a bad file must not wait for training
    logger.info("train: %d texts, dev: %d%s", len(train), len(dev), "" if args.dev else " (carved from train)")

    tokenizer = TextTokenizer.fit(train.with_format("arrow")["text"].to_pylist(), args.tokenizer,
                                  vocab_size=args.subword_vocab_size)
    train_tokens = tokenize_dataset(train, tokenizer, num_proc=args.num_proc, cache_dir=args.cache_dir)
    words = build_vocab(train_tokens, min_freq=args.min_freq, max_size=args.max_vocab)
    train_labels = train_tokens.with_format("arrow")["label"].to_pylist()
    labels = Vocab.build_labels(train_labels)
    vectors = load_vectors(args, words)
    config = ClassifierConfig(vocab_size=len(words), num_labels=len(labels),
                              embedding_dim=vectors.dim if vectors else args.embedding_dim,
                              hidden_size=args.hidden_size, num_layers=args.num_layers, pooling=args.pooling,
                              dropout=args.dropout, encoder=args.encoder,
                              class_weights=class_weights_for(args.class_weights, labels.itos, train_labels))
    model = TextClassifier(config)
    warm_start(model, words, args, vectors)
    pipeline = ClassificationPipeline(model, words, labels, tokenizer,
                                      label_names=args.label_names, max_length=args.max_length)
    encode = lambda dataset: pipeline.encode(dataset, num_proc=args.num_proc, cache_dir=args.cache_dir)  # noqa: E731
    train_examples, dev_examples = encode(train_tokens), encode(dev)
    logger.info("vocabulary: %d words, labels %s; data ready in %.1f s", len(words), labels.itos,
                time.perf_counter() - start)

    trainer = Trainer(
        pipeline.model,
        trainer_config(args, metric="accuracy"),
        train_loader=pipeline.loader(train_examples, batch_size=args.batch_size, shuffle=True, seed=args.seed),
        evaluate=lambda model: pipeline.evaluate(dev_examples),
    )
    apply_lr_decay(trainer, args)
    apply_gradual_unfreezing(trainer, args)
    result = trainer.fit()
    calibrate_on_dev(pipeline, dev_examples)

    metrics = evaluate_splits(pipeline.evaluate, {
        "train": train_examples if args.eval_train else None, "dev": dev_examples,
        "test": encode(test) if test is not None else None})
    epochs = [{"epoch": r["epoch"], "dev_accuracy": round(r.get("dev_accuracy", float("nan")), 4),
               "train_tokens_per_s": round(r["train_tokens_per_s"])} for r in result.history]
    finish(pipeline, metrics, args.output_dir, keys=("accuracy", "precision", "recall", "f1"), epochs=epochs,
           best_epoch=result.best_epoch, wall_seconds=round(time.perf_counter() - start, 1))
    return metrics


if __name__ == "__main__":
    run(main)
