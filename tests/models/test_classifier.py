"""TextClassifier: shapes, padding invariance, training signal, bundles."""

import pytest
import torch

from lstm_nlp.errors import BundleError, ConfigError
from lstm_nlp.models import ClassifierConfig, TextClassifier

SEQUENCES = [[5, 6, 7, 8, 9], [3, 4], [2, 9, 4]]


def _batch(sequences, width=None):
    width = width or max(map(len, sequences))
    ids = torch.zeros(len(sequences), width, dtype=torch.long)
    for row, seq in enumerate(sequences):
        ids[row, : len(seq)] = torch.tensor(seq)
    return ids, ids != 0


def _model(**kwargs):
    torch.manual_seed(0)
    defaults = dict(vocab_size=12, num_labels=3, embedding_dim=6, hidden_size=5)
    return TextClassifier(ClassifierConfig(**{**defaults, **kwargs})).eval()


@pytest.mark.parametrize("pooling", ["final", "mean", "max"])
@pytest.mark.parametrize("num_layers, bidirectional", [(1, True), (2, True), (2, False)])
def test_padding_a_batch_differently_changes_no_prediction(pooling, num_layers, bidirectional):
    model = _model(pooling=pooling, num_layers=num_layers, bidirectional=bidirectional)
    ids, mask = _batch(SEQUENCES)
    reference = model(ids, mask=mask).logits
    assert reference.shape == (3, 3)
    wide_ids, wide_mask = _batch(SEQUENCES, width=9)
    torch.testing.assert_close(model(wide_ids, mask=wide_mask).logits, reference)
    for row, seq in enumerate(SEQUENCES):  # alone, without any padding
        alone_ids, alone_mask = _batch([seq])
        torch.testing.assert_close(model(alone_ids, mask=alone_mask).logits[0], reference[row])


def test_packed_and_dense_encoders_give_the_same_logits():
    ids, mask = _batch(SEQUENCES, width=7)
    packed, dense = _model(encoder_impl="packed"), _model(encoder_impl="dense")
    dense.load_state_dict(packed.state_dict())
    torch.testing.assert_close(dense(ids, mask=mask).logits, packed(ids, mask=mask).logits)


def test_loss_is_the_mean_cross_entropy_and_training_reduces_it():
    model = _model(num_labels=2, dropout=0.0).train()
    ids, mask = _batch(SEQUENCES)
    labels = torch.tensor([1, 0, 1])
    output = model(ids, mask=mask, labels=labels)
    torch.testing.assert_close(output.loss, torch.nn.functional.cross_entropy(output.logits, labels))
    torch.testing.assert_close(output.probabilities().sum(-1), torch.ones(3))
    optimizer = torch.optim.Adam(model.parameters(), lr=0.05)
    first = output.loss.item()
    for _ in range(30):
        optimizer.zero_grad()
        model(ids, mask=mask, labels=labels).loss.backward()
        optimizer.step()
    assert model(ids, mask=mask, labels=labels).loss.item() < first / 4
    assert model(ids, mask=mask).loss is None


def test_save_load_round_trip_gives_identical_logits(tmp_path):
    model = _model(pooling="final", num_layers=2)
    model.save_pretrained(tmp_path / "bundle")
    loaded = TextClassifier.from_pretrained(tmp_path / "bundle")
    assert loaded.config == model.config
    ids, mask = _batch(SEQUENCES)
    assert torch.equal(loaded(ids, mask=mask).logits, model(ids, mask=mask).logits)


def test_bundle_of_another_model_type_is_refused(tmp_path):
    from lstm_nlp.models import SequenceTagger, TaggerConfig

    SequenceTagger(TaggerConfig(vocab_size=5, num_labels=2)).save_pretrained(tmp_path / "tagger")
    with pytest.raises(BundleError, match="expected 'text_classifier'"):
        TextClassifier.from_pretrained(tmp_path / "tagger")


@pytest.mark.parametrize("kwargs, message", [
    ({"num_labels": 1}, "num_labels must be >= 2"),
    ({"pooling": "attention"}, "pooling must be one of"),
    ({"dropout": 1.0}, "dropout"),
    ({"hidden_size": 0}, "hidden_size"),
])
def test_bad_configs_are_refused(kwargs, message):
    with pytest.raises(ConfigError, match=message):
        ClassifierConfig(**{"vocab_size": 10, "num_labels": 2, **kwargs})


def test_class_weights_weight_the_cross_entropy_and_survive_a_bundle_round_trip(tmp_path):
    import json

    ids, mask = _batch(SEQUENCES)
    labels = torch.tensor([0, 1, 2])
    weighted, plain = _model(class_weights=[4.0, 1.0, 0.5]), _model()
    logits = plain(ids, mask=mask).logits
    per_text = torch.nn.functional.cross_entropy(logits, labels, reduction="none")
    w = torch.tensor([4.0, 1.0, 0.5])
    torch.testing.assert_close(weighted(ids, mask=mask, labels=labels).loss, (w * per_text).sum() / w.sum())
    assert torch.equal(weighted(ids, mask=mask).logits, logits)  # predictions unchanged
    weighted.save_pretrained(tmp_path / "bundle")
    assert TextClassifier.from_pretrained(tmp_path / "bundle").config.class_weights == (4.0, 1.0, 0.5)
    config_file = tmp_path / "bundle" / "config.json"
    document = json.loads(config_file.read_text())
    del document["config"]["class_weights"]  # a bundle from before class weights
    config_file.write_text(json.dumps(document))
    assert TextClassifier.from_pretrained(tmp_path / "bundle").config.class_weights is None
    with pytest.raises(ConfigError, match="one weight per label"):
        _model(class_weights=[1.0, 1.0])
