"""``TaggingPipeline``: a trained tagger with its vocabularies, from strings to tags and back.

It is what a bundle directory holds (model + ``words``/``labels`` (+ ``chars``) vocabularies +
task settings) and what ``lstm-nlp predict`` / ``evaluate`` and the tagging recipes use. Labelled
files are CoNLL-U (``.conllu``, ``.conllu.gz``) or CoNLL columns (anything else, e.g. CoNLL-2003).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

import torch
from datasets import Dataset
from torch.utils.data import DataLoader

from lstm_nlp.data.batching import BucketBatchSampler, collate_tagging
from lstm_nlp.data.conll import TagScheme as FileScheme
from lstm_nlp.data.conll import read_conll
from lstm_nlp.data.conllu import load_tagging_dataset
from lstm_nlp.data.tokenizers import SpacyTokenizer
from lstm_nlp.data.vocab import Vocab
from lstm_nlp.errors import BundleError, ConfigError, DataFormatError
from lstm_nlp.inference import paused_gc
from lstm_nlp.models.tagger import MODEL_TYPE, SequenceTagger
from lstm_nlp.serialization import read_bundle
from lstm_nlp.training.device import move_batch, resolve_device
from lstm_nlp.training.metrics import TagScheme, tagging_metrics

logger = logging.getLogger("lstm_nlp")

#: Longer words are cut to their first characters for the character encoder.
MAX_WORD_CHARS = 40
_CHAR_CACHE_SIZE = 200_000  # distinct spellings kept by TaggingPipeline featurize (a few tens of MB)


def is_conllu(path: str | os.PathLike) -> bool:
    """Whether ``path`` names a CoNLL-U file (``.conllu`` / ``.conllu.gz``); other files are CoNLL columns."""
    return str(path).lower().endswith((".conllu", ".conllu.gz"))


def build_char_vocab(sentences: Iterable[Sequence[str]], *, min_freq: int = 1) -> Vocab:
    """Character vocabulary (``<pad>`` = 0, ``<unk>`` = 1) of tokenized sentences, case kept."""
    return Vocab.build(("".join(tokens) for tokens in sentences), min_freq=min_freq)


class TaggingPipeline:
    """A :class:`SequenceTagger` plus the vocabularies that turn strings into ids.

    Args:
        model: The tagger.
        words: Word vocabulary (with ``<pad>`` = 0 and ``<unk>``; may be lower-casing).
        labels: Tag vocabulary (no specials).
        chars: Character vocabulary, required when the model has a character encoder.
        scheme: ``"token"`` (POS) or ``"iob2"`` (entity-level seqeval scores).
        tag_column: Which column of a labelled file holds the tags: ``"upos"``/``"xpos"`` for
            CoNLL-U, a 0-based column number (negative: from the end) for CoNLL column files.
        token_column: The word column of CoNLL column files.
        file_scheme: Tag scheme of CoNLL column files: ``"iob1"`` files are converted to IOB2 on reading.
    """

    def __init__(self, model: SequenceTagger, words: Vocab, labels: Vocab, *, chars: Vocab | None = None,
                 scheme: TagScheme = "token", tag_column: str | int = "upos", token_column: int = 0,
                 file_scheme: FileScheme = "none"):
        if model.config.vocab_size != len(words):
            raise BundleError(f"model expects {model.config.vocab_size} words but the vocabulary has {len(words)}")
        if model.config.num_labels != len(labels):
            raise BundleError(f"model expects {model.config.num_labels} labels but the label set has {len(labels)}")
        if model.config.char_encoder != "none":
            if chars is None:
                raise BundleError(f"the model has a {model.config.char_encoder!r} character encoder but no "
                                  "character vocabulary was given")
            if model.config.char_vocab_size != len(chars):
                raise BundleError(f"model expects {model.config.char_vocab_size} characters but the character "
                                  f"vocabulary has {len(chars)}")
        self.model = model
        self.words = words
        self.labels = labels
        self.chars = chars if model.config.char_encoder != "none" else None
        self.scheme = scheme
        self.tag_column = tag_column
        self.token_column = token_column
        self.file_scheme = file_scheme
        self._tokenizer: SpacyTokenizer | None = None
        self._char_ids: dict[str, tuple[int, ...]] = {}  # spelling -> char ids, filled by featurize

    @property
    def device(self) -> torch.device:
        return next(self.model.parameters()).device

    def to(self, device: str | torch.device) -> TaggingPipeline:
        self.model.to(resolve_device(device) if isinstance(device, str) else device)
        return self

    # ------------------------------------------------------------------ encoding
    def featurize(self, tokens: Sequence[str]) -> dict:
        """Model inputs of one sentence (without labels): ``token_ids`` (and ``char_ids``, one tuple per word)."""
        example = {"token_ids": self.words.encode(tokens)}
        if self.chars is not None:
            example["char_ids"] = [self._word_char_ids(word) for word in tokens]
        return example

    def _word_char_ids(self, word: str) -> tuple[int, ...]:
        """A word's character ids, cached: text repeats its words, and this runs for every token."""
        ids = self._char_ids.get(word)
        if ids is None:
            if len(self._char_ids) >= _CHAR_CACHE_SIZE:
                self._char_ids.clear()
            ids = self._char_ids[word] = tuple(self.chars.encode(word[:MAX_WORD_CHARS]))
        return ids

    def encode(self, dataset: Dataset, *, with_labels: bool = True, max_length: int | None = None) -> list[dict]:
        """Numericalizes a ``tokens``/``tags`` dataset; empty sentences are dropped (and counted in the log).

        Args:
            dataset: Sentences (``tokens``, optionally ``tags``).
            with_labels: Encode the ``tags`` too.
            max_length: Keep only the first ``max_length`` tokens of longer sentences (for training on
                files with runaway sentences; counted in the log). ``None``: keep everything.

        Returns:
            One dict per sentence with ``token_ids`` (and ``label_ids``) and ``index`` (its row in ``dataset``).
        """
        if "tokens" not in dataset.column_names:
            raise DataFormatError(f"dataset has columns {dataset.column_names}; expected 'tokens'")
        with_labels = with_labels and "tags" in dataset.column_names
        if max_length is not None and max_length < 1:
            raise ConfigError(f"max_length must be >= 1, got {max_length}")
        examples: list[dict] = []
        skipped = truncated = 0
        tags_column = dataset["tags"] if with_labels else None
        for index, tokens in enumerate(dataset["tokens"]):
            if not tokens:
                skipped += 1
                continue
            if max_length is not None and len(tokens) > max_length:
                tokens, truncated = tokens[:max_length], truncated + 1
            example = self.featurize(tokens)
            example["index"] = index
            if with_labels:
                example["label_ids"] = self.labels.encode(tags_column[index][:max_length])
            examples.append(example)
        if skipped:
            logger.warning("skipped %d empty sentence(s) out of %d", skipped, len(dataset))
        if truncated:
            logger.warning("cut %d sentence(s) longer than max_length=%d tokens", truncated, max_length)
        return examples

    def loader(self, examples: list[dict], *, batch_size: int = 32, shuffle: bool = False, seed: int = 0,
               num_replicas: int = 1, rank: int = 0) -> DataLoader:
        """A DataLoader with length-bucketed batches over encoded examples."""
        sampler = BucketBatchSampler([len(e["token_ids"]) for e in examples], batch_size, shuffle=shuffle,
                                     seed=seed, num_replicas=num_replicas, rank=rank)
        return DataLoader(examples, batch_sampler=sampler, collate_fn=collate_tagging,
                          pin_memory=self.device.type == "cuda")

    # ------------------------------------------------------------------ inference
    @torch.no_grad()
    def predict_tokens(self, sentences: Sequence[Sequence[str]], *, batch_size: int = 256) -> list[list[str]]:
        """Tags pre-tokenized sentences; output is in input order (empty sentence -> empty list)."""
        self.model.eval()
        results: list[list[str]] = [[] for _ in sentences]
        examples = []
        for index, tokens in enumerate(sentences):
            if len(tokens):
                examples.append({**self.featurize(tokens), "index": index})
        if not examples:
            return results
        for batch in self.loader(examples, batch_size=batch_size):
            indices = batch["index"].tolist()
            batch = move_batch(batch, self.device)
            output = self.model(**{k: v for k, v in batch.items() if k not in ("lengths", "index", "labels")})
            for index, ids in zip(indices, self.model.decode(output)):
                results[index] = self.labels.decode(ids)
        return results

    def tokenize(self, texts: Iterable[str]) -> list[list[str]]:
        """spaCy English tokenization of raw text lines."""
        if self._tokenizer is None:
            self._tokenizer = SpacyTokenizer("en")
        return list(self._tokenizer.pipe(texts))

    def predict_text(self, texts: Sequence[str], *, batch_size: int = 256) -> list[list[tuple[str, str]]]:
        """Tokenizes and tags raw text lines: one ``[(token, tag), ...]`` list per line."""
        sentences = self.tokenize(texts)
        tags = self.predict_tokens(sentences, batch_size=batch_size)
        return [list(zip(tokens, seq)) for tokens, seq in zip(sentences, tags)]

    def predict_lines(self, lines: Iterable[str], *, batch_size: int = 256, chunk_size: int = 4096) -> Iterator[str]:
        """Streams ``token/TAG token/TAG ...`` for raw text lines, in input order, ``chunk_size`` lines at a time."""
        chunk: list[str] = []
        for line in lines:
            chunk.append(line.rstrip("\r\n"))
            if len(chunk) >= chunk_size:
                yield from self._format_lines(chunk, batch_size)
                chunk = []
        if chunk:
            yield from self._format_lines(chunk, batch_size)

    def _format_lines(self, texts: list[str], batch_size: int) -> Iterator[str]:
        with paused_gc():  # one bounded chunk; see paused_gc
            tagged = self.predict_text(texts, batch_size=batch_size)
        for pairs in tagged:
            yield " ".join(f"{token}/{tag}" for token, tag in pairs)

    def read_labelled(self, path: str | os.PathLike, *, tag_column: str | int | None = None) -> Dataset:
        """Reads a labelled file: CoNLL-U for ``.conllu``/``.conllu.gz`` paths (or hub ids for a model
        trained on CoNLL-U), CoNLL columns otherwise, with this model's column settings.

        Args:
            path: The file.
            tag_column: Override the tag column (``"upos"``/``"xpos"`` for CoNLL-U, a column number,
                also as a string, for column files).
        """
        column = self.tag_column if tag_column is None else tag_column
        if is_conllu(path) or (not Path(path).exists() and isinstance(self.tag_column, str)):
            if column not in ("upos", "xpos"):
                column = "upos"
            return load_tagging_dataset(path, tag_column=column)
        if isinstance(column, str):
            try:
                column = int(column)
            except ValueError:
                if tag_column is not None:
                    raise DataFormatError(f"tag column {column!r} is for CoNLL-U files; give a column number "
                                          "for CoNLL column files", path) from None
                column = -1  # a CoNLL-U model scored on a column file: tags in the last column
        return read_conll(path, token_column=self.token_column, tag_column=column, scheme=self.file_scheme)

    def evaluate(self, dataset: Dataset, *, batch_size: int = 256) -> dict:
        """Metrics on a labelled dataset (see :func:`tagging_metrics`).

        Gold tags the model never saw are scored as errors (they cannot be predicted); their
        count is reported as ``unknown_gold_tags``.
        """
        with paused_gc():  # see paused_gc: the dataset is already in memory, so this is bounded
            gold = [list(t) for t in dataset["tags"]]
            predicted = self.predict_tokens(dataset["tokens"], batch_size=batch_size)
        metrics = tagging_metrics(gold, predicted, scheme=self.scheme)
        unknown = sum(tag not in self.labels for seq in gold for tag in seq)
        if unknown:
            logger.warning("%d gold tag(s) are not in the model's label set; they count as errors", unknown)
        metrics["unknown_gold_tags"] = unknown
        return metrics

    # ------------------------------------------------------------------ bundles
    def save_pretrained(self, directory: str | os.PathLike) -> None:
        """Writes the model, the vocabularies and the task settings to ``directory``."""
        vocabs = {"words": self.words, "labels": self.labels}
        if self.chars is not None:
            vocabs["chars"] = self.chars
        self.model.save_pretrained(directory, vocabs=vocabs, meta={
            "task": "tagging", "scheme": self.scheme, "tag_column": self.tag_column,
            "token_column": self.token_column, "file_scheme": self.file_scheme})

    @classmethod
    def from_pretrained(cls, directory: str | os.PathLike, *, device: str = "cpu") -> TaggingPipeline:
        """Loads a bundle written by :meth:`save_pretrained`."""
        bundle = read_bundle(directory, expected_type=MODEL_TYPE)
        for name in ("words", "labels"):
            if name not in bundle.vocabs:
                raise BundleError(f"{directory} has no {name}.vocab.json")
        model = SequenceTagger.from_bundle(bundle)
        meta = bundle.meta
        pipeline = cls(model, bundle.vocabs["words"], bundle.vocabs["labels"], chars=bundle.vocabs.get("chars"),
                       scheme=meta.get("scheme", "token"), tag_column=meta.get("tag_column", "upos"),
                       token_column=meta.get("token_column", 0), file_scheme=meta.get("file_scheme", "none"))
        return pipeline.to(device)
