"""init_from: embedding rows where the vocabularies agree, LSTM directions where the shapes agree."""

from __future__ import annotations

import pytest
import torch

from lstm_nlp.data.vocab import Vocab
from lstm_nlp.errors import BundleError, ConfigError
from lstm_nlp.models import ClassifierConfig, SequenceTagger, TaggerConfig, TextClassifier
from lstm_nlp.models.language_model import BiLanguageModel, LanguageModelConfig
from lstm_nlp.models.warm_start import init_from

LM_WORDS = Vocab(["<pad>", "<unk>", "<eos>", "the", "film", "good", "bad"], lower=True)


@pytest.fixture
def lm_dir(tmp_path):
    torch.manual_seed(1)
    lm = BiLanguageModel(LanguageModelConfig(vocab_size=len(LM_WORDS), embedding_dim=8, hidden_size=6, num_layers=2))
    lm.save_pretrained(tmp_path / "lm", vocabs={"words": LM_WORDS})
    return tmp_path / "lm", lm


def test_copies_shared_rows_and_both_directions(lm_dir):
    path, lm = lm_dir
    words = Vocab(["<pad>", "<unk>", "film", "The", "plot"])
    model = TextClassifier(ClassifierConfig(vocab_size=len(words), num_labels=2, embedding_dim=8, hidden_size=6))
    report = init_from(model, path, words)
    table, source = model.embedding.embedding.weight, lm.embedding.embedding.weight
    assert torch.equal(table[2], source[4]) and torch.equal(table[3], source[3])  # "The" found lower-cased
    assert torch.equal(table[1], source[1]) and not torch.equal(table[4], source[1])  # <unk>; "plot" kept
    assert torch.equal(table[0], torch.zeros(8))
    assert (report.coverage.found, report.coverage.total) == (2, 3)
    lstm = model.encoder.lstm
    assert torch.equal(lstm.weight_hh_l0, lm.forward_lstm.lstm.weight_hh_l0)
    assert torch.equal(lstm.weight_ih_l0_reverse, lm.backward_lstm.lstm.weight_ih_l0)
    assert "embedding.embedding.weight" in report.copied and len(report.copied) == 9
    assert "2/3 words" in str(report)


def test_second_bilstm_layer_input_and_other_sizes_are_reported_not_copied(lm_dir):
    path, lm = lm_dir
    words = Vocab(["<pad>", "<unk>", "film"])
    model = TextClassifier(ClassifierConfig(vocab_size=3, num_labels=2, embedding_dim=8, hidden_size=6,
                                            num_layers=2))
    report = init_from(model, path, words)
    assert torch.equal(model.encoder.lstm.weight_hh_l1, lm.forward_lstm.lstm.weight_hh_l1)
    assert any(s.startswith("encoder.lstm.weight_ih_l1:") for s in report.skipped)  # reads 2 x 6, the LM 6
    small = TextClassifier(ClassifierConfig(vocab_size=3, num_labels=2, embedding_dim=4, hidden_size=6))
    report = init_from(small, path, words)
    assert report.coverage.found == 0 and any("embedding: size 4" in s for s in report.skipped)


def test_a_tagger_is_warm_started_too(lm_dir):
    path, lm = lm_dir
    words = Vocab(["<pad>", "<unk>", "good"])
    tagger = SequenceTagger(TaggerConfig(vocab_size=3, num_labels=3, embedding_dim=8, hidden_size=6))
    report = init_from(tagger, path, words)
    assert report.coverage.found == 1
    assert torch.equal(tagger.encoder.lstm.weight_hh_l0_reverse, lm.backward_lstm.lstm.weight_hh_l0)


def test_errors(lm_dir, tmp_path):
    path, lm = lm_dir
    words = Vocab(["<pad>", "<unk>", "film"])
    model = TextClassifier(ClassifierConfig(vocab_size=3, num_labels=2, embedding_dim=8, hidden_size=6))
    with pytest.raises(ConfigError, match="4 words"):
        init_from(model, path, Vocab(["<pad>", "<unk>", "a", "b"]))
    with pytest.raises(ConfigError, match=r"input_embedding\(\) and a registered encoder"):
        init_from(torch.nn.Linear(2, 2), path, words)
    with pytest.raises(ConfigError, match="lm_vocab"):
        init_from(model, lm, words)
    model.save_pretrained(tmp_path / "clf")
    with pytest.raises(BundleError, match="expected 'bilm'"):
        init_from(model, tmp_path / "clf", words)
    other = TextClassifier(ClassifierConfig(vocab_size=3, num_labels=2, embedding_dim=4, hidden_size=5))
    with pytest.raises(ConfigError, match="nothing could be copied"):
        init_from(other, path, words)


def test_models_expose_their_embedding_and_encoder_weights_through_accessors():
    from lstm_nlp.modules.encoder import RecurrentEncoder

    lm = BiLanguageModel(LanguageModelConfig(vocab_size=7, embedding_dim=8, hidden_size=6))
    models = [TextClassifier(ClassifierConfig(vocab_size=5, num_labels=2, embedding_dim=8, hidden_size=6)),
              SequenceTagger(TaggerConfig(vocab_size=5, num_labels=3, embedding_dim=8, hidden_size=6)), lm]
    for model in models:
        assert isinstance(model.input_embedding(), torch.nn.Embedding) and model.input_embedding().embedding_dim == 8
    for encoder in [models[0].encoder, models[1].encoder, *lm.directions()]:
        assert isinstance(encoder, RecurrentEncoder) and isinstance(encoder.rnn, torch.nn.RNNBase)
    assert lm.directions()[0].rnn.bidirectional is False


def test_the_report_names_the_weights_as_the_model_does(lm_dir):
    path, _ = lm_dir
    model = TextClassifier(ClassifierConfig(vocab_size=3, num_labels=2, embedding_dim=8, hidden_size=6))
    report = init_from(model, path, Vocab(["<pad>", "<unk>", "film"]))
    assert set(report.copied) - {"embedding.embedding.weight"} <= set(model.state_dict())


def test_a_gru_lm_warm_starts_a_gru_tagger_and_an_lstm_lm_copies_only_the_embedding(lm_dir, tmp_path):
    path, _ = lm_dir
    torch.manual_seed(4)
    gru_lm = BiLanguageModel(LanguageModelConfig(vocab_size=len(LM_WORDS), embedding_dim=8, hidden_size=6,
                                                 encoder="gru"))
    gru_lm.save_pretrained(tmp_path / "gru_lm", vocabs={"words": LM_WORDS})
    words = Vocab(["<pad>", "<unk>", "good"])
    tagger = SequenceTagger(TaggerConfig(vocab_size=3, num_labels=3, embedding_dim=8, hidden_size=6, num_layers=1,
                                         encoder="gru"))
    report = init_from(tagger, tmp_path / "gru_lm", words)
    assert torch.equal(tagger.encoder.rnn.weight_hh_l0_reverse, gru_lm.backward_lstm.rnn.weight_hh_l0)
    assert "encoder.gru.weight_ih_l0" in report.copied and not report.skipped
    before = tagger.encoder.rnn.weight_hh_l0.detach().clone()
    report = init_from(tagger, path, words)  # the LSTM LM
    assert report.copied == ["embedding.embedding.weight"] and torch.equal(tagger.encoder.rnn.weight_hh_l0, before)
    assert report.skipped == ["encoder.gru: the LM's LSTM weights do not fit a GRU encoder"]
