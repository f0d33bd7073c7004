"""Language-model batches: vocabulary pass, shard counts, fixed windows, shuffle, equal batches per rank."""

from __future__ import annotations

import pytest
import torch

from lstm_nlp.data.corpus import TextCorpus
from lstm_nlp.data.lm_batches import EOS, LMBatches, batches_per_epoch, build_lm_vocab
from lstm_nlp.data.tokenizers import TextTokenizer
from lstm_nlp.errors import ConfigError, DataFormatError


@pytest.fixture
def corpus(tmp_path):
    path = tmp_path / "t.txt"
    path.write_text("".join(f"the film {i % 7} was good and the end\n" for i in range(40)))
    return TextCorpus([path], rank=0, world_size=1)


def test_vocab_is_sorted_by_frequency_with_specials_first(corpus):
    vocab, per_shard = build_lm_vocab(corpus, TextTokenizer(), min_freq=2, world_size=2)
    assert vocab.itos[:4] == ["<pad>", "<unk>", EOS, "the"]
    assert per_shard == [20 * 9, 20 * 9]  # 8 tokens + <eos> per text, texts alternate between shards


def test_batches_are_full_windows_of_running_text(corpus):
    tokenizer = TextTokenizer()
    vocab, per_shard = build_lm_vocab(corpus, tokenizer)
    n = batches_per_epoch(per_shard, batch_size=4, window=10)
    loader = LMBatches(corpus, tokenizer, vocab, batch_size=4, window=10, num_batches=n, shuffle_buffer=0)
    batches = list(loader)
    assert len(batches) == len(loader) == n == 360 // 10 // 4
    assert batches[0]["token_ids"].shape == (4, 10) and bool(batches[0]["mask"].all())
    first = vocab.decode(batches[0]["token_ids"][0].tolist())
    assert first == ["the", "film", "0", "was", "good", "and", "the", "end", EOS, "the"]


def test_shuffle_is_seeded_by_epoch_and_keeps_every_window(corpus):
    tokenizer = TextTokenizer()
    vocab, per_shard = build_lm_vocab(corpus, tokenizer)
    loader = LMBatches(corpus, tokenizer, vocab, batch_size=2, window=9, num_batches=20, shuffle_buffer=8, seed=3)
    plain = LMBatches(corpus, tokenizer, vocab, batch_size=2, window=9, num_batches=20, shuffle_buffer=0)
    loader.set_epoch(1)
    first, again = [b["token_ids"] for b in loader], [b["token_ids"] for b in loader]
    loader.set_epoch(2)
    other = [b["token_ids"] for b in loader]
    assert all(torch.equal(a, b) for a, b in zip(first, again))
    assert not all(torch.equal(a, b) for a, b in zip(first, other))
    rows = lambda batches: sorted(map(tuple, torch.cat(batches).tolist()))  # noqa: E731
    assert rows(first) == rows([b["token_ids"] for b in plain])


def test_every_rank_yields_the_smallest_shards_count(tmp_path):
    path = tmp_path / "t.txt"
    path.write_text("a b c d e f g h\n" * 5 + "a\n")  # 6 texts: shard 0 gets 3 long ones, shard 1 two + one short
    tokenizer = TextTokenizer()
    vocab, per_shard = build_lm_vocab(TextCorpus([path]), tokenizer, world_size=2)
    n = batches_per_epoch(per_shard, batch_size=1, window=4)
    assert per_shard == [27, 20] and n == 5
    for rank in range(2):
        shard = TextCorpus([path], rank=rank, world_size=2)
        assert len(list(LMBatches(shard, tokenizer, vocab, batch_size=1, window=4, num_batches=n))) == n


def test_errors(corpus, tmp_path):
    tokenizer = TextTokenizer()
    vocab, _ = build_lm_vocab(corpus, tokenizer)
    with pytest.raises(ConfigError, match="too small"):
        LMBatches(corpus, tokenizer, vocab, batch_size=4, window=10, num_batches=0)
    with pytest.raises(DataFormatError, match="only 9 of the 99 batches"):
        list(LMBatches(corpus, tokenizer, vocab, batch_size=4, window=10, num_batches=99))
    empty = tmp_path / "e.txt"
    empty.write_text("\n\n")
    with pytest.raises(DataFormatError, match="no tokens"):
        build_lm_vocab(TextCorpus([empty]), tokenizer)


def test_one_process_reading_two_shards_sees_what_two_ranks_see_batch_for_batch(tmp_path):
    path = tmp_path / "t.txt"
    path.write_text("".join(f"text {i} has words {i % 5} and more words\n" for i in range(60)))
    tokenizer = TextTokenizer()
    vocab, per_shard = build_lm_vocab(TextCorpus([path]), tokenizer, world_size=2)
    n = batches_per_epoch(per_shard, batch_size=3, window=5)
    ranks = [LMBatches(TextCorpus([path], rank=r, world_size=2), tokenizer, vocab, batch_size=3, window=5,
                       num_batches=n, shuffle_buffer=6, seed=1) for r in (0, 1)]
    both = LMBatches(TextCorpus([path], rank=0, world_size=1), tokenizer, vocab, batch_size=6, window=5,
                     num_batches=n, shuffle_buffer=6, seed=1, shards=2)
    for loader in (*ranks, both):
        loader.set_epoch(2)
    for rank0, rank1, joined in zip(*ranks, both, strict=True):
        assert torch.equal(torch.cat([rank0["token_ids"], rank1["token_ids"]]), joined["token_ids"])
    with pytest.raises(ConfigError, match="does not divide"):
        LMBatches(TextCorpus([path], rank=0, world_size=1), tokenizer, vocab, batch_size=5, window=5, num_batches=n,
                  shards=2)
