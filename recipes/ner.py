"""Named-entity recognition (CoNLL-2003 format) with a BiLSTM-CRF over word + character-CNN features.

    python recipes/ner.py                           # the bundled sample in data/ner (seconds)
    python recipes/ner.py \
        --train $LSTM_NLP_DATA/conll2003/train.txt \
        --dev   $LSTM_NLP_DATA/conll2003/dev.txt --output-dir runs/ner_conll03
    python recipes/ner.py ... --vectors glove.6B.100d.txt.gz --extend-vocab   # with pretrained vectors

Files have whitespace columns ``token POS chunk NER`` (tags in column 3, IOB2; ``--scheme iob1``
converts IOB1 files). Scores are seqeval entity-level precision/recall/F1 (strict IOB2); the best
epoch is selected on dev F1. Writes OUTPUT_DIR/metrics.json ({split: {f1, precision, recall, ...}}),
metrics.jsonl (per epoch), report_<split>.txt (per entity type) and the bundle OUTPUT_DIR/model/.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

from lstm_nlp.data import Vocab
from lstm_nlp.data.conll import read_conll
from lstm_nlp.data.vectors import embedding_matrix, extend_vocab, load_embedding, read_vectors, vocab_keep_set
from lstm_nlp.models import SequenceTagger, TaggerConfig
from lstm_nlp.modules.crf import allowed_transitions
from lstm_nlp.pipelines import TaggingPipeline
from lstm_nlp.pipelines.tagging import build_char_vocab
from lstm_nlp.recipe_args import SAMPLE_DIR, recipe_parser, setup_logging, trainer_config, save_model, write_metrics, run
from lstm_nlp.training import Trainer, seed_everything

logger = logging.getLogger("lstm_nlp")


def parse_args(argv=None):
    parser = recipe_parser(__doc__.split("\n")[0], epochs=30, batch_size=16, lr=1e-3, output_dir="runs/ner",
                           scheduler="plateau", lr_patience=2)
    data = parser.add_argument_group("columns")
    data.add_argument("--token-column", type=int, default=0, help="0-based column of the words")
    data.add_argument("--tag-column", type=int, default=3, help="0-based column of the tags (-1: last)")
    data.add_argument("--scheme", choices=["iob1", "iob2"], default="iob2", help="tag scheme of the files")
    data.add_argument("--max-length", type=int, default=None, help="train on the first N tokens of longer sentences")
    model = parser.add_argument_group("model")
    model.add_argument("--embedding-dim", type=int, default=100, help="ignored with --vectors (their size)")
    model.add_argument("--hidden-size", type=int, default=200, help="LSTM size per direction")
    model.add_argument("--num-layers", type=int, default=1)
    model.add_argument("--dropout", type=float, default=0.5)
    model.add_argument("--min-freq", type=int, default=2, help="rarer training words become <unk>")
    model.add_argument("--word-dropout", type=float, default=0.05, help="training words replaced by <unk>")
    model.add_argument("--cased-words", action="store_true",
                       help="keep case in the word vocabulary (default: lower-cased; the characters keep case)")
    model.add_argument("--char-encoder", choices=["none", "cnn", "lstm"], default="cnn", help="character features")
    model.add_argument("--char-dim", type=int, default=30, help="character vector size")
    model.add_argument("--char-hidden", type=int, default=50, help="CNN filters or char-LSTM size per direction")
    model.add_argument("--head", choices=["softmax", "crf"], default="crf")
    vectors = parser.add_argument_group("pretrained vectors")
    vectors.add_argument("--vectors", help="GloVe / word2vec / fastText text file (.gz ok)")
    vectors.add_argument("--freeze-vectors", action="store_true", help="do not fine-tune the vectors")
    vectors.add_argument("--extend-vocab", action="store_true", help="add the vectors' words to the vocabulary")
    args = parser.parse_args(argv)
    if args.train is None:
        args.train, args.dev, args.test = (str(SAMPLE_DIR / "ner" / f"{s}.txt") for s in ("train", "dev", "test"))
    return args


def main(argv=None) -> dict:
    args = parse_args(argv)
    setup_logging()
    seed_everything(args.seed)
    load = lambda path: read_conll(path, token_column=args.token_column, tag_column=args.tag_column,  # noqa: E731
                                   scheme=args.scheme)
    train = load(args.train)
    dev = load(args.dev) if args.dev else None
    logger.info("train: %d sentences%s", len(train), f", dev: {len(dev)}" if dev else "")

    words = Vocab.build(train["tokens"], min_freq=args.min_freq, lower=not args.cased_words)
    labels = Vocab.build_labels(train["tags"])
    chars = build_char_vocab(train["tokens"])
    matrix = None
    if args.vectors:
        vectors = read_vectors(args.vectors, keep=None if args.extend_vocab else vocab_keep_set(words))
        words = extend_vocab(words, vectors) if args.extend_vocab else words
        matrix, coverage = embedding_matrix(words, vectors)
        logger.info("pretrained vectors: %s", coverage)
    config = TaggerConfig(vocab_size=len(words), num_labels=len(labels), hidden_size=args.hidden_size,
                          embedding_dim=args.embedding_dim if matrix is None else matrix.shape[1],
                          num_layers=args.num_layers, dropout=args.dropout, char_encoder=args.char_encoder,
                          char_vocab_size=len(chars), char_embedding_dim=args.char_dim,
                          char_hidden_size=args.char_hidden, head=args.head, freeze_embeddings=args.freeze_vectors,
                          word_dropout=args.word_dropout)
    model = SequenceTagger(config, constraints=allowed_transitions(labels.itos) if args.head == "crf" else None)
    if matrix is not None:
        load_embedding(model.embedding.embedding, matrix, freeze=args.freeze_vectors)
    pipeline = TaggingPipeline(model, words, labels, chars=chars, scheme="iob2", tag_column=args.tag_column,
                               token_column=args.token_column, file_scheme=args.scheme)

    trainer = Trainer(
        pipeline.model,
        trainer_config(args, metric="f1"),
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
    print(metrics["dev" if dev is not None else "train"]["report"])
    print(json.dumps({split: {k: round(m[k], 4) for k in ("f1", "precision", "recall")} for split, m in metrics.items()}
                     | {"best_epoch": result.best_epoch, "model": str(Path(args.output_dir) / "model")}))
    return metrics


if __name__ == "__main__":
    run(main)
