"""FLOP counting for (Bi)LSTM models and the measured ``torch.mm`` ceiling at their shapes.

Counting convention (multiply-add = 2 FLOPs, element-wise gate math ignored):

* forward, per token, per layer and direction: ``2 * 4H * (in + H)`` (input projection + recurrence);
* a linear head ``in -> out``: ``2 * in * out`` per token (per example for a pooled classifier);
* training = 3x forward (the backward pass computes the gradients w.r.t. inputs and weights, each a
  matmul of the forward's size).

The *ceiling* is what those matmuls would cost if each ran at the ``torch.mm`` speed measured at
its own shape on this machine: ``sum(flops) / sum(flops_i / rate_i)`` over the matmuls of one
training step. Small recurrent matmuls (``[batch, H] x [H, 4H]``) run far below the machine's
peak, so the ceiling at the model's shapes is lower than a large square ``torch.mm``; both are
reported.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from common import median, time_call


@dataclass(frozen=True)
class MatMul:
    """``count`` matmuls ``[m, k] x [k, n]`` in one training step."""

    name: str
    m: int
    k: int
    n: int
    count: int = 1

    @property
    def flops(self) -> float:
        return 2.0 * self.m * self.k * self.n * self.count


def lstm_forward_flops_per_token(input_size: int, hidden: int, layers: int, directions: int) -> float:
    """Forward FLOPs per token of a stacked (Bi)LSTM."""
    total = 0.0
    for layer in range(layers):
        layer_in = input_size if layer == 0 else hidden * directions
        total += directions * 2 * 4 * hidden * (layer_in + hidden)
    return total


def lstm_training_matmuls(input_size: int, hidden: int, layers: int, directions: int, batch: int,
                          seq: int) -> list[MatMul]:
    """The matmuls of one forward+backward pass over a ``[batch, seq]`` padded batch."""
    tokens = batch * seq
    shapes: list[MatMul] = []
    for layer in range(layers):
        layer_in = input_size if layer == 0 else hidden * directions
        for _ in range(directions):
            shapes += [
                MatMul(f"L{layer} input proj fwd", tokens, layer_in, 4 * hidden),
                MatMul(f"L{layer} input proj dX", tokens, 4 * hidden, layer_in),
                MatMul(f"L{layer} input proj dW", 4 * hidden, tokens, layer_in),
                MatMul("recurrent fwd (per step)", batch, hidden, 4 * hidden, seq),
                MatMul("recurrent dH (per step)", batch, 4 * hidden, hidden, seq),
                MatMul("recurrent dW", 4 * hidden, tokens, hidden),
            ]
    return shapes


def linear_training_matmuls(name: str, rows: int, in_features: int, out_features: int) -> list[MatMul]:
    return [MatMul(f"{name} fwd", rows, in_features, out_features),
            MatMul(f"{name} dX", rows, out_features, in_features),
            MatMul(f"{name} dW", out_features, rows, in_features)]


def measure_mm_gflops(m: int, k: int, n: int, *, repeats: int = 5, min_seconds: float = 0.05) -> float:
    """Median ``torch.mm`` GFLOP/s for ``[m, k] x [k, n]`` fp32 with the current thread count."""
    a, b = torch.randn(m, k), torch.randn(k, n)
    out = torch.empty(m, n)
    time_call(lambda: torch.mm(a, b, out=out), min_seconds=0.02)  # warm-up
    rates = [2.0 * m * k * n / time_call(lambda: torch.mm(a, b, out=out), min_seconds=min_seconds) / 1e9
             for _ in range(repeats)]
    return median(rates)


def ceiling(shapes: list[MatMul], *, repeats: int = 5, min_seconds: float = 0.05) -> tuple[float, list[dict]]:
    """FLOP-weighted ``torch.mm`` ceiling (GFLOP/s) over ``shapes`` and the per-shape rates."""
    rates: dict[tuple[int, int, int], float] = {}
    rows = []
    total_flops = total_seconds = 0.0
    for shape in shapes:
        key = (shape.m, shape.k, shape.n)
        if key not in rates:
            rates[key] = measure_mm_gflops(*key, repeats=repeats, min_seconds=min_seconds)
        total_flops += shape.flops
        total_seconds += shape.flops / (rates[key] * 1e9)
        rows.append({"name": shape.name, "m": shape.m, "k": shape.k, "n": shape.n, "count": shape.count,
                     "gflops": rates[key], "share": 0.0, "flops": shape.flops})
    for row in rows:
        row["share"] = row["flops"] / total_flops
    return total_flops / total_seconds / 1e9, rows
