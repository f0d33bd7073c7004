"""BiLanguageModel: each direction sees only its own context, padding is ignored, bundles round-trip."""

from __future__ import annotations

import pytest
import torch

from lstm_nlp.errors import BundleError, ConfigError
from lstm_nlp.models.language_model import BiLanguageModel, LanguageModelConfig


def model(**kwargs) -> BiLanguageModel:
    torch.manual_seed(0)
    return BiLanguageModel(LanguageModelConfig(vocab_size=30, embedding_dim=8, hidden_size=6, cutoffs=(10, 20),
                                               div_value=2.0, dropout=0.0, **kwargs)).eval()


def per_position_nll(lm, ids, direction):
    """Loss of each predicted word alone (by masking the others' targets out via single-pair batches)."""
    encoder = lm.forward_lstm if direction == "forward" else lm.backward_lstm
    seq = ids if direction == "forward" else ids.flip(1)
    hidden = encoder(lm.embedding(seq), mask=torch.ones_like(seq, dtype=torch.bool)).outputs
    return [float(lm.softmax(hidden[:, t], seq[:, t + 1]).loss.detach()) for t in range(seq.shape[1] - 1)]


@pytest.mark.parametrize("layers", [1, 2])
def test_the_forward_lm_never_sees_the_future_nor_the_backward_the_past(layers):
    lm = model(num_layers=layers)
    ids = torch.tensor([[3, 4, 5, 6, 7, 8]])
    changed = ids.clone()
    changed[0, 5] = 9  # only the last word differs
    fwd, fwd2 = per_position_nll(lm, ids, "forward"), per_position_nll(lm, changed, "forward")
    assert fwd[:4] == pytest.approx(fwd2[:4])  # predictions of words 1..4 ignore word 5
    changed = ids.clone()
    changed[0, 0] = 9  # only the first word differs
    bwd, bwd2 = per_position_nll(lm, ids, "backward"), per_position_nll(lm, changed, "backward")
    assert bwd[:4] == pytest.approx(bwd2[:4])


def test_padding_does_not_change_the_loss():
    lm = model()
    ids = torch.tensor([[3, 4, 5, 6], [7, 8, 9, 0]])
    mask = ids != 0
    both = lm(ids, mask=mask)
    short = lm(ids[1:, :3], mask=mask[1:, :3])
    long = lm(ids[:1], mask=mask[:1])
    assert int(both.predicted) == 5
    expected = (3 * long.forward_loss + 2 * short.forward_loss) / 5
    assert float(both.forward_loss) == pytest.approx(float(expected), rel=1e-5)


def test_training_lowers_the_loss():
    lm = model().train()
    ids = torch.tensor([[3, 4, 5, 6, 3, 4, 5, 6]] * 4)
    mask = torch.ones_like(ids, dtype=torch.bool)
    optimizer = torch.optim.Adam(lm.parameters(), lr=0.05)
    first = float(lm(ids, mask=mask).loss)
    for _ in range(30):
        optimizer.zero_grad()
        lm(ids, mask=mask).loss.backward()
        optimizer.step()
    assert float(lm(ids, mask=mask).loss) < 0.3 * first


def test_save_and_load_give_identical_losses(tmp_path):
    lm = model(num_layers=2)
    lm.save_pretrained(tmp_path / "lm")
    again = BiLanguageModel.from_pretrained(tmp_path / "lm")
    ids = torch.tensor([[3, 4, 5, 6, 7]])
    mask = torch.ones_like(ids, dtype=torch.bool)
    assert torch.equal(lm(ids, mask=mask).loss, again(ids, mask=mask).loss)
    assert again.config == lm.config


def test_a_bundle_of_another_kind_or_with_a_bad_config_is_refused(tmp_path):
    import json

    lm = model()
    lm.save_pretrained(tmp_path / "lm")
    config = tmp_path / "lm" / "config.json"
    header = json.loads(config.read_text())
    header["config"]["hidden_size"] = 7
    config.write_text(json.dumps(header))
    with pytest.raises(BundleError, match=r"has shape \(24, 8\) but the config implies \(28, 8\)"):
        BiLanguageModel.from_pretrained(tmp_path / "lm")
    header["config"]["bogus"] = 1
    config.write_text(json.dumps(header))
    with pytest.raises(BundleError, match="bogus"):
        BiLanguageModel.from_pretrained(tmp_path / "lm")


def test_small_vocabularies_drop_cutoffs_and_bad_configs_are_refused():
    assert LanguageModelConfig(vocab_size=5).effective_cutoffs == [2]
    assert LanguageModelConfig(vocab_size=50_000).effective_cutoffs == [2000, 10000]
    for bad in ({"vocab_size": 2}, {"vocab_size": 10, "dropout": 1.0}, {"vocab_size": 10, "cutoffs": (5, 3)},
                {"vocab_size": 10, "div_value": 0.5}):
        with pytest.raises(ConfigError):
            LanguageModelConfig(**bad)
