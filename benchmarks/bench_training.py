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
import functools
import random
import statistics
from dataclasses import dataclass

import common
import torch
import torch.nn.functional as F
from common import BenchResult, TimedLoader, compare, markdown_table
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence, pad_sequence
from torch.utils.data import DataLoader

from lstm_nlp.data import Vocab, load_tagging_dataset, padding_efficiency
from lstm_nlp.recipe_kit import trainer_config
from lstm_nlp.training import Trainer

CHAR_ROW = "toolkit, recipe default model (+char features)"
SEED = 1
TARGETS = {  # (target, metric, goal, format of the figure)
    "pos": [("POS training loop >= 60% of the measured matmul ceiling (FLOP count)", "pos_fraction_of_ceiling",
             ">= 0.6", "{:.1%}"),
            ("POS training loop >= 90% of the minimal hand-written loop", "pos_toolkit_vs_handwritten", ">= 0.9",
             "{:.0%}"),
            ("Data-loader wait <= 5% of training step time (POS, word-level model)", "pos_dataloader_wait_fraction",
             "<= 0.05", "{:.1%}"),
            ("Data-loader wait <= 5% (POS recipe default model, with character features)",
             "pos_dataloader_wait_recipe_default", "<= 0.05", "{:.1%}"),
            ("Padding efficiency >= 97%, POS (EWT train)", "pos_padding_efficiency", ">= 0.97", "{:.2%}")],
    "imdb": [("The whole IMDB training loop (real reviews, recipe defaults) >= 5x faster with the dense encoder",
              "imdb_dense_vs_packed", ">= 5", "{:.1f}x"),
             ("Data-loader wait <= 5% (IMDB classifier)", "imdb_dataloader_wait_fraction", "<= 0.05", "{:.1%}"),
             ("Padding efficiency >= 97%, IMDB (train)", "imdb_padding_efficiency", ">= 0.97", "{:.2%}")]}


@dataclass
class Task:
    """What one task trains: toolkit pipelines with their examples, the hand-written model's sizes, the captions."""

    name: str
    recipe: argparse.Namespace
    pipelines: dict[str, object]
    examples: dict[str, list[dict]]
    label_key: str
    num_labels: int
    pooled: bool
    caption: str
    all_lengths: list[int]  # every training example, for the padding efficiency


# ---------------------------------------------------------------------- hand-written baseline
class HandModel(nn.Module):
    """What a user writes by hand: embedding -> (packed) BiLSTM -> [max over real tokens] -> linear."""

    def __init__(self, vocab_size: int, recipe: argparse.Namespace, num_labels: int, *, pooled: bool, pack: bool):
        super().__init__()
        self.pooled, self.pack = pooled, pack
        self.embedding = nn.Embedding(vocab_size, recipe.embedding_dim, padding_idx=0)
        self.lstm = nn.LSTM(recipe.embedding_dim, recipe.hidden_size, num_layers=recipe.num_layers, bidirectional=True,
                            dropout=recipe.dropout if recipe.num_layers > 1 else 0.0, batch_first=True)
        self.dropout = nn.Dropout(recipe.dropout)
        self.out = nn.Linear(2 * recipe.hidden_size, num_labels)

    def forward(self, ids: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        x = self.dropout(self.embedding(ids))
        if self.pack:
            packed = pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
            x, _ = pad_packed_sequence(self.lstm(packed)[0], batch_first=True, total_length=ids.shape[1])
        else:
            x, _ = self.lstm(x)
        if self.pooled:
            mask = torch.arange(ids.shape[1])[None, :] < lengths[:, None]
            x = x.masked_fill(~mask.unsqueeze(-1), float("-inf")).max(dim=1).values
        return self.out(self.dropout(x))


def hand_collate(examples: list[dict], key: str) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    ids = pad_sequence([torch.tensor(e["token_ids"]) for e in examples], batch_first=True)
    labels = (torch.tensor([e[key] for e in examples]) if key == "label" else
              pad_sequence([torch.tensor(e[key]) for e in examples], batch_first=True, padding_value=-100))
    return ids, labels, torch.tensor([len(e["token_ids"]) for e in examples])


def hand_loop(task: Task, *, pack: bool, clip: float, lr: float):
    """A variant for ``compare()``: the hand-written (``pack``) or naive loop, one pass over its batches."""
    torch.manual_seed(SEED)
    model = HandModel(len(task.pipelines["toolkit"].words), task.recipe, task.num_labels, pooled=task.pooled,
                      pack=pack)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    collate = functools.partial(hand_collate, key=task.label_key)

    def run(batches: list[list[int]]) -> tuple[int, float]:
        model.train()
        loader = TimedLoader(DataLoader(task.examples["toolkit"], batch_sampler=batches, collate_fn=collate))
        tokens = 0
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
    pipeline = task.pipelines[name]
    loader = TimedLoader(pipeline.loader(task.examples[name], batch_size=task.recipe.batch_size, shuffle=True,
                                         seed=SEED))
    config = trainer_config(task.recipe, metric="accuracy", epochs=1, device="cpu", progress=False, output_dir=None,
                            seed=SEED)
    trainer = Trainer(pipeline.model, config, train_loader=loader)

    def run(_batches) -> tuple[int, float]:
        before = loader.wait_seconds
        return int(trainer.fit(resume=False).history[0]["train_tokens"]), loader.wait_seconds - before
    return run, loader.batch_sampler


# ---------------------------------------------------------------------- the tasks
def pos_task(args: argparse.Namespace) -> Task:
    from lstm_nlp.models import SequenceTagger
    from lstm_nlp.pipelines import TaggingPipeline
    from lstm_nlp.pipelines.tagging import build_char_vocab
    from lstm_nlp.recipe_kit.tagging import tagger_config

    recipe = common.recipe_defaults("pos_tagger")
    full = load_tagging_dataset(common.ewt_paths(args.smoke)[0])
    train = full.select(range(min(500 if args.quick else args.examples or 2000, len(full))))
    words, labels = Vocab.build(train["tokens"], min_freq=recipe.min_freq), Vocab.build_labels(train["tags"])
    chars = build_char_vocab(train["tokens"])
    word_level = argparse.Namespace(**{**vars(recipe), "char_encoder": "none"})
    pipelines = {}
    for name, options, impl in (("toolkit", word_level, "auto"), ("toolkit, packed encoder", word_level, "packed"),
                                (CHAR_ROW, recipe, "auto")):
        config = tagger_config(options, vocab_size=len(words), labels=labels.itos, char_vocab_size=len(chars),
                               train_tags=train["tags"])
        torch.manual_seed(SEED)
        model = SequenceTagger(dataclasses.replace(config, encoder_impl=impl))
        pipelines[name] = TaggingPipeline(model, words, labels, chars=chars if options is recipe else None)
    examples = {name: pipeline.encode(train) for name, pipeline in pipelines.items()}
    caption = (f"{'Bundled sample (smoke run)' if args.smoke else 'UD English-EWT train'}, first {len(train)} "
               f"sentences. Model: the POS recipe's defaults (embedding {recipe.embedding_dim}, BiLSTM "
               f"{recipe.num_layers}x{recipe.hidden_size}, dropout {recipe.dropout}, word dropout "
               f"{recipe.word_dropout}), batch {recipe.batch_size}, Adam lr {recipe.lr}, clip {recipe.grad_clip}. The "
               "acceptance figure is the word-level toolkit row (the hand-written loop's model); the recipe default "
               f"adds a character encoder ({recipe.char_encoder}), shown for its cost.")
    return Task("pos", recipe, pipelines, examples, "label_ids", len(labels), False, caption,
                [len(t) for t in full["tokens"]])


def imdb_task(args: argparse.Namespace) -> Task:
    from lstm_nlp.data.tokenizers import TextTokenizer
    from lstm_nlp.models.classifier import ClassifierConfig, TextClassifier
    from lstm_nlp.pipelines.classification import ClassificationPipeline

    recipe = common.recipe_defaults("imdb_sentiment")
    all_texts, all_gold = common.imdb_texts(smoke=args.smoke)
    count = 32 if args.smoke or args.quick else args.examples or 128
    step = max(1, len(all_texts) // count)  # evenly spaced: both classes (the file is sorted by label)
    texts, gold = all_texts[::step][:count], all_gold[::step][:count]
    tokenizer = TextTokenizer("spacy")
    words = Vocab.build(tokenizer.pipe(texts), min_freq=recipe.min_freq)
    pipelines = {}
    for name, impl in (("toolkit", "auto"), ("toolkit, packed encoder", "packed")):
        torch.manual_seed(SEED)
        model = TextClassifier(ClassifierConfig(
            vocab_size=len(words), num_labels=2, embedding_dim=recipe.embedding_dim, hidden_size=recipe.hidden_size,
            num_layers=recipe.num_layers, pooling=recipe.pooling, dropout=recipe.dropout, encoder_impl=impl))
        pipelines[name] = ClassificationPipeline(model, words, Vocab.build_labels([["0", "1"]]), tokenizer,
                                                 max_length=recipe.max_length)
    examples = [{**e, "label": g} for e, g in zip(pipelines["toolkit"].featurize(texts), gold)]
    mean = sum(len(e["token_ids"]) for e in examples) / len(examples)
    caption = (f"{len(examples)} IMDB training reviews (evenly spaced over the file, both classes), spaCy tokens, "
               f"max_length {recipe.max_length}, mean {mean:.0f} tokens. Model: the IMDB recipe's defaults "
               f"({recipe.embedding_dim}-d embeddings, BiLSTM {recipe.num_layers}x{recipe.hidden_size}, "
               f"{recipe.pooling} pooling, dropout {recipe.dropout}), batch {recipe.batch_size}, Adam lr {recipe.lr}, "
               f"clip {recipe.grad_clip}.")
    lengths = [max(1, min(len(t), recipe.max_length)) for t in tokenizer.pipe(all_texts)]  # <unk> if empty
    return Task("imdb", recipe, pipelines, {name: examples for name in pipelines}, "label", 2, True, caption, lengths)


# ---------------------------------------------------------------------- padding and the matmul ceiling
def padding_row(task: Task, epochs: int = 5) -> list[object]:
    """Real / padded tokens of the toolkit loader's batches over the whole training set."""
    examples = [{"token_ids": [1] * n, "index": i} for i, n in enumerate(task.all_lengths)]
    loader = task.pipelines["toolkit"].loader
    train = loader(examples, batch_size=task.recipe.batch_size, shuffle=True, seed=SEED).batch_sampler
    per_epoch = []
    for epoch in range(1, epochs + 1):
        train.set_epoch(epoch)
        per_epoch.append(padding_efficiency(train.batches(), task.all_lengths))
    sorted_batches = list(loader(examples, batch_size=task.recipe.batch_size, shuffle=False).batch_sampler)
    order = random.Random(0).sample(range(len(examples)), len(examples))
    plain = [order[i:i + task.recipe.batch_size] for i in range(0, len(order), task.recipe.batch_size)]
    return [{"pos": "POS (EWT train)", "imdb": "IMDB (train.jsonl)"}[task.name], f"{len(examples):,}",
            f"{sum(task.all_lengths) / len(examples):.1f}", task.recipe.batch_size,
            statistics.median(per_epoch), min(per_epoch), padding_efficiency(sorted_batches, task.all_lengths),
            padding_efficiency(plain, task.all_lengths)]


def mm_gflops(m: int, k: int, n: int, repeats: int) -> float:
    """Median ``torch.mm`` GFLOP/s of ``[m, k] x [k, n]`` fp32 at the current thread count."""
    a, b, out = torch.randn(m, k), torch.randn(k, n), torch.empty(m, n)
    calls = max(1, int(1e9 / (2 * m * k * n)))

    def run(_) -> float:
        for _ in range(calls):
            torch.mm(a, b, out=out)
        return 2e-9 * m * k * n * calls
    return compare({"mm": run}, None, repeats)["mm"].rate


def step_matmuls(d_in: int, hidden: int, layers: int, labels: int, batch: int, seq: int) -> list[tuple]:
    """(name, m, k, n, count) of the matmuls of one training step of a BiLSTM tagger on a ``[batch, seq]`` batch."""
    tokens, h4, shapes = batch * seq, 4 * hidden, []
    for layer in range(layers):
        width = d_in if layer == 0 else 2 * hidden
        shapes += [(f"L{layer} input proj fwd", tokens, width, h4, 2), (f"L{layer} input proj dX", tokens, h4, width,
                   2), (f"L{layer} input proj dW", h4, tokens, width, 2), ("recurrent dW", h4, tokens, hidden, 2),
                   ("recurrent fwd (per step)", batch, hidden, h4, 2 * seq),
                   ("recurrent dH (per step)", batch, h4, hidden, 2 * seq)]
    return shapes + [("head fwd", tokens, 2 * hidden, labels, 1), ("head dX", tokens, labels, 2 * hidden, 1),
                     ("head dW", labels, tokens, 2 * hidden, 1)]


def training_flops(d_in: int, hidden: int, layers: int, labels: int) -> float:
    """Training FLOPs per token (3x the forward: LSTM ``2*4H*(in+H)`` per layer and direction, head ``2*2H*labels``)."""
    forward = sum(2 * 2 * 4 * hidden * ((d_in if layer == 0 else 2 * hidden) + hidden) for layer in range(layers))
    return 3 * (forward + 2 * 2 * hidden * labels)


def ceiling_section(task: Task, timings: dict, batches, repeats: int, result: BenchResult) -> None:
    """The share of the measured ``torch.mm`` speed at the model's shapes that each loop reaches."""
    cfg = task.pipelines["toolkit"].model.config
    rows = [(len(b), max(len(task.examples["toolkit"][i]["token_ids"]) for i in b)) for b in batches]
    batch = round(sum(b for b, _ in rows) / len(rows))
    seq = round(sum(b * t for b, t in rows) / sum(b for b, _ in rows))
    rates, table, total_flops, total_seconds = {}, {}, 0.0, 0.0
    shapes = step_matmuls(cfg.embedding_dim, cfg.hidden_size, cfg.num_layers, cfg.num_labels, batch, seq)
    for name, m, k, n, count in shapes:
        rate = rates.setdefault((m, k, n), mm_gflops(m, k, n, repeats))
        flops = 2.0 * m * k * n * count
        total_flops, total_seconds = total_flops + flops, total_seconds + flops / rate
        entry = table.setdefault((m, k, n), {"names": [], "rate": rate, "flops": 0.0})
        entry["names"] += [name] if name not in entry["names"] else []
        entry["flops"] += flops
    ceiling, peak = total_flops / total_seconds, mm_gflops(2048, 2048, 2048, min(repeats, 3))
    per_token = training_flops(cfg.embedding_dim, cfg.hidden_size, cfg.num_layers, cfg.num_labels)
    achieved = {name: t.rate * per_token / 1e9 for name, t in timings.items() if name != CHAR_ROW}
    result.metrics.update({"pos_mm_ceiling_gflops": ceiling, "mm_peak_gflops_2048": peak,
                           "pos_train_flops_per_token": per_token,
                           "pos_fraction_of_ceiling": achieved["toolkit"] / ceiling,
                           "pos_fraction_of_peak": achieved["toolkit"] / peak})
    result.add_section(
        "Matrix-multiply ceiling (POS model)",
        f"Training FLOPs per real token of the word-level model: {per_token / 1e6:.3f} MFLOP (3x the forward: LSTM "
        f"`2*4H*(in+H)` per layer and direction + head `2*2H*labels`). Typical padded batch: {batch} x {seq} (mean "
        "of the epoch's batches). Ceiling = FLOP-weighted `torch.mm` speed over the matmuls of one training step at these shapes: "
        f"**{ceiling:.1f} GFLOP/s** ({torch.get_num_threads()} threads); a large `torch.mm` (2048^3) runs at "
        f"{peak:.1f} GFLOP/s.\n\n"
        + markdown_table(["matmul [m,k]x[k,n]", "used for", "torch.mm GFLOP/s", "share of step FLOPs"],
                         [[f"[{m},{k}]x[{k},{n}]", ", ".join(e["names"]), f"{e['rate']:.1f}",
                           f"{e['flops'] / total_flops:.1%}"] for (m, k, n), e in table.items()]) + "\n\n"
        + markdown_table(["loop", "achieved GFLOP/s (real tokens)", "of the ceiling at model shapes",
                          "of large-mm peak"],
                         [[name, f"{a:.2f}", f"{a / ceiling:.1%}", f"{a / peak:.1%}"] for name, a in achieved.items()]))


# ---------------------------------------------------------------------- main
def main(argv=None) -> BenchResult:
    parser = common.base_parser(__doc__.split("\n")[0])
    parser.add_argument("--task", choices=["pos", "imdb"], default="pos")
    parser.add_argument("--examples", type=int, default=None, help="training sentences / reviews (2000 / 128)")
    parser.add_argument("--naive-examples", type=int, default=None, help="examples of the naive loop (200 / 24)")
    args = parser.parse_args(argv)
    repeats = common.setup(args, 5 if args.task == "pos" else 3)
    task = (pos_task if args.task == "pos" else imdb_task)(args)
    variants, sampler = {}, None
    for name in task.pipelines:
        variants[name], name_sampler = toolkit_loop(task, name)
        sampler = sampler or name_sampler
    sampler.set_epoch(1)
    batches = sampler.batches()  # exactly the batches Trainer.fit's (single) epoch 1 trains on
    clip, lr = task.recipe.grad_clip or 1e9, task.recipe.lr
    variants["hand-written"] = hand_loop(task, pack=True, clip=clip, lr=lr)
    naive = args.naive_examples or (200 if task.name == "pos" else 24)
    naive_batches = [[i] for i in range(min(4 if args.smoke else naive, len(task.examples["toolkit"])))]
    naive_loop = hand_loop(task, pack=False, clip=clip, lr=lr)
    variants["naive"] = lambda _: naive_loop(naive_batches)
    timings = compare(variants, batches, repeats)

    tps = {name: t.rate for name, t in timings.items()}
    hand, slow = tps["hand-written"], tps["naive"]
    prefix, title = ("pos", "POS tagger") if task.name == "pos" else ("imdb", "IMDB classifier")
    rows = [[name, f"{int(t.work[0]):,}", f"{t.rate:,.0f}", f"{t.rate / hand:.2f}" + (" (other model)" if name == CHAR_ROW
             else ""), f"{t.rate / slow:.1f}", "-" if name == "naive" else f"{t.wait_fraction:.1%}",
             " / ".join(f"{r:,.0f}" for r in t.rates)] for name, t in timings.items()]
    result = BenchResult("training" if task.name == "pos" else "training_imdb")
    result.add_section(
        f"Training throughput: {title}",
        f"{task.caption} Naive loop on the first {len(naive_batches)} examples. Real tokens/s, median of {repeats} "
        "interleaved epochs after a warm-up epoch; ratios against the hand-written packed loop and the naive loop of "
        "the same run. Data-loader wait: time in `next()` on the training loader (main process) as a share of the "
        "epoch's wall time.\n\n"
        + markdown_table(["loop", "tokens/epoch", "tokens/s (median)", "x hand-written", "x naive",
                          "data-loader wait", "each repeat (tokens/s)"], rows))
    pad = padding_row(task)
    result.add_section(
        f"Padding efficiency of the default sampler: {title}",
        "Real tokens / padded tokens of the batches the pipeline's `loader` yields over the whole training set at the "
        "recipe's batch size: training (shuffled, length-bucketed; median and worst of 5 epochs), evaluation "
        "(sorted), and plain shuffled batches without bucketing for reference.\n\n"
        + markdown_table(["task", "examples", "mean length", "batch", "train (median)", "train (worst epoch)",
                          "eval (sorted)", "no bucketing"], [pad[:4] + [f"{v:.2%}" for v in pad[4:]]]))
    result.metrics.update({f"{prefix}_train_tokens_per_s": tps, f"{prefix}_toolkit_vs_handwritten": tps["toolkit"] / hand,
                           f"{prefix}_toolkit_vs_naive": tps["toolkit"] / slow,
                           f"{prefix}_dense_vs_packed": tps["toolkit"] / tps["toolkit, packed encoder"],
                           f"{prefix}_dataloader_wait_fraction": timings["toolkit"].wait_fraction,
                           f"{prefix}_padding_efficiency": pad[4]})
    if task.name == "pos":
        result.metrics["pos_dataloader_wait_recipe_default"] = timings[CHAR_ROW].wait_fraction
        ceiling_section(task, timings, batches, 3 if args.smoke or args.quick else 5, result)
    for target in TARGETS[task.name]:
        result.target(*target)
    result.emit(args)
    return result


if __name__ == "__main__":
    main()
