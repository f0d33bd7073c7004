"""A tiny seeded tagging task for trainer tests (no corpora, no tokenizers: fast)."""

from __future__ import annotations

import random

import torch
from torch.utils.data import DataLoader

from lstm_nlp.data.batching import BucketBatchSampler, collate_tagging
from lstm_nlp.models import SequenceTagger, TaggerConfig

VOCAB, LABELS = 40, 4


def examples(count: int, seed: int) -> list[dict]:
    """Sentences of 2-9 random tokens; a token's tag is ``token % LABELS`` (learnable)."""
    rng = random.Random(seed)
    out = []
    for index in range(count):
        tokens = [rng.randrange(1, VOCAB) for _ in range(rng.randrange(2, 10))]
        out.append({"token_ids": tokens, "label_ids": [t % LABELS for t in tokens], "index": index})
    return out


def loader(data: list[dict], *, batch_size: int = 8, shuffle: bool = True, seed: int = 3) -> DataLoader:
    sampler = BucketBatchSampler([len(e["token_ids"]) for e in data], batch_size, shuffle=shuffle, seed=seed,
                                 pool_size=4)
    return DataLoader(data, batch_sampler=sampler, collate_fn=collate_tagging)


def model(seed: int = 0, dropout: float = 0.3) -> SequenceTagger:
    torch.manual_seed(seed)
    return SequenceTagger(TaggerConfig(vocab_size=VOCAB, num_labels=LABELS, embedding_dim=8, hidden_size=8,
                                       num_layers=2, dropout=dropout))


@torch.no_grad()
def accuracy(net: SequenceTagger, data: list[dict]) -> float:
    correct = total = 0
    device = next(net.parameters()).device
    for batch in loader(data, batch_size=32, shuffle=False):
        batch = {k: v.to(device) for k, v in batch.items()}  # the model may be on CUDA
        labels = batch.pop("labels")
        output = net(batch["token_ids"], mask=batch["mask"])
        predicted = output.logits.argmax(-1)
        correct += int(((predicted == labels) & batch["mask"]).sum())
        total += int(batch["mask"].sum())
    return correct / total
