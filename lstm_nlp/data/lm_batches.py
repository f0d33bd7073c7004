"""Language-model batches from a streamed corpus: fixed windows of running text, no padding.

Each rank's texts (:class:`~lstm_nlp.data.corpus.TextCorpus`) are tokenized on the fly, encoded
with the vocabulary, joined with an end-of-text token and cut into windows of ``window`` tokens;
``batch_size`` windows make a batch. A bounded shuffle buffer mixes windows from different texts,
seeded by ``(seed, epoch)`` so an epoch is the same sequence of batches every time it is read
(the Trainer's exact resume replays batches up to its position). Memory: the shuffle buffer and
one tokenizer batch, whatever the corpus size.

Every rank must take the same number of optimizer steps, so the number of batches per epoch is
fixed in advance (:func:`build_lm_vocab` counts each shard's tokens, then the smallest shard
decides) and each rank stops there.

The corpus is cut into ``shards`` (by default one per rank). A rank that holds several shards
reads each as its own stream and joins their batches row-wise, so one process with
``shards=2`` and twice the batch size sees, batch for batch, the union of what two ranks see:
a multi-process run can be reproduced (and checked) on one machine.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Iterator

import torch
from tqdm.auto import tqdm

from lstm_nlp.data.corpus import TextCorpus
from lstm_nlp.data.tokenizers import TextTokenizer
from lstm_nlp.data.vocab import PAD, UNK, Vocab
from lstm_nlp.errors import ConfigError, DataFormatError

#: Appended to every text so that the models learn where texts end (and never predict across
#: the boundary without seeing it).
EOS = "<eos>"


def build_lm_vocab(corpus: TextCorpus, tokenizer: TextTokenizer, *, min_freq: int = 2, max_size: int | None = None,
                   world_size: int = 1) -> tuple[Vocab, list[int]]:
    """One pass over the whole corpus: the vocabulary (ids by frequency) and each shard's token count.

    Every rank runs this on the whole corpus (not its shard), so all ranks get the same
    vocabulary without communicating.

    Args:
        corpus: The training texts (its own rank/world_size are ignored: all texts are read).
        tokenizer: The tokenizer the downstream recipes use.
        min_freq: Rarer words become ``<unk>``.
        max_size: Keep at most this many words (specials excluded).
        world_size: Shards to count tokens for (text ``i`` belongs to shard ``i % world_size``): the
            number of data shards (:class:`LMBatches` ``shards``).

    Returns:
        ``(vocab, tokens_per_shard)``; each text counts its tokens plus one :data:`EOS`.
    """
    counts: Counter[str] = Counter()
    per_shard = [0] * world_size
    for index, tokens in enumerate(tokenizer.pipe(corpus.all_texts(), batch_size=256)):
        counts.update(tokens)
        per_shard[index % world_size] += len(tokens) + 1
    for special in (PAD, UNK, EOS):
        counts.pop(special, None)
    if not counts:
        raise DataFormatError("the corpus holds no tokens", ", ".join(map(str, corpus.sources)))
    kept = sorted((t for t, c in counts.items() if c >= min_freq), key=lambda t: (-counts[t], t))
    if max_size is not None:
        kept = kept[:max_size]
    return Vocab([PAD, UNK, EOS, *kept], lower=tokenizer.lower), per_shard


def batches_per_epoch(tokens_per_shard: list[int], *, batch_size: int, window: int) -> int:
    """Batches every rank yields per epoch: those of the smallest shard (whole windows and batches only)."""
    return min(count // window for count in tokens_per_shard) // batch_size


class LMBatches:
    """An iterable of ``{"token_ids": LongTensor[batch, window], "mask": BoolTensor[batch, window]}``.

    ``mask`` is all True (windows are full). It is what the :class:`~lstm_nlp.training.Trainer`
    takes as ``train_loader``: it has a length, and ``batch_sampler`` (itself) carries
    ``num_replicas``/``rank``, which the Trainer sets under ``torchrun``, and ``set_epoch``.

    Args:
        corpus: The training texts.
        tokenizer: Text -> tokens.
        vocab: Tokens -> ids (from :func:`build_lm_vocab`).
        batch_size: Windows per batch.
        window: Tokens per window.
        num_batches: Batches per epoch (from :func:`batches_per_epoch`).
        shuffle_buffer: Windows held for shuffling (0: none).
        seed: Base seed of the shuffle.
        progress: Show a tqdm bar per epoch counting tokens (tokens/s and the epoch's ETA) on rank 0.
        shards: Data shards of the corpus (``None``: one per rank). Each rank reads ``shards /
            world size`` of them (rank ``r``: shards ``r, r + world, ...``), each with its own shuffle,
            and a batch holds ``batch_size / that`` windows of each.
    """

    def __init__(self, corpus: TextCorpus, tokenizer: TextTokenizer, vocab: Vocab, *, batch_size: int, window: int,
                 num_batches: int, shuffle_buffer: int = 2048, seed: int = 0, progress: bool = False,
                 shards: int | None = None):
        if batch_size < 1 or window < 2:
            raise ConfigError(f"batch_size must be >= 1 and window >= 2, got {batch_size} and {window}")
        if shards is not None and shards < 1:
            raise ConfigError(f"shards must be >= 1, got {shards}")
        if num_batches < 1:
            raise ConfigError(f"the corpus is too small for one batch of {batch_size} x {window} tokens per rank; "
                              "lower --batch-size/--window or add text")
        self.corpus, self.tokenizer, self.vocab = corpus, tokenizer, vocab
        self.batch_size, self.window, self.num_batches = batch_size, window, num_batches
        self.shuffle_buffer, self.seed, self.progress = shuffle_buffer, seed, progress
        self.epoch = 0
        self.rank, self.num_replicas = corpus.shard()
        self.shards = shards
        self.batch_sampler = self  # where the Trainer looks for set_epoch / num_replicas / rank
        self.my_shards()  # a shard count that does not fit fails here, not in the first epoch

    def __len__(self) -> int:
        return self.num_batches

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    @property
    def tokens_per_batch(self) -> int:
        return self.batch_size * self.window

    def my_shards(self) -> list[int]:
        """The data shards this rank reads (the Trainer may set ``rank``/``num_replicas`` after construction).

        Raises:
            ConfigError: shards that do not divide among the ranks, or a batch that does not divide among
                a rank's shards.
        """
        shards = self.shards or self.num_replicas
        if shards % self.num_replicas:
            raise ConfigError(f"{shards} data shards do not divide among {self.num_replicas} processes")
        mine = list(range(self.rank, shards, self.num_replicas))
        if self.batch_size % len(mine):
            raise ConfigError(f"a batch of {self.batch_size} windows does not divide among this process' "
                              f"{len(mine)} data shards")
        return mine

    def windows(self, shard: int | None = None) -> Iterator[list[int]]:
        """One shard's running text (default: this rank's first), ``window`` ids at a time (the last partial
        window is dropped)."""
        shard = self.my_shards()[0] if shard is None else shard
        corpus = TextCorpus(self.corpus.sources, text_column=self.corpus.text_column, split=self.corpus.split,
                            repeat=self.corpus.repeat, skip=self.corpus.skip, limit=self.corpus.limit,
                            rank=shard, world_size=self.shards or self.num_replicas)
        eos, buffer = self.vocab.index(EOS), []
        for tokens in corpus.tokens(self.tokenizer):
            buffer.extend(self.vocab.encode(tokens))
            buffer.append(eos)
            while len(buffer) >= self.window:
                yield buffer[:self.window]
                del buffer[:self.window]

    def _shard_rows(self, shard: int, rows: int) -> Iterator[list[list[int]]]:
        """One shard's windows, shuffled through a buffer seeded by (seed, epoch, shard), ``rows`` at a time."""
        rng = random.Random(f"{self.seed}/{self.epoch}" + (f"/{shard}" if shard else ""))
        pool: list[list[int]] = []
        batch: list[list[int]] = []

        def shuffled(windows: Iterator[list[int]]) -> Iterator[list[int]]:
            for item in windows:
                if len(pool) < self.shuffle_buffer:
                    pool.append(item)
                    continue
                slot = rng.randrange(len(pool))
                yield pool[slot]
                pool[slot] = item
            rng.shuffle(pool)
            yield from pool

        for item in shuffled(self.windows(shard)) if self.shuffle_buffer else self.windows(shard):
            batch.append(item)
            if len(batch) == rows:
                yield batch
                batch = []

    def __iter__(self) -> Iterator[dict[str, torch.Tensor]]:
        shards = self.my_shards()
        streams = [self._shard_rows(shard, self.batch_size // len(shards)) for shard in shards]
        produced = 0
        bar = tqdm(total=self.num_batches * self.tokens_per_batch, unit="tok", unit_scale=True, leave=False,
                   desc=f"epoch {self.epoch}", disable=not (self.progress and self.rank == 0))
        for parts in zip(*streams):
            ids = torch.tensor([row for part in parts for row in part], dtype=torch.long)  # [batch, window]
            yield {"token_ids": ids, "mask": torch.ones_like(ids, dtype=torch.bool)}
            bar.update(self.tokens_per_batch)
            produced += 1
            if produced == self.num_batches:
                bar.close()
                return
        bar.close()
        raise DataFormatError(f"the corpus gave only {produced} of the {self.num_batches} batches counted before "
                              "training (did the files change?)", ", ".join(map(str, self.corpus.sources)))
