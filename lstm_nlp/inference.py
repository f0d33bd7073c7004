"""Preparing a loaded model for inference, optionally in reduced precision (bf16) or int8.

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
embeddings' outputs in bf16. On a CPU with AVX-512 BF16 the BiLSTM models here ran 1.5-1.8x
faster than fp32 end to end (see ``docs/benchmarks.md``); on a CPU without native bf16 it is
usually *slower*, so it is never chosen automatically. Like quantization it is irreversible:
reload the bundle to get fp32 back.

``quantize=True`` applies int8 dynamic quantization to every ``nn.LSTM`` and ``nn.Linear``
(weights stored as int8, activations quantized on the fly) with
``torch.ao.quantization.quantize_dynamic``. Its LSTM modules have no fp32 weight tensors, so every
:class:`~lstm_nlp.modules.LSTMEncoder` switches to its packed path. On the benchmark machine it ran
the forward pass about 2x faster than fp32 at -0.1 points POS accuracy (end to end less, since
tokenization and decoding are not quantized); it also helps on CPUs without native bf16. It is
irreversible (reload the bundle to get fp32 back) and relies on ``torch.ao.quantization``, which
PyTorch has deprecated (as it has quantized tensors): torchao, its successor, quantizes ``nn.Linear`` but not ``nn.LSTM``, so
it cannot replace it here (figures in ``docs/benchmarks.md``).
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import gc
import warnings
from typing import Any, Literal

import torch
from torch import nn

from lstm_nlp.errors import ConfigError

Precision = Literal["fp32", "bf16"]
PRECISIONS: tuple[str, ...] = ("fp32", "bf16")


def bf16_is_native(device: torch.device | str = "cpu") -> bool:
    """Whether ``device`` has native bf16 arithmetic (CPU: AVX-512 BF16 / AMX; CUDA: Ampere or newer)."""
    device = torch.device(device)
    if device.type == "cuda":
        return torch.cuda.is_available() and torch.cuda.is_bf16_supported()
    if device.type == "cpu":
        probe = getattr(torch.ops.mkldnn, "_is_mkldnn_bf16_supported", None)
        return bool(probe()) if probe is not None else False
    return False


def prepare_for_inference(model: nn.Module, *, precision: Precision = "fp32", quantize: bool = False) -> nn.Module:
    """Puts ``model`` in eval mode and sets its inference precision, in place.

    Args:
        model: A loaded model (any ``nn.Module``; e.g. ``pipeline.model``), already on its device.
        precision: ``"fp32"`` (default; exact) or ``"bf16"`` (bf16 weights + autocast; faster on
            CPUs with AVX-512 BF16 and on recent GPUs; predictions may differ at a few positions;
            irreversible).
        quantize: int8 dynamic quantization of the ``nn.LSTM`` and ``nn.Linear`` layers (CPU
            only, with ``precision="fp32"``; irreversible; see the module docstring).

    Returns:
        The same ``model`` object (calling this again with the same settings changes nothing).

    Raises:
        ConfigError: an unknown precision; ``quantize`` with bf16, on a GPU, or without
            ``torch.ao.quantization``; fp32 asked of a model already prepared in bf16.
    """
    if precision not in PRECISIONS:
        raise ConfigError(f"precision must be one of {', '.join(PRECISIONS)}, got {precision!r}")
    current = getattr(model, "inference_precision", "fp32")
    if current == "bf16" and precision != "bf16":
        raise ConfigError("this model's weights were converted to bf16; reload the bundle to run it in fp32")
    if quantize:
        _quantize_int8(model, precision)
    model.eval()
    if precision == "bf16" and current != "bf16":
        for module in model.modules():
            if isinstance(module, _BF16_MODULES):
                module.to(torch.bfloat16)
        model.forward = _autocast_forward(model.forward, _device_type(model))
    model.inference_precision = precision
    return model


# Modules whose weights autocast would cast to bf16 anyway (or, for embeddings, whose outputs go
# straight into one that would); anything else (CRF transitions) keeps fp32.
_BF16_MODULES = (nn.Embedding, nn.LSTM, nn.Linear, nn.Conv1d)


class paused_gc(contextlib.ContextDecorator):
    """Pauses Python's cyclic garbage collector inside a block or function (restoring its previous state).

    Inference allocates many short-lived containers (token lists, example dicts) that survive a
    few collections and so trigger *full* collections, which scan every object of the process:
    with torch, spaCy and datasets imported that is ~300k objects and ~0.2 s each, about a third of
    the time to tag EWT dev. Reference counting still frees everything at once; cycles made inside
    the block are collected after it. Use it around bounded work (one chunk of input), not around
    an unbounded stream.
    """

    def __enter__(self) -> paused_gc:
        self._was_enabled = gc.isenabled()
        gc.disable()
        return self

    def __exit__(self, *exc_info) -> None:
        if self._was_enabled:
            gc.enable()


def _quantize_int8(model: nn.Module, precision: str) -> None:
    if precision != "fp32":
        raise ConfigError("quantize=True (int8) cannot be combined with precision='bf16'; pick one")
    if _device_type(model) != "cpu":
        raise ConfigError("int8 dynamic quantization runs on the CPU only; load the model with device='cpu'")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            from torch.ao.quantization import quantize_dynamic
    except ImportError as err:
        raise ConfigError(f"int8 quantization needs torch.ao.quantization, which this torch "
                          f"{torch.__version__} does not have ({err})") from None
    from lstm_nlp.modules.encoder import LSTMEncoder

    for module in model.modules():
        if isinstance(module, LSTMEncoder):
            module.impl = "packed"  # the quantized nn.LSTM has no weight tensors for the dense path
    with warnings.catch_warnings():  # torch.ao and quantized tensors are deprecated (documented above)
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.filterwarnings("ignore", message=".*quantize_per_tensor.*")
        quantize_dynamic(model, {nn.LSTM, nn.Linear}, dtype=torch.qint8, inplace=True)
    model.inference_quantized = True


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
