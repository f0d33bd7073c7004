import pytest
import torch

from lstm_nlp.data import IGNORE_INDEX, BucketBatchSampler, collate_classification, collate_tagging, padding_efficiency
from lstm_nlp.errors import ConfigError, DataFormatError


def test_collate_tagging_pads_and_builds_mask():
    batch = collate_tagging([{"token_ids": [5, 6, 7], "label_ids": [1, 2, 3]}, {"token_ids": [8], "label_ids": [4]}])
    assert batch["token_ids"].tolist() == [[5, 6, 7], [8, 0, 0]]
    assert batch["mask"].tolist() == [[True, True, True], [True, False, False]]
    assert batch["lengths"].tolist() == [3, 1]
    assert batch["labels"].tolist() == [[1, 2, 3], [4, IGNORE_INDEX, IGNORE_INDEX]]
    assert batch["index"].tolist() == [0, 1]


def test_collate_tagging_pads_characters():
    batch = collate_tagging([{"token_ids": [5, 6], "char_ids": [[1, 2, 3], [4]]},
                             {"token_ids": [7], "char_ids": [[5, 6]]}])
    assert batch["char_ids"].shape == (2, 2, 3)
    assert batch["char_ids"][1].tolist() == [[5, 6, 0], [0, 0, 0]]


def test_collate_rejects_empty_sentences_and_mismatched_labels():
    with pytest.raises(DataFormatError, match="no tokens"):
        collate_tagging([{"token_ids": [], "label_ids": []}])
    with pytest.raises(DataFormatError, match="2 tokens but 1 labels"):
        collate_tagging([{"token_ids": [1, 2], "label_ids": [1], "index": 0}])


def test_collate_classification():
    batch = collate_classification([{"token_ids": [3, 4], "label": 1}, {"token_ids": [5], "label": 0}])
    assert batch["labels"].tolist() == [1, 0]
    assert batch["mask"].sum().item() == 3


def test_bucket_sampler_covers_every_index_once_and_keeps_padding_small():
    lengths = [(i * 37) % 50 + 1 for i in range(1000)]
    sampler = BucketBatchSampler(lengths, 16, shuffle=True, seed=3)
    batches = list(sampler)
    flat = sorted(i for b in batches for i in b)
    assert flat == list(range(1000))
    assert len(batches) == len(sampler)
    assert padding_efficiency(batches, lengths) > 0.97
    assert all(len(b) <= 16 for b in batches)


def test_bucket_sampler_is_reproducible_and_changes_per_epoch():
    lengths = list(range(1, 201))
    a, b = BucketBatchSampler(lengths, 8, seed=1), BucketBatchSampler(lengths, 8, seed=1)
    assert list(a) == list(b)
    first = list(a)
    a.set_epoch(1)
    assert list(a) != first


def test_bucket_sampler_sorted_when_not_shuffling():
    lengths = [5, 1, 3, 2, 4]
    assert list(BucketBatchSampler(lengths, 2, shuffle=False)) == [[1, 3], [2, 4], [0]]


def test_bucket_sampler_shards_disjointly_across_ranks():
    lengths = [i % 30 + 1 for i in range(330)]
    shards = [list(BucketBatchSampler(lengths, 10, seed=0, num_replicas=2, rank=r)) for r in range(2)]
    seen = [i for shard in shards for b in shard for i in b]
    assert len(seen) == len(set(seen))
    assert len(shards[0]) == len(shards[1])


def test_padding_efficiency_counts_padded_tokens():
    assert padding_efficiency([[0, 1]], [2, 4]) == pytest.approx(6 / 8)
    assert torch.tensor(1.0).item() == padding_efficiency([], [])


def test_sorted_batches_hold_at_most_max_tokens_padded_tokens():
    lengths = [3, 900, 10, 400, 10, 50, 2000, 1, 10, 10]
    sampler = BucketBatchSampler(lengths, batch_size=4, shuffle=False, max_tokens=1000)
    batches = list(sampler)
    assert sorted(i for b in batches for i in b) == list(range(len(lengths)))
    assert len(sampler) == len(batches)
    for batch in batches:
        assert len(batch) <= 4
        assert len(batch) * max(lengths[i] for i in batch) <= 1000 or len(batch) == 1  # 2000: a batch of its own
    assert [lengths[i] for i in batches[-1]] == [2000]
    assert [[lengths[i] for i in b] for b in batches[:3]] == [[1, 3, 10, 10], [10, 10, 50], [400]]


def test_max_tokens_must_be_positive():
    with pytest.raises(ConfigError, match="max_tokens must be >= 1"):
        BucketBatchSampler([1, 2], batch_size=2, shuffle=False, max_tokens=0)
