"""--vectors / --init-from / --lr-decay for a recipe: parsing, vectors sizing the embedding, warm start."""

from __future__ import annotations

import argparse

import pytest
import torch

from lstm_nlp.data.vocab import Vocab
from lstm_nlp.models import ClassifierConfig, TextClassifier
from lstm_nlp.models.language_model import BiLanguageModel, LanguageModelConfig
from lstm_nlp.recipe_kit.pretrained import add_pretrained_options, apply_lr_decay, load_vectors, warm_start
from lstm_nlp.training import Trainer, TrainerConfig

WORDS = Vocab(["<pad>", "<unk>", "film", "good"])


def parse(argv):
    parser = argparse.ArgumentParser()
    parser.add_argument("--seed", type=int, default=1)
    add_pretrained_options(parser)
    return parser.parse_args(argv)


def test_vectors_then_lm(tmp_path):
    vectors = tmp_path / "v.vec"
    vectors.write_text("film 1 2 3 4\nplot 5 6 7 8\n")
    lm = BiLanguageModel(LanguageModelConfig(vocab_size=4, embedding_dim=4, hidden_size=3, div_value=2.0))
    lm.save_pretrained(tmp_path / "lm", vocabs={"words": Vocab(["<pad>", "<unk>", "<eos>", "good"])})
    args = parse(["--vectors", str(vectors), "--init-from", str(tmp_path / "lm")])
    loaded = load_vectors(args, WORDS)
    assert loaded.dim == 4
    model = TextClassifier(ClassifierConfig(vocab_size=4, num_labels=2, embedding_dim=loaded.dim, hidden_size=3))
    done = warm_start(model, WORDS, args, loaded)
    table = model.embedding.embedding.weight
    assert table[2].tolist() == [1, 2, 3, 4]  # from the vectors; the LM does not know "film"
    assert torch.equal(table[3], lm.embedding.embedding.weight[3])  # "good" from the LM, which comes second
    assert set(done) == {"vectors", "init_from"}


def test_lr_decay_option(capsys):
    with pytest.raises(SystemExit):
        parse(["--lr-decay", "0.5"])
    assert "must be >= 1" in capsys.readouterr().err
    model = TextClassifier(ClassifierConfig(vocab_size=4, num_labels=2, embedding_dim=4, hidden_size=3))
    trainer = Trainer(model, TrainerConfig(progress=False, device="cpu", lr=0.01), train_loader=[])
    assert apply_lr_decay(trainer, parse([])) is None
    assert apply_lr_decay(trainer, parse(["--lr-decay", "2"])) == pytest.approx([0.0025, 0.005, 0.01])


def test_without_options_nothing_happens():
    args = parse([])
    assert load_vectors(args, WORDS) is None
    model = TextClassifier(ClassifierConfig(vocab_size=4, num_labels=2, embedding_dim=4, hidden_size=3))
    assert warm_start(model, WORDS, args) == {}
