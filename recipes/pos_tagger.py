"""Part-of-speech tagging with a BiLSTM over word + character-BiLSTM features: train, select on dev, evaluate, save.

    python recipes/pos_tagger.py                    # the bundled sample in data/pos (seconds)
    python recipes/pos_tagger.py \
        --train $LSTM_NLP_DATA/ud_english_ewt/en_ewt-ud-train.conllu \
        --dev   $LSTM_NLP_DATA/ud_english_ewt/en_ewt-ud-dev.conllu --output-dir runs/pos_ewt

Writes OUTPUT_DIR/metrics.json, metrics.jsonl (per epoch), report_<split>.txt and the model
bundle OUTPUT_DIR/model/ (load it with ``TaggingPipeline.from_pretrained`` or ``lstm-nlp predict``).
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

from lstm_nlp.data import Vocab, load_tagging_dataset
from lstm_nlp.models import SequenceTagger, TaggerConfig
from lstm_nlp.pipelines import TaggingPipeline
from lstm_nlp.pipelines.tagging import build_char_vocab
from lstm_nlp.recipe_args import SAMPLE_DIR, recipe_parser, setup_logging, trainer_config, save_model, write_metrics, run
from lstm_nlp.training import Trainer, seed_everything

logger = logging.getLogger("lstm_nlp")


def parse_args(argv=None):
    parser = recipe_parser(__doc__.split("\n")[0], epochs=30, batch_size=32, lr=2e-3, output_dir="runs/pos",
                           scheduler="plateau", lr_patience=1)
    model = parser.add_argument_group("model")
    model.add_argument("--tag-column", choices=["upos", "xpos"], default="upos", help="CoNLL-U tag column")
    model.add_argument("--max-length", type=int, default=None, help="train on the first N tokens of longer sentences")
    model.add_argument("--embedding-dim", type=int, default=100)
    model.add_argument("--hidden-size", type=int, default=128, help="LSTM size per direction")
    model.add_argument("--num-layers", type=int, default=2)
    model.add_argument("--dropout", type=float, default=0.33)
    model.add_argument("--min-freq", type=int, default=1, help="rarer training words become <unk>")
    model.add_argument("--word-dropout", type=float, default=0.1, help="training words replaced by <unk>")
    model.add_argument("--char-encoder", choices=["none", "cnn", "lstm"], default="lstm", help="character features")
    model.add_argument("--char-dim", type=int, default=50, help="character vector size")
    model.add_argument("--char-hidden", type=int, default=50, help="CNN filters or char-LSTM size per direction")
    model.add_argument("--head", choices=["softmax", "crf"], default="softmax")
    args = parser.parse_args(argv)
    if args.train is None:
        args.train, args.dev, args.test = (str(SAMPLE_DIR / "pos" / f"{s}.conllu") for s in ("train", "dev", "test"))
    return args


def main(argv=None) -> dict:
    args = parse_args(argv)
    setup_logging()
    seed_everything(args.seed)
    load = lambda path: load_tagging_dataset(path, tag_column=args.tag_column)  # noqa: E731
    train = load(args.train)
    dev = load(args.dev) if args.dev else None
    logger.info("train: %d sentences%s", len(train), f", dev: {len(dev)}" if dev else "")

    words = Vocab.build(train["tokens"], min_freq=args.min_freq)
    labels = Vocab.build_labels(train["tags"])
    chars = build_char_vocab(train["tokens"])
    config = TaggerConfig(vocab_size=len(words), num_labels=len(labels), embedding_dim=args.embedding_dim,
                          hidden_size=args.hidden_size, num_layers=args.num_layers, dropout=args.dropout,
                          char_encoder=args.char_encoder, char_vocab_size=len(chars), char_embedding_dim=args.char_dim,
                          char_hidden_size=args.char_hidden, head=args.head, word_dropout=args.word_dropout)
    pipeline = TaggingPipeline(SequenceTagger(config), words, labels, chars=chars, scheme="token",
                               tag_column=args.tag_column)

    trainer = Trainer(
        pipeline.model,
        trainer_config(args, metric="accuracy"),
        train_loader=pipeline.loader(pipeline.encode(train, max_length=args.max_length), batch_size=args.batch_size,
                                     shuffle=True, seed=args.seed),
        evaluate=(lambda model: pipeline.evaluate(dev)) if dev is not None else None,
    )
    result = trainer.fit()

    metrics = {"train": pipeline.evaluate(train)}
    if dev is not None:
        metrics["dev"] = pipeline.evaluate(dev)
    if args.test:
        metrics["test"] = pipeline.evaluate(load(args.test))
    write_metrics(args.output_dir, metrics)
    save_model(pipeline, args.output_dir)
    final = "dev" if dev is not None else "train"
    print(metrics[final]["report"])
    print(json.dumps({split: {"accuracy": round(m["accuracy"], 4)} for split, m in metrics.items()}
                     | {"best_epoch": result.best_epoch, "model": str(Path(args.output_dir) / "model")}))
    return metrics


if __name__ == "__main__":
    run(main)
