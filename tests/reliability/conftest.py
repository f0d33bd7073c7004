"""Tiny trained bundles (a POS tagger and a sentiment classifier) shared by the reliability tests.

Both are trained for one epoch on the bundled samples in ``data/`` (a few seconds together) and
saved once per session; tests that damage a bundle work on a copy (:func:`copy_bundle`).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest


def _fit(pipeline, examples) -> None:
    from lstm_nlp.training import Trainer, TrainerConfig

    config = TrainerConfig(epochs=1, lr=5e-3, device="cpu", progress=False, output_dir=None, seed=0)
    Trainer(pipeline.model, config, train_loader=pipeline.loader(examples, batch_size=16, shuffle=True)).fit()


@pytest.fixture(scope="session")
def tagger_bundle(tmp_path_factory, sample_dir) -> Path:
    """A POS tagger (word + char-CNN features) bundle trained on data/pos/train.conllu."""
    from lstm_nlp.data import Vocab, read_conllu
    from lstm_nlp.models import SequenceTagger, TaggerConfig
    from lstm_nlp.pipelines import TaggingPipeline
    from lstm_nlp.pipelines.tagging import build_char_vocab

    train = read_conllu(sample_dir / "pos" / "train.conllu")
    words = Vocab.build(train["tokens"], min_freq=2)
    labels = Vocab.build_labels(train["tags"])
    chars = build_char_vocab(train["tokens"])
    config = TaggerConfig(vocab_size=len(words), num_labels=len(labels), embedding_dim=16, hidden_size=16,
                          num_layers=1, char_encoder="cnn", char_vocab_size=len(chars), char_embedding_dim=8,
                          char_hidden_size=8)
    pipeline = TaggingPipeline(SequenceTagger(config), words, labels, chars=chars, scheme="token")
    _fit(pipeline, pipeline.encode(train))
    path = tmp_path_factory.mktemp("bundles") / "tagger"
    pipeline.save_pretrained(path)
    return path


@pytest.fixture(scope="session")
def classifier_bundle(tmp_path_factory, sample_dir) -> Path:
    """A sentiment classifier bundle (spaCy words, max_length 64) trained on data/imdb/train.jsonl."""
    from lstm_nlp.data import TextTokenizer, Vocab, build_vocab, load_text_classification, tokenize_dataset
    from lstm_nlp.models import ClassifierConfig, TextClassifier
    from lstm_nlp.pipelines import ClassificationPipeline

    cache = tmp_path_factory.mktemp("hf_cache")
    train = load_text_classification(sample_dir / "imdb" / "train.jsonl", label_names=["neg", "pos"],
                                     cache_dir=cache)
    tokenizer = TextTokenizer("spacy")
    words = build_vocab(tokenize_dataset(train, tokenizer, cache_dir=cache))
    labels = Vocab.build_labels(train["label"])
    config = ClassifierConfig(vocab_size=len(words), num_labels=len(labels), embedding_dim=16, hidden_size=16)
    pipeline = ClassificationPipeline(TextClassifier(config), words, labels, tokenizer, label_names=["neg", "pos"],
                                      max_length=64)
    _fit(pipeline, pipeline.encode(train, cache_dir=cache))
    path = tmp_path_factory.mktemp("bundles") / "classifier"
    pipeline.save_pretrained(path)
    return path


@pytest.fixture(scope="session")
def forecaster_bundle(tmp_path_factory) -> Path:
    """An untrained forecaster bundle (window 8, horizon 2, period 4)."""
    path = tmp_path_factory.mktemp("bundles") / "forecaster"
    from lstm_nlp.models import Forecaster, ForecasterConfig
    from lstm_nlp.pipelines import ForecastPipeline

    model = Forecaster(ForecasterConfig(window=8, horizon=2, hidden_size=4))
    ForecastPipeline(model, period=4, column="value").save_pretrained(path)
    return path


@pytest.fixture(scope="session")
def ner_bundle(tmp_path_factory, sample_dir) -> Path:
    """A NER tagger (IOB2 span tags, untrained) bundle with the tag set of data/ner/dev.txt."""
    from lstm_nlp.data import Vocab
    from lstm_nlp.data.conll import read_conll
    from lstm_nlp.models import SequenceTagger, TaggerConfig
    from lstm_nlp.pipelines import TaggingPipeline

    data = read_conll(sample_dir / "ner" / "dev.txt", tag_column=3, scheme="iob2")
    words, labels = Vocab.build(data["tokens"]), Vocab.build_labels(data["tags"])
    config = TaggerConfig(vocab_size=len(words), num_labels=len(labels), embedding_dim=4, hidden_size=4, num_layers=1)
    path = tmp_path_factory.mktemp("bundles") / "ner"
    TaggingPipeline(SequenceTagger(config), words, labels, scheme="iob2", tag_column=3,
                    file_scheme="iob2").save_pretrained(path)
    return path


@pytest.fixture
def copy_bundle(tmp_path):
    """``copy_bundle(src) -> Path``: a private copy of a bundle directory to damage."""

    def copy(source: Path) -> Path:
        target = tmp_path / source.name
        shutil.copytree(source, target)
        return target

    return copy
