"""``GRUEncoder``: ``nn.GRU`` over variable-length batches, registered as ``"gru"`` (``--encoder gru``).

It keeps :class:`~lstm_nlp.modules.encoder.RecurrentEncoder`'s contract, as
:class:`~lstm_nlp.modules.encoder.LSTMEncoder` does: the same ``impl`` argument (``"packed"``,
``"dense"``, ``"auto"``: dense on CPU and CUDA), zeros at padding, ``h_n`` read after each row's
last real token, batch-first or time-major. Both implementations share one ``nn.GRU``'s weights.

The dense path is the LSTM's, with the GRU's own padding trick: ``h' = (1 - z) * n + z * h``, and
at padding the extra input feature drives the update gate ``z`` (gate block 1 of ``weight_ih``,
PyTorch's order ``r, z, n``) to +1e4, so ``z`` is exactly 1 and ``h`` passes through unchanged
(exact in training too: the gradient through a saturated gate is zero). A GRU has no cell state:
``EncoderOutput.c_n`` is ``None`` and ``initial_state`` is ``h_0`` alone.
"""

from __future__ import annotations

import torch
from torch import nn

from lstm_nlp.modules.encoder import _SATURATE, RecurrentEncoder, register_encoder


@register_encoder("gru")
class GRUEncoder(RecurrentEncoder):
    """A (Bi)GRU over padded, variable-length batches (arguments: :class:`RecurrentEncoder`).

    Its ``nn.GRU`` is ``self.gru`` (state-dict keys ``gru.weight_ih_l0`` ...), also :attr:`rnn`.
    Outputs ``[batch, seq, hidden_size * num_directions]``; a third fewer weights than the LSTM.
    """

    _RNN, _RNN_NAME = nn.GRU, "gru"
    _NUM_GATES = 3  # r, z, n
    _PADDING_GATES = {1: _SATURATE}  # update gate -> 1 at padding: h' = h

    def _call_rnn(self, inputs, state):
        outputs, h_n = self.gru(inputs, None if state is None else state[0])
        return outputs, h_n, None

    def _run_direction(self, x, weights, state):
        h0 = x.new_zeros(1, x.shape[0], self.hidden_size) if state is None else state[0].contiguous()
        out, _ = torch.gru(x, h0, weights, True, 1, 0.0, self.training, False, True)
        return out, None
