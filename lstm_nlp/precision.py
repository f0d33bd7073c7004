"""Numeric precisions, named once for training, inference and the command lines.

Training (:class:`~lstm_nlp.training.TrainerConfig`) takes any of :data:`PRECISIONS` (``amp``
picks bf16 or fp16 on CUDA and fp32 elsewhere); inference
(:func:`~lstm_nlp.inference.prepare_for_inference`, ``lstm-nlp --precision``) takes
:data:`INFERENCE_PRECISIONS`: fp16 is for CUDA training with a gradient scaler only.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import torch

PRECISIONS: tuple[str, ...] = ("fp32", "bf16", "fp16", "amp")
INFERENCE_PRECISIONS: tuple[str, ...] = PRECISIONS[:2]
_AUTOCAST_DTYPES = {"bf16": "bfloat16", "fp16": "float16"}


def autocast_dtype(precision: str) -> torch.dtype:
    """The ``torch.autocast`` dtype of a resolved precision (``float32`` for ``"fp32"``).

    torch is imported here, not at module level, so that ``lstm-nlp --help`` stays instant.
    """
    import torch

    return getattr(torch, _AUTOCAST_DTYPES.get(precision, "float32"))
