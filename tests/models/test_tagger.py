"""SequenceTagger variants: word-only softmax, char-CNN / char-LSTM features, CRF head; bundles."""

import dataclasses
import json

import pytest
import torch

from lstm_nlp.errors import BundleError, ConfigError
from lstm_nlp.models import SequenceTagger, TaggerConfig
from lstm_nlp.modules.crf import CRFHead, allowed_transitions
from lstm_nlp.serialization import read_bundle

LABELS = ["B-PER", "I-PER", "O"]


def _config(**overrides) -> TaggerConfig:
    base = dict(vocab_size=12, num_labels=3, embedding_dim=6, hidden_size=5, num_layers=1, dropout=0.1,
                char_encoder="cnn", char_vocab_size=9, char_embedding_dim=4, char_hidden_size=5, head="crf")
    return TaggerConfig(**{**base, **overrides})


def _batch():
    token_ids = torch.tensor([[2, 3, 4, 5], [6, 7, 0, 0]])
    mask = token_ids != 0
    char_ids = torch.randint(2, 9, (2, 4, 3)).masked_fill(~mask.unsqueeze(-1), 0)
    char_ids[0, 1, 2] = 0  # a shorter word
    labels = torch.tensor([[0, 1, 2, 2], [2, 0, -100, -100]])
    return token_ids, mask, char_ids, labels


@pytest.mark.parametrize("char_encoder,head", [("none", "softmax"), ("cnn", "crf"), ("lstm", "crf"),
                                               ("lstm", "softmax")])
def test_variants_train_step_and_decode(char_encoder, head):
    model = SequenceTagger(_config(char_encoder=char_encoder, head=head))
    token_ids, mask, char_ids, labels = _batch()
    output = model(token_ids, mask=mask, char_ids=char_ids, labels=labels)
    assert output.logits.shape == (2, 4, 3) and output.loss.dim() == 0
    output.loss.backward()
    assert model.embedding.embedding.weight.grad is not None
    assert [len(tags) for tags in model.decode(output)] == [4, 2]
    assert isinstance(model.head, CRFHead) == (head == "crf")


def test_padding_does_not_change_a_sentence_in_eval_mode():
    model = SequenceTagger(_config()).eval()
    token_ids, mask, char_ids, _ = _batch()
    together = model(token_ids, mask=mask, char_ids=char_ids)
    alone = model(token_ids[1:, :2], mask=mask[1:, :2], char_ids=char_ids[1:, :2])
    torch.testing.assert_close(together.logits[1, :2], alone.logits[0])
    assert model.decode(together)[1] == model.decode(alone)[0]


def test_config_is_checked_at_build_time():
    with pytest.raises(ConfigError, match="char_vocab_size"):
        _config(char_vocab_size=0)
    with pytest.raises(ConfigError, match="head"):
        _config(head="maxent")
    with pytest.raises(ConfigError, match="char_encoder"):
        _config(char_encoder="rnn")
    with pytest.raises(ConfigError, match="crf"):
        SequenceTagger(_config(head="softmax"), constraints=allowed_transitions(LABELS))
    model = SequenceTagger(_config())
    token_ids, mask, _, _ = _batch()
    with pytest.raises(ValueError, match="char_ids"):
        model(token_ids, mask=mask)


def test_freeze_embeddings_stops_their_gradient():
    model = SequenceTagger(_config(freeze_embeddings=True))
    assert not model.embedding.embedding.weight.requires_grad


def test_save_load_gives_identical_logits_and_keeps_crf_constraints(tmp_path):
    torch.manual_seed(1)
    model = SequenceTagger(_config(), constraints=allowed_transitions(LABELS)).eval()
    model.save_pretrained(tmp_path / "bundle")
    loaded = SequenceTagger.from_pretrained(tmp_path / "bundle")
    token_ids, mask, char_ids, _ = _batch()
    a, b = model(token_ids, mask=mask, char_ids=char_ids), loaded(token_ids, mask=mask, char_ids=char_ids)
    torch.testing.assert_close(a.logits, b.logits, rtol=0, atol=0)
    assert model.decode(a) == loaded.decode(b)
    assert torch.equal(loaded.head.crf.allowed, model.head.crf.allowed)
    assert read_bundle(tmp_path / "bundle").config["head"] == "crf"


def test_word_only_config_without_the_new_fields_still_loads(tmp_path):
    old = {k: v for k, v in dataclasses.asdict(_config(char_encoder="none", head="softmax")).items()
           if k in ("vocab_size", "num_labels", "embedding_dim", "hidden_size", "num_layers", "bidirectional",
                    "dropout", "encoder_impl")}
    model = SequenceTagger(TaggerConfig(**old))
    assert set(model.state_dict()) >= {"embedding.embedding.weight", "head.projection.weight"}
    assert not any(key.startswith("char_encoder") for key in model.state_dict())


def test_a_bundle_without_the_encoder_field_loads_as_lstm(tmp_path):
    torch.manual_seed(2)
    model = SequenceTagger(_config(char_encoder="none", head="softmax")).eval()
    model.save_pretrained(tmp_path / "bundle")
    config_file = tmp_path / "bundle" / "config.json"
    written = json.loads(config_file.read_text())
    assert written["config"].pop("encoder") == "lstm"
    config_file.write_text(json.dumps(written))
    loaded = SequenceTagger.from_pretrained(tmp_path / "bundle")
    assert loaded.config.encoder == "lstm" and type(loaded.encoder) is type(model.encoder)
    token_ids, mask, _, _ = _batch()
    torch.testing.assert_close(loaded(token_ids, mask=mask).logits, model(token_ids, mask=mask).logits, rtol=0, atol=0)


def test_an_unknown_encoder_is_refused_in_the_config_and_in_a_bundle(tmp_path):
    with pytest.raises(ConfigError, match=r"^TaggerConfig.encoder must be one of the registered encoders"):
        _config(encoder="transformer")
    SequenceTagger(_config(char_encoder="none", head="softmax")).save_pretrained(tmp_path / "bundle")
    config_file = tmp_path / "bundle" / "config.json"
    written = json.loads(config_file.read_text())
    written["config"]["encoder"] = "transformer"
    config_file.write_text(json.dumps(written))
    with pytest.raises(BundleError, match="config.json: TaggerConfig.encoder must be one of"):
        SequenceTagger.from_pretrained(tmp_path / "bundle")


@pytest.mark.parametrize("char_encoder,head", [("none", "softmax"), ("lstm", "crf")])
def test_a_gru_tagger_round_trips_through_its_bundle(tmp_path, char_encoder, head):
    torch.manual_seed(3)
    model = SequenceTagger(_config(encoder="gru", num_layers=2, char_encoder=char_encoder, head=head)).eval()
    model.save_pretrained(tmp_path / "bundle")
    assert read_bundle(tmp_path / "bundle").config["encoder"] == "gru"
    assert any(key.startswith("encoder.gru.weight_ih_l1_reverse") for key in model.state_dict())
    loaded = SequenceTagger.from_pretrained(tmp_path / "bundle")
    assert loaded.config.encoder == "gru" and loaded.encoder.rnn.mode == "GRU"
    token_ids, mask, char_ids, labels = _batch()
    a, b = model(token_ids, mask=mask, char_ids=char_ids), loaded(token_ids, mask=mask, char_ids=char_ids)
    torch.testing.assert_close(a.logits, b.logits, rtol=0, atol=0)
    model.train()
    model(token_ids, mask=mask, char_ids=char_ids, labels=labels).loss.backward()
    assert model.encoder.rnn.weight_hh_l0.grad.abs().sum() > 0


@pytest.mark.parametrize("head", ["crf", "softmax"])
def test_bundle_keeps_the_class_weights_and_a_bundle_written_without_them_loads(tmp_path, head):
    import json

    torch.manual_seed(1)
    model = SequenceTagger(_config(head=head, class_weights=[2.0, 3.0, 0.5]))
    model.save_pretrained(tmp_path / "weighted")
    loaded = SequenceTagger.from_pretrained(tmp_path / "weighted")
    assert loaded.config.class_weights == (2.0, 3.0, 0.5) and loaded.head.class_weights.tolist() == [2.0, 3.0, 0.5]
    token_ids, mask, char_ids, labels = _batch()
    model.eval()
    torch.testing.assert_close(loaded(token_ids, mask=mask, char_ids=char_ids, labels=labels).loss,
                               model(token_ids, mask=mask, char_ids=char_ids, labels=labels).loss)
    config_file = tmp_path / "weighted" / "config.json"  # an older bundle: no class_weights field at all
    document = json.loads(config_file.read_text())
    del document["config"]["class_weights"]
    config_file.write_text(json.dumps(document))
    old = SequenceTagger.from_pretrained(tmp_path / "weighted")
    assert old.config.class_weights is None and old.head.class_weights is None
    torch.testing.assert_close(old(token_ids, mask=mask, char_ids=char_ids).logits,
                               model(token_ids, mask=mask, char_ids=char_ids).logits)


def test_bad_class_weights_in_a_bundle_config_are_one_line_errors(tmp_path):
    import json

    from lstm_nlp.errors import BundleError

    SequenceTagger(_config()).save_pretrained(tmp_path / "b")
    config_file = tmp_path / "b" / "config.json"
    document = json.loads(config_file.read_text())
    for bad, message in (([1.0, 2.0], "one weight per label"), ([1.0, -2.0, 1.0], "class_weights"),
                         ("heavy", "class_weights")):
        document["config"]["class_weights"] = bad
        config_file.write_text(json.dumps(document))
        with pytest.raises(BundleError, match=message):
            SequenceTagger.from_pretrained(tmp_path / "b")
