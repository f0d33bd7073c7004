"""The encoder on CUDA: cuDNN over packed sequences vs the dense path (grouped or one call), fp32 and bf16.

    python benchmarks/bench_gpu.py --json gpu.json         # needs a CUDA device; about a minute

Same model (``TextClassifier`` at the IMDB recipe's sizes, and the POS recipe's word+char
``SequenceTagger``), same batches, same run, interleaved repeats with ``torch.cuda.synchronize``
around each timed pass; real (unpadded) tokens per second. On CPU the dense path is the default
(oneDNN); on CUDA ``impl="auto"`` picks packed (cuDNN). This measures whether that choice holds.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import statistics
import time

import torch

from bench_encoder import VOCAB, make_batch
from lstm_nlp.models.classifier import ClassifierConfig, TextClassifier
from lstm_nlp.models.tagger import SequenceTagger, TaggerConfig
from lstm_nlp.modules import encoder as encoder_module

def classifier_batch(lengths: list[int], gen: torch.Generator, device) -> dict[str, torch.Tensor]:
    return {k: v.to(device) for k, v in make_batch(lengths, gen).items()}


def tagger_batch(lengths: list[int], gen: torch.Generator, device, chars: int = 80) -> dict[str, torch.Tensor]:
    batch = classifier_batch(lengths, gen, device)
    b, w = batch["mask"].shape
    word_len = torch.randint(1, 12, (b, w), generator=gen)
    char_mask = torch.arange(12)[None, None, :] < word_len[..., None]
    char_ids = torch.randint(2, chars, (b, w, 12), generator=gen).masked_fill(~char_mask, 0)
    char_ids = char_ids.masked_fill(~batch["mask"].cpu()[..., None], 0)
    labels = torch.randint(0, 17, (b, w), generator=gen).masked_fill(~batch["mask"].cpu(), -100)
    return {"token_ids": batch["token_ids"], "mask": batch["mask"], "char_ids": char_ids.to(device),
            "labels": labels.to(device)}


def timed(model, batches, train: bool, dtype) -> tuple[int, float]:
    tokens = sum(int(b["mask"].sum()) for b in batches)
    sync = torch.cuda.synchronize if batches[0]["mask"].is_cuda else (lambda: None)
    sync()
    start = time.perf_counter()
    with torch.autocast(batches[0]["mask"].device.type, dtype=dtype or torch.float32, enabled=dtype is not None):
        if train:
            model.train()
            for batch in batches:
                model.zero_grad(set_to_none=True)
                model(**batch).loss.backward()
        else:
            model.eval()
            with torch.inference_mode():
                for batch in batches:
                    model(**{k: v for k, v in batch.items() if k != "labels"})
    sync()
    return tokens, time.perf_counter() - start


@contextlib.contextmanager
def one_dense_call():
    """Disables the dense path's length grouping: every batch is one call per layer and direction."""
    saved = encoder_module._MIN_EFFICIENCY
    encoder_module._MIN_EFFICIENCY = 0.0
    try:
        yield
    finally:
        encoder_module._MIN_EFFICIENCY = saved


def compare(name: str, make_model, batches, repeats: int) -> list[dict]:
    """Tokens/s of the packed path, the dense path with length grouping and the dense path in one call."""
    torch.manual_seed(0)
    packed = make_model("packed")
    dense = make_model("dense")
    dense.load_state_dict(packed.state_dict())
    variants = {"packed": (packed, contextlib.nullcontext), "dense, grouped": (dense, contextlib.nullcontext),
                "dense, one call": (dense, one_dense_call)}
    rows = []
    for precision, dtype in (("fp32", None), ("bf16", torch.bfloat16)):
        for mode, train in (("train", True), ("inference", False)):
            results = {variant: [] for variant in variants}
            for r in range(repeats + 1):  # round 0 warms up cuDNN plans and the allocator
                for variant, (model, context) in variants.items():
                    with context():
                        tokens, seconds = timed(model, batches, train, dtype)
                    if r:
                        results[variant].append(tokens / seconds)
            medians = {variant: statistics.median(v) for variant, v in results.items()}
            rows.append({"model": name, "precision": precision, "mode": mode,
                         **{f"{variant} tok/s": value for variant, value in medians.items()}})
            print(f"{name:34s} {precision} {mode:9s} " + "  ".join(f"{v} {x:11,.0f}" for v, x in medians.items()),
                  flush=True)
    return rows


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--json", help="write the rows here")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--batches", type=int, default=8)
    parser.add_argument("--device", default="cuda", help="cuda (the point), or cpu to check the script")
    args = parser.parse_args(argv)
    device = torch.device(args.device)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise SystemExit("bench_gpu.py needs a CUDA device (or --device cpu to check the script)")
    name = torch.cuda.get_device_name(0) if device.type == "cuda" else "cpu"
    print(torch.__version__, name, "cudnn", torch.backends.cudnn.version(), flush=True)
    gen = torch.Generator().manual_seed(0)
    rows = []
    for batch_size in (32, 128):
        imdb = [classifier_batch(torch.randint(50, 401, (batch_size,), generator=gen).tolist(), gen, device)
                for _ in range(args.batches)]
        config = ClassifierConfig(vocab_size=VOCAB, num_labels=2)
        make = lambda impl: TextClassifier(ClassifierConfig(**{**config.__dict__, "encoder_impl": impl})).to(device)  # noqa: E731
        rows += compare(f"IMDB classifier, batch {batch_size}", make, imdb, args.repeats)
        pos = [tagger_batch(torch.randint(3, 60, (batch_size,), generator=gen).tolist(), gen, device)
               for _ in range(args.batches)]
        tconfig = TaggerConfig(vocab_size=VOCAB, num_labels=17, embedding_dim=100, hidden_size=128, num_layers=2,
                               char_encoder="lstm", char_vocab_size=80)
        make = lambda impl: SequenceTagger(TaggerConfig(**{**tconfig.__dict__, "encoder_impl": impl})).to(device)  # noqa: E731
        rows += compare(f"POS tagger (char LSTM), batch {batch_size}", make, pos, args.repeats)
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump({"device": name, "torch": torch.__version__, "rows": rows}, f, indent=1)


if __name__ == "__main__":
    main()
