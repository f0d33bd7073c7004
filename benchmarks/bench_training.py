"""Training throughput of the POS recipe's loop vs a hand-written PyTorch loop and the naive loop.

    python benchmarks/bench_training.py            # UD English-EWT slice ($LSTM_NLP_DATA or ../shared/data)
    python benchmarks/bench_training.py --smoke    # bundled sample, seconds

Same model sizes (the POS recipe defaults), same batches, same run, timed repeats interleaved:

* **toolkit**: ``TaggingPipeline.loader`` (length-bucketed sampler + ``collate_tagging``) feeding
  ``Trainer.train_epoch`` on a ``SequenceTagger`` (CPU: the dense encoder fast path);
* **toolkit, packed encoder**: the same with ``encoder_impl="packed"`` (what the fast path buys);
* **hand-written**: what a user writes: ``nn.Embedding`` + ``nn.LSTM(bidirectional)`` over
  ``pack_padded_sequence`` + ``nn.Linear``, a DataLoader over the *same* batches with a
  ``pad_sequence`` collate, Adam, gradient clipping;
* **naive**: the tutorial loop: batch size 1, no packing (fewer sentences; tokens/s is what matters).

Also reported: the fraction of step time spent waiting for the data loader, and the fraction of
the measured ``torch.mm`` ceiling the loops reach (see ``flops.py``).
"""

from __future__ import annotations

import time

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence, pad_sequence
from torch.utils.data import DataLoader

from common import (POS_DEFAULTS, BenchResult, TimedLoader, base_parser, ewt_paths, pos_recipe_defaults, setup, fmt, markdown_table, median,
                    repeats)
from flops import ceiling, linear_training_matmuls, lstm_forward_flops_per_token, lstm_training_matmuls, measure_mm_gflops
from lstm_nlp.data import Vocab, load_tagging_dataset
from lstm_nlp.models import SequenceTagger, TaggerConfig
from lstm_nlp.pipelines import TaggingPipeline
from lstm_nlp.recipe_kit import trainer_config
from lstm_nlp.training import Trainer, TrainerConfig

P = POS_DEFAULTS
CHAR_ROW = "toolkit, recipe default model (+char features)"


# ---------------------------------------------------------------------- hand-written baseline
class HandTagger(nn.Module):
    """The model a user writes by hand: embedding -> packed BiLSTM -> linear (same sizes as the recipe)."""

    def __init__(self, vocab_size: int, num_labels: int, *, pack: bool = True):
        super().__init__()
        self.pack = pack
        self.embedding = nn.Embedding(vocab_size, P["embedding_dim"], padding_idx=0)
        self.lstm = nn.LSTM(P["embedding_dim"], P["hidden_size"], num_layers=P["num_layers"], bidirectional=True,
                            dropout=P["dropout"], batch_first=True)
        self.dropout = nn.Dropout(P["dropout"])
        self.out = nn.Linear(2 * P["hidden_size"], num_labels)

    def forward(self, ids: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        x = self.dropout(self.embedding(ids))
        if self.pack:
            packed = pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
            x, _ = pad_packed_sequence(self.lstm(packed)[0], batch_first=True, total_length=ids.shape[1])
        else:
            x, _ = self.lstm(x)
        return self.out(self.dropout(x))


def hand_collate(examples):
    ids = pad_sequence([torch.tensor(e["token_ids"]) for e in examples], batch_first=True)
    labels = pad_sequence([torch.tensor(e["label_ids"]) for e in examples], batch_first=True, padding_value=-100)
    return ids, labels, torch.tensor([len(e["token_ids"]) for e in examples])


def hand_step(model, optimizer, ids, labels, lengths) -> None:
    logits = model(ids, lengths)
    loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), labels.reshape(-1), ignore_index=-100)
    optimizer.zero_grad()
    loss.backward()
    nn.utils.clip_grad_norm_(model.parameters(), P["grad_clip"])
    optimizer.step()


def hand_epoch(model, optimizer, examples, batches) -> tuple[int, float, float]:
    """One pass of the hand-written loop over fixed batches: (real tokens, seconds, data wait seconds)."""
    model.train()
    loader = TimedLoader(DataLoader(examples, batch_sampler=batches, collate_fn=hand_collate))
    tokens, start = 0, time.perf_counter()
    for ids, labels, lengths in loader:
        hand_step(model, optimizer, ids, labels, lengths)
        tokens += int(lengths.sum())
    return tokens, time.perf_counter() - start, loader.wait_seconds


def naive_pass(model, optimizer, examples) -> tuple[int, float]:
    """The tutorial loop: one sentence per step, no padding, no packing."""
    model.train()
    tokens, start = 0, time.perf_counter()
    for e in examples:
        ids = torch.tensor([e["token_ids"]])
        labels = torch.tensor([e["label_ids"]])
        hand_step(model, optimizer, ids, labels, torch.tensor([ids.shape[1]]))
        tokens += ids.shape[1]
    return tokens, time.perf_counter() - start


# ---------------------------------------------------------------------- toolkit
def recipe_trainer_config(recipe_args, seed: int) -> TrainerConfig:
    """The recipe's own TrainerConfig (``trainer_config``), for one epoch on the CPU, no files, no bars."""
    if recipe_args is None:
        return TrainerConfig(epochs=1, lr=P["lr"], grad_clip=P["grad_clip"], device="cpu", progress=False, seed=seed)
    return trainer_config(recipe_args, metric="accuracy", epochs=1, device="cpu", progress=False, output_dir=None,
                          seed=seed)


def toolkit_setup(pipeline: TaggingPipeline, examples: list[dict], seed: int, recipe_args):
    loader = TimedLoader(pipeline.loader(examples, batch_size=P["batch_size"], shuffle=True, seed=seed))
    return Trainer(pipeline.model, recipe_trainer_config(recipe_args, seed), train_loader=loader), loader


def toolkit_epoch(trainer: Trainer, loader: TimedLoader) -> tuple[int, float, float]:
    """One ``Trainer.fit`` of one epoch (the sampler's epoch 1 every time): (real tokens, seconds, data wait)."""
    loader.reset()
    start = time.perf_counter()
    history = trainer.fit(resume=False).history
    return int(history[0]["train_tokens"]), time.perf_counter() - start, loader.wait_seconds


def recipe_default_pipeline(recipe_args, train, words, labels, seed: int) -> TaggingPipeline | None:
    """The recipe's default model when it has character features (as recipes/pos_tagger.py builds it)."""
    char_encoder = getattr(recipe_args, "char_encoder", "none")
    if char_encoder == "none":
        return None
    from lstm_nlp.pipelines.tagging import build_char_vocab

    chars = build_char_vocab(train["tokens"])
    torch.manual_seed(seed)
    config = TaggerConfig(vocab_size=len(words), num_labels=len(labels), embedding_dim=P["embedding_dim"],
                          hidden_size=P["hidden_size"], num_layers=P["num_layers"], dropout=P["dropout"],
                          char_encoder=char_encoder, char_vocab_size=len(chars),
                          char_embedding_dim=recipe_args.char_dim, char_hidden_size=recipe_args.char_hidden,
                          head=getattr(recipe_args, "head", "softmax"),
                          word_dropout=getattr(recipe_args, "word_dropout", 0.0))
    return TaggingPipeline(SequenceTagger(config), words, labels, chars=chars)


def char_model_flops_per_token(pipeline: TaggingPipeline, examples: list[dict], loader: TimedLoader) -> float:
    """Training FLOPs per real token of the recipe default model, character encoder included.

    The word BiLSTM's first layer reads the word embedding and the character features; the
    character encoder runs once per distinct spelling in a batch (as the model does), over that
    word's real characters: per character ``2 * 4H(in+H)`` per direction (LSTM) or ``2 * k * in * filters``
    (CNN). Training = 3x forward. Counted over the epoch's own batches.
    """
    cfg = pipeline.model.config
    char_out = pipeline.model.char_encoder.output_dim
    word = lstm_forward_flops_per_token(cfg.embedding_dim + char_out, cfg.hidden_size, cfg.num_layers, 2) \
        + 2 * 2 * cfg.hidden_size * cfg.num_labels
    if cfg.char_encoder == "lstm":
        per_char = 2 * 2 * 4 * cfg.char_hidden_size * (cfg.char_embedding_dim + cfg.char_hidden_size)
    else:
        conv = pipeline.model.char_encoder.conv
        per_char = 2 * conv.kernel_size[0] * conv.in_channels * conv.out_channels
    sampler = loader.batch_sampler
    sampler.set_epoch(1)
    chars = tokens = 0
    for batch in sampler.batches():
        distinct = {spelling for i in batch for spelling in examples[i]["char_ids"]}
        chars += sum(len(spelling) for spelling in distinct)
        tokens += sum(len(examples[i]["token_ids"]) for i in batch)
    return 3 * (word + per_char * chars / tokens)


# ---------------------------------------------------------------------- main
def main(argv=None) -> BenchResult:
    parser = base_parser(__doc__.split("\n")[0])
    parser.add_argument("--sentences", type=int, default=2000, help="training sentences (first N of EWT train)")
    parser.add_argument("--naive-sentences", type=int, default=200, help="sentences for the naive loop")
    args = parser.parse_args(argv)
    setup(args)
    _, recipe_args = pos_recipe_defaults()
    n_repeats = repeats(args, 5)
    train_path, _ = ewt_paths(args.smoke)
    train = load_tagging_dataset(train_path)
    train = train.select(range(min(args.sentences, len(train))))
    words = Vocab.build(train["tokens"], min_freq=P["min_freq"])
    labels = Vocab.build_labels(train["tags"])
    seed = 1

    pipelines = {}
    for name, impl in (("toolkit", "auto"), ("toolkit, packed encoder", "packed")):
        torch.manual_seed(seed)
        config = TaggerConfig(vocab_size=len(words), num_labels=len(labels), embedding_dim=P["embedding_dim"],
                              hidden_size=P["hidden_size"], num_layers=P["num_layers"], dropout=P["dropout"],
                              encoder_impl=impl)
        pipelines[name] = TaggingPipeline(SequenceTagger(config), words, labels)
    char_pipeline = recipe_default_pipeline(recipe_args, train, words, labels, seed)
    if char_pipeline is not None:
        pipelines[CHAR_ROW] = char_pipeline
    examples = pipelines["toolkit"].encode(train)
    char_examples = char_pipeline.encode(train) if char_pipeline is not None else None
    variants = {name: toolkit_setup(pipe, char_examples if name == CHAR_ROW else examples, seed, recipe_args)
                for name, pipe in pipelines.items()}
    sampler = variants["toolkit"][1].batch_sampler
    sampler.set_epoch(1)
    batches = sampler.batches()  # exactly the batches Trainer.fit's (single) epoch 1 trains on
    padded_lengths = [(len(b), max(len(examples[i]["token_ids"]) for i in b)) for b in batches]
    torch.manual_seed(seed)
    hand = HandTagger(len(words), len(labels))
    hand_opt = torch.optim.Adam(hand.parameters(), lr=P["lr"])
    torch.manual_seed(seed)
    naive = HandTagger(len(words), len(labels), pack=False)
    naive_opt = torch.optim.Adam(naive.parameters(), lr=P["lr"])
    naive_examples = examples[: (20 if args.smoke else args.naive_sentences)]

    order = ["toolkit", "hand-written", "toolkit, packed encoder", *([CHAR_ROW] if char_pipeline else []), "naive"]
    runs: dict[str, list[tuple[int, float, float]]] = {k: [] for k in order}
    for repeat in range(n_repeats + 1):  # repeat 0 is a warm-up (oneDNN primitive creation), not timed
        for key in order:
            if key == "hand-written":
                value = hand_epoch(hand, hand_opt, examples, batches)
            elif key == "naive":
                value = (*naive_pass(naive, naive_opt, naive_examples), 0.0)
            else:
                value = toolkit_epoch(*variants[key])
            if repeat:
                runs[key].append(value)

    tps = {k: median([t / s for t, s, _ in v]) for k, v in runs.items()}
    wait = {k: median([w / s for _, s, w in v]) for k, v in runs.items()}
    base = tps["hand-written"]
    rows = []
    shown = [k for k in ("toolkit", "toolkit, packed encoder", CHAR_ROW, "hand-written", "naive") if k in runs]
    for key in shown:
        tokens = runs[key][0][0]
        vs_hand = f"{tps[key] / base:.2f}" + (" (other model)" if key == CHAR_ROW else "")
        rows.append([key, f"{tokens:,}", fmt(tps[key]), vs_hand, f"{tps[key] / tps['naive']:.1f}",
                     f"{100 * wait[key]:.1f}%" if key != "naive" else "-",
                     " / ".join(f"{t / s:,.0f}" for t, s, _ in runs[key])])
    result = BenchResult("training")
    result.add_section(
        "Training throughput: POS tagger",
        f"{'Bundled sample (smoke run)' if args.smoke else 'UD English-EWT train'}, first {len(train)} sentences; naive loop on the first {len(naive_examples)}. "
        f"Model: the POS recipe defaults (embedding {P['embedding_dim']}, BiLSTM {P['num_layers']}x{P['hidden_size']}, "
        f"dropout {P['dropout']}), batch {P['batch_size']}, Adam lr {P['lr']}, clip {P['grad_clip']}. "
        f"Real tokens/s, median of {n_repeats} interleaved epochs (after one warm-up epoch); "
        "ratios against the hand-written packed loop and the naive loop of the same run. The toolkit rows "
        "run the recipe's own `Trainer.fit` (its `trainer_config`, one epoch per call, no dev evaluation) on "
        "`TaggingPipeline.loader` batches; the hand-written loop trains on exactly those batches. "
        f"The acceptance figure is the word-level toolkit row (same model as the hand-written loop)"
        + (f"; the recipe default adds a character encoder ({getattr(recipe_args, 'char_encoder', '?')}), shown "
           "for its cost" if CHAR_ROW in runs else "") + ".\n\n"
        + markdown_table(["loop", "tokens/epoch", "tokens/s (median)", "x hand-written", "x naive",
                          "data-loader wait", "each repeat (tokens/s)"], rows))
    result.metrics.update({
        "pos_train_tokens_per_s": tps,
        "pos_toolkit_vs_handwritten": tps["toolkit"] / base,
        "pos_toolkit_vs_naive": tps["toolkit"] / tps["naive"],
        "pos_handwritten_vs_naive": base / tps["naive"],
        "pos_dataloader_wait_fraction": wait["toolkit"],
        "pos_dataloader_wait_recipe_default": wait.get(CHAR_ROW),
    })
    result.add_section(
        "Data-loader wait (POS training)",
        "Time spent in `next()` on the training loader (main process; the toolkit's DataLoader uses no worker "
        "processes) as a fraction of the epoch's wall time, median over the same epochs.\n\n"
        + markdown_table(["loop", "wait fraction"], [[k, f"{100 * wait[k]:.2f}%"] for k in shown if k != "naive"]))

    # ---- matrix-multiply ceiling at the model's shapes
    mean_batch = round(sum(b for b, _ in padded_lengths) / len(padded_lengths))
    mean_seq = round(sum(b * t for b, t in padded_lengths) / sum(b for b, _ in padded_lengths))
    cfg = variants["toolkit"][0].model.config
    shapes = lstm_training_matmuls(cfg.embedding_dim, cfg.hidden_size, cfg.num_layers, 2, mean_batch, mean_seq)
    shapes += linear_training_matmuls("head", mean_batch * mean_seq, 2 * cfg.hidden_size, cfg.num_labels)
    ceiling_gflops, shape_rows = ceiling(shapes, repeats=3 if args.smoke else 5)
    peak = measure_mm_gflops(2048, 2048, 2048, repeats=3)
    fwd = lstm_forward_flops_per_token(cfg.embedding_dim, cfg.hidden_size, cfg.num_layers, 2) \
        + 2 * 2 * cfg.hidden_size * cfg.num_labels
    train_flops = 3 * fwd
    achieved = {k: tps[k] * train_flops / 1e9 for k in tps}
    char_flops = None
    if CHAR_ROW in tps:  # its own FLOPs: a wider first LSTM layer and the character encoder
        char_flops = char_model_flops_per_token(char_pipeline, char_examples, variants[CHAR_ROW][1])
        achieved[CHAR_ROW] = tps[CHAR_ROW] * char_flops / 1e9
    unique = {}
    for r in shape_rows:
        key = (r["m"], r["k"], r["n"])
        entry = unique.setdefault(key, {"names": [], "gflops": r["gflops"], "share": 0.0})
        if r["name"] not in entry["names"]:
            entry["names"].append(r["name"])
        entry["share"] += r["share"]
    shape_table = markdown_table(
        ["matmul [m,k]x[k,n]", "used for", "torch.mm GFLOP/s", "share of step FLOPs"],
        [[f"[{m},{k}]x[{k},{n}]", ", ".join(e["names"]), f"{e['gflops']:.1f}", f"{100 * e['share']:.1f}%"]
         for (m, k, n), e in unique.items()])
    frac_rows = [[k + (f" ({char_flops / 1e6:.3f} MFLOP/token, character encoder included)" if k == CHAR_ROW else ""),
                  f"{achieved[k]:.2f}", f"{100 * achieved[k] / ceiling_gflops:.1f}%",
                  f"{100 * achieved[k] / peak:.1f}%"] for k in shown]
    result.add_section(
        "Matrix-multiply ceiling (POS model)",
        f"FLOPs per real token: forward {fwd / 1e6:.3f} MFLOP (LSTM `2*4H*(in+H)` per layer and direction + head "
        f"`2*2H*labels`), training 3x = {train_flops / 1e6:.3f} MFLOP. Typical padded batch: {mean_batch} x "
        f"{mean_seq} (mean of the epoch's batches). Ceiling = FLOP-weighted `torch.mm` speed over the matmuls of "
        f"one training step at these shapes: **{ceiling_gflops:.1f} GFLOP/s** "
        f"({torch.get_num_threads()} threads); a large `torch.mm` (2048^3) runs at {peak:.1f} GFLOP/s.\n\n"
        + shape_table + "\n\n"
        + markdown_table(["loop", "achieved GFLOP/s (real tokens)", "of the ceiling at model shapes",
                          "of large-mm peak"], frac_rows))
    result.metrics.update({"pos_mm_ceiling_gflops": ceiling_gflops, "mm_peak_gflops_2048": peak,
                           "pos_train_flops_per_token": train_flops,
                           "pos_fraction_of_ceiling": achieved["toolkit"] / ceiling_gflops,
                           "pos_recipe_default_fraction_of_ceiling": (achieved[CHAR_ROW] / ceiling_gflops
                                                                      if CHAR_ROW in achieved else None),
                           "pos_fraction_of_peak": achieved["toolkit"] / peak})
    result.emit(args)
    return result


if __name__ == "__main__":
    main()
