"""Padding efficiency (real tokens / padded tokens) of the default batch sampler for POS and IMDB.

    python benchmarks/bench_padding.py            # EWT train + IMDB train (spaCy lengths, cached)
    python benchmarks/bench_padding.py --smoke

The batches are those of each pipeline's own ``loader`` (training: shuffled, length-bucketed;
evaluation: sorted) at the recipe's default batch size, over several epochs (different shuffles).
"""

from __future__ import annotations

import time

from common import (POS_DEFAULTS, BenchResult, base_parser, ewt_paths, imdb_token_lengths, markdown_table, median,
                    recipe_defaults, setup)
from lstm_nlp.data import Vocab, load_tagging_dataset, padding_efficiency
from lstm_nlp.models import SequenceTagger, TaggerConfig
from lstm_nlp.pipelines import TaggingPipeline

EPOCHS = 5


def tagging_loader_factory():
    words = Vocab.build([["x"]])
    labels = Vocab.build_labels([["X"]])
    pipeline = TaggingPipeline(SequenceTagger(TaggerConfig(vocab_size=len(words), num_labels=1)), words, labels)
    return pipeline.loader


def classification_loader_factory():
    from lstm_nlp.data.tokenizers import TextTokenizer
    from lstm_nlp.models.classifier import ClassifierConfig, TextClassifier
    from lstm_nlp.pipelines.classification import ClassificationPipeline

    words = Vocab.build([["x"]])
    labels = Vocab.build_labels([["neg", "pos"]])
    model = TextClassifier(ClassifierConfig(vocab_size=len(words), num_labels=2))
    return ClassificationPipeline(model, words, labels, TextTokenizer("spacy")).loader


def efficiencies(loader_factory, lengths: list[int], batch_size: int) -> dict:
    examples = [{"token_ids": [1] * n, "index": i} for i, n in enumerate(lengths)]
    train_loader = loader_factory(examples, batch_size=batch_size, shuffle=True, seed=1)
    per_epoch = []
    for epoch in range(1, EPOCHS + 1):
        train_loader.batch_sampler.set_epoch(epoch)
        per_epoch.append(padding_efficiency(train_loader.batch_sampler.batches(), lengths))
    eval_loader = loader_factory(examples, batch_size=batch_size, shuffle=False)
    return {"train": median(per_epoch), "train_min": min(per_epoch),
            "eval": padding_efficiency(list(eval_loader.batch_sampler), lengths),
            "unbucketed": _unbucketed(lengths, batch_size)}


def _unbucketed(lengths: list[int], batch_size: int) -> float:
    """Random batches without length bucketing (a plain shuffled DataLoader), for reference."""
    import random

    order = list(range(len(lengths)))
    random.Random(0).shuffle(order)
    return padding_efficiency([order[i:i + batch_size] for i in range(0, len(order), batch_size)], lengths)


def main(argv=None) -> BenchResult:
    args = base_parser(__doc__.split("\n")[0]).parse_args(argv)
    setup(args)
    rows, metrics, notes = [], {}, []

    train_path, _ = ewt_paths(args.smoke)
    pos_lengths = [len(t) for t in load_tagging_dataset(train_path)["tokens"]]
    pos_batch = POS_DEFAULTS["batch_size"]
    pos = efficiencies(tagging_loader_factory(), pos_lengths, pos_batch)
    rows.append(["POS (EWT train)" if not args.smoke else "POS (sample)", f"{len(pos_lengths):,}",
                 f"{sum(pos_lengths) / len(pos_lengths):.1f}", pos_batch, f"{100 * pos['train']:.2f}%",
                 f"{100 * pos['train_min']:.2f}%", f"{100 * pos['eval']:.2f}%", f"{100 * pos['unbucketed']:.1f}%"])
    metrics["pos_padding_efficiency"] = pos["train"]

    imdb_args = recipe_defaults("imdb_sentiment")
    imdb_batch = getattr(imdb_args, "batch_size", 32) if imdb_args else 32
    max_length = getattr(imdb_args, "max_length", None) if imdb_args else None
    start = time.perf_counter()
    lengths, how = imdb_token_lengths(smoke=args.smoke)
    if max_length:
        lengths = [min(n, max_length) for n in lengths]
    lengths = [max(n, 1) for n in lengths]  # an empty text becomes one <unk> in the pipeline
    try:
        factory = classification_loader_factory()
        source = "ClassificationPipeline.loader"
    except ImportError:
        factory, source = tagging_loader_factory(), "TaggingPipeline.loader (the classifier pipeline was missing)"
    imdb = efficiencies(factory, lengths, imdb_batch)
    rows.append(["IMDB (train.jsonl)" if not args.smoke else "IMDB (sample lines)", f"{len(lengths):,}",
                 f"{sum(lengths) / len(lengths):.1f}", imdb_batch, f"{100 * imdb['train']:.2f}%",
                 f"{100 * imdb['train_min']:.2f}%", f"{100 * imdb['eval']:.2f}%", f"{100 * imdb['unbucketed']:.1f}%"])
    metrics["imdb_padding_efficiency"] = imdb["train"]
    notes.append(f"IMDB lengths: {how} ({time.perf_counter() - start:.0f} s here); truncation at max_length="
                 f"{max_length} ({'from recipes/imdb_sentiment.py' if imdb_args else 'no IMDB recipe yet'}); "
                 f"IMDB batches from {source}.")

    result = BenchResult("padding")
    result.add_section(
        "Padding efficiency of the default sampler",
        "Real tokens / padded tokens of the batches each pipeline's `loader` yields at the recipe's batch size: "
        f"training (shuffled, length-bucketed; median and worst of {EPOCHS} epochs), evaluation (sorted), and "
        "plain shuffled batches without bucketing for reference.\n\n"
        + markdown_table(["task", "examples", "mean length", "batch", "train (median)", "train (worst epoch)",
                          "eval (sorted)", "no bucketing"], rows)
        + "\n\n" + "\n".join(f"- {n}" for n in notes))
    result.metrics = metrics
    result.emit(args)
    return result


if __name__ == "__main__":
    main()
