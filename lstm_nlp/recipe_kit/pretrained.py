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

from lstm_nlp.argtypes import AT_LEAST_ONE
from lstm_nlp.data.vector_cache import resolve_vectors
from lstm_nlp.data.vectors import Vectors, embedding_matrix, extend_vocab, load_embedding, read_vectors, vocab_keep_set
from lstm_nlp.data.vocab import Vocab
from lstm_nlp.errors import ConfigError
from lstm_nlp.models.warm_start import init_from
from lstm_nlp.training.finetune import use_discriminative_lrs, use_gradual_unfreezing

logger = logging.getLogger("lstm_nlp")


def add_pretrained_options(parser: argparse.ArgumentParser, *, vocab_options: bool = False) -> None:
    """Adds ``--vectors``, ``--init-from``, ``--lr-decay`` and ``--gradual-unfreeze`` (group "pretrained weights").

    Args:
        parser: The recipe's parser.
        vocab_options: Also ``--freeze-vectors`` and ``--extend-vocab`` (read by :func:`warm_start`,
            :func:`load_vectors` and :func:`vocab_with_vectors`).
    """
    group = parser.add_argument_group("pretrained weights")
    group.add_argument("--vectors", help="word vectors for the embedding: a GloVe/word2vec/fastText text file (.gz "
                                         "ok; recipes/train_vectors.py writes one) or a known name (glove.6B.100d, "
                                         "crawl-300d-2M, wiki-news-300d-1M; downloaded once into $LSTM_NLP_CACHE); "
                                         "the embedding takes their size")
    group.add_argument("--init-from", metavar="LM_BUNDLE",
                       help="a recipes/pretrain_lm.py bundle (its OUTPUT_DIR/model): copy its embedding rows of shared "
                            "words and its recurrent weights where the cell and shapes agree (after --vectors); "
                            "the coverage is logged")
    group.add_argument("--lr-decay", type=AT_LEAST_ONE, default=1.0,
                       help="discriminative learning rates: each lower layer group (head, LSTM layers, embedding) "
                            "trains at the rate above it / this (ULMFiT: 2.6; 1: one rate)")
    if vocab_options:
        group.add_argument("--freeze-vectors", action="store_true", help="do not fine-tune the vectors")
        group.add_argument("--extend-vocab", action="store_true", help="add the vectors' words to the vocabulary")
    group.add_argument("--gradual-unfreeze", action="store_true",
                       help="train only the top layer group (head) in epoch 1, the top two in epoch 2, ... down to "
                            "the embedding (ULMFiT; for warm-started models; not under torchrun)")


def load_vectors(args: argparse.Namespace, words: Vocab) -> Vectors | None:
    """The vectors of ``--vectors`` for the words of ``words`` (all of them with ``--extend-vocab``; ``None``
    without ``--vectors``)."""
    if not getattr(args, "vectors", None):
        return None
    keep = None if getattr(args, "extend_vocab", False) else vocab_keep_set(words)
    return read_vectors(resolve_vectors(args.vectors, progress=not getattr(args, "no_progress", False)), keep=keep)


def vocab_with_vectors(words: Vocab, vectors: Vectors | None, args: argparse.Namespace) -> Vocab:
    """``words`` plus the words of ``vectors`` with ``--extend-vocab``, else ``words`` itself."""
    return extend_vocab(words, vectors) if vectors is not None and getattr(args, "extend_vocab", False) else words


def warm_start(model: nn.Module, words: Vocab, args: argparse.Namespace, vectors: Vectors | None = None) -> dict:
    """Fills ``model``'s embedding from ``vectors``, then copies ``--init-from``; returns what was done (logged).

    Words without a vector get random rows drawn from a generator seeded with ``--seed`` (the same
    rows on every run, whatever ran before); ``--freeze-vectors`` keeps the embedding fixed.

    Raises:
        ConfigError: the vectors' size is not the embedding's (size the model with ``vectors.dim``).
    """
    done = {}
    if vectors is not None:
        matrix, coverage = embedding_matrix(words, vectors, generator=torch.Generator().manual_seed(args.seed))
        load_embedding(model.input_embedding(), matrix, freeze=getattr(args, "freeze_vectors", False))
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
        raise ConfigError("--lr-decay needs a model with a registered encoder")
    rates = use_discriminative_lrs(trainer, args.lr_decay)
    logger.info("learning rates per layer group, bottom to top: %s", ", ".join(f"{r:.3g}" for r in rates))
    return rates


def apply_gradual_unfreezing(trainer, args: argparse.Namespace) -> int | None:
    """Gradual unfreezing on a built Trainer with ``--gradual-unfreeze`` (logged each epoch); the number of groups."""
    if not getattr(args, "gradual_unfreeze", False):
        return None
    return use_gradual_unfreezing(trainer)
