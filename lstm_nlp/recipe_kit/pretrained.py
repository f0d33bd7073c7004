"""Pretrained starting points for a recipe: ``--vectors`` (file or known name), ``--init-from`` (an LM bundle),
``--lr-decay`` and ``--gradual-unfreeze``.

A recipe adds the options with :func:`add_pretrained_options`, reads the vectors before it sizes
the model (:func:`load_vectors`: the embedding takes their size), fills the fresh model with
:func:`warm_start`, and after building its Trainer calls :func:`apply_lr_decay`::

    vectors = load_vectors(args, words)
    config = ClassifierConfig(..., embedding_dim=vectors.dim if vectors else args.embedding_dim)
    model = TextClassifier(config)
    warm_start(model, words, args, vectors)
    trainer = Trainer(model, ...)
    apply_lr_decay(trainer, args)
    apply_gradual_unfreezing(trainer, args)
"""

from __future__ import annotations

import argparse
import logging

import torch
from torch import nn

from lstm_nlp.data.vector_cache import resolve_vectors
from lstm_nlp.data.vectors import Vectors, embedding_matrix, load_embedding, read_vectors, vocab_keep_set
from lstm_nlp.data.vocab import Vocab
from lstm_nlp.errors import ConfigError
from lstm_nlp.models.warm_start import init_from
from lstm_nlp.training.finetune import use_discriminative_lrs, use_gradual_unfreezing

logger = logging.getLogger("lstm_nlp")


def lr_decay_factor(text: str) -> float:
    """argparse type of ``--lr-decay``: a number >= 1."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not value >= 1.0:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {text}")
    return value


def add_pretrained_options(parser: argparse.ArgumentParser) -> None:
    """Adds ``--vectors``, ``--init-from`` and ``--lr-decay`` (group "pretrained weights")."""
    group = parser.add_argument_group("pretrained weights")
    group.add_argument("--vectors", help="word vectors for the embedding: a GloVe/word2vec/fastText text file (.gz "
                                         "ok; recipes/train_vectors.py writes one) or a known name (glove.6B.100d, "
                                         "crawl-300d-2M, wiki-news-300d-1M; downloaded once into $LSTM_NLP_CACHE); "
                                         "the embedding takes their size")
    group.add_argument("--init-from", metavar="LM_BUNDLE",
                       help="a recipes/pretrain_lm.py bundle (its OUTPUT_DIR/model): copy its embedding rows of shared "
                            "words and its LSTM weights where the shapes agree (after --vectors); the coverage is logged")
    group.add_argument("--lr-decay", type=lr_decay_factor, default=1.0,
                       help="discriminative learning rates: each lower layer group (head, LSTM layers, embedding) "
                            "trains at the rate above it / this (ULMFiT: 2.6; 1: one rate)")
    add_gradual_unfreeze_option(group)


def add_gradual_unfreeze_option(group) -> None:
    """``--gradual-unfreeze`` (read by :func:`apply_gradual_unfreezing`)."""
    group.add_argument("--gradual-unfreeze", action="store_true",
                       help="train only the top layer group (head) in epoch 1, the top two in epoch 2, ... down to "
                            "the embedding (ULMFiT; for warm-started models; not under torchrun)")


def load_vectors(args: argparse.Namespace, words: Vocab) -> Vectors | None:
    """The vectors of ``--vectors`` for the words of ``words`` (``None`` without the option)."""
    if not getattr(args, "vectors", None):
        return None
    return read_vectors(resolve_vectors(args.vectors, progress=not getattr(args, "no_progress", False)),
                        keep=vocab_keep_set(words))


def warm_start(model: nn.Module, words: Vocab, args: argparse.Namespace, vectors: Vectors | None = None) -> dict:
    """Fills ``model``'s embedding from ``vectors``, then copies ``--init-from``; returns what was done (logged).

    Raises:
        ConfigError: the vectors' size is not the embedding's (size the model with ``vectors.dim``).
    """
    done = {}
    if vectors is not None:
        matrix, coverage = embedding_matrix(words, vectors, generator=torch.Generator().manual_seed(args.seed))
        load_embedding(model.embedding.embedding, matrix)
        done["vectors"] = str(coverage)
        logger.info("vectors %s: %s", args.vectors, coverage)
    if getattr(args, "init_from", None):
        report = init_from(model, args.init_from, words)
        done["init_from"] = str(report)
        logger.info("warm start from %s: %s", args.init_from, report)
    return done


def apply_lr_decay(trainer, args: argparse.Namespace) -> list[float] | None:
    """Discriminative learning rates on a built Trainer when ``--lr-decay`` is above 1 (logged)."""
    if getattr(args, "lr_decay", 1.0) == 1.0:
        return None
    if not hasattr(trainer.model, "encoder"):
        raise ConfigError("--lr-decay needs a model with an LSTM encoder")
    rates = use_discriminative_lrs(trainer, args.lr_decay)
    logger.info("learning rates per layer group, bottom to top: %s", ", ".join(f"{r:.3g}" for r in rates))
    return rates


def apply_gradual_unfreezing(trainer, args: argparse.Namespace) -> int | None:
    """Gradual unfreezing on a built Trainer with ``--gradual-unfreeze`` (logged each epoch); the number of groups."""
    if not getattr(args, "gradual_unfreeze", False):
        return None
    return use_gradual_unfreezing(trainer)
