"""Training throughput of the IMDB classifier: toolkit loop vs a hand-written packed loop and the naive loop.

    python benchmarks/bench_training_imdb.py          # a slice of IMDB train ($LSTM_NLP_DATA or ../shared/data)
    python benchmarks/bench_training_imdb.py --smoke

Same model sizes (the IMDB recipe's defaults when ``recipes/imdb_sentiment.py`` exists, else
``ClassifierConfig``'s), same batches, same run, interleaved repeats, real tokens/s:

* **toolkit**: ``ClassificationPipeline.loader`` + ``Trainer.fit`` (one epoch per call) on a
  ``TextClassifier`` (CPU: the dense encoder fast path); also with ``encoder_impl="packed"``;
* **hand-written**: ``nn.Embedding`` + ``nn.LSTM(bidirectional)`` over ``pack_padded_sequence`` +
  max pooling + ``nn.Linear``, a DataLoader over the same batches, Adam, gradient clipping;
* **naive**: one review per step, no padding or packing.
"""

from __future__ import annotations

import time

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence, pad_sequence
from torch.utils.data import DataLoader

from common import (BenchResult, TimedLoader, base_parser, fmt, imdb_texts, markdown_table, median, recipe_defaults,
                    repeats, setup)
from lstm_nlp.data import Vocab
from lstm_nlp.recipe_kit import trainer_config
from lstm_nlp.training import Trainer, TrainerConfig


class HandClassifier(nn.Module):
    """What a user writes by hand: embedding -> packed BiLSTM -> max over real tokens -> linear."""

    def __init__(self, vocab_size: int, config, *, pack: bool = True):
        super().__init__()
        self.pack = pack
        self.embedding = nn.Embedding(vocab_size, config.embedding_dim, padding_idx=0)
        self.lstm = nn.LSTM(config.embedding_dim, config.hidden_size, num_layers=config.num_layers,
                            bidirectional=config.bidirectional, batch_first=True,
                            dropout=config.dropout if config.num_layers > 1 else 0.0)
        self.dropout = nn.Dropout(config.dropout)
        self.out = nn.Linear(config.hidden_size * (2 if config.bidirectional else 1), config.num_labels)

    def forward(self, ids: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        x = self.dropout(self.embedding(ids))
        if self.pack:
            packed = pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
            x, _ = pad_packed_sequence(self.lstm(packed)[0], batch_first=True, total_length=ids.shape[1])
            mask = torch.arange(ids.shape[1])[None, :] < lengths[:, None]
            x = x.masked_fill(~mask.unsqueeze(-1), float("-inf"))
        else:
            x, _ = self.lstm(x)
        return self.out(self.dropout(x.max(dim=1).values))


def hand_collate(examples):
    ids = pad_sequence([torch.tensor(e["token_ids"]) for e in examples], batch_first=True)
    return ids, torch.tensor([e["label"] for e in examples]), torch.tensor([len(e["token_ids"]) for e in examples])


def hand_step(model, optimizer, ids, labels, lengths, clip: float) -> None:
    loss = F.cross_entropy(model(ids, lengths), labels)
    optimizer.zero_grad()
    loss.backward()
    nn.utils.clip_grad_norm_(model.parameters(), clip)
    optimizer.step()


def main(argv=None) -> BenchResult:
    parser = base_parser(__doc__.split("\n")[0])
    parser.add_argument("--reviews", type=int, default=128, help="training reviews (evenly spaced, both classes)")
    parser.add_argument("--naive-reviews", type=int, default=24, help="reviews for the naive loop")
    args = parser.parse_args(argv)
    setup(args)
    n_repeats = repeats(args, 3)
    from lstm_nlp.data.tokenizers import TextTokenizer
    from lstm_nlp.models.classifier import ClassifierConfig, TextClassifier
    from lstm_nlp.pipelines.classification import ClassificationPipeline

    recipe = recipe_defaults("imdb_sentiment")
    texts, gold = imdb_texts(smoke=args.smoke)
    step = max(1, len(texts) // args.reviews)
    texts, gold = texts[::step][: args.reviews], gold[::step][: args.reviews]
    tokenizer = TextTokenizer("spacy")
    words = Vocab.build(tokenizer.pipe(texts), min_freq=getattr(recipe, "min_freq", 1) if recipe else 1)
    labels = Vocab.build_labels([["0", "1"]])
    sizes = {k: getattr(recipe, k) for k in ("embedding_dim", "hidden_size", "num_layers", "pooling", "dropout")
             if recipe is not None and hasattr(recipe, k)}
    batch_size = getattr(recipe, "batch_size", 32) if recipe else 32
    max_length = getattr(recipe, "max_length", None) if recipe else None
    lr = getattr(recipe, "lr", 1e-3) if recipe else 1e-3
    seed = 1

    pipelines, variants = {}, {}
    for name, impl in (("toolkit", "auto"), ("toolkit, packed encoder", "packed")):
        torch.manual_seed(seed)
        model = TextClassifier(ClassifierConfig(vocab_size=len(words), num_labels=2, encoder_impl=impl, **sizes))
        pipelines[name] = ClassificationPipeline(model, words, labels, tokenizer, max_length=max_length)
    examples = pipelines["toolkit"].featurize(texts)
    for example, label in zip(examples, gold):
        example["label"] = label
    config = (trainer_config(recipe, metric="accuracy", epochs=1, device="cpu", progress=False, output_dir=None,
                             seed=seed) if recipe else
              TrainerConfig(epochs=1, lr=lr, device="cpu", progress=False, seed=seed))
    for name, pipeline in pipelines.items():
        loader = TimedLoader(pipeline.loader(examples, batch_size=batch_size, shuffle=True, seed=seed))
        variants[name] = (Trainer(pipeline.model, config, train_loader=loader), loader)
    sampler = variants["toolkit"][1].batch_sampler
    sampler.set_epoch(1)
    batches = sampler.batches()
    model_config = pipelines["toolkit"].model.config
    clip = config.grad_clip or 1e9
    torch.manual_seed(seed)
    hand = HandClassifier(len(words), model_config)
    hand_opt = torch.optim.Adam(hand.parameters(), lr=config.lr)
    torch.manual_seed(seed)
    naive = HandClassifier(len(words), model_config, pack=False)
    naive_opt = torch.optim.Adam(naive.parameters(), lr=config.lr)
    naive_examples = examples[: (4 if args.smoke else args.naive_reviews)]

    def run(key: str) -> tuple[int, float, float]:
        start = time.perf_counter()
        if key in variants:
            trainer, loader = variants[key]
            loader.reset()
            tokens = int(trainer.fit(resume=False).history[0]["train_tokens"])
            return tokens, time.perf_counter() - start, loader.wait_seconds
        if key == "hand-written":
            hand.train()
            loader = TimedLoader(DataLoader(examples, batch_sampler=batches, collate_fn=hand_collate))
            tokens = 0
            for ids, y, lengths in loader:
                hand_step(hand, hand_opt, ids, y, lengths, clip)
                tokens += int(lengths.sum())
            return tokens, time.perf_counter() - start, loader.wait_seconds
        naive.train()
        tokens = 0
        for e in naive_examples:
            ids = torch.tensor([e["token_ids"]])
            hand_step(naive, naive_opt, ids, torch.tensor([e["label"]]), torch.tensor([ids.shape[1]]), clip)
            tokens += ids.shape[1]
        return tokens, time.perf_counter() - start, 0.0

    order = ["toolkit", "hand-written", "toolkit, packed encoder", "naive"]
    runs = {k: [] for k in order}
    for repeat in range(n_repeats + 1):
        for key in order:
            value = run(key)
            if repeat:
                runs[key].append(value)
    tps = {k: median([t / s for t, s, _ in v]) for k, v in runs.items()}
    wait = {k: median([w / s for _, s, w in v]) for k, v in runs.items()}
    rows = [[k, f"{runs[k][0][0]:,}", fmt(tps[k]), f"{tps[k] / tps['hand-written']:.2f}",
             f"{tps[k] / tps['naive']:.1f}", f"{100 * wait[k]:.1f}%" if k != "naive" else "-"]
            for k in ("toolkit", "toolkit, packed encoder", "hand-written", "naive")]
    lengths = [len(e["token_ids"]) for e in examples]
    result = BenchResult("training_imdb")
    result.add_section(
        "Training throughput: IMDB classifier",
        f"{len(examples)} IMDB training reviews (evenly spaced over the file, both classes), spaCy tokens, "
        f"max_length {max_length}, mean {sum(lengths) / len(lengths):.0f} tokens; naive loop on "
        f"{len(naive_examples)} reviews. Model: {model_config.embedding_dim}-d embeddings, BiLSTM "
        f"{model_config.num_layers}x{model_config.hidden_size}, {model_config.pooling} pooling, dropout "
        f"{model_config.dropout}; batch {batch_size}, Adam lr {config.lr}, clip {config.grad_clip} "
        f"({'the IMDB recipe defaults' if recipe else 'no IMDB recipe yet: ClassifierConfig/TrainerConfig defaults'}). "
        f"Real tokens/s, median of {n_repeats} interleaved epochs after a warm-up.\n\n"
        + markdown_table(["loop", "tokens/epoch", "tokens/s (median)", "x hand-written", "x naive",
                          "data-loader wait"], rows))
    result.metrics = {"imdb_train_tokens_per_s": tps, "imdb_toolkit_vs_handwritten": tps["toolkit"] / tps["hand-written"],
                      "imdb_dataloader_wait_fraction": wait["toolkit"]}
    result.emit(args)
    return result


if __name__ == "__main__":
    main()
