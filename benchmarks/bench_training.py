"""Training throughput: the toolkit's loop vs a hand-written PyTorch loop and the naive loop (POS or IMDB).

    python benchmarks/bench_training.py --task pos     # UD English-EWT, first 2000 sentences
    python benchmarks/bench_training.py --task imdb    # 128 IMDB training reviews

The recipe's sizes and batches; the toolkit (its loader and ``Trainer``; POS word-level, as the hand-written
model), the same with the packed encoder, (POS) the recipe's model with character features, a hand-written
packed ``nn.LSTM`` loop and the naive one (one example a step). Also the data-loader wait, the padding
efficiency over the whole training set and (POS) the share of the ``torch.mm`` ceiling at the model's shapes.
"""

from __future__ import annotations

import argparse
import dataclasses
import random
import statistics
from dataclasses import dataclass

import common
import torch
import torch.nn.functional as F
from common import BenchResult, TimedLoader, compare, markdown_table, run
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence, pad_sequence
from torch.utils.data import DataLoader

from lstm_nlp.data import Vocab, load_tagging_dataset, padding_efficiency
from lstm_nlp.recipe_kit import trainer_config
from lstm_nlp.training import Trainer

CHAR_ROW = "toolkit, recipe default model (+char features)"
SEED = 1
WAIT = "Data-loader wait <= 5%"
TARGETS = {  # (target, metric, goal, format of the figure)
    "pos": [("POS training loop >= 60% of the measured matmul ceiling (FLOP count)", "pos_fraction_of_ceiling",
             ">= 0.6", "{:.1%}"),
            ("POS training loop >= 90% of the minimal hand-written loop", "pos_toolkit_vs_handwritten", ">= 0.9",
             "{:.0%}"),
            (f"{WAIT} of training step time (POS, word-level model)", "pos_dataloader_wait_fraction", "<= 0.05",
             "{:.1%}"),
            (f"{WAIT} (POS recipe default model, with character features)", "pos_dataloader_wait_recipe_default",
             "<= 0.05", "{:.1%}"),
            ("Padding efficiency >= 97%, POS (EWT train)", "pos_padding_efficiency", ">= 0.97", "{:.2%}")],
    "imdb": [("The whole IMDB training loop (real reviews, recipe defaults) >= 5x faster with the dense encoder",
              "imdb_dense_vs_packed", ">= 5", "{:.1f}x"),
             (f"{WAIT} (IMDB classifier)", "imdb_dataloader_wait_fraction", "<= 0.05", "{:.1%}"),
             ("Padding efficiency >= 97%, IMDB (train)", "imdb_padding_efficiency", ">= 0.97", "{:.2%}")]}


@dataclass
class Task:  # what one task trains: "pos" (a label per token) or "imdb" (max pooling, a label per text)
    name: str
    recipe: argparse.Namespace
    pipelines: dict[str, object]
    examples: dict[str, list[dict]]
    num_labels: int
    caption: str
    all_lengths: list[int]  # every training example, for the padding efficiency


class HandModel(nn.Module):
    """What a user writes by hand: embedding -> (packed) BiLSTM -> [max over real tokens] -> linear."""

    def __init__(self, task: Task, *, pack: bool):
        super().__init__()
        r, self.pooled, self.pack = task.recipe, task.name == "imdb", pack
        self.embedding = nn.Embedding(len(task.pipelines["toolkit"].words), r.embedding_dim, padding_idx=0)
        self.lstm = nn.LSTM(r.embedding_dim, r.hidden_size, num_layers=r.num_layers, bidirectional=True,
                            dropout=r.dropout if r.num_layers > 1 else 0.0, batch_first=True)
        self.dropout, self.out = nn.Dropout(r.dropout), nn.Linear(2 * r.hidden_size, task.num_labels)

    def forward(self, ids: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        x = self.dropout(self.embedding(ids))
        if self.pack:
            packed = pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
            x = pad_packed_sequence(self.lstm(packed)[0], batch_first=True, total_length=ids.shape[1])[0]
        else:
            x = self.lstm(x)[0]
        if self.pooled:
            mask = torch.arange(ids.shape[1])[None, :] < lengths[:, None]
            x = x.masked_fill(~mask.unsqueeze(-1), float("-inf")).max(dim=1).values
        return self.out(self.dropout(x))


def hand_loop(task: Task, *, pack: bool):
    """A variant for ``compare()``: the hand-written (``pack``) or naive loop, one pass over its batches."""
    torch.manual_seed(SEED)
    model = HandModel(task, pack=pack)
    optimizer, clip = torch.optim.Adam(model.parameters(), lr=task.recipe.lr), task.recipe.grad_clip or 1e9

    def collate(examples: list[dict]) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        ids = pad_sequence([torch.tensor(e["token_ids"]) for e in examples], batch_first=True)
        labels = (torch.tensor([e["label"] for e in examples]) if task.name == "imdb" else
                  pad_sequence([torch.tensor(e["label_ids"]) for e in examples], batch_first=True, padding_value=-100))
        return ids, labels, torch.tensor([len(e["token_ids"]) for e in examples])

    def run(batches: list[list[int]]) -> tuple[int, float]:
        model.train()
        loader, tokens = TimedLoader(DataLoader(task.examples["toolkit"], batch_sampler=batches, collate_fn=collate)), 0
        for ids, labels, lengths in loader:
            logits = model(ids, lengths)
            loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), labels.reshape(-1), ignore_index=-100)
            optimizer.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), clip)
            optimizer.step()
            tokens += int(lengths.sum())
        return tokens, loader.wait_seconds
    return run


def toolkit_loop(task: Task, name: str):
    """A variant for ``compare()``: one ``Trainer.fit`` of one epoch (the sampler's epoch 1 every time)."""
    loader = TimedLoader(task.pipelines[name].loader(task.examples[name], batch_size=task.recipe.batch_size,
                                                     shuffle=True, seed=SEED))
    trainer = Trainer(task.pipelines[name].model, trainer_config(
        task.recipe, metric="accuracy", epochs=1, device="cpu", progress=False, output_dir=None, seed=SEED),
        train_loader=loader)

    def run(_batches) -> tuple[int, float]:
        before = loader.wait_seconds
        return int(trainer.fit(resume=False).history[0]["train_tokens"]), loader.wait_seconds - before
    return run


def pos_task(args: argparse.Namespace) -> Task:
    from lstm_nlp.models import SequenceTagger
    from lstm_nlp.pipelines import TaggingPipeline
    from lstm_nlp.pipelines.tagging import build_char_vocab
    from lstm_nlp.recipe_kit.tagging import tagger_config

    r = common.recipe_defaults("pos_tagger")
    full = load_tagging_dataset(common.ewt_paths(args.smoke)[0])
    train = full.select(range(min(500 if args.quick else args.examples or 2000, len(full))))
    words, labels = Vocab.build(train["tokens"], min_freq=r.min_freq), Vocab.build_labels(train["tags"])
    chars = build_char_vocab(train["tokens"])
    word_level = argparse.Namespace(**{**vars(r), "char_encoder": "none", "word_dropout": 0.0})
    pipelines = {}
    for name, options, impl in (("toolkit", word_level, "auto"), ("toolkit, packed encoder", word_level, "packed"),
                                (CHAR_ROW, r, "auto")):
        config = tagger_config(options, vocab_size=len(words), labels=labels.itos, char_vocab_size=len(chars),
                               train_tags=train["tags"])
        torch.manual_seed(SEED)
        model = SequenceTagger(dataclasses.replace(config, encoder_impl=impl))
        pipelines[name] = TaggingPipeline(model, words, labels, chars=chars if options is r else None)
    caption = (f"{'The bundled sample' if args.smoke else 'UD English-EWT train'}, first {len(train)} sentences; the "
               f"POS recipe's defaults (embedding {r.embedding_dim}, BiLSTM {r.num_layers}x{r.hidden_size}, dropout "
               f"{r.dropout}, word dropout {r.word_dropout}, batch {r.batch_size}, Adam lr {r.lr}, clip "
               f"{r.grad_clip}); the acceptance figures are the word-level toolkit row's (the hand-written loop's "
               "model: no character encoder, no word dropout).")
    return Task("pos", r, pipelines, {name: p.encode(train) for name, p in pipelines.items()}, len(labels), caption,
                [len(t) for t in full["tokens"]])


def imdb_task(args: argparse.Namespace) -> Task:
    from lstm_nlp.data.tokenizers import TextTokenizer
    from lstm_nlp.models.classifier import ClassifierConfig, TextClassifier
    from lstm_nlp.pipelines.classification import ClassificationPipeline

    r = common.recipe_defaults("imdb_sentiment")
    all_texts, all_gold = common.imdb_texts(smoke=args.smoke)
    count = 32 if args.smoke or args.quick else args.examples or 128
    step = max(1, len(all_texts) // count)  # evenly spaced: both classes (the file is sorted by label)
    texts, gold, tokenizer = all_texts[::step][:count], all_gold[::step][:count], TextTokenizer("spacy")
    words, pipelines = Vocab.build(tokenizer.pipe(texts), min_freq=r.min_freq), {}
    for name, impl in (("toolkit", "auto"), ("toolkit, packed encoder", "packed")):
        torch.manual_seed(SEED)
        model = TextClassifier(ClassifierConfig(vocab_size=len(words), num_labels=2, embedding_dim=r.embedding_dim,
                                                hidden_size=r.hidden_size, num_layers=r.num_layers,
                                                pooling=r.pooling, dropout=r.dropout, encoder_impl=impl))
        pipelines[name] = ClassificationPipeline(model, words, Vocab.build_labels([["0", "1"]]), tokenizer,
                                                 max_length=r.max_length)
    examples = [{**e, "label": g} for e, g in zip(pipelines["toolkit"].featurize(texts), gold)]
    caption = (f"{len(examples)} IMDB training reviews (evenly spaced, both classes), spaCy tokens, mean "
               f"{sum(len(e['token_ids']) for e in examples) / len(examples):.0f}; the IMDB recipe's defaults "
               f"({r.embedding_dim}-d embeddings, BiLSTM {r.num_layers}x{r.hidden_size}, {r.pooling} pooling, "
               f"max_length {r.max_length}, dropout {r.dropout}, batch {r.batch_size}, Adam lr {r.lr}).")
    lengths = [max(1, min(len(t), r.max_length)) for t in tokenizer.pipe(all_texts)]  # an empty text is one <unk>
    return Task("imdb", r, pipelines, {name: examples for name in pipelines}, 2, caption, lengths)


def padding_row(task: Task, epochs: int = 5) -> list[object]:
    """Real / padded tokens of the toolkit loader's batches over the whole training set."""
    examples = [{"token_ids": [1] * n, "index": i} for i, n in enumerate(task.all_lengths)]
    size, loader = task.recipe.batch_size, task.pipelines["toolkit"].loader
    train, per_epoch = loader(examples, batch_size=size, shuffle=True, seed=SEED).batch_sampler, []
    for epoch in range(1, epochs + 1):
        train.set_epoch(epoch)
        per_epoch.append(padding_efficiency(train.batches(), task.all_lengths))
    order = random.Random(0).sample(range(len(examples)), len(examples))
    return [{"pos": "POS (EWT train)", "imdb": "IMDB (train.jsonl)"}[task.name], f"{len(examples):,}",
            f"{statistics.mean(task.all_lengths):.1f}", size, statistics.median(per_epoch), min(per_epoch),
            padding_efficiency(list(loader(examples, batch_size=size, shuffle=False).batch_sampler), task.all_lengths),
            padding_efficiency([order[i:i + size] for i in range(0, len(order), size)], task.all_lengths)]


def mm_gflops(m: int, k: int, n: int, repeats: int) -> float:
    """Median ``torch.mm`` GFLOP/s of ``[m, k] x [k, n]`` fp32 at the current thread count."""
    a, b, out = torch.randn(m, k), torch.randn(k, n), torch.empty(m, n)
    calls = max(1, int(1e9 / (2 * m * k * n)))

    def run(_) -> float:
        for _ in range(calls):
            torch.mm(a, b, out=out)
        return 2e-9 * m * k * n * calls
    return compare({"mm": run}, None, repeats)["mm"].rate


def ceiling_section(task: Task, timings: dict, batches: list, repeats: int, result: BenchResult) -> None:
    """The share of the FLOP-weighted ``torch.mm`` speed at the word-level model's shapes that each loop reaches."""
    cfg = task.pipelines["toolkit"].model.config
    sizes = [[len(task.examples["toolkit"][i]["token_ids"]) for i in b] for b in batches]
    batch = round(statistics.mean(map(len, sizes)))
    seq = round(sum(len(b) * max(b) for b in sizes) / sum(map(len, sizes)))
    h4, tokens, shapes = 4 * cfg.hidden_size, batch * seq, {}
    forward = 2 * 2 * cfg.hidden_size * cfg.num_labels
    for layer in range(cfg.num_layers):
        width = cfg.embedding_dim if layer == 0 else 2 * cfg.hidden_size
        forward += 2 * 2 * h4 * (width + cfg.hidden_size)
        for name, m, k, n, count in ((f"L{layer} input proj fwd", tokens, width, h4, 2),
                                     (f"L{layer} input proj dX", tokens, h4, width, 2),
                                     (f"L{layer} input proj dW", h4, tokens, width, 2),
                                     ("recurrent fwd (per step)", batch, cfg.hidden_size, h4, 2 * seq),
                                     ("recurrent dH (per step)", batch, h4, cfg.hidden_size, 2 * seq),
                                     ("recurrent dW", h4, tokens, cfg.hidden_size, 2)):
            shapes.setdefault((m, k, n), [set(), 0.0])[0].add(name)
            shapes[(m, k, n)][1] += 2.0 * m * k * n * count
    rates, total = {shape: mm_gflops(*shape, repeats) for shape in shapes}, sum(f for _, f in shapes.values())
    ceiling = total / sum(f / rates[s] for s, (_, f) in shapes.items())
    peak, per_token = mm_gflops(2048, 2048, 2048, min(repeats, 3)), 3 * forward
    achieved = {name: t.rate * per_token / 1e9 for name, t in timings.items() if name != CHAR_ROW}
    result.metrics.update({"pos_mm_ceiling_gflops": ceiling, "mm_peak_gflops_2048": peak,
                           "pos_train_flops_per_token": per_token,
                           "pos_fraction_of_ceiling": achieved["toolkit"] / ceiling,
                           "pos_fraction_of_peak": achieved["toolkit"] / peak})
    result.add_section("Matrix-multiply ceiling (POS model)", (
        f"Word-level model: {per_token / 1e6:.3f} training MFLOP per real token (LSTM `2*4H*(in+H)` per layer and "
        f"direction + head, x3); typical padded batch {batch} x {seq}. Ceiling = FLOP-weighted `torch.mm` speed over "
        f"the LSTM matmuls of one training step at these shapes: **{ceiling:.1f} GFLOP/s** "
        f"({torch.get_num_threads()} threads); a large `torch.mm` (2048^3): {peak:.1f} GFLOP/s.\n\n")
        + markdown_table(["matmul [m,k]x[k,n]", "used for", "torch.mm GFLOP/s", "share of step FLOPs"],
                         [[f"[{m},{k}]x[{k},{n}]", ", ".join(sorted(names)), f"{rates[(m, k, n)]:.1f}",
                           f"{flops / total:.1%}"] for (m, k, n), (names, flops) in shapes.items()]) + "\n\n"
        + markdown_table(["loop", "achieved GFLOP/s (real tokens)", "of the ceiling at model shapes",
                          "of large-mm peak"],
                         [[name, f"{a:.2f}", f"{a / ceiling:.1%}", f"{a / peak:.1%}"] for name, a in achieved.items()]))


def main(argv=None) -> BenchResult:
    parser = common.base_parser(__doc__.split("\n")[0])
    parser.add_argument("--task", choices=["pos", "imdb"], default="pos")
    parser.add_argument("--examples", type=int, default=None, help="training sentences / reviews (2000 / 128)")
    parser.add_argument("--naive-examples", type=int, default=None, help="examples of the naive loop (200 / 24)")
    args = parser.parse_args(argv)
    repeats = common.setup(args, 5 if args.task == "pos" else 3)
    task = (pos_task if args.task == "pos" else imdb_task)(args)
    sampler = task.pipelines["toolkit"].loader(task.examples["toolkit"], batch_size=task.recipe.batch_size,
                                               shuffle=True, seed=SEED).batch_sampler
    sampler.set_epoch(1)
    batches = sampler.batches()  # exactly the batches Trainer.fit's (single) epoch 1 trains on
    naive_count = min(4 if args.smoke else args.naive_examples or (200 if task.name == "pos" else 24),
                      len(task.examples["toolkit"]))
    naive, variants = hand_loop(task, pack=False), {name: toolkit_loop(task, name) for name in task.pipelines}
    variants["hand-written"] = hand_loop(task, pack=True)
    variants["naive"] = lambda _: naive([[i] for i in range(naive_count)])
    timings = compare(variants, batches, repeats)
    tps = {name: t.rate for name, t in timings.items()}
    result = BenchResult("training" if task.name == "pos" else "training_imdb")
    title = {"pos": "POS tagger", "imdb": "IMDB classifier"}[task.name]
    result.add_section(f"Training throughput: {title}", (
        f"{task.caption} Naive loop on the first {naive_count} examples. Real tokens/s, median of {repeats} "
        "interleaved epochs after a warm-up epoch, against the hand-written and naive loops of the same run; "
        "data-loader wait: time in `next()` on the training loader as a share of the epoch.\n\n") + markdown_table(
        ["loop", "tokens/epoch", "tokens/s (median)", "x hand-written", "x naive", "data-loader wait",
         "each repeat (tokens/s)"],
        [[name, f"{int(t.work[0]):,}", f"{t.rate:,.0f}", f"{t.rate / tps['hand-written']:.2f}",
          f"{t.rate / tps['naive']:.1f}", "-" if name == "naive" else f"{t.wait_fraction:.1%}",
          " / ".join(f"{r:,.0f}" for r in t.rates)] for name, t in timings.items()]))
    pad = padding_row(task)
    result.add_section(f"Padding efficiency of the default sampler: {title}", (
        "Real / padded tokens of the batches the pipeline's `loader` yields over the whole training set at the "
        "recipe's batch size: training (shuffled, length-bucketed; median and worst of 5 epochs), evaluation "
        "(sorted), and shuffled batches without bucketing for reference.\n\n") + markdown_table(
        ["task", "examples", "mean length", "batch", "train (median)", "train (worst epoch)", "eval (sorted)",
         "no bucketing"], [pad[:4] + [f"{v:.2%}" for v in pad[4:]]]))
    result.metrics.update({f"{task.name}_train_tokens_per_s": tps,
                           f"{task.name}_toolkit_vs_handwritten": tps["toolkit"] / tps["hand-written"],
                           f"{task.name}_toolkit_vs_naive": tps["toolkit"] / tps["naive"],
                           f"{task.name}_dense_vs_packed": tps["toolkit"] / tps["toolkit, packed encoder"],
                           f"{task.name}_dataloader_wait_fraction": timings["toolkit"].wait_fraction,
                           f"{task.name}_padding_efficiency": pad[4]})
    if task.name == "pos":
        result.metrics["pos_dataloader_wait_recipe_default"] = timings[CHAR_ROW].wait_fraction
        ceiling_section(task, timings, batches, 3 if args.smoke or args.quick else 5, result)
    for target in TARGETS[task.name]:
        result.target(*target)
    result.emit(args)
    return result


if __name__ == "__main__":
    run(main)
