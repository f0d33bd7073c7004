"""Train in-domain word vectors (fastText or word2vec, with gensim) on a raw-text corpus.

    python recipes/train_vectors.py --corpus $LSTM_NLP_DATA/imdb/unsup.jsonl $LSTM_NLP_DATA/imdb/train.jsonl \\
        --output runs/vectors/imdb.fasttext.128d.vec
    python recipes/imdb_sentiment.py ... --vectors runs/vectors/imdb.fasttext.128d.vec  # where a recipe takes --vectors

The corpus is streamed (lstm_nlp.data.corpus.TextCorpus) and tokenized once with the toolkit's own
tokenizer (spaCy rules, lower-cased, <br /> removed: what the classifier recipes use) into a
temporary one-text-a-line file, which gensim then reads with all --workers threads per epoch.
Writes the word2vec/fastText text format (``COUNT DIM`` header, then ``word v1 ... vD``) that
lstm_nlp.data.vectors.read_vectors and the recipes' --vectors read. Needs the ``pretrain`` extra
(``pip install -e ".[pretrain]"``, i.e. gensim).
"""

from __future__ import annotations

import argparse
import collections
import logging
import tempfile
import time
from pathlib import Path

from lstm_nlp.argtypes import NON_NEGATIVE_INT, POSITIVE_INT, SEED
from lstm_nlp.data.corpus import TextCorpus
from lstm_nlp.data.tokenizers import TextTokenizer
from lstm_nlp.errors import ConfigError
from lstm_nlp.outputs import output_file_problem
from lstm_nlp.recipe_kit import bundled_sample, command_parser, run, setup_logging

logger = logging.getLogger("lstm_nlp")
SAMPLE = bundled_sample(__file__, "imdb", "train.jsonl")


def parse_args(argv=None) -> argparse.Namespace:
    parser = command_parser(__doc__.split("\n")[0])
    parser.add_argument("--corpus", nargs="+", default=[str(SAMPLE)],
                        help="raw text: .jsonl/.csv/.parquet/.txt files (.gz ok), folders of them, or hub ids")
    parser.add_argument("--text-column", default="text", help="column of the texts (jsonl/csv/parquet/hub data)")
    parser.add_argument("--split", default="train", help="split of hub datasets (stanfordnlp/imdb: unsupervised)")
    parser.add_argument("--output", default="runs/vectors/vectors.vec", help="vectors text file to write (.gz ok)")
    parser.add_argument("--model", choices=["fasttext", "word2vec"], default="fasttext",
                        help="fasttext also learns character n-grams (vectors for unseen words); word2vec is faster")
    parser.add_argument("--dim", type=POSITIVE_INT, default=128, help="vector size (the recipes' --embedding-dim)")
    parser.add_argument("--window", type=POSITIVE_INT, default=5, help="context words on each side")
    parser.add_argument("--min-count", type=POSITIVE_INT, default=3, help="rarer words get no vector of their own")
    parser.add_argument("--epochs", type=POSITIVE_INT, default=5, help="passes over the corpus")
    parser.add_argument("--sg", action=argparse.BooleanOptionalAction, default=True,
                        help="skip-gram (better for rare words) instead of CBOW (faster)")
    parser.add_argument("--max-texts", type=NON_NEGATIVE_INT, default=0, help="read at most N texts (0: all)")
    parser.add_argument("--no-lower", action="store_true", help="keep case (default: lower-case, like the recipes)")
    parser.add_argument("--workers", type=POSITIVE_INT, default=2, help="gensim threads")
    parser.add_argument("--seed", type=SEED, default=1, help="random seed (results are exactly repeatable "
                                                             "only with --workers 1)")
    args = parser.parse_args(argv)
    problem = output_file_problem(args.output, option="--output", make_parents=True)
    if problem is not None:  # before the whole run, not at its end
        parser.error(problem)
    return args


def gensim_module():
    """``gensim.models``, or a clear error naming the extra that installs it."""
    try:
        from gensim import models
    except ImportError:
        raise ConfigError('training vectors needs gensim: pip install "lstm_nlp[pretrain]" (or pip install '
                          '"gensim>=4.3")') from None
    return models


def write_token_lines(corpus: TextCorpus, tokenizer: TextTokenizer, path: Path, *,
                      min_count: int = 1) -> tuple[int, int]:
    """Tokenizes ``corpus`` into ``path``, one text a line, tokens separated by spaces; returns (texts, tokens).

    Raises:
        ConfigError: no text, or no word as frequent as ``min_count`` (``--min-count``: gensim would
            stop with "you must first build vocabulary").
    """
    texts = tokens = 0
    counts: collections.Counter[str] = collections.Counter()
    with path.open("w", encoding="utf-8") as out:
        for words in corpus.tokens(tokenizer):
            words = [w for w in words if w.strip()]
            if words:
                out.write(" ".join(words) + "\n")
                texts += 1
                tokens += len(words)
                counts.update(words)
    if texts == 0:
        raise ConfigError(f"the corpus {list(map(str, corpus.sources))} holds no text")
    (word, top), = counts.most_common(1)
    if top < min_count:
        raise ConfigError(f"--min-count {min_count} leaves no word to train a vector for: the most frequent word "
                          f"of --corpus ({word!r}) occurs {top} times")
    return texts, tokens


def main(argv=None) -> dict:
    setup_logging()
    args = parse_args(argv)
    models = gensim_module()
    start = time.perf_counter()
    corpus = TextCorpus(args.corpus, text_column=args.text_column, split=args.split, limit=args.max_texts or None,
                        rank=0, world_size=1)
    tokenizer = TextTokenizer("spacy", lower=not args.no_lower)
    output = Path(args.output)
    output.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=output.parent) as tmp:
        lines = Path(tmp) / "tokens.txt"
        texts, tokens = write_token_lines(corpus, tokenizer, lines, min_count=args.min_count)
        logger.info("tokenized %d texts, %d tokens in %.0f s", texts, tokens, time.perf_counter() - start)
        options = dict(vector_size=args.dim, window=args.window, min_count=args.min_count, sg=int(args.sg),
                       epochs=args.epochs, workers=args.workers, seed=args.seed)
        model_class = models.FastText if args.model == "fasttext" else models.Word2Vec
        model = model_class(corpus_file=str(lines), **options)
    model.wv.save_word2vec_format(str(output))
    seconds = time.perf_counter() - start
    logger.info("wrote %d vectors of size %d to %s (%.0f s in all)", len(model.wv), args.dim, output, seconds)
    return {"texts": texts, "tokens": tokens, "vectors": len(model.wv), "seconds": round(seconds, 1)}


if __name__ == "__main__":
    run(main)
