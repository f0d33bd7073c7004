"""The reference LSTM against PyTorch: nn.LSTM, nn.LSTMCell and LSTMEncoder agree to 1e-10 in float64."""

from __future__ import annotations

import itertools

import pytest
import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from lstm_nlp.errors import ConfigError
from lstm_nlp.modules import LSTMEncoder, ReferenceLSTM, ReferenceLSTMCell

TOL = dict(rtol=0, atol=1e-10)
INPUT, HIDDEN, BATCH, SEQ = 3, 4, 4, 6
LENGTHS = torch.tensor([6, 2, 5, 1])  # unsorted on purpose; one row uses the full length


def _pair(num_layers: int, bidirectional: bool, batch_first: bool, seed: int = 0):
    """An nn.LSTM and a ReferenceLSTM with the same float64 weights (copied through the state dict)."""
    torch.manual_seed(seed)
    torch_lstm = nn.LSTM(INPUT, HIDDEN, num_layers=num_layers, bidirectional=bidirectional,
                         batch_first=batch_first).double()
    reference = ReferenceLSTM(INPUT, HIDDEN, num_layers=num_layers, bidirectional=bidirectional,
                              batch_first=batch_first).double()
    reference.load_state_dict(torch_lstm.state_dict(), strict=True)
    return torch_lstm, reference


def _inputs(batch_first: bool, states: int, seed: int = 1):
    generator = torch.Generator().manual_seed(seed)
    x = torch.randn(BATCH, SEQ, INPUT, generator=generator, dtype=torch.float64)
    h0 = torch.randn(states, BATCH, HIDDEN, generator=generator, dtype=torch.float64)
    c0 = torch.randn(states, BATCH, HIDDEN, generator=generator, dtype=torch.float64)
    return (x if batch_first else x.transpose(0, 1).contiguous()), (h0, c0)


CONFIGS = list(itertools.product([1, 2, 3], [False, True], [False, True]))


@pytest.mark.parametrize("num_layers,bidirectional,batch_first", CONFIGS)
def test_full_length_matches_nn_lstm(num_layers, bidirectional, batch_first):
    torch_lstm, reference = _pair(num_layers, bidirectional, batch_first)
    x, hx = _inputs(batch_first, num_layers * (2 if bidirectional else 1))
    for state in (None, hx):
        expected, (h_exp, c_exp) = torch_lstm(x, state)
        got, (h_got, c_got) = reference(x, state)
        assert got.shape == expected.shape
        torch.testing.assert_close(got, expected, **TOL)
        torch.testing.assert_close(h_got, h_exp, **TOL)
        torch.testing.assert_close(c_got, c_exp, **TOL)


@pytest.mark.parametrize("num_layers,bidirectional,batch_first", CONFIGS)
def test_packed_variable_lengths_match_nn_lstm(num_layers, bidirectional, batch_first):
    torch_lstm, reference = _pair(num_layers, bidirectional, batch_first)
    x, hx = _inputs(batch_first, num_layers * (2 if bidirectional else 1))
    packed = pack_padded_sequence(x, LENGTHS, batch_first=batch_first, enforce_sorted=False)
    expected_packed, (h_exp, c_exp) = torch_lstm(packed, hx)
    got_packed, (h_got, c_got) = reference(packed, hx)
    # Same PackedSequence layout, same values.
    torch.testing.assert_close(got_packed.data, expected_packed.data, **TOL)
    assert torch.equal(got_packed.batch_sizes, expected_packed.batch_sizes)
    assert torch.equal(got_packed.unsorted_indices, expected_packed.unsorted_indices)
    torch.testing.assert_close(h_got, h_exp, **TOL)
    torch.testing.assert_close(c_got, c_exp, **TOL)
    # Padded input + lengths gives the same thing as packing, with zeros at padding.
    expected, _ = pad_packed_sequence(expected_packed, batch_first=batch_first, total_length=SEQ)
    got, (h_len, c_len) = reference(x, hx, lengths=LENGTHS)
    torch.testing.assert_close(got, expected, **TOL)
    torch.testing.assert_close(h_len, h_exp, **TOL)
    torch.testing.assert_close(c_len, c_exp, **TOL)


def test_sorted_packed_input_keeps_its_layout():
    torch_lstm, reference = _pair(2, True, True)
    x, _ = _inputs(True, 4)
    packed = pack_padded_sequence(x, torch.tensor([6, 5, 3, 1]), batch_first=True)  # enforce_sorted=True
    expected, (h_exp, _) = torch_lstm(packed)
    got, (h_got, _) = reference(packed)
    assert got.sorted_indices is None
    torch.testing.assert_close(got.data, expected.data, **TOL)
    torch.testing.assert_close(h_got, h_exp, **TOL)


def test_unbatched_input_matches_nn_lstm():
    torch_lstm, reference = _pair(2, True, False)
    x = torch.randn(SEQ, INPUT, dtype=torch.float64)
    expected, (h_exp, c_exp) = torch_lstm(x)
    got, (h_got, c_got) = reference(x)
    torch.testing.assert_close(got, expected, **TOL)
    torch.testing.assert_close(h_got, h_exp, **TOL)
    torch.testing.assert_close(c_got, c_exp, **TOL)


def test_gradients_match_nn_lstm():
    torch_lstm, reference = _pair(2, True, True)
    x, hx = _inputs(True, 4)
    packed = pack_padded_sequence(x, LENGTHS, batch_first=True, enforce_sorted=False)
    for model in (torch_lstm, reference):
        output, (h_n, c_n) = model(packed, hx)
        (output.data.square().sum() + h_n.sum() + c_n.sum()).backward()
    expected = dict(torch_lstm.named_parameters())
    for name, parameter in reference.named_parameters():
        torch.testing.assert_close(parameter.grad, expected[name].grad, rtol=0, atol=1e-9)


def test_state_dicts_load_both_ways():
    torch_lstm = nn.LSTM(INPUT, HIDDEN, num_layers=2, bidirectional=True)
    reference = ReferenceLSTM(INPUT, HIDDEN, num_layers=2, bidirectional=True)
    assert list(reference.state_dict()) == list(torch_lstm.state_dict())  # same names, same order
    for name, tensor in torch_lstm.state_dict().items():
        assert reference.state_dict()[name].shape == tensor.shape, name
    torch_lstm.load_state_dict(reference.state_dict(), strict=True)
    for name, tensor in torch_lstm.state_dict().items():
        assert torch.equal(reference.state_dict()[name], tensor)
    assert reference.weight_ih_l1.shape == (4 * HIDDEN, 2 * HIDDEN)  # layer 1 reads both directions


def test_without_bias_matches_nn_lstm():
    torch.manual_seed(0)
    torch_lstm = nn.LSTM(INPUT, HIDDEN, num_layers=2, bias=False).double()
    reference = ReferenceLSTM(INPUT, HIDDEN, num_layers=2, bias=False).double()
    reference.load_state_dict(torch_lstm.state_dict(), strict=True)
    x, _ = _inputs(False, 2)
    torch.testing.assert_close(reference(x)[0], torch_lstm(x)[0], **TOL)


def test_cell_matches_nn_lstm_cell():
    torch.manual_seed(0)
    torch_cell = nn.LSTMCell(INPUT, HIDDEN).double()
    cell = ReferenceLSTMCell(INPUT, HIDDEN).double()
    cell.load_state_dict(torch_cell.state_dict(), strict=True)
    x, (h0, c0) = _inputs(True, 1)
    for state in (None, (h0[0], c0[0])):
        expected = torch_cell(x[:, 0], state)
        got = cell(x[:, 0], state)
        torch.testing.assert_close(got[0], expected[0], **TOL)
        torch.testing.assert_close(got[1], expected[1], **TOL)


@pytest.mark.parametrize("cell_class", [nn.LSTMCell, ReferenceLSTMCell])
def test_stepping_a_cell_equals_the_full_sequence_call(cell_class):
    torch_lstm, _ = _pair(1, False, True)
    cell = cell_class(INPUT, HIDDEN).double()
    # nn.LSTM's layer-0 parameters are exactly an LSTMCell's, under other names.
    cell.load_state_dict({name: getattr(torch_lstm, name + "_l0") for name in
                          ("weight_ih", "weight_hh", "bias_ih", "bias_hh")}, strict=True)
    x, (h0, c0) = _inputs(True, 1)
    expected, (h_n, c_n) = torch_lstm(x, (h0, c0))
    h, c = h0[0], c0[0]
    steps = []
    for t in range(SEQ):
        h, c = cell(x[:, t], (h, c))
        steps.append(h)
    torch.testing.assert_close(torch.stack(steps, dim=1), expected, **TOL)
    torch.testing.assert_close(h, h_n[0], **TOL)
    torch.testing.assert_close(c, c_n[0], **TOL)


@pytest.mark.parametrize("num_layers,bidirectional", list(itertools.product([1, 2, 3], [False, True])))
def test_lstm_has_four_times_the_parameters_of_an_rnn(num_layers, bidirectional):
    def count(module):
        return sum(p.numel() for p in module.parameters())

    rnn = nn.RNN(7, 5, num_layers=num_layers, bidirectional=bidirectional)
    for lstm_class in (nn.LSTM, ReferenceLSTM):
        lstm = lstm_class(7, 5, num_layers=num_layers, bidirectional=bidirectional)
        assert count(lstm) == 4 * count(rnn)


@pytest.mark.parametrize("impl", ["packed", "dense"])
@pytest.mark.parametrize("num_layers,bidirectional", [(1, False), (1, True), (2, True), (3, True)])
@pytest.mark.parametrize("batch_first", [True, False])
def test_matches_lstm_encoder_at_real_positions(impl, num_layers, bidirectional, batch_first):
    torch.manual_seed(0)
    encoder = LSTMEncoder(INPUT, HIDDEN, num_layers=num_layers, bidirectional=bidirectional,
                          batch_first=batch_first, impl=impl).double().eval()
    reference = ReferenceLSTM(INPUT, HIDDEN, num_layers=num_layers, bidirectional=bidirectional,
                              batch_first=batch_first).double()
    reference.load_state_dict(encoder.lstm.state_dict(), strict=True)
    x, _ = _inputs(batch_first, 1)
    mask = torch.arange(SEQ)[None, :] < LENGTHS[:, None]  # [batch, seq], always batch-first
    encoded = encoder(x, mask=mask)
    outputs, (h_n, c_n) = reference(x, lengths=LENGTHS)
    real = mask if batch_first else mask.T
    torch.testing.assert_close(outputs[real], encoded.outputs[real], **TOL)
    torch.testing.assert_close(h_n, encoded.h_n, **TOL)
    torch.testing.assert_close(c_n, encoded.c_n, **TOL)


def test_lengths_with_a_packed_input_or_bad_shapes_are_refused():
    reference = ReferenceLSTM(INPUT, HIDDEN, batch_first=True)
    x = torch.randn(2, 3, INPUT)
    packed = pack_padded_sequence(x, torch.tensor([3, 2]), batch_first=True)
    with pytest.raises(ValueError, match="PackedSequence carries"):
        reference(packed, lengths=torch.tensor([3, 2]))
    with pytest.raises(ValueError, match="input_size=3"):
        reference(torch.randn(2, 3, 5))
    with pytest.raises(ValueError, match="lengths"):
        reference(x, lengths=torch.tensor([4, 2]))
    with pytest.raises(ValueError, match="h_0"):
        reference(x, (torch.zeros(2, 2, HIDDEN), torch.zeros(2, 2, HIDDEN)))
    with pytest.raises(ConfigError):
        ReferenceLSTM(INPUT, 0)
