"""A reference LSTM written from the gate equations, parameter-compatible with ``nn.LSTM``.

This is a teaching and verification tool, not the fast path (use :class:`LSTMEncoder` to train).
One time step of one direction of one layer is::

    gates = x_t @ W_ih.T + b_ih + h_{t-1} @ W_hh.T + b_hh     # [batch, 4H], blocks in i, f, g, o order
    i = sigmoid(gates[:, 0H:1H])    input gate:     how much of the candidate to write
    f = sigmoid(gates[:, 1H:2H])    forget gate:    how much of the old cell to keep
    g = tanh(gates[:, 2H:3H])       cell candidate: what to write
    o = sigmoid(gates[:, 3H:4H])    output gate:    how much of the cell to show
    c_t = f * c_{t-1} + i * g
    h_t = o * tanh(c_t)

Each gate has its *own* block of rows in ``W_ih`` / ``W_hh`` (a classic tutorial bug is one
``nn.Linear`` reused for all four gates, which gives four identical gates and a quarter of the
parameters). Parameters carry ``nn.LSTM``'s names and layouts, so state dicts load either way:

* ``weight_ih_l{k}[_reverse]``: ``[4H, input_size]`` (layer 0) or ``[4H, num_directions * H]``;
* ``weight_hh_l{k}[_reverse]``: ``[4H, H]``;
* ``bias_ih_l{k}[_reverse]``, ``bias_hh_l{k}[_reverse]``: ``[4H]`` (two biases that are simply added,
  kept separate only for cuDNN compatibility).

Variable lengths follow ``nn.LSTM`` on a ``PackedSequence``: a row's state stops changing after its
last real step (forward direction), and the backward direction starts at each row's last real
step. Both are one rule here: at time ``t`` only rows with ``t < length`` are updated.
"""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn.utils.rnn import PackedSequence, pack_padded_sequence, pad_packed_sequence

from lstm_nlp.errors import ConfigError

GATES = ("input", "forget", "cell", "output")  # the order of the four row blocks in every weight


def lstm_cell(
    x: torch.Tensor,
    h: torch.Tensor,
    c: torch.Tensor,
    weight_ih: torch.Tensor,
    weight_hh: torch.Tensor,
    bias_ih: torch.Tensor | None = None,
    bias_hh: torch.Tensor | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """One LSTM step from the gate equations.

    Args:
        x: ``FloatTensor[batch, input_size]``, the input at this time step.
        h: ``FloatTensor[batch, H]``, the previous hidden state.
        c: ``FloatTensor[batch, H]``, the previous cell state.
        weight_ih: ``[4H, input_size]``, gate blocks in i, f, g, o order.
        weight_hh: ``[4H, H]``.
        bias_ih: ``[4H]`` or ``None``.
        bias_hh: ``[4H]`` or ``None``.

    Returns:
        ``(h_t, c_t)``, each ``FloatTensor[batch, H]``.
    """
    gates = x @ weight_ih.T + h @ weight_hh.T  # [batch, 4H]
    if bias_ih is not None:
        gates = gates + bias_ih + bias_hh
    i, f, g, o = gates.chunk(4, dim=-1)  # four [batch, H] blocks
    i, f, g, o = torch.sigmoid(i), torch.sigmoid(f), torch.tanh(g), torch.sigmoid(o)
    c_t = f * c + i * g
    h_t = o * torch.tanh(c_t)
    return h_t, c_t


def _init_uniform(parameters, hidden_size: int) -> None:
    # nn.LSTM's initialisation: every weight and bias ~ U(-1/sqrt(H), 1/sqrt(H)).
    bound = 1.0 / math.sqrt(hidden_size)
    for parameter in parameters:
        nn.init.uniform_(parameter, -bound, bound)


class ReferenceLSTMCell(nn.Module):
    """One LSTM step with ``nn.LSTMCell``'s parameters (``weight_ih``, ``weight_hh``, ``bias_ih``, ``bias_hh``).

    Args:
        input_size: Size of each input vector.
        hidden_size: Size of ``h`` and ``c``.
        bias: Use the two bias vectors.
    """

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True):
        super().__init__()
        if input_size < 1 or hidden_size < 1:
            raise ConfigError(f"input_size and hidden_size must be >= 1, got {input_size}, {hidden_size}")
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.weight_ih = nn.Parameter(torch.empty(4 * hidden_size, input_size))
        self.weight_hh = nn.Parameter(torch.empty(4 * hidden_size, hidden_size))
        if bias:
            self.bias_ih = nn.Parameter(torch.empty(4 * hidden_size))
            self.bias_hh = nn.Parameter(torch.empty(4 * hidden_size))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        _init_uniform(self.parameters(), hidden_size)

    def forward(
        self, x: torch.Tensor, state: tuple[torch.Tensor, torch.Tensor] | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """One step.

        Args:
            x: ``FloatTensor[batch, input_size]``.
            state: ``(h, c)``, each ``[batch, hidden_size]``; zeros when ``None``.

        Returns:
            ``(h_t, c_t)``, each ``FloatTensor[batch, hidden_size]``.
        """
        if state is None:
            zeros = x.new_zeros(x.shape[0], self.hidden_size)
            state = (zeros, zeros)
        return lstm_cell(x, state[0], state[1], self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh)


class ReferenceLSTM(nn.Module):
    """A multi-layer, optionally bidirectional LSTM with ``nn.LSTM``'s interface and parameters.

    ``forward(input, hx=None)`` behaves like ``nn.LSTM``: ``input`` is a padded tensor or a
    ``PackedSequence``; it returns ``(output, (h_n, c_n))``. Padded input may also come with
    ``lengths`` (then the padding is skipped exactly as packing would and outputs there are 0).

    Args:
        input_size: Size of each input vector.
        hidden_size: Hidden size per direction (``H``).
        num_layers: Stacked layers; layer ``k > 0`` reads layer ``k - 1``'s (concatenated) outputs.
        bias: Use the bias vectors.
        batch_first: Input/output are ``[batch, seq, feature]`` instead of ``[seq, batch, feature]``.
            ``h_0``/``c_0``/``h_n``/``c_n`` are ``[num_layers * num_directions, batch, H]`` either way.
        dropout: Dropout on each layer's output except the last (training mode only), as in ``nn.LSTM``.
        bidirectional: Add a backward direction; outputs are ``[forward ; backward]``, ``2H`` wide.
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
    ):
        super().__init__()
        if input_size < 1 or hidden_size < 1 or num_layers < 1:
            raise ConfigError(
                f"input_size, hidden_size and num_layers must be >= 1, got {input_size}, {hidden_size}, {num_layers}")
        if not 0.0 <= dropout < 1.0:
            raise ConfigError(f"dropout must be in [0, 1), got {dropout}")
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.bias = bias
        self.batch_first = batch_first
        self.dropout = dropout
        self.bidirectional = bidirectional
        self.num_directions = 2 if bidirectional else 1
        # Registered in nn.LSTM's order: per layer, per direction: w_ih, w_hh, b_ih, b_hh.
        for layer in range(num_layers):
            layer_input = input_size if layer == 0 else hidden_size * self.num_directions
            for direction in range(self.num_directions):
                suffix = self._suffix(layer, direction)
                self.register_parameter("weight_ih" + suffix, nn.Parameter(torch.empty(4 * hidden_size, layer_input)))
                self.register_parameter("weight_hh" + suffix, nn.Parameter(torch.empty(4 * hidden_size, hidden_size)))
                if bias:
                    self.register_parameter("bias_ih" + suffix, nn.Parameter(torch.empty(4 * hidden_size)))
                    self.register_parameter("bias_hh" + suffix, nn.Parameter(torch.empty(4 * hidden_size)))
        _init_uniform(self.parameters(), hidden_size)

    @staticmethod
    def _suffix(layer: int, direction: int) -> str:
        return f"_l{layer}" + ("_reverse" if direction == 1 else "")

    def cell_weights(self, layer: int, direction: int) -> tuple[torch.Tensor, ...]:
        """``(weight_ih, weight_hh, bias_ih, bias_hh)`` of one layer and direction (biases ``None`` without bias)."""
        suffix = self._suffix(layer, direction)
        if self.bias:
            names = ("weight_ih", "weight_hh", "bias_ih", "bias_hh")
            return tuple(getattr(self, name + suffix) for name in names)
        return getattr(self, "weight_ih" + suffix), getattr(self, "weight_hh" + suffix), None, None

    def forward(
        self,
        input: torch.Tensor | PackedSequence,
        hx: tuple[torch.Tensor, torch.Tensor] | None = None,
        *,
        lengths: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor | PackedSequence, tuple[torch.Tensor, torch.Tensor]]:
        """Runs the LSTM over a batch of sequences.

        Args:
            input: ``FloatTensor[seq, batch, input_size]`` (``[batch, seq, input_size]`` if batch_first),
                ``[seq, input_size]`` for one unbatched sequence, or a ``PackedSequence``.
            hx: Optional ``(h_0, c_0)``, each ``[num_layers * num_directions, batch, H]`` (``[..., H]``
                without the batch dimension for unbatched input); zeros when ``None``. Index
                ``layer * num_directions + direction``, in the input's batch order.
            lengths: Optional ``LongTensor[batch]`` of real lengths for padded input (padding at the end).

        Returns:
            ``(output, (h_n, c_n))``: ``output`` is ``[seq, batch, num_directions * H]`` (batch-first if
            batch_first; a ``PackedSequence`` if the input was packed), the last layer's states with the
            forward direction first and zeros at padding. ``h_n``/``c_n`` are
            ``[num_layers * num_directions, batch, H]``: each row's state after its last real step
            (backward direction: after its first step).
        """
        if isinstance(input, PackedSequence):
            if lengths is not None:
                raise ValueError("pass lengths only with a padded tensor; a PackedSequence carries its own")
            padded, lengths = pad_packed_sequence(input, batch_first=True)  # original batch order
            outputs, state = self._run(padded, lengths, hx)
            return _repack_like(outputs, lengths, input), state

        unbatched = input.dim() == 2
        if unbatched:
            input = input.unsqueeze(1)  # [seq, 1, input_size]
            hx = None if hx is None else (hx[0].unsqueeze(1), hx[1].unsqueeze(1))
        elif input.dim() != 3:
            raise ValueError(f"input must be 2-D or 3-D, got shape {tuple(input.shape)}")
        batch_first = self.batch_first and not unbatched
        x = input if batch_first else input.transpose(0, 1)  # [batch, seq, input_size]
        outputs, (h_n, c_n) = self._run(x, lengths, hx)
        if not batch_first:
            outputs = outputs.transpose(0, 1)  # back to [seq, batch, ...]
        if unbatched:
            return outputs.squeeze(1), (h_n.squeeze(1), c_n.squeeze(1))
        return outputs, (h_n, c_n)

    def _run(self, x, lengths, hx):
        """The stack over ``x: [batch, seq, input_size]``; returns batch-first outputs and ``(h_n, c_n)``."""
        batch, seq, features = x.shape
        if features != self.input_size:
            raise ValueError(f"input has {features} features per step, expected input_size={self.input_size}")
        if lengths is None:
            lengths = torch.full((batch,), seq, dtype=torch.long)
        lengths = torch.as_tensor(lengths, device=x.device)
        if lengths.shape != (batch,) or bool((lengths < 1).any()) or bool((lengths > seq).any()):
            raise ValueError(f"lengths must be [batch={batch}] with values in [1, {seq}], got {lengths.tolist()}")
        states = self.num_layers * self.num_directions
        if hx is None:
            zeros = x.new_zeros(states, batch, self.hidden_size)
            hx = (zeros, zeros)
        for name, tensor in zip(("h_0", "c_0"), hx):
            if tuple(tensor.shape) != (states, batch, self.hidden_size):
                raise ValueError(f"{name} must be [num_layers * num_directions={states}, batch={batch}, "
                                 f"hidden_size={self.hidden_size}], got {tuple(tensor.shape)}")
        real = torch.arange(seq, device=x.device)[None, :] < lengths[:, None]  # [batch, seq] True at real steps
        layer_input = x
        h_n, c_n = [], []
        for layer in range(self.num_layers):
            if layer > 0 and self.dropout > 0 and self.training:
                layer_input = nn.functional.dropout(layer_input, self.dropout, training=True)
            directions = []
            for direction in range(self.num_directions):
                index = layer * self.num_directions + direction
                out, h, c = self._run_direction(layer_input, real, hx[0][index], hx[1][index],
                                                self.cell_weights(layer, direction), reverse=direction == 1)
                directions.append(out)
                h_n.append(h)
                c_n.append(c)
            layer_input = torch.cat(directions, dim=-1)  # [batch, seq, num_directions * H], forward first
        return layer_input, (torch.stack(h_n), torch.stack(c_n))

    @staticmethod
    def _run_direction(x, real, h, c, weights, *, reverse: bool):
        """One direction of one layer: ``x [batch, seq, in]`` -> outputs ``[batch, seq, H]``, final ``h``, ``c``."""
        seq = x.shape[1]
        outputs = [None] * seq
        for t in (reversed(range(seq)) if reverse else range(seq)):
            h_new, c_new = lstm_cell(x[:, t], h, c, *weights)
            step = real[:, t, None]  # [batch, 1]: rows whose sequence has a real step t
            h = torch.where(step, h_new, h)  # finished (or not yet started) rows keep their state
            c = torch.where(step, c_new, c)
            outputs[t] = torch.where(step, h_new, torch.zeros_like(h_new))
        return torch.stack(outputs, dim=1), h, c

    def extra_repr(self) -> str:
        return (f"{self.input_size}, {self.hidden_size}, num_layers={self.num_layers}, bias={self.bias}, "
                f"batch_first={self.batch_first}, dropout={self.dropout}, bidirectional={self.bidirectional}")


def _repack_like(outputs: torch.Tensor, lengths: torch.Tensor, like: PackedSequence) -> PackedSequence:
    """Packs batch-first ``outputs`` (original batch order) with the same layout as ``like``."""
    if like.sorted_indices is not None:
        order = like.sorted_indices.to(outputs.device)
        outputs, lengths = outputs.index_select(0, order), lengths.index_select(0, order.to(lengths.device))
    data = pack_padded_sequence(outputs, lengths.cpu(), batch_first=True, enforce_sorted=True).data
    return PackedSequence(data, like.batch_sizes, like.sorted_indices, like.unsorted_indices)
