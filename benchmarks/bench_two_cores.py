"""Ways to use two CPU cores for one training step of the POS recipe's default model (character BiLSTM).

    python benchmarks/bench_two_cores.py            # UD English-EWT slice ($LSTM_NLP_DATA or ../shared/data)
    python benchmarks/bench_two_cores.py --smoke    # bundled sample, seconds (figures mean nothing)

Same model (the recipe's defaults), same batches, the recipe's step (Adam, gradient clipping), real tokens/s:

* **1 thread**: the reference for the ratios;
* **2 threads**: torch's intra-op threads, the documented default;
* **batch split**: 2 Python threads x 1 intra-op thread, each computing the gradients of half of every batch
  (summed, weighted by tokens: the same gradient as the whole batch);
* **directions**: 1 intra-op thread; the forward and backward directions of every dense LSTM layer run in
  two Python threads, in the forward pass and in the backward pass (a custom ``autograd.Function``);
* **torch.compile**: ``torch.compile(model, dynamic=True)`` (inductor) with 2 threads; its compile time is
  reported beside it.

The candidates live here, not in the package: none beat 2 threads (see docs/benchmarks.md). Every row runs
in a fresh process, one after the other, repeated in rounds: a thread that has run OpenMP work keeps a team
of worker threads that spin after each parallel region and slow whatever runs next in the same process.
The gradient difference compares one batch's gradients (dropout off) with the plain model's.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import torch
from torch import nn

from common import BenchResult, base_parser, ewt_paths, fmt, markdown_table, median, pos_recipe_defaults, repeats, setup
from lstm_nlp.recipe_kit.args import POSITIVE_INT

MODES = {"threads1": "1 thread", "threads2": "2 threads (default)", "batch_split": "batch split, 2 x 1 thread",
         "directions": "LSTM directions in 2 threads, 1 thread each", "compile": "torch.compile, 2 threads"}
THREADS = {"threads1": 1, "threads2": 2, "batch_split": 1, "directions": 1, "compile": 2}
WARMUP_BATCHES = 5
SMOKE_WARMUP_BATCHES = 1


# ---------------------------------------------------------------------- the recipe's model and batches
def recipe_setup(smoke: bool, sentences: int, batches: int):
    from bench_training import recipe_default_pipeline
    from lstm_nlp.data import Vocab, load_tagging_dataset

    P, recipe_args = pos_recipe_defaults()
    train_path, _ = ewt_paths(smoke)
    train = load_tagging_dataset(train_path)
    train = train.select(range(min(sentences, len(train))))
    words = Vocab.build(train["tokens"], min_freq=P["min_freq"])
    labels = Vocab.build_labels(train["tags"])
    pipeline = recipe_default_pipeline(recipe_args, train, words, labels, seed=1)
    loader = pipeline.loader(pipeline.encode(train), batch_size=P["batch_size"], shuffle=True, seed=1)
    return pipeline.model, list(loader)[:batches], P


def model_inputs(batch: dict) -> dict:
    from lstm_nlp.batch import model_inputs as inputs

    return inputs(batch)


# ---------------------------------------------------------------------- candidate: batch split
def half_batch(batch: dict, rows: slice) -> dict:
    """Rows ``rows`` of a batch, trimmed to their longest sentence."""
    n, seq = batch["mask"].shape
    part = {k: v[rows] for k, v in batch.items() if torch.is_tensor(v) and v.dim() and v.shape[0] == n}
    width = int(part["mask"].sum(1).max())
    return {k: (v[:, :width] if v.dim() >= 2 and v.shape[1] == seq else v) for k, v in part.items()}


def split_gradients(model: nn.Module, params: list, batch: dict, pool: ThreadPoolExecutor) -> list:
    """The whole batch's gradients from its two halves, computed side by side in two threads."""
    half = batch["mask"].shape[0] // 2
    parts = [half_batch(batch, slice(0, half)), half_batch(batch, slice(half, None))]
    tokens = [int(p["mask"].sum()) for p in parts]

    def grads(i: int):
        loss = model(**model_inputs(parts[i])).loss * (tokens[i] / sum(tokens))
        return torch.autograd.grad(loss, params, allow_unused=True)

    other = pool.submit(grads, 1)
    first, second = grads(0), other.result()
    return [a if b is None else (b if a is None else a + b) for a, b in zip(first, second)]


# ---------------------------------------------------------------------- candidate: directions in threads
def enable_parallel_directions(pool: ThreadPoolExecutor) -> None:
    """Replaces ``LSTMEncoder._forward_dense`` with one that runs each layer's two directions in two threads."""
    from lstm_nlp.modules import encoder as enc

    def run_lstm(x, weights, hidden):
        h0 = x.new_zeros(1, x.shape[0], hidden)
        out, _, c_n = torch.lstm(x, (h0, h0), weights, True, 1, 0.0, True, False, True)
        return out, c_n

    def padded_weights(encoder, params):
        w_ih, w_hh, b_ih, b_hh = params
        hidden = encoder.hidden_size
        column = torch.zeros(4 * hidden, 1, dtype=w_ih.dtype)
        column[:hidden], column[hidden:2 * hidden] = -enc._SATURATE, enc._SATURATE
        return [torch.cat([w_ih, column], dim=1), w_hh, b_ih, b_hh]

    def side_by_side(fn, args0, args1):
        other = pool.submit(fn, *args1)
        return fn(*args0), other.result()

    class TwoDirections(torch.autograd.Function):
        @staticmethod
        def forward(ctx, encoder, x0, x1, *params):
            def run(d):
                with torch.enable_grad():
                    x = (x0, x1)[d].detach().requires_grad_()
                    own = [p.detach().requires_grad_() for p in params[4 * d:4 * d + 4]]
                    out, c_n = run_lstm(x, padded_weights(encoder, own), encoder.hidden_size)
                return x, own, out, c_n

            ctx.runs = side_by_side(run, (0,), (1,))
            (_, _, out0, c0), (_, _, out1, c1) = ctx.runs
            return out0.detach(), c0.detach(), out1.detach(), c1.detach()

        @staticmethod
        def backward(ctx, g_out0, g_c0, g_out1, g_c1):
            def grads(d, g_out, g_c):
                x, own, out, c_n = ctx.runs[d]
                outputs, seeds = ([out, c_n], [g_out, g_c]) if g_c is not None else ([out], [g_out])
                return torch.autograd.grad(outputs, [x, *own], seeds, allow_unused=True)

            first, second = side_by_side(grads, (0, g_out0, g_c0), (1, g_out1, g_c1))
            ctx.runs = None
            return (None, first[0], second[0], *first[1:], *second[1:])

    def forward_dense(self, inputs, mask, lengths, initial_state):
        if initial_state is not None or self.num_directions != 2 or not torch.is_grad_enabled():
            return original(self, inputs, mask, lengths, initial_state)
        batch, seq, _ = inputs.shape
        rows, last = torch.arange(batch), lengths - 1
        is_pad = (~mask).unsqueeze(-1)
        layer_input = torch.cat([inputs, is_pad.to(inputs.dtype)], dim=-1)
        h_list, c_list = [], []
        for layer in range(self.num_layers):
            params = [getattr(self.lstm, name + suffix) for suffix in (f"_l{layer}", f"_l{layer}_reverse")
                      for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")]
            out0, c0, out1, c1 = TwoDirections.apply(self, layer_input, layer_input.flip(1), *params)
            h_list += [out0[rows, last], out1[rows, seq - 1]]
            c_list += [c0[0], c1[0]]
            directions = [out0, out1.flip(1)]
            if layer + 1 < self.num_layers:
                directions = [enc.dropout(d, self.dropout, self.training) for d in directions]
                layer_input = torch.cat([*directions, is_pad.to(inputs.dtype)], dim=-1)
        outputs = torch.cat(directions, dim=-1).masked_fill(is_pad, 0.0)
        return enc.EncoderOutput(outputs, torch.stack(h_list), torch.stack(c_list))

    original = enc.LSTMEncoder._forward_dense
    enc.LSTMEncoder._forward_dense = forward_dense


# ---------------------------------------------------------------------- one mode, in this process
def measure_mode(mode: str, smoke: bool, sentences: int, n_batches: int, n_repeats: int) -> dict:
    torch.set_num_threads(THREADS[mode])
    warmup = SMOKE_WARMUP_BATCHES if smoke else WARMUP_BATCHES
    model, batches, P = recipe_setup(smoke, sentences, n_batches + warmup)
    params = [p for p in model.parameters() if p.requires_grad]
    pool = ThreadPoolExecutor(1, initializer=torch.set_num_threads, initargs=(1,))
    model.eval()  # the gradient check: no dropout
    probe = batches[0]
    reference = torch.autograd.grad(model(**model_inputs(probe)).loss, params, allow_unused=True)
    if mode == "directions":
        enable_parallel_directions(pool)
    forward = model
    compile_seconds = None
    if mode == "compile":
        forward = torch.compile(model, dynamic=True)
    if mode == "batch_split":
        grads = split_gradients(model, params, probe, pool)
    else:
        grads = torch.autograd.grad(forward(**model_inputs(probe)).loss, params, allow_unused=True)
    grad_diff = max(float((a - b).abs().max()) for a, b in zip(reference, grads) if a is not None)
    model.train()
    optimizer = torch.optim.Adam(params, lr=P["lr"], fused=True)

    def step(batch):
        if mode == "batch_split":
            for p, g in zip(params, split_gradients(model, params, batch, pool)):
                p.grad = g
        else:
            optimizer.zero_grad(set_to_none=True)
            forward(**model_inputs(batch)).loss.backward()
        nn.utils.clip_grad_norm_(params, P["grad_clip"])
        optimizer.step()

    start = time.perf_counter()
    for batch in batches[:warmup]:
        step(batch)
    if mode == "compile":
        compile_seconds = time.perf_counter() - start
    timed = batches[warmup:]
    tokens = sum(int(b["lengths"].sum()) for b in timed)
    rates = []
    for _ in range(n_repeats):
        start = time.perf_counter()
        for batch in timed:
            step(batch)
        rates.append(tokens / (time.perf_counter() - start))
    pool.shutdown()
    return {"tokens_per_s": median(rates), "grad_diff": grad_diff, "compile_seconds": compile_seconds,
            "tokens": tokens, "batches": len(timed), "python_threads": threading.active_count()}


# ---------------------------------------------------------------------- main
def main(argv=None) -> BenchResult:
    parser = base_parser(__doc__.split("\n")[0])
    parser.add_argument("--sentences", type=POSITIVE_INT, default=3000, help="training sentences (first N of EWT train)")
    parser.add_argument("--batches", type=POSITIVE_INT, default=80, help="timed batches per repeat")
    parser.add_argument("--rounds", type=POSITIVE_INT, default=2, help="rounds of fresh processes (median over rounds)")
    parser.add_argument("--modes", nargs="+", choices=list(MODES), default=None,
                        help="rows to measure (default: all; --smoke leaves torch.compile out, it compiles for a minute)")
    parser.add_argument("--mode", choices=list(MODES), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    n_repeats = repeats(args, 3)
    if args.smoke:
        args.sentences, args.batches, args.rounds = min(args.sentences, 64), min(args.batches, 2), 1
    if args.modes is None:
        args.modes = [mode for mode in MODES if not (args.smoke and mode == "compile")]
    if args.mode:  # a child: one mode, result as JSON on stdout
        print(json.dumps(measure_mode(args.mode, args.smoke, args.sentences, args.batches, n_repeats)))
        sys.exit(0)
    setup(args)
    results: dict[str, list[dict]] = {mode: [] for mode in args.modes}
    for _ in range(args.rounds):
        for mode in args.modes:
            command = [sys.executable, __file__, "--mode", mode, "--sentences", str(args.sentences),
                       "--batches", str(args.batches), "--repeats", str(n_repeats)] + (["--smoke"] if args.smoke else [])
            done = subprocess.run(command, capture_output=True, text=True, check=False)
            if done.returncode != 0:
                raise SystemExit(f"mode {mode} failed:\n{done.stderr[-3000:]}")
            results[mode].append(json.loads(done.stdout.strip().splitlines()[-1]))
    rates = {mode: median([r["tokens_per_s"] for r in runs]) for mode, runs in results.items()}
    base = rates.get("threads1")
    rows = []
    for mode, runs in results.items():
        compile_s = runs[0]["compile_seconds"]
        note = f"compile + {WARMUP_BATCHES} batches: {compile_s:.0f} s" if compile_s else ""
        rows.append([MODES[mode], fmt(rates[mode]), f"{rates[mode] / base:.2f}x" if base else "n/a",
                     f"{max(r['grad_diff'] for r in runs):.1e}", note])
    first = next(iter(results.values()))[0]
    result = BenchResult("two_cores")
    result.add_section(
        "Two cores for one training step (POS recipe default model)",
        f"{first['batches']} batches of the recipe's loader ({first['tokens']:,} real tokens), median of {n_repeats} "
        f"passes per process and of {args.rounds} rounds of fresh processes.\n\n"
        + markdown_table(["way", "training tokens/s", "vs 1 thread", "largest gradient difference vs plain", "note"], rows))
    result.metrics["tokens_per_s"] = rates
    result.emit(args)
    return result


if __name__ == "__main__":
    main()
