"""Every registered encoder: padding leaks nothing, and the dense CPU fast path equals the packed reference."""

import pytest
import torch

from lstm_nlp.modules import LSTMEncoder
from lstm_nlp.modules.encoder import ENCODERS, build_encoder

NAMES = sorted(ENCODERS)  # each test of the contract runs for every registered encoder


def _state(encoder, h0):
    """``initial_state`` as ``encoder.rnn`` takes it: ``(h_0, c_0)`` with cell states, else ``h_0``."""
    return (h0, h0.flip(-1)) if isinstance(encoder.rnn, torch.nn.LSTM) else h0


def _assert_states_close(a, b, **tol):
    torch.testing.assert_close(a.h_n, b.h_n, **tol)
    assert (a.c_n is None) == (b.c_n is None)
    if a.c_n is not None:
        torch.testing.assert_close(a.c_n, b.c_n, **tol)


def _batch(lengths, size=6, seed=0):
    generator = torch.Generator().manual_seed(seed)
    lengths = torch.tensor(lengths)
    inputs = torch.randn(len(lengths), int(lengths.max()), size, generator=generator, dtype=torch.float64)
    mask = torch.arange(int(lengths.max()))[None, :] < lengths[:, None]
    return inputs, mask


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("impl", ["packed", "dense"])
@pytest.mark.parametrize("layers,bidirectional", [(1, False), (1, True), (2, True), (3, False)])
def test_padding_leaks_nothing(name, impl, layers, bidirectional):
    encoder = build_encoder(name, 6, 5, num_layers=layers, bidirectional=bidirectional, impl=impl).double().eval()
    inputs, mask = _batch([7, 1, 4, 7, 2])
    batched = encoder(inputs, mask=mask)
    for row, length in enumerate(mask.sum(-1).tolist()):
        alone = encoder(inputs[row:row + 1, :length], mask=mask[row:row + 1, :length])
        torch.testing.assert_close(batched.outputs[row, :length], alone.outputs[0], rtol=0, atol=1e-12)
        torch.testing.assert_close(batched.h_n[:, row], alone.h_n[:, 0], rtol=0, atol=1e-12)
        if batched.c_n is not None:
            torch.testing.assert_close(batched.c_n[:, row], alone.c_n[:, 0], rtol=0, atol=1e-12)
        assert not batched.outputs[row, length:].any()


@pytest.mark.parametrize("layers,bidirectional", [(1, True), (2, True), (2, False)])
@pytest.mark.parametrize("lengths", [[9, 3, 1, 9, 5, 6], [4, 4, 4, 4, 4, 4]], ids=["mixed", "no-padding"])
@pytest.mark.parametrize("given_state", [True, False], ids=["initial-state", "zero-state"])
@pytest.mark.parametrize("name", NAMES)
def test_dense_fast_path_equals_packed_reference_outputs_states_and_gradients(name, layers, bidirectional, lengths,
                                                                              given_state):
    torch.manual_seed(1)
    encoder = build_encoder(name, 6, 5, num_layers=layers, bidirectional=bidirectional, impl="packed")
    inputs, mask = _batch(lengths, seed=2)
    inputs = inputs.float().requires_grad_()
    directions = 2 if bidirectional else 1
    state = _state(encoder, torch.randn(layers * directions, 6, 5)) if given_state else None
    results = {}
    for impl in ("packed", "dense"):
        encoder.impl = impl
        encoder.zero_grad()
        inputs.grad = None
        out = encoder(inputs, mask=mask, initial_state=state)
        (out.outputs.pow(2).sum() + out.h_n.sum() + (0 if out.c_n is None else out.c_n.sum())).backward()
        grads = [inputs.grad.clone()] + [p.grad.clone() for p in encoder.parameters()]
        results[impl] = (out, grads)
    (ref, ref_grads), (fast, fast_grads) = results["packed"], results["dense"]
    torch.testing.assert_close(fast.outputs, ref.outputs, rtol=1e-5, atol=1e-6)
    _assert_states_close(fast, ref, rtol=1e-5, atol=1e-6)
    for a, b in zip(fast_grads, ref_grads):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-5)


def test_auto_picks_dense_on_cpu_and_state_dicts_are_nn_lstm_compatible():
    encoder = LSTMEncoder(4, 3, num_layers=2)
    assert encoder.resolve_impl(torch.device("cpu")) in ("dense", "packed")
    assert encoder.resolve_impl(torch.device("cuda")) == "dense"  # measured faster on an H100
    assert encoder.resolve_impl(torch.device("mps")) == "packed"
    reference = torch.nn.LSTM(4, 3, num_layers=2, bidirectional=True, batch_first=True)
    reference.load_state_dict({k.removeprefix("lstm."): v for k, v in encoder.state_dict().items()})


def test_time_major_layout():
    encoder = LSTMEncoder(6, 5, batch_first=False).double().eval()
    inputs, mask = _batch([4, 2])
    batch_major = encoder.__class__(6, 5).double().eval()
    batch_major.load_state_dict(encoder.state_dict())
    out_t = encoder(inputs.transpose(0, 1), mask=mask)
    out_b = batch_major(inputs, mask=mask)
    torch.testing.assert_close(out_t.outputs.transpose(0, 1), out_b.outputs)
    torch.testing.assert_close(out_t.h_n, out_b.h_n)


def test_bad_shapes_and_empty_rows_are_rejected():
    encoder = LSTMEncoder(6, 5)
    inputs, mask = _batch([3, 2])
    with pytest.raises(ValueError, match=r"inputs must be \[batch, seq, 6\]"):
        encoder(inputs[..., :4].float(), mask=mask)
    with pytest.raises(ValueError, match="mask shape"):
        encoder(inputs.float(), mask=mask[:, :2])
    mask[1] = False
    with pytest.raises(ValueError, match="at least one token"):
        encoder(inputs.float(), mask=mask)


def test_length_groups_cover_every_row_once_and_split_mixed_lengths():
    from lstm_nlp.modules.encoder import _length_groups

    assert _length_groups([10, 10, 10, 10]) == [4]
    mixed = sorted([400, 50, 60, 390, 55, 380] * 4, reverse=True)
    sizes = _length_groups(mixed)
    assert sizes == [12, 12]  # the 380-400 rows and the 50-60 rows
    assert _length_groups([5] * 7 + [4] * 3 + [1]) == [11]  # little padding: not worth a second call


def test_small_lstms_pay_more_per_time_step_so_split_less():
    char_lstm, word_lstm = LSTMEncoder(50, 50), LSTMEncoder(201, 128)
    assert char_lstm._step_cost_rows > 5 * word_lstm._step_cost_rows
    lengths = sorted([12] * 40 + [9] * 60 + [6] * 100 + [3] * 100, reverse=True)  # a batch's distinct words
    from lstm_nlp.modules.encoder import _length_groups

    assert len(_length_groups(lengths, step_cost_rows=char_lstm._step_cost_rows)) < len(
        _length_groups(lengths, step_cost_rows=word_lstm._step_cost_rows))


def test_length_groups_never_cut_inside_a_run_of_equal_lengths():
    from lstm_nlp.modules.encoder import _length_groups

    lengths = sorted([30] * 5 + [29] * 40 + [3] * 200 + [2] * 7, reverse=True)
    sizes = _length_groups(lengths)
    boundaries = [sum(sizes[:k]) for k in range(1, len(sizes))]
    assert sum(sizes) == len(lengths)
    assert all(lengths[b - 1] != lengths[b] for b in boundaries)


@pytest.mark.parametrize("given_state", [True, False], ids=["initial-state", "zero-state"])
@pytest.mark.parametrize("lengths", [[40, 3, 5, 38, 4, 36, 2, 39, 3], [40, 39, 38, 36, 5, 4, 3, 3, 2]],
                         ids=["unsorted", "sorted"])
@pytest.mark.parametrize("name", NAMES)
def test_grouped_dense_path_equals_packed_on_a_padding_heavy_batch(name, given_state, lengths, monkeypatch):
    encoder = build_encoder(name, 6, 5, num_layers=2, impl="packed").double()
    encoder._step_cost_rows = 1  # a tiny LSTM would run as one call; force the split this test is about
    inputs, mask = _batch(lengths)
    state = _state(encoder, torch.randn(4, len(lengths), 5, dtype=torch.float64)) if given_state else None
    reference = encoder(inputs, mask=mask, initial_state=state)
    encoder.impl = "dense"
    calls = []
    dense_call = encoder._forward_dense
    monkeypatch.setattr(encoder, "_forward_dense", lambda *args: calls.append(1) or dense_call(*args))
    fast = encoder(inputs, mask=mask, initial_state=state)
    assert len(calls) >= 2  # split into length groups
    torch.testing.assert_close(fast.outputs, reference.outputs, rtol=0, atol=1e-12)
    _assert_states_close(fast, reference, rtol=0, atol=1e-12)


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
@pytest.mark.parametrize("dtype", [None, torch.bfloat16], ids=["fp32", "bf16-autocast"])
@pytest.mark.parametrize("name", NAMES)
def test_dense_path_on_cuda_equals_packed_cudnn(name, dtype, monkeypatch):
    """The saturated gates must hold in cuDNN's kernels too (fp32 and under bf16 autocast)."""
    if dtype is None:  # compare in true fp32: TF32 matmuls alone differ by ~1e-4 between any two call shapes
        monkeypatch.setattr(torch.backends.cudnn, "allow_tf32", False)
        monkeypatch.setattr(torch.backends.cuda.matmul, "allow_tf32", False)
    torch.manual_seed(3)
    encoder = build_encoder(name, 6, 5, num_layers=2, impl="packed").cuda()
    inputs, mask = _batch([9, 3, 1, 9, 5, 6], seed=4)
    inputs, mask = inputs.float().cuda().requires_grad_(), mask.cuda()
    results = {}
    for impl in ("packed", "dense"):
        encoder.impl = impl
        encoder.zero_grad()
        inputs.grad = None
        with torch.autocast("cuda", dtype=dtype or torch.float32, enabled=dtype is not None):
            out = encoder(inputs, mask=mask)
            (out.outputs.float().pow(2).sum() + out.h_n.float().sum()).backward()
        results[impl] = (out, [inputs.grad.clone()] + [p.grad.clone() for p in encoder.parameters()])
    (ref, ref_grads), (fast, fast_grads) = results["packed"], results["dense"]
    tol = {"rtol": 1e-4, "atol": 1e-5} if dtype is None else {"rtol": 5e-2, "atol": 5e-2}
    torch.testing.assert_close(fast.outputs.float(), ref.outputs.float(), **tol)
    torch.testing.assert_close(fast.h_n.float(), ref.h_n.float(), **tol)
    assert not fast.outputs[~mask].any()
    for a, b in zip(fast_grads, ref_grads):
        torch.testing.assert_close(a.float(), b.float(), **({"rtol": 1e-3, "atol": 1e-4} if dtype is None else tol))


# ------------------------------------------------------------------ the registry by name
def test_lstm_is_registered_by_name_and_declares_its_sizes():
    assert ENCODERS["lstm"] is LSTMEncoder and LSTMEncoder.name == "lstm"
    encoder = build_encoder("lstm", 6, 5, num_layers=2, bidirectional=True, dropout=0.1, impl="packed")
    assert isinstance(encoder, LSTMEncoder) and encoder.impl == "packed"
    assert (encoder.input_dim, encoder.output_dim) == (6, 10)
    assert encoder.rnn is encoder.lstm and encoder.rnn.mode == "LSTM"  # the documented accessor


def test_an_unknown_encoder_name_is_one_line_listing_the_registered_ones():
    from lstm_nlp.errors import ConfigError
    from lstm_nlp.modules.encoder import check_encoder_name

    with pytest.raises(ConfigError, match=r"^encoder must be one of the registered encoders \(.*lstm.*\), "
                                          r"got 'transformer'$") as caught:
        build_encoder("transformer", 6, 5)
    assert all(name in str(caught.value) for name in ENCODERS) and "\n" not in str(caught.value)
    with pytest.raises(ConfigError, match="^TaggerConfig.encoder must be"):
        check_encoder_name("rnn", argument="TaggerConfig.encoder")


def test_a_new_encoder_registers_itself_and_a_name_is_taken_once(monkeypatch):
    from lstm_nlp.errors import ConfigError
    from lstm_nlp.modules import encoder as encoders

    monkeypatch.setattr(encoders, "ENCODERS", dict(encoders.ENCODERS))

    @encoders.register_encoder("tiny")
    class Tiny(LSTMEncoder):
        pass

    assert isinstance(encoders.build_encoder("tiny", 3, 2), Tiny) and Tiny.name == "tiny"
    with pytest.raises(ConfigError, match="'lstm' is already registered by LSTMEncoder"):
        encoders.register_encoder("lstm")(Tiny)
