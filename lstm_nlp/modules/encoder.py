"""``LSTMEncoder``: ``nn.LSTM`` over variable-length batches, exact at every real position.

Two interchangeable implementations share one ``nn.LSTM``'s parameters (so state dicts are
identical and either path can load the other's weights):

* ``"packed"``: the reference. ``pack_padded_sequence`` -> ``nn.LSTM`` -> ``pad_packed_sequence``.
  This is what cuDNN handles well, so it is the default on CUDA.
* ``"dense"``: the CPU fast path. On CPU, ``nn.LSTM`` over a ``PackedSequence`` with unequal
  lengths leaves oneDNN's fused kernel and runs step by step, 5-10x slower than a dense call.
  The dense path calls the fused kernel once per layer and direction on the padded batch:

  - padding only ever *follows* the real tokens of a row, so outputs at real positions are
    exact; the backward direction gets each row reversed *within its own length*
    (``[a b c <pad>]`` -> ``[c b a <pad>]``) and its output is reversed back;
  - an extra input feature, 1 at padding, drives the forget gate to +1e4 and the input gate
    to -1e4. The sigmoid saturates to exactly 1 and 0, so ``c`` is copied unchanged through
    padding and the last cell state of the call *is* each row's final cell state; ``h_n``
    is read at each row's last real position. Gradients through saturated gates are exactly
    zero, so training is exact too.

Both paths return zeros at padding positions.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from lstm_nlp.errors import ConfigError

EncoderImpl = Literal["auto", "packed", "dense"]
_SATURATE = 1.0e4  # large enough that sigmoid(+-x) is exactly 1 / 0 in fp32 and bf16


@dataclass
class EncoderOutput:
    """What :class:`LSTMEncoder` returns.

    Attributes:
        outputs: ``FloatTensor[batch, seq, hidden_size * num_directions]`` (``[seq, batch, ...]``
            when ``batch_first=False``); last layer, both directions concatenated (forward first),
            zeros at padding.
        h_n: ``FloatTensor[num_layers * num_directions, batch, hidden_size]``, each row's state
            after its last real token (for the backward direction: after its first token).
            Layer-major as in ``nn.LSTM``: index ``layer * num_directions + direction``. This layout
            does not change with ``batch_first``.
        c_n: Cell states, same layout as ``h_n``.
    """

    outputs: torch.Tensor
    h_n: torch.Tensor
    c_n: torch.Tensor


class LSTMEncoder(nn.Module):
    """A (Bi)LSTM over padded, variable-length batches.

    Args:
        input_size: Size of each input vector.
        hidden_size: Hidden size per direction.
        num_layers: Stacked layers.
        bidirectional: Run a backward direction too; outputs then have ``2 * hidden_size``.
        dropout: Dropout between layers (as in ``nn.LSTM``, not after the last layer).
        batch_first: Inputs/outputs are ``[batch, seq, feature]`` (default) or ``[seq, batch, feature]``.
        impl: ``"packed"``, ``"dense"`` or ``"auto"`` (dense on CPU, packed elsewhere).
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        *,
        num_layers: int = 1,
        bidirectional: bool = True,
        dropout: float = 0.0,
        batch_first: bool = True,
        impl: EncoderImpl = "auto",
    ):
        super().__init__()
        if impl not in ("auto", "packed", "dense"):
            raise ConfigError(f"impl must be 'auto', 'packed' or 'dense', got {impl!r}")
        if input_size < 1 or hidden_size < 1 or num_layers < 1:
            raise ConfigError(
                f"input_size, hidden_size and num_layers must be >= 1, got {input_size}, {hidden_size}, {num_layers}")
        if not 0.0 <= dropout < 1.0:
            raise ConfigError(f"dropout must be in [0, 1), got {dropout}")
        self.lstm = nn.LSTM(
            input_size, hidden_size, num_layers=num_layers, bidirectional=bidirectional,
            dropout=dropout if num_layers > 1 else 0.0, batch_first=True,
        )
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.num_directions = 2 if bidirectional else 1
        self.dropout = dropout
        self.batch_first = batch_first
        self.impl = impl

    @property
    def output_dim(self) -> int:
        """Size of each output vector: ``hidden_size * num_directions``."""
        return self.hidden_size * self.num_directions

    def resolve_impl(self, device: torch.device) -> str:
        """The implementation ``forward`` uses for inputs on ``device``."""
        if self.impl != "auto":
            return self.impl
        return "dense" if device.type == "cpu" and torch.backends.mkldnn.is_available() else "packed"

    def forward(
        self,
        inputs: torch.Tensor,
        *,
        mask: torch.Tensor,
        initial_state: tuple[torch.Tensor, torch.Tensor] | None = None,
    ) -> EncoderOutput:
        """Encodes a padded batch.

        Args:
            inputs: ``FloatTensor[batch, seq, input_size]`` (``[seq, batch, input_size]`` if not batch_first).
            mask: ``BoolTensor[batch, seq]``, True at real tokens, which must come first in each row;
                every row needs at least one real token. Always batch-first.
            initial_state: Optional ``(h_0, c_0)``, each ``[num_layers * num_directions, batch, hidden_size]``.

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
        if self.resolve_impl(inputs.device) == "dense":
            result = self._forward_dense_grouped(inputs, mask, lengths, initial_state)
        else:
            result = self._forward_packed(inputs, lengths, initial_state)
        if not self.batch_first:
            result.outputs = result.outputs.transpose(0, 1)
        return result

    def _forward_packed(self, inputs, lengths, initial_state) -> EncoderOutput:
        packed = pack_padded_sequence(inputs, lengths.cpu(), batch_first=True, enforce_sorted=False)
        packed_out, (h_n, c_n) = self.lstm(packed, initial_state)
        outputs, _ = pad_packed_sequence(packed_out, batch_first=True, total_length=inputs.shape[1])
        return EncoderOutput(outputs, h_n, c_n)

    def _forward_dense_grouped(self, inputs, mask, lengths, initial_state) -> EncoderOutput:
        """Dense path; a batch with much padding is first split into groups of similar lengths.

        Rows are independent, so running groups separately is exact. Bucketed batches (the
        default sampler's) have little padding and take a single call.
        """
        length_list = lengths.tolist()
        groups = _length_groups(length_list)
        if len(groups) == 1:
            return self._forward_dense(inputs, mask, lengths, initial_state)
        batch, seq, _ = inputs.shape
        indices, parts = [], []
        for rows in groups:
            width = max(length_list[r] for r in rows)
            index = torch.tensor(rows, device=inputs.device)
            state = None
            if initial_state is not None:
                state = (initial_state[0].index_select(1, index), initial_state[1].index_select(1, index))
            indices.append(index)
            parts.append(self._forward_dense(inputs[index, :width], mask[index, :width], lengths[index], state))
        # Concatenate the groups, then undo the row permutation (outputs may be bf16 under autocast).
        order = torch.cat(indices).argsort()
        outputs = torch.cat([F.pad(p.outputs, (0, 0, 0, seq - p.outputs.shape[1])) for p in parts])[order]
        h_n = torch.cat([p.h_n for p in parts], dim=1)[:, order]
        c_n = torch.cat([p.c_n for p in parts], dim=1)[:, order]
        return EncoderOutput(outputs, h_n, c_n)

    def _forward_dense(self, inputs, mask, lengths, initial_state) -> EncoderOutput:
        batch, seq, _ = inputs.shape
        rows = torch.arange(batch, device=inputs.device)
        last = lengths - 1
        positions = torch.arange(seq, device=inputs.device)[None, :]
        # reverse_index[b, t] = len_b - 1 - t at real positions, t at padding (its own inverse).
        reverse_index = torch.where(mask, last[:, None] - positions, positions)
        is_pad = (~mask).unsqueeze(-1).to(inputs.dtype)  # [batch, seq, 1]
        layer_input = inputs
        h_list, c_list = [], []
        for layer in range(self.num_layers):
            if layer > 0 and self.dropout > 0:
                layer_input = F.dropout(layer_input, self.dropout, self.training)
            directions = []
            for direction in range(self.num_directions):
                suffix = f"_l{layer}" + ("_reverse" if direction else "")
                index = layer * self.num_directions + direction
                x = layer_input if direction == 0 else _gather_time(layer_input, reverse_index)
                h0 = c0 = None
                if initial_state is not None:
                    h0, c0 = initial_state[0][index:index + 1], initial_state[1][index:index + 1]
                out, c_n = self._run_direction(x, is_pad, suffix, h0, c0)
                h_list.append(out[rows, last])
                c_list.append(c_n[0])
                directions.append(out if direction == 0 else _gather_time(out, reverse_index))
            layer_input = directions[0] if len(directions) == 1 else torch.cat(directions, dim=-1)
        outputs = layer_input.masked_fill(~mask.unsqueeze(-1), 0.0)
        return EncoderOutput(outputs, torch.stack(h_list), torch.stack(c_list))

    def _run_direction(self, x, is_pad, suffix, h0, c0):
        lstm = self.lstm
        weight_ih = getattr(lstm, "weight_ih" + suffix)
        hidden = self.hidden_size
        gate_column = torch.zeros(4 * hidden, 1, dtype=weight_ih.dtype, device=weight_ih.device)
        gate_column[:hidden] = -_SATURATE  # input gate -> 0 at padding
        gate_column[hidden:2 * hidden] = _SATURATE  # forget gate -> 1 at padding
        weights = [
            torch.cat([weight_ih, gate_column], dim=1),
            getattr(lstm, "weight_hh" + suffix),
            getattr(lstm, "bias_ih" + suffix),
            getattr(lstm, "bias_hh" + suffix),
        ]
        x = torch.cat([x, is_pad.to(x.dtype)], dim=-1)
        if h0 is None:
            h0 = c0 = x.new_zeros(1, x.shape[0], hidden)
        out, _, c_n = torch.lstm(x, (h0.contiguous(), c0.contiguous()), weights, True, 1, 0.0, self.training,
                                 False, True)
        return out, c_n


def _length_groups(lengths: list[int], *, step_cost_rows: int = 8, min_efficiency: float = 0.85) -> list[list[int]]:
    """Splits row indices into groups of similar lengths when padding would waste much compute.

    Cost model of one dense call: ``max_len * (rows + step_cost_rows)`` (every time step also has a
    fixed cost, worth about ``step_cost_rows`` rows). An optimal split of the length-sorted rows
    into contiguous groups is found by dynamic programming; batches already at least
    ``min_efficiency`` real tokens stay whole.
    """
    total = max(lengths) * len(lengths)
    if sum(lengths) >= min_efficiency * total:
        return [list(range(len(lengths)))]
    order = sorted(range(len(lengths)), key=lambda r: -lengths[r])
    n = len(order)
    best = [0.0] + [float("inf")] * n  # best[i]: cost of grouping the first i rows of `order`
    cut = [0] * (n + 1)
    for end in range(1, n + 1):
        for start in range(end):
            cost = best[start] + lengths[order[start]] * (end - start + step_cost_rows)
            if cost < best[end]:
                best[end], cut[end] = cost, start
    groups, end = [], n
    while end > 0:
        groups.append(order[cut[end]:end])
        end = cut[end]
    return groups[::-1]


def _gather_time(values: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
    """``values[b, index[b, t]]`` for ``values: [batch, seq, dim]``, ``index: LongTensor[batch, seq]``."""
    return values.gather(1, index.unsqueeze(-1).expand(-1, -1, values.shape[-1]))
