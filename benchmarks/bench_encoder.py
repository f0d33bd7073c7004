"""The encoder's dense path vs the packed reference (cuDNN on a GPU) on IMDB- and POS-length batches.

    python benchmarks/bench_encoder.py                    # CPU: the IMDB classifier, fp32
    python benchmarks/bench_encoder.py --device cuda      # GPU: IMDB and POS models, fp32 and bf16, batch 32 and 128

The recipes' model sizes, both paths sharing the weights and the batches (lengths spread over the whole range
within each batch, and length-bucketed ones); real tokens/s of a training step and of the forward alone.
"""

from __future__ import annotations

import torch
from common import BenchResult, base_parser, compare, markdown_table, recipe_defaults, run, setup

from lstm_nlp.models import SequenceTagger, TaggerConfig
from lstm_nlp.models.classifier import ClassifierConfig, TextClassifier

VOCAB = 20000


def make_batch(lengths: list[int], model: str, gen: torch.Generator, device: torch.device) -> dict:
    """Random token ids (and, for the tagger, characters and tags) with the given real lengths."""
    mask = torch.arange(max(lengths))[None, :] < torch.tensor(lengths)[:, None]
    batch = {"token_ids": torch.randint(1, VOCAB, mask.shape, generator=gen).masked_fill(~mask, 0), "mask": mask}
    if model == "imdb":
        batch["labels"] = torch.randint(0, 2, (len(lengths),), generator=gen)
    else:
        word_len = torch.randint(1, 12, mask.shape, generator=gen)
        chars = torch.randint(2, 80, (*mask.shape, 12), generator=gen)
        batch["char_ids"] = chars.masked_fill(~(torch.arange(12) < word_len[..., None]) | ~mask[..., None], 0)
        batch["labels"] = torch.randint(0, 17, mask.shape, generator=gen).masked_fill(~mask, -100)
    return {k: v.to(device) for k, v in batch.items()}


def scenarios(model: str, size: int, smoke: bool, gen: torch.Generator, device) -> dict[str, list[dict]]:
    """Three unsorted batches spanning the whole length range, and four length-bucketed ones."""
    lo, hi = (5, 40) if smoke and model == "imdb" else {"imdb": (50, 400), "pos": (3, 60)}[model]
    mixed = [[lo, hi, *torch.randint(lo, hi + 1, (size - 2,), generator=gen).tolist()] for _ in range(3)]
    pool = sorted(torch.randint(lo, hi + 1, (4 * size,), generator=gen).tolist())
    return {f"mixed {lo}-{hi} (3 unsorted batches)": [make_batch(b, model, gen, device) for b in mixed],
            "bucketed (4 sorted batches)": [make_batch(pool[i:i + size], model, gen, device)
                                            for i in range(0, len(pool), size)]}


def build(model: str, impl: str, device: torch.device) -> torch.nn.Module:
    """The model at its recipe's sizes with the given encoder path."""
    r = recipe_defaults("imdb_sentiment" if model == "imdb" else "pos_tagger")
    sizes = {"vocab_size": VOCAB, "embedding_dim": r.embedding_dim, "hidden_size": r.hidden_size,
             "num_layers": r.num_layers, "encoder_impl": impl}
    torch.manual_seed(0)
    if model == "imdb":
        return TextClassifier(ClassifierConfig(num_labels=2, pooling=r.pooling, **sizes)).to(device)
    config = TaggerConfig(num_labels=17, char_encoder=r.char_encoder, char_vocab_size=80,
                          char_embedding_dim=r.char_dim, char_hidden_size=r.char_hidden, **sizes)
    return SequenceTagger(config).to(device)


def pass_over(model: torch.nn.Module, train: bool, dtype: torch.dtype | None):
    """A variant for ``compare()``: one training or inference pass over the batches, real tokens."""
    def run(batches: list[dict]) -> int:
        model.train(train)
        with torch.autocast(batches[0]["mask"].device.type, dtype=dtype or torch.float32, enabled=dtype is not None):
            for batch in batches:
                if train:
                    model.zero_grad(set_to_none=True)
                    model(**batch).loss.backward()
                else:
                    with torch.inference_mode():
                        model(**{k: v for k, v in batch.items() if k != "labels"})
        return sum(int(b["mask"].sum()) for b in batches)
    return run


def main(argv=None) -> BenchResult:
    parser = base_parser(__doc__.split("\n")[0])
    parser.add_argument("--device", choices=("cpu", "cuda"), default="cpu", help="where to time the encoder")
    parser.add_argument("--models", nargs="+", choices=["imdb", "pos"], help="default: imdb on CPU, both on CUDA")
    parser.add_argument("--batch-sizes", type=int, nargs="+", help="default: 32 on CPU, 32 and 128 on CUDA")
    parser.add_argument("--precisions", nargs="+", choices=["fp32", "bf16"], help="default: fp32 on CPU, both on CUDA")
    args = parser.parse_args(argv)
    repeats, device = setup(args), torch.device(args.device)
    gpu = device.type == "cuda"
    if gpu and not torch.cuda.is_available():
        raise SystemExit("--device cuda: no CUDA device here")
    sizes = args.batch_sizes or ([32, 128] if gpu else [8 if args.smoke else 32])
    gen, rows, metrics, acceptance = torch.Generator().manual_seed(0), [], {}, []
    for name in args.models or (["imdb", "pos"] if gpu else ["imdb"]):
        dense, packed = build(name, "dense", device), build(name, "packed", device)
        packed.load_state_dict(dense.state_dict())
        for size in sizes:
            for scenario, batches in scenarios(name, size, args.smoke, gen, device).items():
                for precision in args.precisions or (["fp32", "bf16"] if gpu else ["fp32"]):
                    dtype = torch.bfloat16 if precision == "bf16" else None
                    for mode, train in (("train (fwd+bwd)", True), ("inference (fwd)", False)):
                        timings = compare({"dense": pass_over(dense, train, dtype), "packed": pass_over(
                            packed, train, dtype)}, batches, repeats, sync=torch.cuda.synchronize if gpu else lambda: 0)
                        d, p = timings["dense"].rate, timings["packed"].rate
                        spread = ", ".join(f"{int(b['mask'].sum(-1).min())}-{int(b['mask'].sum(-1).max())}"
                                           for b in batches)
                        rows.append([f"{name}, batch {size}", scenario, precision, mode, spread, f"{d:,.0f}",
                                     f"{p:,.0f}", f"**{d / p:.1f}x**"])
                        metrics[" | ".join(rows[-1][:4])] = {"dense": d, "packed": p, "speedup": d / p}
                        if (name, size, precision, train) == ("imdb", sizes[0], "fp32", True):
                            acceptance.append(d / p)  # the CPU targets: mixed, then bucketed
    result = BenchResult("encoder_cuda" if gpu else "encoder", metrics={"scenarios": metrics})
    result.add_section(f"Encoder fast path: dense vs packed ({torch.cuda.get_device_name(0) if gpu else 'CPU'})", (
        "The IMDB recipe's `TextClassifier` sizes and the POS recipe's word + character `SequenceTagger`; real "
        f"tokens/s, median of {repeats} interleaved repeats after a warm-up; both paths share the weights and the "
        "batches.\n\n") + markdown_table(["model", "batches", "precision", "mode", "lengths per batch",
                                          "dense tokens/s", "packed tokens/s", "dense / packed"], rows))
    if not gpu and acceptance:
        result.metrics |= {"imdb_train_dense_vs_packed": acceptance[0],
                           "imdb_train_dense_vs_packed_bucketed": acceptance[1]}
        result.target("IMDB-length batches (50-400 tokens) train on CPU >= 5x the packed path's real tokens/s: "
                      "unsorted batches (lengths uniform over 50-400 within each batch)",
                      "imdb_train_dense_vs_packed", ">= 5", "{:.1f}x")
        result.target("... the same with length-bucketed batches (sorted pools, as the toolkit's sampler builds them)",
                      "imdb_train_dense_vs_packed_bucketed", ">= 5", "{:.1f}x")
    result.emit(args)
    return result


if __name__ == "__main__":
    run(main)
