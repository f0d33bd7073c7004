"""Pretrain forward + backward word-level LSTM language models (adaptive softmax) on raw text.

    python recipes/pretrain_lm.py                                   # the bundled IMDB sample (seconds)
    python recipes/pretrain_lm.py --corpus $LSTM_NLP_DATA/imdb/unsup.jsonl $LSTM_NLP_DATA/imdb/train.jsonl \\
        --vectors runs/vectors/imdb.fasttext.128d.vec --output-dir runs/lm
    torchrun --nproc_per_node 2 recipes/pretrain_lm.py --corpus ...    # each rank reads its own shard

The corpus is streamed and tokenized on the fly (memory stays flat as it grows): one pass builds
the vocabulary and counts each rank's tokens, then every epoch reads it again. The first
--heldout-texts texts are held out and give the perplexity that selects the best epoch. Writes
OUTPUT_DIR/metrics.json, metrics.jsonl, checkpoints/ (--resume continues) and the bundle
OUTPUT_DIR/model/ (config.json, model.safetensors, words.vocab.json), which the classifier and
tagger warm starts read (lstm_nlp.models.warm_start.init_from).
"""

from __future__ import annotations

import logging
import math
import time
from pathlib import Path

import torch

from lstm_nlp.argtypes import NON_NEGATIVE_INT, POSITIVE_INT, PROBABILITY, int_at_least, int_list
from lstm_nlp.data.corpus import TextCorpus
from lstm_nlp.data.lm_batches import LMBatches, batches_per_epoch, build_lm_vocab
from lstm_nlp.data.tokenizers import TextTokenizer
from lstm_nlp.errors import ConfigError
from lstm_nlp.models.language_model import BiLanguageModel, LanguageModelConfig
from lstm_nlp.recipe_kit import bundled_sample, recipe_parser, run, setup_logging, trainer_config, write_metrics
from lstm_nlp.recipe_kit.args import add_encoder_option
from lstm_nlp.recipe_kit.outputs import MODEL_DIR
from lstm_nlp.recipe_kit.pretrained import load_vectors, warm_start
from lstm_nlp.training import Trainer, is_main_process, seed_everything

logger = logging.getLogger("lstm_nlp")
SAMPLE = bundled_sample(__file__, "imdb", "train.jsonl")


def parse_args(argv=None):
    parser = recipe_parser(__doc__.split("\n")[0], epochs=1, batch_size=64, lr=2e-3, output_dir="runs/lm",
                           data=False, grad_clip=1.0)
    data = parser.add_argument_group("corpus")
    data.add_argument("--corpus", nargs="+", default=[str(SAMPLE)],
                      help="raw text: .jsonl/.csv/.parquet/.txt files (.gz ok), folders of them, or hub ids")
    data.add_argument("--text-column", default="text", help="column of the texts (jsonl/csv/parquet/hub data)")
    data.add_argument("--split", default="train", help="split of hub datasets (stanfordnlp/imdb: unsupervised)")
    data.add_argument("--max-texts", type=NON_NEGATIVE_INT, default=0, help="train on at most N texts (0: all)")
    data.add_argument("--repeat", type=POSITIVE_INT, default=1,
                      help="read the corpus N times per epoch (benchmarks)")
    data.add_argument("--heldout-texts", type=POSITIVE_INT, default=500,
                      help="the corpus' first N texts are held out for perplexity")
    data.add_argument("--window", type=int_at_least(2), default=64, help="tokens per training window (BPTT length)")
    data.add_argument("--shuffle-buffer", type=NON_NEGATIVE_INT, default=2048, help="windows mixed before batching")
    data.add_argument("--data-shards", type=POSITIVE_INT, default=None, metavar="N",
                      help="cut the corpus into N shards (default: one per process), each read as its own stream; "
                           "one process with --data-shards 2 and twice the --batch-size trains batch for batch as "
                           "two processes do (to reproduce or check a multi-process run on one machine)")
    data.add_argument("--max-vocab", type=POSITIVE_INT, default=50000, help="most frequent words kept")
    data.add_argument("--min-freq", type=POSITIVE_INT, default=3, help="rarer words become <unk>")
    model = parser.add_argument_group("model")
    model.add_argument("--embedding-dim", type=POSITIVE_INT, default=128,
                       help="word vector size (ignored with --vectors)")
    add_encoder_option(model)  # match the downstream model's --encoder to warm-start its encoder
    model.add_argument("--hidden-size", type=POSITIVE_INT, default=128,
                       help="encoder size per direction (match the downstream model's --hidden-size to warm-start it)")
    model.add_argument("--num-layers", type=POSITIVE_INT, default=1, help="encoder layers per direction")
    model.add_argument("--dropout", type=PROBABILITY, default=0.1,
                       help="dropout on embeddings, between layers, on outputs")
    model.add_argument("--cutoffs", type=int_list, default="2000,10000",
                       help="adaptive softmax cluster boundaries (word ids)")
    model.add_argument("--vectors", help="initialise the embedding from these vectors: a text file (train_vectors.py "
                                         "writes one) or a known name (glove.6B.100d, ...; downloaded once into "
                                         "$LSTM_NLP_CACHE); the embedding takes their size")
    return parser.parse_args(argv)


def check_training_texts(source: dict, heldout_texts: int) -> None:
    """Refuses a ``--heldout-texts`` that holds out the whole corpus, before the vocabulary pass.

    Raises:
        ConfigError: ``--heldout-texts 2000 leaves 0 of the 1200 texts of --corpus for training``.
    """
    if next(iter(TextCorpus(**source, skip=heldout_texts, limit=1, rank=0, world_size=1)), None) is not None:
        return
    total = sum(1 for _ in TextCorpus(**source, limit=heldout_texts, rank=0, world_size=1))
    raise ConfigError(f"--heldout-texts {heldout_texts} leaves 0 of the {total} texts of --corpus for training; "
                      "lower it or add text")


def heldout_batches(corpus: TextCorpus, tokenizer: TextTokenizer, vocab, *, window: int, batch_size: int) -> list:
    """The held-out texts as full windows (the same layout as training, unshuffled), kept in memory."""
    loader = LMBatches(corpus, tokenizer, vocab, batch_size=batch_size, window=window, num_batches=1 << 62,
                       shuffle_buffer=0)
    batches, rows = [], []
    for ids in loader.windows():
        rows.append(ids)
        if len(rows) == batch_size:
            batches.append(torch.tensor(rows))
            rows = []
    if rows:
        batches.append(torch.tensor(rows))
    if not batches:
        raise ConfigError(f"the {corpus.limit} held-out texts hold fewer than --window {window} tokens; "
                          "raise --heldout-texts")
    return batches


@torch.no_grad()
def perplexity(model: BiLanguageModel, batches: list) -> dict:
    """Per-direction and mean perplexity over ``batches`` (weighted by predicted words)."""
    device = next(model.parameters()).device
    sums, count = [0.0, 0.0], 0
    for ids in batches:
        ids = ids.to(device)
        out = model(ids, mask=torch.ones_like(ids, dtype=torch.bool))
        n = int(out.predicted)
        sums[0] += float(out.forward_loss) * n
        sums[1] += float(out.backward_loss) * n
        count += n
    forward, backward = sums[0] / count, sums[1] / count
    return {"perplexity": math.exp((forward + backward) / 2), "forward_perplexity": math.exp(forward),
            "backward_perplexity": math.exp(backward)}


def main(argv=None) -> dict:
    setup_logging()
    args = parse_args(argv)
    seed_everything(args.seed)
    start = time.perf_counter()
    tokenizer = TextTokenizer("spacy")  # what the classifier recipes use: spaCy rules, lower-cased, no <br />
    source = dict(sources=args.corpus, text_column=args.text_column, split=args.split)
    train = TextCorpus(**source, skip=args.heldout_texts, limit=args.max_texts or None, repeat=args.repeat)
    heldout = TextCorpus(**source, limit=args.heldout_texts, rank=0, world_size=1)
    rank, world = train.shard()
    shards = args.data_shards or world
    if shards % world or args.batch_size % (shards // world):
        raise ConfigError(f"--data-shards {shards} must be a multiple of the {world} process(es), and --batch-size "
                          f"{args.batch_size} a multiple of the shards per process ({max(shards // world, 1)})")
    check_training_texts(source, args.heldout_texts)
    vocab, tokens_per_shard = build_lm_vocab(TextCorpus(**source, skip=args.heldout_texts,
                                                        limit=args.max_texts or None), tokenizer,
                                             min_freq=args.min_freq, max_size=args.max_vocab, world_size=shards)
    tokens_per_shard = [n * args.repeat for n in tokens_per_shard]
    num_batches = batches_per_epoch(tokens_per_shard, batch_size=args.batch_size // (shards // world),
                                    window=args.window)
    logger.info("vocabulary: %d words; %d training tokens in %d shard(s), %d batches of %dx%d per epoch; %.0f s",
                len(vocab), sum(tokens_per_shard), shards, num_batches, args.batch_size, args.window,
                time.perf_counter() - start)
    vectors = load_vectors(args, vocab)
    config = LanguageModelConfig(vocab_size=len(vocab), embedding_dim=vectors.dim if vectors else args.embedding_dim,
                                 hidden_size=args.hidden_size, num_layers=args.num_layers, dropout=args.dropout,
                                 cutoffs=tuple(args.cutoffs), encoder=args.encoder)
    model = BiLanguageModel(config)
    warm_start(model, vocab, args, vectors)
    loader = LMBatches(train, tokenizer, vocab, batch_size=args.batch_size, window=args.window,
                       num_batches=num_batches, shuffle_buffer=args.shuffle_buffer, seed=args.seed,
                       progress=not args.no_progress, shards=shards)
    held = heldout_batches(heldout, tokenizer, vocab, window=args.window, batch_size=args.batch_size)
    trainer = Trainer(model, trainer_config(args, metric="perplexity", mode="min", progress=False),
                      train_loader=loader, evaluate=lambda m: perplexity(m, held))
    result = trainer.fit()
    seconds = round(time.perf_counter() - start, 1)
    metrics = {"heldout": perplexity(model.eval(), held), "best_epoch": result.best_epoch, "vocab_size": len(vocab),
               "train_tokens": sum(tokens_per_shard), "wall_seconds": seconds,
               "train_tokens_per_s": [round(r["train_tokens_per_s"]) for r in result.history]}
    write_metrics(args.output_dir, metrics)
    if is_main_process():
        out = Path(args.output_dir)
        model.save_pretrained(out / MODEL_DIR, vocabs={"words": vocab},
                              meta={"tokenizer": tokenizer.settings(), "heldout_perplexity": metrics["heldout"]})
        logger.info("held-out perplexity %.1f (forward %.1f, backward %.1f); bundle in %s; %.0f s",
                    metrics["heldout"]["perplexity"], metrics["heldout"]["forward_perplexity"],
                    metrics["heldout"]["backward_perplexity"], out / MODEL_DIR, seconds)
    return metrics


if __name__ == "__main__":
    run(main)
