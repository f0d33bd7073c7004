"""Batching: length-bucketed sampling (torchtext's ``BucketIterator``) and padding collate functions.

Every collate function returns the batch layout described in :mod:`lstm_nlp.batch`.
"""

from __future__ import annotations

import itertools
import math
import random
from collections.abc import Iterator, Sequence

import numpy as np
import torch
from torch.utils.data import Sampler

from lstm_nlp.batch import IGNORE_INDEX
from lstm_nlp.errors import ConfigError, DataFormatError


class BucketBatchSampler(Sampler[list[int]]):
    """Yields batches of indices whose lengths are close, so padding stays small.

    With ``shuffle=True`` (training) the indices are shuffled, cut into pools of
    ``batch_size * pool_size`` examples, each pool is sorted by length and cut into batches,
    and the batch order is shuffled: batches differ every epoch but hold similar lengths.
    With ``shuffle=False`` (evaluation) all examples are sorted by length and cut into batches of
    at most ``batch_size`` examples and ``max_tokens`` padded tokens (a batch of long texts holds
    fewer of them, so the memory a batch takes is bounded whatever the lengths).

    For distributed training, each of ``num_replicas`` ranks takes every ``num_replicas``-th
    batch; the batch list is first cut to a multiple of ``num_replicas`` so all ranks run the
    same number of steps and no example is seen twice in an epoch.

    Args:
        lengths: Length of each example (tokens).
        batch_size: Examples per batch.
        shuffle: Shuffle (training) or sort (evaluation).
        seed: Base seed; the epoch set by :meth:`set_epoch` is added to it.
        pool_size: Batches per sorting pool (larger: less padding, less randomness). The default
            1000 sorts most corpora as one pool: batches still differ every epoch because the
            shuffle decides which of the many equal-length examples go together (EWT POS: 98.3%
            padding efficiency, against 95.7% with pools of 100 batches).
        drop_last: Drop a final incomplete batch of a pool.
        num_replicas: Number of distributed ranks.
        rank: This process's rank.
        max_tokens: With ``shuffle=False``, most padded tokens (examples x longest) in a batch;
            an example longer than this is a batch of its own. ``None``: no bound.
    """

    def __init__(
        self,
        lengths: Sequence[int],
        batch_size: int,
        *,
        shuffle: bool = True,
        seed: int = 0,
        pool_size: int = 1000,
        drop_last: bool = False,
        num_replicas: int = 1,
        rank: int = 0,
        max_tokens: int | None = None,
    ):
        if batch_size < 1:
            raise ConfigError(f"batch_size must be >= 1, got {batch_size}")
        if not 0 <= rank < num_replicas:
            raise ConfigError(f"rank must be in [0, {num_replicas}), got {rank}")
        self.lengths = list(lengths)
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.seed = seed
        self.pool_size = pool_size
        self.drop_last = drop_last
        self.num_replicas = num_replicas
        self.rank = rank
        if max_tokens is not None and max_tokens < 1:
            raise ConfigError(f"max_tokens must be >= 1, got {max_tokens}")
        self.max_tokens = max_tokens
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        """Sets the epoch so that each epoch's shuffle differs but is reproducible."""
        self.epoch = epoch

    def _all_batches(self) -> list[list[int]]:
        indices = list(range(len(self.lengths)))
        if not self.shuffle:
            indices.sort(key=lambda i: self.lengths[i])
            if self.max_tokens is None:
                return [indices[s:s + self.batch_size] for s in range(0, len(indices), self.batch_size)]
            return self._token_bounded(indices)
        rng = random.Random(self.seed + self.epoch)
        rng.shuffle(indices)
        pool = self.batch_size * self.pool_size
        batches: list[list[int]] = []
        for start in range(0, len(indices), pool):
            chunk = sorted(indices[start:start + pool], key=lambda i: self.lengths[i])
            for s in range(0, len(chunk), self.batch_size):
                batch = chunk[s:s + self.batch_size]
                if len(batch) == self.batch_size or not self.drop_last:
                    batches.append(batch)
        rng.shuffle(batches)
        return batches

    def _token_bounded(self, ascending: list[int]) -> list[list[int]]:
        # Sorted ascending, so the example just added is the batch's longest.
        batches: list[list[int]] = []
        batch: list[int] = []
        for i in ascending:
            if batch and (len(batch) == self.batch_size or (len(batch) + 1) * self.lengths[i] > self.max_tokens):
                batches.append(batch)
                batch = []
            batch.append(i)
        return batches + [batch] if batch else batches

    def batches(self) -> list[list[int]]:
        """This rank's batches for the current epoch."""
        batches = self._all_batches()
        if self.num_replicas > 1:
            usable = len(batches) // self.num_replicas * self.num_replicas
            batches = batches[self.rank:usable:self.num_replicas]
        return batches

    def __iter__(self) -> Iterator[list[int]]:
        return iter(self.batches())

    def __len__(self) -> int:
        if self.shuffle and self.drop_last:
            return len(self.batches())
        if not self.shuffle and self.max_tokens is None:
            total = math.ceil(len(self.lengths) / self.batch_size)
        else:
            total = len(self._all_batches())
        return total // self.num_replicas if self.num_replicas > 1 else total


def padding_efficiency(batches: Sequence[Sequence[int]], lengths: Sequence[int]) -> float:
    """Real tokens / padded tokens over a list of batches (1.0 = no padding)."""
    real = sum(lengths[i] for b in batches for i in b)
    padded = sum(max(lengths[i] for i in b) * len(b) for b in batches if b)
    return real / padded if padded else 1.0


def _pad(sequences: Sequence[Sequence[int]], value: int) -> torch.Tensor:
    """``LongTensor[len(sequences), longest]``: each sequence left-aligned, then ``value``."""
    lengths = np.fromiter(map(len, sequences), dtype=np.int64, count=len(sequences))
    width = max(int(lengths.max()), 1) if len(sequences) else 1
    out = np.full((len(sequences), width), value, dtype=np.int64)
    # One flat array for all sequences instead of one per row: the copy is a single masked write.
    out[np.arange(width)[None, :] < lengths[:, None]] = np.fromiter(
        itertools.chain.from_iterable(sequences), dtype=np.int64, count=int(lengths.sum()))
    return torch.from_numpy(out)


def _check_nonempty(examples: Sequence[dict]) -> None:
    for example in examples:
        if len(example["token_ids"]) == 0:
            raise DataFormatError(
                f"example {example.get('index', '?')} has no tokens; drop empty examples before batching "
                "(packing rejects zero lengths)")


def _token_batch(examples: Sequence[dict], pad_id: int) -> dict[str, torch.Tensor]:
    """``token_ids``, ``mask``, ``lengths`` and ``index`` of a list of examples (shared by both collates)."""
    _check_nonempty(examples)
    token_ids = _pad([e["token_ids"] for e in examples], pad_id)
    lengths = torch.tensor([len(e["token_ids"]) for e in examples], dtype=torch.long)
    return {
        "token_ids": token_ids,
        "mask": torch.arange(token_ids.shape[1])[None, :] < lengths[:, None],
        "lengths": lengths,
        "index": torch.tensor([e.get("index", i) for i, e in enumerate(examples)], dtype=torch.long),
    }


def collate_tagging(examples: Sequence[dict], pad_id: int = 0) -> dict[str, torch.Tensor]:
    """Pads tagging examples (``token_ids``, optional ``label_ids`` and ``char_ids``).

    ``char_ids`` (one id list per token) become ``LongTensor[batch, seq, max_word_len]``.
    """
    batch = _token_batch(examples, pad_id)
    token_ids = batch["token_ids"]
    if "label_ids" in examples[0]:
        for e in examples:
            if len(e["label_ids"]) != len(e["token_ids"]):
                raise DataFormatError(
                    f"example {e.get('index', '?')}: {len(e['token_ids'])} tokens but {len(e['label_ids'])} labels")
        batch["labels"] = _pad([e["label_ids"] for e in examples], IGNORE_INDEX)
    if "char_ids" in examples[0]:
        for e in examples:
            if len(e["char_ids"]) != len(e["token_ids"]):
                raise DataFormatError(
                    f"example {e.get('index', '?')}: {len(e['token_ids'])} tokens but {len(e['char_ids'])} char lists")
        words = [w for e in examples for w in e["char_ids"]]  # every real token, row-major like mask
        padded = _pad(words, pad_id)  # [real tokens, longest word]
        chars = padded.new_full((*token_ids.shape, padded.shape[1]), pad_id)
        chars[batch["mask"]] = padded
        batch["char_ids"] = chars
    return batch


def collate_classification(examples: Sequence[dict], pad_id: int = 0) -> dict[str, torch.Tensor]:
    """Pads classification examples (``token_ids``, optional integer ``label``)."""
    batch = _token_batch(examples, pad_id)
    if "label" in examples[0]:
        batch["labels"] = torch.tensor([e["label"] for e in examples], dtype=torch.long)
    return batch
