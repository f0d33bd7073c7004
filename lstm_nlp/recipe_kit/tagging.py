"""The tagging recipes' plumbing: their model options and ``TaggerConfig``, reading, building and fitting.

The model options are declared once, in :data:`TAGGER_OPTIONS` (``--hidden-size`` is
``TaggerConfig.hidden_size``): :func:`add_tagger_options` adds them with a recipe's defaults and
:func:`tagger_config` builds the config from the parsed values, so a new model option is one row.
``recipes/ner.py`` and ``recipes/chunking.py`` train the same model on the same kind of file
(whitespace columns, IOB tags, scored with seqeval): :func:`add_bio_tagger_options`,
:func:`read_column_splits` and :func:`bio_tagger_pipeline` are their steps; each recipe runs them
top to bottom.
"""

from __future__ import annotations

import argparse
import dataclasses
import functools
import logging
import math
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, get_args

from lstm_nlp.argtypes import NON_NEGATIVE_INT, POSITIVE_INT, PROBABILITY, int_at_least
from lstm_nlp.data import Vocab
from lstm_nlp.data.conll import read_conll
from lstm_nlp.data.vectors import Vectors
from lstm_nlp.errors import ConfigError
from lstm_nlp.models import SequenceTagger, TaggerConfig
from lstm_nlp.models.tagger import CharEncoderKind, HeadKind
from lstm_nlp.modules.crf import allowed_transitions
from lstm_nlp.modules.encoder import ENCODERS
from lstm_nlp.pipelines import TaggingPipeline
from lstm_nlp.pipelines.tagging import build_char_vocab
from lstm_nlp.recipe_kit.args import ENCODER_HELP, trainer_config
from lstm_nlp.recipe_kit.calibrate import calibrate_on_dev
from lstm_nlp.recipe_kit.class_weights import add_class_weights_option, class_weights_for
from lstm_nlp.recipe_kit.outputs import evaluate_splits, finish
from lstm_nlp.recipe_kit.pretrained import (
    add_pretrained_options,
    apply_gradual_unfreezing,
    apply_lr_decay,
    load_vectors,
    vocab_with_vectors,
    warm_start,
)
from lstm_nlp.tags import FILE_SCHEMES, RECIPE_LABEL_SCHEMES, convert_tags
from lstm_nlp.training import Trainer

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


#: The model options of the tagging recipes: ``--option -> (dest, TaggerConfig field, type or choices, help)``.
#: Choices are a tuple or a registry (a dict, whose names are read when the parser is built: ``--encoder``).
#: A recipe gives its own defaults (:func:`add_tagger_options`); :func:`tagger_config` reads the same table.
TAGGER_OPTIONS: dict[str, tuple[str, str, object, str]] = {
    "--embedding-dim": ("embedding_dim", "embedding_dim", POSITIVE_INT, "ignored with --vectors (their size)"),
    "--encoder": ("encoder", "encoder", ENCODERS, ENCODER_HELP),
    "--hidden-size": ("hidden_size", "hidden_size", POSITIVE_INT, "encoder size per direction"),
    "--num-layers": ("num_layers", "num_layers", POSITIVE_INT, "stacked encoder layers"),
    "--dropout": ("dropout", "dropout", PROBABILITY,
                  "dropout on the embeddings, between encoder layers and before the output layer"),
    "--word-dropout": ("word_dropout", "word_dropout", PROBABILITY, "training words replaced by <unk>"),
    "--char-encoder": ("char_encoder", "char_encoder", get_args(CharEncoderKind), "character features"),
    "--char-dim": ("char_dim", "char_embedding_dim", POSITIVE_INT, "character vector size"),
    "--char-hidden": ("char_hidden", "char_hidden_size", POSITIVE_INT, "CNN filters or char-LSTM size per direction"),
    "--head": ("head", "head", get_args(HeadKind), "tag decoder: softmax per token, or a CRF over the sentence"),
}


def add_tagger_options(parser: argparse.ArgumentParser, *, min_freq: int, **defaults) -> argparse._ArgumentGroup:
    """The "model" group of a tagging recipe: :data:`TAGGER_OPTIONS`, ``--min-freq``, ``--max-length`` and
    ``--class-weights`` (:mod:`~lstm_nlp.recipe_kit.class_weights`; it needs the labels, so
    :func:`tagger_config` takes its resolved vector).

    Args:
        min_freq: Default ``--min-freq`` (rarer training words become ``<unk>``).
        **defaults: The recipe's defaults by destination (``hidden_size=200``); the others are
            :class:`TaggerConfig`'s field defaults.

    Returns:
        The group, for the recipe's own model options.
    """
    fields = {field.name: field.default for field in dataclasses.fields(TaggerConfig)}
    group = parser.add_argument_group("model")
    group.add_argument("--max-length", type=POSITIVE_INT, default=None,
                       help="train on the first N tokens of longer sentences")
    group.add_argument("--min-freq", type=POSITIVE_INT, default=min_freq, help="rarer training words become <unk>")
    for option, (dest, field, kind, text) in TAGGER_OPTIONS.items():
        check = {"choices": sorted(kind) if isinstance(kind, dict) else list(kind)} \
            if isinstance(kind, (tuple, dict)) else {"type": kind}
        group.add_argument(option, dest=dest, default=defaults.pop(dest, fields[field]), help=text, **check)
    add_class_weights_option(group)
    if defaults:
        raise ConfigError(f"add_tagger_options: unknown default(s) {sorted(defaults)}")
    return group


def tagger_config(args: argparse.Namespace, *, vocab_size: int, labels: Sequence[str], char_vocab_size: int,
                  train_tags: Iterable[Sequence[str]], vectors: Vectors | None = None) -> TaggerConfig:
    """The :class:`TaggerConfig` of the parsed :func:`add_tagger_options` (the embedding takes ``vectors``' size).

    Args:
        labels: The tags in id order (``Vocab.itos``).
        train_tags: The training tag sequences as the model learns them (``--class-weights auto`` counts them).
    """
    values = {field: getattr(args, dest) for dest, field, _, _ in TAGGER_OPTIONS.values()}
    if vectors is not None:
        values["embedding_dim"] = vectors.dim
    weights = class_weights_for(getattr(args, "class_weights", "none"), labels, train_tags)
    return TaggerConfig(vocab_size=vocab_size, num_labels=len(labels), char_vocab_size=char_vocab_size,
                        freeze_embeddings=getattr(args, "freeze_vectors", False), class_weights=weights, **values)


def add_bio_tagger_options(parser: argparse.ArgumentParser, *, tag_column: int) -> None:
    """The column, scheme, model and pretrained-weight options of the BIO-tagger recipes."""
    data = parser.add_argument_group("columns")
    data.add_argument("--token-column", type=NON_NEGATIVE_INT, default=0, help="0-based column of the words")
    data.add_argument("--tag-column", type=int_at_least(-1), default=tag_column,
                      help="0-based column of the tags (-1: last)")
    data.add_argument("--scheme", choices=list(FILE_SCHEMES), default="iob2", help="tag scheme of the files")
    data.add_argument("--tag-scheme", choices=list(RECIPE_LABEL_SCHEMES), default="iob2",
                      help=f"labels the model learns: {', '.join(RECIPE_LABEL_SCHEMES)} (bioes/bilou: IOB2 plus a "
                           "prefix for a span's last token, E-/L-, and one for one-token spans, S-/U-; "
                           "predictions are written back in the files' scheme and scored as IOB2 spans)")
    model = add_tagger_options(parser, min_freq=2, hidden_size=200, num_layers=1, dropout=0.5, word_dropout=0.05,
                               char_encoder="cnn", head="crf")
    model.add_argument("--cased-words", action="store_true",
                       help="keep case in the word vocabulary (default: lower-cased; the characters keep case)")
    add_pretrained_options(parser, vocab_options=True)


def bio_tagger_pipeline(args: argparse.Namespace, train) -> TaggingPipeline:
    """A fresh BiLSTM(-CRF) tagger pipeline with vocabularies (and vectors) from ``train``."""
    words = Vocab.build(train["tokens"], min_freq=args.min_freq, lower=not args.cased_words)
    tags = [convert_tags(sentence, "iob2", args.tag_scheme) for sentence in train["tags"]]
    labels = Vocab.build_labels(tags)
    chars = build_char_vocab(train["tokens"])
    vectors = load_vectors(args, words)
    words = vocab_with_vectors(words, vectors, args)
    config = tagger_config(args, vocab_size=len(words), labels=labels.itos, char_vocab_size=len(chars),
                           train_tags=tags, vectors=vectors)
    constraints = allowed_transitions(labels.itos, args.tag_scheme) if args.head == "crf" else None
    model = SequenceTagger(config, constraints=constraints)
    warm_start(model, words, args, vectors)
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


def score_and_save(pipeline: TaggingPipeline, args: argparse.Namespace, result, splits: dict, *,
                   keys: tuple[str, ...]) -> dict:
    """Scores ``splits`` (``{"train", "dev", "test"}``; train only with ``--eval-train``), then writes
    ``metrics.json``, the reports and the bundle (:func:`~lstm_nlp.recipe_kit.outputs.finish`).

    Returns:
        ``{split: scores}`` of the splits scored.
    """
    splits = {**splits, "train": splits.get("train") if args.eval_train else None}
    metrics = evaluate_splits(pipeline.evaluate, {name: splits.get(name) for name in ("train", "dev", "test")})
    finish(pipeline, metrics, args.output_dir, keys=keys, best_epoch=result.best_epoch)
    return metrics


def read_column_splits(args: argparse.Namespace) -> tuple[Dataset, Dataset | None, Dataset | None]:
    """``(train, dev, test)``: the ``--train/--dev/--test`` CoNLL column files (``None`` where not given).

    Read with ``--token-column``, ``--tag-column`` and ``--scheme``; the test file too is read now:
    a bad one must not wait for training.
    """
    load = functools.partial(read_conll, token_column=args.token_column, tag_column=args.tag_column,
                             scheme=args.scheme)
    return load(args.train), load(args.dev) if args.dev else None, load(args.test) if args.test else None
