"""Preparing a loaded model for inference (optionally in bf16), and pausing the garbage collector around it.

    from lstm_nlp.inference import prepare_for_inference
    pipeline = load_pipeline("runs/pos/model")
    prepare_for_inference(pipeline.model, precision="bf16")

``precision="bf16"`` stores the weights of the model's embeddings, LSTMs, convolutions and
linear layers in bf16 (half the memory) and runs ``forward`` under
``torch.autocast(dtype=torch.bfloat16)``: matmuls and the LSTM run in bf16, precision-sensitive
ops (softmax, log-sum-exp, losses) stay fp32 as autocast decides, and other parameters (CRF
transitions) stay fp32. Floating-point tensors in the output are cast back to fp32, so decoding
(argmax, Viterbi) and everything downstream see the usual dtype. Storing the weights in bf16
rounds them exactly as autocast would before each matmul, so predictions equal the
autocast-only ones up to rounding order; it saves the per-call weight casts and keeps the
embeddings' outputs in bf16. On a CPU with AVX-512 BF16 the BiLSTM models here ran 1.6-1.9x
faster than fp32 end to end (see ``docs/benchmarks.md``); on a CPU without native bf16 it is
usually *slower*, so it is never chosen automatically. It is irreversible:
reload the bundle to get fp32 back.

int8 dynamic quantization (``torch.ao.quantization.quantize_dynamic``) was offered here once and
removed: with the dense LSTM path it measured 0.97-1.03x fp32 end to end on the POS model and 0.90-0.93x on
the IMDB classifier (its quantized LSTM has to take the packed path), bf16 was faster everywhere,
and ``torch.ao.quantization`` is deprecated; torchao quantizes ``nn.Linear`` only, which does
nothing for these LSTM-bound models. ``benchmarks/bench_inference.py`` still measures both as
candidates (figures in ``docs/benchmarks.md``).
"""

from __future__ import annotations

import dataclasses
import functools
import os
from typing import Any, Literal

import torch
from torch import nn

from lstm_nlp.errors import ConfigError
from lstm_nlp.gc_pause import paused_gc  # noqa: F401  (re-exported: lstm_nlp.inference.paused_gc)
from lstm_nlp.precision import INFERENCE_PRECISIONS

Precision = Literal["fp32", "bf16"]


def bf16_is_native(device: torch.device | str = "cpu") -> bool:
    """Whether ``device`` has native bf16 arithmetic (CPU: AVX-512 BF16 / AMX; CUDA: Ampere or newer)."""
    device = torch.device(device)
    if device.type == "cuda":
        return torch.cuda.is_available() and torch.cuda.is_bf16_supported()
    if device.type == "cpu":
        probe = getattr(torch.ops.mkldnn, "_is_mkldnn_bf16_supported", None)
        return bool(probe()) if probe is not None else False
    return False


def prepare_for_inference(model: nn.Module, *, precision: Precision = "fp32") -> nn.Module:
    """Puts ``model`` in eval mode and sets its inference precision, in place.

    Args:
        model: A loaded model (any ``nn.Module``; e.g. ``pipeline.model``), already on its device.
        precision: ``"fp32"`` (default; exact) or ``"bf16"`` (bf16 weights + autocast; faster on
            CPUs with AVX-512 BF16 and on recent GPUs; predictions may differ at a few positions;
            irreversible).

    Returns:
        The same ``model`` object (calling this again with the same settings changes nothing).

    Raises:
        ConfigError: an unknown precision, or fp32 asked of a model already prepared in bf16.
    """
    if precision not in INFERENCE_PRECISIONS:
        raise ConfigError(f"precision must be one of {', '.join(INFERENCE_PRECISIONS)}, got {precision!r}")
    current = getattr(model, "inference_precision", "fp32")
    if current == "bf16" and precision != "bf16":
        raise ConfigError("this model's weights were converted to bf16; reload the bundle to run it in fp32")
    model.eval()
    if precision == "bf16" and current != "bf16":
        for module in model.modules():
            if isinstance(module, _BF16_MODULES):
                module.to(torch.bfloat16)
        model.forward = _autocast_forward(model.forward, _device_type(model))
    model.inference_precision = precision
    return model


def load_for_inference(directory: str | os.PathLike, *, device: str = "cpu", precision: Precision = "fp32",
                       threads: int | None = None, calibrated: bool = True):
    """Loads a bundle as ``lstm-nlp predict`` does: torch's CPU threads set (``None``: ``OMP_NUM_THREADS``
    if set, else the free cores, see :func:`~lstm_nlp.device.set_cpu_threads`), the pipeline of its
    ``model_type`` on ``device``, prepared for ``precision``; ``calibrated=False`` sets a tagger's or a
    classifier's temperature to 1 (``--no-calibrate``)."""
    from lstm_nlp.device import resolve_device, set_cpu_threads
    from lstm_nlp.pipelines import load_pipeline

    set_cpu_threads(threads)
    pipeline = load_pipeline(directory, device=resolve_device(device))
    prepare_for_inference(pipeline.model, precision=precision)
    if not calibrated and hasattr(pipeline, "temperature"):
        pipeline.temperature = 1.0
    return pipeline


# Modules whose weights autocast would cast to bf16 anyway (or, for embeddings, whose outputs go
# straight into one that would); anything else (CRF transitions) keeps fp32.
_BF16_MODULES = (nn.Embedding, nn.LSTM, nn.Linear, nn.Conv1d)


def _device_type(model: nn.Module) -> str:
    parameter = next(model.parameters(), None)
    return parameter.device.type if parameter is not None else "cpu"


def _autocast_forward(forward, device_type: str):
    @functools.wraps(forward)
    def wrapped(*args, **kwargs):
        with torch.autocast(device_type=device_type, dtype=torch.bfloat16):
            output = forward(*args, **kwargs)
        return _to_float32(output)

    return wrapped


def _to_float32(value: Any) -> Any:
    """bf16/fp16 tensors inside ``value`` (tensor, dataclass, tuple, list, dict) -> fp32."""
    if isinstance(value, torch.Tensor):
        return value.float() if value.dtype in (torch.bfloat16, torch.float16) else value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        changes = {f.name: _to_float32(getattr(value, f.name)) for f in dataclasses.fields(value) if f.init}
        return dataclasses.replace(value, **changes)
    if isinstance(value, tuple):
        converted = [_to_float32(v) for v in value]
        return type(value)(*converted) if hasattr(value, "_fields") else tuple(converted)
    if isinstance(value, list):
        return [_to_float32(v) for v in value]
    if isinstance(value, dict):
        return {k: _to_float32(v) for k, v in value.items()}
    return value
