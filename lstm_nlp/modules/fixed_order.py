"""``FixedOrderLinear``: ``nn.Linear`` whose CPU weight gradient does not depend on the thread count.

A tagger's output layer has few outputs (the tags) and its weight gradient sums over every token of the
batch: ``grad[tokens, labels]^T @ features[tokens, dim]``. For such a short, wide product the BLAS splits
the token sum across threads, so 1 and 2 threads round differently (in the last bit, 6e-8) and a
same-seed run drifts once the thread count changes (which :func:`lstm_nlp.device.adapt_cpu_threads`
does). Here that one product runs on a single thread: the same bits at any thread count.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


def _single_thread_product(grad: torch.Tensor, inputs: torch.Tensor) -> torch.Tensor:
    """``grad[n, out]^T @ inputs[n, in]`` on one thread: ``FloatTensor[out, in]``, the same bits whatever
    torch's thread count (the product is small: out x in x n multiply-adds, a few ms for a batch)."""
    threads = torch.get_num_threads()
    if threads == 1:
        return grad.T @ inputs
    torch.set_num_threads(1)
    try:
        return grad.T @ inputs
    finally:
        torch.set_num_threads(threads)


class _LinearFunction(torch.autograd.Function):
    @staticmethod
    def forward(ctx, inputs, weight, bias):
        ctx.save_for_backward(inputs, weight)
        ctx.has_bias = bias is not None
        return F.linear(inputs, weight, bias)

    @staticmethod
    def backward(ctx, grad):
        inputs, weight = ctx.saved_tensors
        flat_grad = grad.reshape(-1, grad.shape[-1])
        grad_inputs = grad_weight = grad_bias = None
        if ctx.needs_input_grad[0]:
            grad_inputs = (flat_grad @ weight).view(*grad.shape[:-1], weight.shape[1])
        if ctx.needs_input_grad[1] or (ctx.has_bias and ctx.needs_input_grad[2]):
            flat_inputs = inputs.reshape(-1, inputs.shape[-1])
            if ctx.has_bias:  # the bias gradient as one more input column of ones, summed the same way
                flat_inputs = torch.cat([flat_inputs, flat_inputs.new_ones(flat_inputs.shape[0], 1)], 1)
            both = _single_thread_product(flat_grad, flat_inputs)
            grad_weight = both[:, :weight.shape[1]] if ctx.needs_input_grad[1] else None
            if ctx.has_bias and ctx.needs_input_grad[2]:
                grad_bias = both[:, -1]
        return grad_inputs, grad_weight, grad_bias


class FixedOrderLinear(nn.Linear):
    """``nn.Linear`` (same parameters and state-dict keys) with a thread-count-independent weight gradient
    when training on the CPU in fp32; elsewhere (GPU, autocast, no gradient) it is ``nn.Linear``.

    Shapes: ``FloatTensor[..., in_features] -> FloatTensor[..., out_features]``.
    """

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        if (torch.is_grad_enabled() and self.weight.requires_grad and inputs.device.type == "cpu"
                and inputs.dtype == torch.float32 and not torch.is_autocast_enabled("cpu")):
            return _LinearFunction.apply(inputs, self.weight, self.bias)
        return super().forward(inputs)
