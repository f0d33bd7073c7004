"""Recurrent encoders over variable-length batches, exact at every real position, and their registry by name.

The registry (AllenNLP style) is the one place a new encoder is declared: a subclass of
:class:`RecurrentEncoder` (which states its ``input_size`` and ``output_dim``) decorated with
``@register_encoder("name")``. Models build theirs with :func:`build_encoder` from a config's
``encoder`` name (checked by :func:`check_encoder_name`), recipes offer ``--encoder`` with the
names of :data:`ENCODERS`, and warm starts, discriminative learning rates and the ONNX export reach
the recurrent weights through :attr:`RecurrentEncoder.rnn` (the ``nn.LSTM``/``nn.GRU``, whose
``mode`` names its cell and whose parameters are ``weight_ih_l{k}[_reverse]`` etc. as in PyTorch),
never through a class or attribute of one encoder. ``"lstm"`` is :class:`LSTMEncoder`, here;
each other encoder is its own module, which :mod:`lstm_nlp.modules` imports (registering it).

``LSTMEncoder``: ``nn.LSTM`` over variable-length batches. Two interchangeable implementations
share one ``nn.LSTM``'s parameters (so state dicts are identical and either path can load the
other's weights):

* ``"packed"``: the reference. ``pack_padded_sequence`` -> ``nn.LSTM`` -> ``pad_packed_sequence``.
  The default on devices other than CPU and CUDA (MPS).
* ``"dense"``: the fast path, the default on CPU and CUDA. On CPU, ``nn.LSTM`` over a
  ``PackedSequence`` with unequal lengths leaves oneDNN's fused kernel and runs step by step,
  5-10x slower than a dense call; on an H100, cuDNN over packed sequences measured 1.4-9x slower
  than one dense call (``benchmarks/bench_encoder.py --device cuda``, ``docs/benchmarks.md``). The dense path calls
  the fused kernel once per layer and direction on the padded batch:

  - an extra input feature, 1 at padding, drives the forget gate to +1e4 and the input gate
    to -1e4. The sigmoid saturates to exactly 1 and 0, so ``c`` passes through padding
    unchanged. Gradients through saturated gates are exactly zero, so training is exact too;
  - the forward direction sees padding only *after* a row's real tokens: outputs there are
    exact, ``h_n`` is read at the last real position and the last cell state of the call is
    the row's final cell state;
  - the backward direction reads the whole row reversed (``[a b c <pad>]`` ->
    ``[<pad> c b a]``): a zero initial state stays exactly zero through the leading padding
    (``c = 0``, ``h = o * tanh(0) = 0``). With a given initial state each row is instead
    reversed within its own length (``[c b a <pad>]``). The output is reversed back;
  - a batch with no padding at all takes one plain ``nn.LSTM`` call;
  - on CPU, a batch with much padding is first split into groups of similar lengths (padding
    costs CPU time); on a GPU, padding is cheap and each call costs a launch, so the batch stays
    one call.

Both paths return zeros at padding positions.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Literal

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from lstm_nlp.errors import ConfigError
from lstm_nlp.modules.dropout import dropout

EncoderImpl = Literal["auto", "packed", "dense"]
_SATURATE = 1.0e4  # large enough that sigmoid(+-x) is exactly 1 / 0 in fp32 and bf16
_MIN_EFFICIENCY = 0.85  # batches with at least this share of real tokens run as one dense call
# The fixed CPU cost of one LSTM time step (per layer and direction), in multiply-adds of one row's gate
# matmuls. Fitted on this project's benchmark CPU: splitting at ~8 rows is best for hidden 128 over
# 201 inputs, at ~50-60 rows for the character LSTM (hidden 50 over 50 inputs).
_STEP_COST_MACS = 1.2e6
# cuDNN says so at every dense call, whose weights (with the padding column) are built per call; the
# cost of that is in the measured speed-ups, and the warning would repeat once per batch.
warnings.filterwarnings("ignore", message="RNN module weights are not part of single contiguous chunk")


@dataclass
class EncoderOutput:
    """What a :class:`RecurrentEncoder` returns.

    Attributes:
        outputs: ``FloatTensor[batch, seq, hidden_size * num_directions]`` (``[seq, batch, ...]``
            when ``batch_first=False``); last layer, both directions concatenated (forward first),
            zeros at padding.
        h_n: ``FloatTensor[num_layers * num_directions, batch, hidden_size]``, each row's state
            after its last real token (for the backward direction: after its first token).
            Layer-major as in ``nn.LSTM``: index ``layer * num_directions + direction``. This layout
            does not change with ``batch_first``.
        c_n: Cell states, same layout as ``h_n``; ``None`` for an encoder without cell states (GRU).
    """

    outputs: torch.Tensor
    h_n: torch.Tensor
    c_n: torch.Tensor | None = None


State = tuple[torch.Tensor, ...]  # (h,) or (h, c), each [num_layers * num_directions, batch, hidden_size]


class RecurrentEncoder(nn.Module):
    """The dense/packed contract every registered encoder keeps; subclasses supply the recurrent cell.

    A subclass names its ``nn.RNNBase`` class and the attribute that holds it (``_RNN``,
    ``_RNN_NAME``: the state-dict prefix), ``_NUM_GATES`` (the gate blocks of ``weight_ih``) and
    ``_PADDING_GATES`` (``{gate block: saturation}``: what keeps the state exactly unchanged at
    padding), and implements ``_call_rnn`` and ``_run_direction``.

    Args:
        input_size: Size of each input vector.
        hidden_size: Hidden size per direction.
        num_layers: Stacked layers.
        bidirectional: Run a backward direction too; outputs then have ``2 * hidden_size``.
        dropout: Dropout between layers (as in ``nn.LSTM``, not after the last layer).
        batch_first: Inputs/outputs are ``[batch, seq, feature]`` (default) or ``[seq, batch, feature]``.
        impl: ``"packed"``, ``"dense"`` or ``"auto"`` (dense on CPU and CUDA, packed elsewhere).
    """

    name: str = ""  # set by register_encoder
    _RNN: type[nn.RNNBase]
    _RNN_NAME: str
    _NUM_GATES: int
    _PADDING_GATES: dict[int, float]

    def __init__(self, input_size: int, hidden_size: int, *, num_layers: int = 1, bidirectional: bool = True,
                 dropout: float = 0.0, batch_first: bool = True, impl: EncoderImpl = "auto"):
        super().__init__()
        if impl not in ("auto", "packed", "dense"):
            raise ConfigError(f"impl must be 'auto', 'packed' or 'dense', got {impl!r}")
        if input_size < 1 or hidden_size < 1 or num_layers < 1:
            raise ConfigError(
                f"input_size, hidden_size and num_layers must be >= 1, got {input_size}, {hidden_size}, {num_layers}")
        if not 0.0 <= dropout < 1.0:
            raise ConfigError(f"dropout must be in [0, 1), got {dropout}")
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.num_directions = 2 if bidirectional else 1
        self.dropout = dropout
        self.batch_first = batch_first
        self.impl = impl
        # One time step's fixed cost in rows of work: small encoders (character encoders) pay relatively
        # more per step, so they are split into fewer length groups.
        macs = self._NUM_GATES * hidden_size * (input_size + hidden_size)
        self._step_cost_rows = max(1, round(_STEP_COST_MACS / macs))
        self.add_module(self._RNN_NAME, self._RNN(input_size, hidden_size, num_layers=num_layers,
                                                  bidirectional=bidirectional, batch_first=True,
                                                  dropout=dropout if num_layers > 1 else 0.0))

    @property
    def rnn(self) -> nn.RNNBase:
        """The recurrent weights: an ``nn.LSTM`` or ``nn.GRU`` (``rnn.mode`` names the cell)."""
        return getattr(self, self._RNN_NAME)

    @property
    def input_dim(self) -> int:
        """Size of each input vector (``input_size``)."""
        return self.input_size

    @property
    def output_dim(self) -> int:
        """Size of each output vector: ``hidden_size * num_directions``."""
        return self.hidden_size * self.num_directions

    def resolve_impl(self, device: torch.device) -> str:
        """The implementation ``forward`` uses for inputs on ``device``."""
        if self.impl != "auto":
            return self.impl
        if device.type == "cuda" or (device.type == "cpu" and torch.backends.mkldnn.is_available()):
            return "dense"
        return "packed"

    def _call_rnn(self, inputs, state: State | None) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
        """``rnn`` over padded or packed ``inputs``: ``(outputs, h_n, c_n or None)``."""
        raise NotImplementedError

    def _run_direction(self, x: torch.Tensor, weights: list[torch.Tensor], state: State | None):
        """One layer and direction over ``x: [batch, seq, input + 1]``: ``(outputs, c_n or None)``."""
        raise NotImplementedError

    def forward(self, inputs: torch.Tensor, *, mask: torch.Tensor, initial_state=None) -> EncoderOutput:
        """Encodes a padded batch.

        Args:
            inputs: ``FloatTensor[batch, seq, input_size]`` (``[seq, batch, input_size]`` if not batch_first).
            mask: ``BoolTensor[batch, seq]``, True at real tokens, which must come first in each row;
                every row needs at least one real token. Always batch-first.
            initial_state: Optional, as the underlying ``rnn`` takes it: ``(h_0, c_0)`` for an LSTM,
                ``h_0`` for a GRU, each ``[num_layers * num_directions, batch, hidden_size]``.

        Returns:
            :class:`EncoderOutput`.
        """
        if not self.batch_first:
            inputs = inputs.transpose(0, 1)
        if inputs.dim() != 3 or inputs.shape[-1] != self.input_size:
            raise ValueError(f"inputs must be [batch, seq, {self.input_size}], got {tuple(inputs.shape)}")
        if mask.shape != inputs.shape[:2]:
            raise ValueError(f"mask shape {tuple(mask.shape)} does not match inputs {tuple(inputs.shape[:2])}")
        lengths = mask.sum(-1)
        if bool((lengths == 0).any()):
            raise ValueError("every sequence needs at least one token (found a length-0 row in mask)")
        state = None if initial_state is None else tuple(initial_state) if isinstance(initial_state, (tuple, list)) \
            else (initial_state,)
        if self.resolve_impl(inputs.device) == "dense":
            dense = self._forward_dense_grouped if inputs.device.type == "cpu" else self._forward_dense
            result = dense(inputs, mask, lengths, state)
        else:
            result = self._forward_packed(inputs, lengths, state)
        if not self.batch_first:
            result.outputs = result.outputs.transpose(0, 1)
        return result

    def _forward_packed(self, inputs, lengths, initial_state) -> EncoderOutput:
        packed = pack_padded_sequence(inputs, lengths.cpu(), batch_first=True, enforce_sorted=False)
        packed_out, h_n, c_n = self._call_rnn(packed, initial_state)
        outputs, _ = pad_packed_sequence(packed_out, batch_first=True, total_length=inputs.shape[1])
        return EncoderOutput(outputs, h_n, c_n)

    def _forward_dense_grouped(self, inputs, mask, lengths, initial_state) -> EncoderOutput:
        """Dense path; a batch with much padding is first split into groups of similar lengths.

        Rows are independent, so running groups separately is exact. Bucketed batches (the
        default sampler's) have little padding and take a single call.
        """
        if int(lengths.sum()) >= _MIN_EFFICIENCY * lengths.numel() * int(lengths.max()):
            return self._forward_dense(inputs, mask, lengths, initial_state)
        already_sorted = bool((lengths[:-1] >= lengths[1:]).all())  # e.g. CharLSTMEncoder's words
        order = None if already_sorted else torch.argsort(lengths, descending=True, stable=True)
        sorted_lengths = lengths if order is None else lengths.index_select(0, order)
        length_list = sorted_lengths.tolist()
        sizes = _length_groups(length_list, step_cost_rows=self._step_cost_rows)
        if len(sizes) == 1:
            return self._forward_dense(inputs, mask, lengths, initial_state)
        if order is not None:
            inputs, mask = inputs.index_select(0, order), mask.index_select(0, order)
            if initial_state is not None:
                initial_state = tuple(s.index_select(1, order) for s in initial_state)
        parts, start = [], 0
        for size in sizes:  # rows sorted longest first, so each group's width is its first row's length
            rows = slice(start, start + size)
            width = length_list[start]
            state = None if initial_state is None else tuple(s[:, rows] for s in initial_state)
            parts.append(self._forward_dense(inputs[rows, :width], mask[rows, :width], sorted_lengths[rows], state))
            start += size
        # Concatenate the groups, then undo the sort (outputs may be bf16 under autocast).
        seq = inputs.shape[1]
        outputs = torch.cat([F.pad(p.outputs, (0, 0, 0, seq - p.outputs.shape[1])) for p in parts])
        h_n = torch.cat([p.h_n for p in parts], dim=1)
        c_n = None if parts[0].c_n is None else torch.cat([p.c_n for p in parts], dim=1)
        if order is None:
            return EncoderOutput(outputs, h_n, c_n)
        restore = torch.empty_like(order)
        restore[order] = torch.arange(order.numel(), device=order.device)
        return EncoderOutput(outputs.index_select(0, restore), h_n.index_select(1, restore),
                             None if c_n is None else c_n.index_select(1, restore))

    def _forward_dense(self, inputs, mask, lengths, initial_state) -> EncoderOutput:
        batch, seq, _ = inputs.shape
        if int(lengths.min()) == seq:  # no padding: one fused call for all layers and directions
            return EncoderOutput(*self._call_rnn(inputs, initial_state))
        rows = torch.arange(batch, device=inputs.device)
        last = lengths - 1
        is_pad = (~mask).unsqueeze(-1)  # [batch, seq, 1]
        if initial_state is None:
            # The backward direction reads whole rows reversed, padding first: with a zero initial
            # state the saturated gates keep it exactly zero there (c stays 0, h = o * tanh(0) = 0).
            reverse, backward_last = (lambda t: t.flip(1)), last.new_full(last.shape, seq - 1)
        else:
            # A given initial state must meet the first real token: reverse each row within its length.
            positions = torch.arange(seq, device=inputs.device)[None, :]
            # reverse_index[b, t] = len_b - 1 - t at real positions, t at padding (its own inverse).
            reverse_index = torch.where(mask, last[:, None] - positions, positions)
            reverse, backward_last = (lambda t: _gather_time(t, reverse_index)), last
        # Every layer's input carries the padding indicator as its last feature (see _direction_weights);
        # it rides along in the concatenation each layer needs anyway and is reversed with the input.
        layer_input = torch.cat([inputs, is_pad.to(inputs.dtype)], dim=-1)  # [batch, seq, input + 1]
        h_list, c_list = [], []
        for layer in range(self.num_layers):
            directions = []
            for direction in range(self.num_directions):
                index = layer * self.num_directions + direction
                x = layer_input if direction == 0 else reverse(layer_input)
                state = None if initial_state is None else tuple(s[index:index + 1] for s in initial_state)
                out, c_n = self._run_direction(x, self._direction_weights(layer, direction), state)
                h_list.append(out[rows, backward_last if direction else last])
                c_list.append(c_n)
                directions.append(out if direction == 0 else reverse(out))
            if layer + 1 < self.num_layers:
                if self.dropout > 0:
                    directions = [dropout(d, self.dropout, self.training) for d in directions]
                layer_input = torch.cat([*directions, is_pad.to(directions[0].dtype)], dim=-1)
        outputs = directions[0] if len(directions) == 1 else torch.cat(directions, dim=-1)
        outputs = outputs.masked_fill(is_pad, 0.0)
        c_n = None if c_list[0] is None else torch.stack([c[0] for c in c_list])
        return EncoderOutput(outputs, torch.stack(h_list), c_n)

    def _direction_weights(self, layer: int, direction: int) -> list[torch.Tensor]:
        """``[weight_ih | padding column, weight_hh, bias_ih, bias_hh]`` of one layer and direction.

        The input's last feature is 1 at padding; its column saturates the gates of
        ``_PADDING_GATES`` so that the state passes through padding unchanged (see the module docstring).
        """
        suffix = f"_l{layer}" + ("_reverse" if direction else "")
        rnn, hidden = self.rnn, self.hidden_size
        weight_ih = getattr(rnn, "weight_ih" + suffix)
        gate_column = torch.zeros(self._NUM_GATES * hidden, 1, dtype=weight_ih.dtype, device=weight_ih.device)
        for gate, value in self._PADDING_GATES.items():
            gate_column[gate * hidden:(gate + 1) * hidden] = value
        return [torch.cat([weight_ih, gate_column], dim=1), getattr(rnn, "weight_hh" + suffix),
                getattr(rnn, "bias_ih" + suffix), getattr(rnn, "bias_hh" + suffix)]


#: The registered encoders by name (:func:`register_encoder`); ``--encoder`` offers these names.
ENCODERS: dict[str, type[RecurrentEncoder]] = {}


def register_encoder(name: str):
    """Class decorator: registers a :class:`RecurrentEncoder` subclass as ``name`` (sets ``cls.name``)."""
    def register(cls: type[RecurrentEncoder]) -> type[RecurrentEncoder]:
        if name in ENCODERS and ENCODERS[name] is not cls:
            raise ConfigError(f"encoder name {name!r} is already registered by {ENCODERS[name].__name__}")
        cls.name = name
        ENCODERS[name] = cls
        return cls
    return register


def check_encoder_name(name: str, *, argument: str = "encoder") -> None:
    """Raises a one-line ``ConfigError`` naming ``argument`` unless ``name`` is a registered encoder."""
    if name not in ENCODERS:
        raise ConfigError(f"{argument} must be one of the registered encoders ({', '.join(sorted(ENCODERS))}), "
                          f"got {name!r}")


def build_encoder(name: str, input_dim: int, hidden_size: int, *, num_layers: int = 1, dropout: float = 0.0,
                  bidirectional: bool = True, impl: EncoderImpl = "auto", **kwargs) -> RecurrentEncoder:
    """The registered encoder ``name`` over ``input_dim`` features (outputs ``[batch, seq, its output_dim]``).

    Raises:
        ConfigError: an unknown ``name`` (the message lists the registered ones) or bad sizes.
    """
    check_encoder_name(name)
    return ENCODERS[name](input_dim, hidden_size, num_layers=num_layers, dropout=dropout,
                          bidirectional=bidirectional, impl=impl, **kwargs)


@register_encoder("lstm")
class LSTMEncoder(RecurrentEncoder):
    """A (Bi)LSTM over padded, variable-length batches (arguments: :class:`RecurrentEncoder`).

    Its ``nn.LSTM`` is ``self.lstm`` (state-dict keys ``lstm.weight_ih_l0`` ...), also :attr:`rnn`.
    At padding the input gate is driven to 0 and the forget gate to 1, so ``c`` passes unchanged.
    """

    _RNN, _RNN_NAME = nn.LSTM, "lstm"
    _NUM_GATES = 4  # i, f, g, o
    _PADDING_GATES = {0: -_SATURATE, 1: _SATURATE}  # input gate -> 0, forget gate -> 1

    def _call_rnn(self, inputs, state):
        outputs, (h_n, c_n) = self.lstm(inputs, state)
        return outputs, h_n, c_n

    def _run_direction(self, x, weights, state):
        if state is None:
            state = (x.new_zeros(1, x.shape[0], self.hidden_size),) * 2
        h0, c0 = (s.contiguous() for s in state)
        out, _, c_n = torch.lstm(x, (h0, c0), weights, True, 1, 0.0, self.training, False, True)
        return out, c_n


def _length_groups(sorted_lengths: list[int], *, step_cost_rows: int = 8) -> list[int]:
    """Splits rows sorted by length (longest first) into contiguous groups; returns the group sizes.

    Cost model of one dense call: ``max_len * (rows + step_cost_rows)`` (every time step also has a
    fixed cost, worth about ``step_cost_rows`` rows: more for a small LSTM, see ``_STEP_COST_MACS``).
    The split with the least total cost is found by dynamic programming over the *distinct* lengths:
    a cut inside a run of equal lengths never helps (moving those rows to the shorter group costs
    less), so this takes ``O(distinct_lengths ** 2)`` steps however many rows there are.
    """
    distinct: list[int] = []  # descending
    rows_before = [0]  # rows_before[k]: rows longer than distinct[k]
    for length in sorted_lengths:
        if not distinct or length != distinct[-1]:
            distinct.append(length)
            rows_before.append(rows_before[-1])
        rows_before[-1] += 1
    n = len(distinct)
    best = [0.0] + [float("inf")] * n  # best[k]: least cost of the rows of the k longest distinct lengths
    cut = [0] * (n + 1)
    for end in range(1, n + 1):
        for start in range(end):
            cost = best[start] + distinct[start] * (rows_before[end] - rows_before[start] + step_cost_rows)
            if cost < best[end]:
                best[end], cut[end] = cost, start
    sizes, end = [], n
    while end > 0:
        sizes.append(rows_before[end] - rows_before[cut[end]])
        end = cut[end]
    return sizes[::-1]


def _gather_time(values: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
    """``values[b, index[b, t]]`` for ``values: [batch, seq, dim]``, ``index: LongTensor[batch, seq]``."""
    return values.gather(1, index.unsqueeze(-1).expand(-1, -1, values.shape[-1]))
