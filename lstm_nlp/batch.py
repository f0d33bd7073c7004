"""The batch layout, stated once: which keys a batch carries, which of them reach the model.

Every collate function (:mod:`lstm_nlp.data.batching`) returns a dict of tensors:

* ``token_ids``: ``LongTensor[batch, seq]``, padded with 0;
* ``mask``: ``BoolTensor[batch, seq]``, True at real tokens;
* ``char_ids`` (taggers with character features): ``LongTensor[batch, seq, chars]``;
* ``lengths``: ``LongTensor[batch]`` (= ``mask.sum(-1)``), kept on the CPU as packing wants;
* ``labels``: ``LongTensor[batch, seq]`` for tagging (padding = :data:`IGNORE_INDEX`) or
  ``LongTensor[batch]`` for classification, present only when the examples carry labels;
* ``index``: ``LongTensor[batch]``, each example's position in its dataset (to restore input order).

The model's ``forward`` takes every key except :data:`NON_MODEL_KEYS`; in training that includes
``labels`` (the model then returns a loss), in prediction :func:`model_inputs` drops them too.
"""

from __future__ import annotations

from collections.abc import Mapping

import torch

#: Label id that losses skip (``torch.nn.functional.cross_entropy``'s default ``ignore_index``).
IGNORE_INDEX = -100
#: Keys a batch carries for bookkeeping, never passed to the model.
NON_MODEL_KEYS = ("lengths", "index")
#: The key holding gold labels.
LABELS = "labels"


def model_inputs(batch: Mapping[str, torch.Tensor], *, with_labels: bool = True) -> dict[str, torch.Tensor]:
    """The part of ``batch`` that goes into the model's ``forward`` (labels only with ``with_labels``)."""
    drop = NON_MODEL_KEYS if with_labels else (*NON_MODEL_KEYS, LABELS)
    return {k: v for k, v in batch.items() if k not in drop}
