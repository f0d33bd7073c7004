"""Pooling: final states read correctly from h_n, mean/max over real tokens only."""

import pytest
import torch

from lstm_nlp.errors import ConfigError
from lstm_nlp.modules import LSTMEncoder
from lstm_nlp.modules.pooling import SequencePooler, final_states, masked_max, masked_mean

LENGTHS = torch.tensor([5, 2, 4])


def _mask(lengths, width=None):
    width = width or int(lengths.max())
    return torch.arange(width)[None, :] < lengths[:, None]


@pytest.mark.parametrize("impl", ["packed", "dense"])
@pytest.mark.parametrize("num_layers", [1, 2])
@pytest.mark.parametrize("bidirectional", [False, True])
def test_final_states_equal_the_per_token_outputs_at_each_rows_ends(impl, num_layers, bidirectional):
    torch.manual_seed(0)
    hidden = 3
    encoder = LSTMEncoder(4, hidden, num_layers=num_layers, bidirectional=bidirectional, impl=impl).eval()
    mask = _mask(LENGTHS, width=6)  # one column of padding beyond the longest row
    result = encoder(torch.randn(3, 6, 4), mask=mask)
    pooled = final_states(result.h_n, num_directions=encoder.num_directions)
    assert pooled.shape == (3, encoder.output_dim)
    for row, length in enumerate(LENGTHS.tolist()):
        # forward direction: output at the last real token; backward: output at the first token
        torch.testing.assert_close(pooled[row, :hidden], result.outputs[row, length - 1, :hidden])
        if bidirectional:
            torch.testing.assert_close(pooled[row, hidden:], result.outputs[row, 0, hidden:])


def test_final_states_is_not_the_tutorial_h_n_minus_one():
    h_n = torch.arange(2 * 2 * 1 * 2, dtype=torch.float).view(4, 1, 2)  # 2 layers x 2 directions
    assert final_states(h_n, num_directions=2).tolist() == [[4.0, 5.0, 6.0, 7.0]]  # layer 1 fwd, layer 1 bwd
    with pytest.raises(ValueError, match="h_n must be"):
        final_states(torch.zeros(3, 1, 2), num_directions=2)


def test_mean_and_max_ignore_padding_whatever_its_value():
    torch.manual_seed(0)
    features = torch.randn(3, 5, 4) - 3.0  # all-negative values: padding zeros must not win the max
    mask = _mask(LENGTHS)
    garbage = features.masked_fill(~mask.unsqueeze(-1), 1e6)
    wider = torch.cat([garbage, torch.full((3, 3, 4), 7.0)], dim=1)
    wider_mask = _mask(LENGTHS, width=8)
    for pool in (masked_mean, masked_max):
        expected = torch.stack([getattr(features[r, :n], "mean" if pool is masked_mean else "amax")(0)
                                for r, n in enumerate(LENGTHS.tolist())])
        torch.testing.assert_close(pool(features, mask), expected)
        torch.testing.assert_close(pool(wider, wider_mask), expected)


def test_rows_without_tokens_give_zeros_not_nan():
    features = torch.randn(2, 3, 2)
    mask = torch.tensor([[True, False, False], [False, False, False]])
    for pool in (masked_mean, masked_max):
        out = pool(features, mask)
        assert torch.isfinite(out).all() and out[1].abs().sum() == 0


def test_max_pooling_gradient_reaches_only_real_tokens():
    features = torch.randn(1, 4, 2, requires_grad=True)
    masked_max(features, _mask(torch.tensor([2]), width=4)).sum().backward()
    assert features.grad[0, 2:].abs().sum() == 0 and features.grad[0, :2].abs().sum() > 0


def test_sequence_pooler_dispatches_and_checks():
    outputs, mask = torch.randn(2, 3, 4), _mask(torch.tensor([3, 1]))
    h_n = torch.randn(2, 2, 2)
    assert torch.equal(SequencePooler("final", num_directions=2)(outputs, mask=mask, h_n=h_n),
                       final_states(h_n, num_directions=2))
    assert torch.equal(SequencePooler("mean")(outputs, mask=mask), masked_mean(outputs, mask))
    assert torch.equal(SequencePooler("max")(outputs, mask=mask), masked_max(outputs, mask))
    with pytest.raises(ValueError, match="needs h_n"):
        SequencePooler("final")(outputs, mask=mask)
    with pytest.raises(ConfigError, match="pooling must be one of"):
        SequencePooler("attention")
