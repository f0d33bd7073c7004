"""The encoder's dense CPU fast path vs the packed reference on IMDB-length batches.

    python benchmarks/bench_encoder.py            # seconds to minutes (the packed path is the slow one)
    python benchmarks/bench_encoder.py --smoke

Same model (``TextClassifier`` at the IMDB recipe's sizes; the two paths share one ``nn.LSTM``'s
weights), same batches, same run, interleaved repeats; real (unpadded) tokens per second:

* training step = forward + backward (loss on the pooled logits), and forward alone (inference);
* batches with lengths spread uniformly over 50-400 tokens (the acceptance case), and
  length-bucketed batches (sorted pools, as the toolkit's sampler builds them).
"""

from __future__ import annotations

import time

import torch

from common import BenchResult, base_parser, fmt, markdown_table, median, repeats, setup
from lstm_nlp.models.classifier import ClassifierConfig, TextClassifier

VOCAB = 20000


def make_batch(lengths: list[int], generator: torch.Generator) -> dict[str, torch.Tensor]:
    lengths_t = torch.tensor(lengths)
    width = int(lengths_t.max())
    mask = torch.arange(width)[None, :] < lengths_t[:, None]
    ids = torch.randint(1, VOCAB, (len(lengths), width), generator=generator).masked_fill(~mask, 0)
    labels = torch.randint(0, 2, (len(lengths),), generator=generator)
    return {"token_ids": ids, "mask": mask, "labels": labels}


def run_batches(model: TextClassifier, batches: list[dict], train: bool) -> tuple[int, float]:
    tokens = sum(int(b["mask"].sum()) for b in batches)
    start = time.perf_counter()
    if train:
        model.train()
        for batch in batches:
            model.zero_grad(set_to_none=True)
            model(**batch).loss.backward()
    else:
        model.eval()
        with torch.inference_mode():
            for batch in batches:
                model(batch["token_ids"], mask=batch["mask"])
    return tokens, time.perf_counter() - start


def main(argv=None) -> BenchResult:
    parser = base_parser(__doc__.split("\n")[0])
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--min-length", type=int, default=50)
    parser.add_argument("--max-length", type=int, default=400)
    parser.add_argument("--mixed-batches", type=int, default=3, help="batches with lengths uniform over the range")
    parser.add_argument("--bucketed-batches", type=int, default=4, help="batches in the bucketed scenario")
    args = parser.parse_args(argv)
    setup(args)
    n_repeats = repeats(args, 5)
    lo, hi = (5, 40) if args.smoke else (args.min_length, args.max_length)
    batch_size = 8 if args.smoke else args.batch_size
    generator = torch.Generator().manual_seed(0)

    mixed = []
    for _ in range(args.mixed_batches):
        lengths = torch.randint(lo, hi + 1, (batch_size,), generator=generator).tolist()
        lengths[0], lengths[1] = lo, hi  # the full spread in every batch
        mixed.append(make_batch(lengths, generator))
    pool = sorted(torch.randint(lo, hi + 1, (batch_size * args.bucketed_batches,), generator=generator).tolist())
    scenarios = {
        f"mixed {lo}-{hi} ({args.mixed_batches} unsorted batches)": mixed,
        f"bucketed ({args.bucketed_batches} sorted batches)": [
            make_batch(pool[i:i + batch_size], generator) for i in range(0, len(pool), batch_size)],
    }
    torch.manual_seed(0)
    config = ClassifierConfig(vocab_size=VOCAB, num_labels=2)
    dense = TextClassifier(config)
    packed = TextClassifier(ClassifierConfig(**{**config.__dict__, "encoder_impl": "packed"}))
    packed.load_state_dict(dense.state_dict())
    dense.encoder.impl = "dense"

    rows, metrics = [], {}
    for scenario, batches in scenarios.items():
        for mode, train in (("train (fwd+bwd)", True), ("inference (fwd)", False)):
            results = {"dense": [], "packed": []}
            for r in range(n_repeats + 1):  # first round is a warm-up
                for name, model in (("dense", dense), ("packed", packed)):
                    tokens, seconds = run_batches(model, batches, train)
                    if r:
                        results[name].append(tokens / seconds)
            d, p = median(results["dense"]), median(results["packed"])
            spread = [f"{min(b['mask'].sum(-1)).item()}-{max(b['mask'].sum(-1)).item()}" for b in batches]
            rows.append([scenario, mode, ", ".join(spread[:4]) + (" ..." if len(spread) > 4 else ""),
                         fmt(d), fmt(p), f"**{d / p:.1f}x**"])
            metrics[f"{scenario} | {mode}"] = {"dense_tokens_per_s": d, "packed_tokens_per_s": p, "speedup": d / p}
    result = BenchResult("encoder")
    result.add_section(
        "Encoder fast path: dense vs packed on IMDB-length batches",
        f"`TextClassifier` at the IMDB sizes ({config.embedding_dim}-d embeddings, BiLSTM 1x{config.hidden_size}, "
        f"{config.pooling} pooling), batch {batch_size}, real tokens/s, median of {n_repeats} interleaved repeats "
        "after a warm-up; both paths share the same weights and see the same batches.\n\n"
        + markdown_table(["batches", "mode", "lengths per batch", "dense tokens/s", "packed tokens/s",
                          "dense / packed"], rows))
    first, second = list(scenarios)
    result.metrics = {"scenarios": metrics,
                      "imdb_train_dense_vs_packed": metrics[f"{first} | train (fwd+bwd)"]["speedup"],
                      "imdb_train_dense_vs_packed_bucketed": metrics[f"{second} | train (fwd+bwd)"]["speedup"]}
    result.emit(args)
    return result


if __name__ == "__main__":
    main()
