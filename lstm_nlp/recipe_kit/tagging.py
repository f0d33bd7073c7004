"""The tagging recipes' shared steps, and the whole BIO-tagger recipe of ``ner.py`` and ``chunking.py``.

``recipes/ner.py`` and ``recipes/chunking.py`` train the same model on the same kind of file
(whitespace columns, IOB tags, scored with seqeval); they differ only in their defaults and in
where the dev split comes from. They add their options with :func:`add_bio_tagger_options` and
run :func:`run_bio_tagger`.
"""

from __future__ import annotations

import argparse
import functools
import logging
import math
from typing import TYPE_CHECKING

from lstm_nlp.data import Vocab
from lstm_nlp.data.conll import read_conll
from lstm_nlp.data.vector_cache import resolve_vectors
from lstm_nlp.data.vectors import embedding_matrix, extend_vocab, load_embedding, read_vectors, vocab_keep_set
from lstm_nlp.errors import ConfigError
from lstm_nlp.models.warm_start import init_from
from lstm_nlp.recipe_kit.calibrate import calibrate_on_dev
from lstm_nlp.recipe_kit.pretrained import (add_gradual_unfreeze_option, apply_gradual_unfreezing, apply_lr_decay,
                                           lr_decay_factor)
from lstm_nlp.models import SequenceTagger, TaggerConfig
from lstm_nlp.modules.crf import allowed_transitions
from lstm_nlp.pipelines import TaggingPipeline
from lstm_nlp.pipelines.tagging import build_char_vocab
from lstm_nlp.recipe_kit.args import NON_NEGATIVE_INT, POSITIVE_INT, PROBABILITY, int_at_least, trainer_config
from lstm_nlp.recipe_kit.outputs import evaluate_splits, finish
from lstm_nlp.tags import FILE_SCHEMES, RECIPE_LABEL_SCHEMES, convert_tags
from lstm_nlp.training import Trainer, seed_everything

if TYPE_CHECKING:
    from datasets import Dataset

logger = logging.getLogger("lstm_nlp")


def fit_tagger(pipeline: TaggingPipeline, args: argparse.Namespace, train, dev, *, metric: str):
    """Trains ``pipeline.model`` on ``train`` (first ``--max-length`` tokens), selecting the epoch on ``dev``,
    then fits the probabilities' temperature on ``dev`` (:func:`~lstm_nlp.recipe_kit.calibrate.calibrate_on_dev`).

    Returns:
        The Trainer's ``FitResult``.
    """
    logger.info("train: %d sentences%s", len(train), f", dev: {len(dev)}" if dev is not None else "")
    trainer = Trainer(
        pipeline.model,
        trainer_config(args, metric=metric),
        train_loader=pipeline.loader(pipeline.encode(train, max_length=args.max_length), batch_size=args.batch_size,
                                     shuffle=True, seed=args.seed),
        evaluate=(lambda model: pipeline.evaluate(dev)) if dev is not None else None,
    )
    apply_lr_decay(trainer, args)  # --lr-decay and --gradual-unfreeze where the recipe has them
    apply_gradual_unfreezing(trainer, args)
    result = trainer.fit()
    calibrate_on_dev(pipeline, dev)
    return result


def add_bio_tagger_options(parser: argparse.ArgumentParser, *, tag_column: int) -> None:
    """The column, model and pretrained-vector options of the BIO-tagger recipes."""
    data = parser.add_argument_group("columns")
    data.add_argument("--token-column", type=NON_NEGATIVE_INT, default=0, help="0-based column of the words")
    data.add_argument("--tag-column", type=int_at_least(-1), default=tag_column,
                      help="0-based column of the tags (-1: last)")
    data.add_argument("--scheme", choices=list(FILE_SCHEMES), default="iob2", help="tag scheme of the files")
    data.add_argument("--tag-scheme", choices=list(RECIPE_LABEL_SCHEMES), default="iob2",
                      help=f"labels the model learns: {', '.join(RECIPE_LABEL_SCHEMES)} (bioes/bilou: IOB2 plus a "
                           "prefix for a span's last token, E-/L-, and one for one-token spans, S-/U-; "
                           "predictions are written back in the files' scheme and scored as IOB2 spans)")
    data.add_argument("--max-length", type=POSITIVE_INT, default=None,
                      help="train on the first N tokens of longer sentences")
    model = parser.add_argument_group("model")
    model.add_argument("--embedding-dim", type=POSITIVE_INT, default=100, help="ignored with --vectors (their size)")
    model.add_argument("--hidden-size", type=POSITIVE_INT, default=200, help="LSTM size per direction")
    model.add_argument("--num-layers", type=POSITIVE_INT, default=1, help="stacked LSTM layers")
    model.add_argument("--dropout", type=PROBABILITY, default=0.5,
                       help="dropout on the embeddings, between LSTM layers and before the output layer")
    model.add_argument("--min-freq", type=POSITIVE_INT, default=2, help="rarer training words become <unk>")
    model.add_argument("--word-dropout", type=PROBABILITY, default=0.05, help="training words replaced by <unk>")
    model.add_argument("--cased-words", action="store_true",
                       help="keep case in the word vocabulary (default: lower-cased; the characters keep case)")
    model.add_argument("--char-encoder", choices=["none", "cnn", "lstm"], default="cnn", help="character features")
    model.add_argument("--char-dim", type=POSITIVE_INT, default=30, help="character vector size")
    model.add_argument("--char-hidden", type=POSITIVE_INT, default=50,
                       help="CNN filters or char-LSTM size per direction")
    model.add_argument("--head", choices=["softmax", "crf"], default="crf",
                       help="tag decoder: softmax per token, or a CRF over the sentence")
    vectors = parser.add_argument_group("pretrained vectors")
    vectors.add_argument("--vectors", help="GloVe / word2vec / fastText text file (.gz ok) or a known name "
                                           "(glove.6B.100d, crawl-300d-2M, ...; downloaded once into $LSTM_NLP_CACHE)")
    vectors.add_argument("--freeze-vectors", action="store_true", help="do not fine-tune the vectors")
    vectors.add_argument("--extend-vocab", action="store_true", help="add the vectors' words to the vocabulary")
    vectors.add_argument("--init-from", metavar="LM_BUNDLE",
                         help="a recipes/pretrain_lm.py bundle (its OUTPUT_DIR/model): copy its embedding rows of "
                              "shared words and its LSTM weights where the shapes agree (after --vectors); the "
                              "coverage is logged")
    vectors.add_argument("--lr-decay", type=lr_decay_factor, default=1.0,
                         help="discriminative learning rates: each lower layer group (head, LSTM layers, embedding) "
                              "trains at the rate above it / this (ULMFiT: 2.6; 1: one rate)")
    add_gradual_unfreeze_option(vectors)


def bio_tagger_pipeline(args: argparse.Namespace, train) -> TaggingPipeline:
    """A fresh BiLSTM(-CRF) tagger pipeline with vocabularies (and vectors) from ``train``."""
    words = Vocab.build(train["tokens"], min_freq=args.min_freq, lower=not args.cased_words)
    labels = Vocab.build_labels([convert_tags(tags, "iob2", args.tag_scheme) for tags in train["tags"]])
    chars = build_char_vocab(train["tokens"])
    matrix = None
    if args.vectors:
        vectors = read_vectors(resolve_vectors(args.vectors), keep=None if args.extend_vocab else vocab_keep_set(words))
        words = extend_vocab(words, vectors) if args.extend_vocab else words
        matrix, coverage = embedding_matrix(words, vectors)
        logger.info("pretrained vectors: %s", coverage)
    config = TaggerConfig(vocab_size=len(words), num_labels=len(labels), hidden_size=args.hidden_size,
                          embedding_dim=args.embedding_dim if matrix is None else matrix.shape[1],
                          num_layers=args.num_layers, dropout=args.dropout, char_encoder=args.char_encoder,
                          char_vocab_size=len(chars), char_embedding_dim=args.char_dim,
                          char_hidden_size=args.char_hidden, head=args.head, freeze_embeddings=args.freeze_vectors,
                          word_dropout=args.word_dropout)
    constraints = allowed_transitions(labels.itos, args.tag_scheme) if args.head == "crf" else None
    model = SequenceTagger(config, constraints=constraints)
    if matrix is not None:
        load_embedding(model.embedding.embedding, matrix, freeze=args.freeze_vectors)
    if args.init_from:
        logger.info("warm start from %s: %s", args.init_from, init_from(model, args.init_from, words))
    return TaggingPipeline(model, words, labels, chars=chars, scheme=args.tag_scheme, tag_column=args.tag_column,
                           token_column=args.token_column, file_scheme=args.scheme)


def held_out_split(train: Dataset, fraction: float, *, seed: int) -> tuple[Dataset, Dataset]:
    """``(train, dev)``: a seeded ``--dev-fraction`` of the sentences held out as the dev split.

    Raises:
        ConfigError: a fraction that leaves no training sentence (``--dev-fraction 0.99 leaves 0 of
            40 sentences for training``).
    """
    held = math.ceil(fraction * len(train))  # what datasets' train_test_split holds out
    problem = (f"--dev-fraction {fraction:g} leaves {max(len(train) - held, 0)} of {len(train)} sentences for "
               "training; lower it or give --dev")
    if len(train) - held < 1:
        raise ConfigError(problem)
    try:
        split = train.train_test_split(test_size=fraction, seed=seed)
    except ValueError:  # its own rounding of the train share came to 0
        raise ConfigError(problem.replace(f"leaves {len(train) - held} ", "leaves 0 ")) from None
    return split["train"], split["test"]


def run_bio_tagger(args: argparse.Namespace, *, dev_fraction: float | None = None, split_seed: int = 0) -> dict:
    """Trains, scores and saves a BIO tagger: the body of ``recipes/ner.py`` and ``recipes/chunking.py``.

    Args:
        args: Parsed options (:func:`~lstm_nlp.recipe_kit.args.recipe_parser` plus
            :func:`add_bio_tagger_options`), data paths already filled in.
        dev_fraction: Without ``--dev``, hold out this seeded share of the training sentences as
            the dev split (``None``: no dev split).
        split_seed: Seed of that held-out split.

    Returns:
        ``{split: scores}`` of the splits scored after training (seqeval, strict IOB2).
    """
    seed_everything(args.seed)
    load = functools.partial(read_conll, token_column=args.token_column, tag_column=args.tag_column,
                             scheme=args.scheme)
    train = load(args.train)
    dev = load(args.dev) if args.dev else None
    test = load(args.test) if args.test else None  # read now: a bad test file must not wait for training
    if dev is None and dev_fraction:
        train, dev = held_out_split(train, dev_fraction, seed=split_seed)
    pipeline = bio_tagger_pipeline(args, train)
    result = fit_tagger(pipeline, args, train, dev, metric="f1")
    metrics = evaluate_splits(pipeline.evaluate, {"train": train if args.eval_train else None, "dev": dev,
                                                  "test": test})
    finish(pipeline, metrics, args.output_dir, keys=("f1", "precision", "recall"), best_epoch=result.best_epoch)
    return metrics
