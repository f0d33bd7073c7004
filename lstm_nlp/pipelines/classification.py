"""``ClassificationPipeline``: a trained text classifier with its tokenizer and vocabularies.

It is what a ``text_classifier`` bundle holds (model + ``words``/``labels`` vocabularies + the
tokenizer settings, and ``tokenizer.json`` for a trained subword model) and what
``lstm-nlp predict`` / ``evaluate`` and ``recipes/imdb_sentiment.py`` use.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Literal

import torch

from lstm_nlp.calibration import TEMPERATURE_RANGE, check_temperature
from lstm_nlp.data.batching import collate_classification
from lstm_nlp.data.class_writers import classifier_writer
from lstm_nlp.data.subword import TOKENIZER_FILE
from lstm_nlp.data.tokenizers import TextTokenizer, bundle_tokenizer
from lstm_nlp.data.vocab import Vocab
from lstm_nlp.device import move_batch
from lstm_nlp.errors import BundleError, ConfigError, DataFormatError
from lstm_nlp.gc_pause import paused_gc
from lstm_nlp.metrics import classification_metrics
from lstm_nlp.models.classifier import MODEL_TYPE, TextClassifier
from lstm_nlp.pipelines.base import TaskPipeline, check_gold_labels, check_texts
from lstm_nlp.pipelines.tasks import TASKS
from lstm_nlp.schema import MAX_VOCAB, Field
from lstm_nlp.serialization import Bundle

if TYPE_CHECKING:
    from datasets import Dataset

logger = logging.getLogger("lstm_nlp")


class ClassificationPipeline(TaskPipeline):
    """A :class:`TextClassifier` plus everything that turns raw text into its inputs.

    Args:
        model: The classifier.
        words: Word (or subword) vocabulary, ``<pad>`` = 0, with ``<unk>``.
        labels: Class vocabulary (no specials).
        tokenizer: The tokenizer used in training.
        label_names: Names given to integer labels when reading files (e.g. ``["neg", "pos"]``).
        positive_label: The class that binary precision/recall/F1 score (default: ``label_names[-1]``
            if it is a class, else the last class in sorted order). Ignored for multi-class.
        max_length: Keep only the first ``max_length`` tokens of each text (``None``: all).
    """

    model_type = MODEL_TYPE
    collate = staticmethod(collate_classification)
    task_name = TASKS[MODEL_TYPE].title
    predict_options = TASKS[MODEL_TYPE].predict_options
    read_options = ("split", "text_column", "label_column", "label_names", "cache_dir")
    meta_schema = {
        "task": Field((str,)),
        "tokenizer": Field((dict, type(None)), fields={
            "kind": Field((str,), choices=("spacy", "bpe", "wordpiece")), "lower": Field((bool,)),
            "strip_html": Field((bool,)), "lang": Field((str,))}),
        "label_names": Field((list, type(None)), items=Field((str,)), max_items=MAX_VOCAB),
        "positive_label": Field((str, type(None))),
        "max_length": Field((int, type(None)), low=1, high=2**31 - 1),
        "temperature": Field((float,), low=TEMPERATURE_RANGE[0], high=TEMPERATURE_RANGE[1]),
    }

    def __init__(self, model: TextClassifier, words: Vocab, labels: Vocab, tokenizer: TextTokenizer, *,
                 label_names: Sequence[str] | None = None, positive_label: str | None = None,
                 max_length: int | None = None, temperature: float = 1.0):
        if model.config.vocab_size != len(words):
            raise BundleError(f"model expects {model.config.vocab_size} words but the vocabulary has {len(words)}")
        if model.config.num_labels != len(labels):
            raise BundleError(f"model expects {model.config.num_labels} labels but the label set has {len(labels)}")
        if words.unk_id is None:
            raise ConfigError("the word vocabulary needs an <unk> token")
        if max_length is not None and max_length < 1:
            raise ConfigError(f"max_length must be >= 1, got {max_length}")
        self.model = model
        self.words = words
        self.labels = labels
        self.tokenizer = tokenizer
        self.label_names = list(label_names) if label_names is not None else None
        self.max_length = max_length
        self.positive_label = self._resolve_positive(positive_label) if len(labels) == 2 else None
        #: Logits are divided by it before the softmax (see :meth:`fit_temperature`); labels do not change.
        self.temperature = check_temperature(temperature)

    def _resolve_positive(self, positive_label: str | None) -> str:
        if positive_label is None:
            named = self.label_names[-1] if self.label_names else None
            positive_label = named if named in self.labels else self.labels.itos[-1]
        if positive_label not in self.labels:
            raise ConfigError(f"positive_label {positive_label!r} is not one of the classes {self.labels.itos}")
        return positive_label

    # ------------------------------------------------------------------ encoding
    def prepare(self, dataset: Dataset, *, num_proc: int | None = None,
                cache_dir: str | os.PathLike | None = None) -> Dataset:
        """Tokenizes and numericalizes a ``text`` dataset through the ``datasets.map`` cache.

        Returns:
            The dataset with ``token_ids`` (truncated to ``max_length``) in place of ``text``.
        """
        from lstm_nlp.data.text_classification import numericalize_dataset, tokenize_dataset

        if "token_ids" in dataset.column_names:
            return dataset
        if "tokens" not in dataset.column_names:
            dataset = tokenize_dataset(dataset, self.tokenizer, num_proc=num_proc, cache_dir=cache_dir)
        return numericalize_dataset(dataset, self.words, max_length=self.max_length, cache_dir=cache_dir)

    def encode(self, dataset: Dataset, *, with_labels: bool = True, num_proc: int | None = None,
               cache_dir: str | os.PathLike | None = None,
               unknown_labels: Literal["error", "keep"] = "error") -> list[dict]:
        """Model inputs for every row of a ``text`` (or already prepared) dataset.

        A text without tokens becomes a single ``<unk>``, so every row gets a prediction.

        Args:
            unknown_labels: What a label outside the model's classes does: ``"error"`` (training
                needs known classes) or ``"keep"`` (evaluation: the row gets ``label=None`` and its
                text in ``unknown_label``, and is scored as an error).

        Returns:
            One dict per row: ``token_ids``, ``index`` (its row) and, with labels, ``label`` (class id).

        Raises:
            DataFormatError: a label that is not one of the model's classes (``unknown_labels="error"``).
        """
        if unknown_labels not in ("error", "keep"):
            raise ConfigError(f"unknown_labels must be 'error' or 'keep', got {unknown_labels!r}")
        prepared = self.prepare(dataset, num_proc=num_proc, cache_dir=cache_dir)
        unk = [self.words.unk_id]
        ids = prepared.with_format("arrow")["token_ids"].to_pylist()
        examples = [{"token_ids": row or unk, "index": i} for i, row in enumerate(ids)]
        if with_labels and "label" in prepared.column_names:
            stoi = self.labels.stoi
            for example, label in zip(examples, prepared.with_format("arrow")["label"].to_pylist()):
                if label in stoi:
                    example["label"] = stoi[label]
                elif unknown_labels == "keep":
                    example["label"], example["unknown_label"] = None, str(label)
                else:
                    raise DataFormatError(f"record {example['index'] + 1} has label {label!r}, which is not one of "
                                          f"the model's classes {self.labels.itos}")
        return examples

    def featurize(self, texts: Iterable[str]) -> list[dict]:
        """Model inputs of raw texts (no cache; for prediction)."""
        unk = [self.words.unk_id]
        return [{"token_ids": self.words.encode(tokens[: self.max_length]) or unk, "index": i}
                for i, tokens in enumerate(self.tokenizer.pipe(texts))]

    # ------------------------------------------------------------------ inference
    @torch.no_grad()
    def predict_examples(self, examples: list[dict], *, batch_size: int = 256) -> torch.Tensor:
        """Class probabilities ``FloatTensor[len(examples), num_labels]``, in the examples' order."""
        self.model.eval()
        probabilities = torch.zeros(len(examples), len(self.labels))
        if not examples:
            return probabilities
        examples = [{"token_ids": e["token_ids"], "index": row} for row, e in enumerate(examples)]
        for batch in self.inference_batches(examples, batch_size=batch_size):
            rows = batch["index"]
            batch = move_batch(batch, self.device)
            logits = self.model(batch["token_ids"], mask=batch["mask"]).logits
            probabilities[rows] = (logits.float() / self.temperature).softmax(-1).cpu()
        return probabilities

    @torch.no_grad()
    def _logits(self, examples: list[dict], *, batch_size: int) -> torch.Tensor:
        """Raw class scores ``FloatTensor[len(examples), num_labels]`` (float64), in the examples' order."""
        self.model.eval()
        logits = torch.zeros(len(examples), len(self.labels), dtype=torch.float64)
        examples = [{"token_ids": e["token_ids"], "index": row} for row, e in enumerate(examples)]
        for batch in self.inference_batches(examples, batch_size=batch_size):
            rows = batch["index"]
            batch = move_batch(batch, self.device)
            logits[rows] = self.model(batch["token_ids"], mask=batch["mask"]).logits.double().cpu()
        return logits

    def fit_temperature(self, data: Dataset | list[dict] | str | os.PathLike, *, batch_size: int = 256) -> float:
        """Fits :attr:`temperature` on labelled data (dev) by minimising the negative log-likelihood of
        the gold classes; sets it and returns it. Rows whose label the model does not know are left out."""
        from lstm_nlp.calibration import fit_temperature

        data = self._labelled_data(data)
        examples = data if isinstance(data, list) else self.encode(data, unknown_labels="keep")
        examples = [e for e in examples if e.get("label") is not None]
        if not examples:
            raise DataFormatError("no labelled example with a known class to fit the temperature on")
        logits = self._logits(examples, batch_size=batch_size)
        target = torch.tensor([e["label"] for e in examples])
        self.temperature = fit_temperature(lambda t: float(torch.nn.functional.cross_entropy(logits / t, target)))
        return self.temperature

    def predict(self, texts: Sequence[str], *, batch_size: int = 256) -> list[tuple[str, float]]:
        """``(label, probability)`` for each raw text, in order (an empty text still gets one).

        Raises:
            TypeError: ``texts`` is one ``str`` (pass ``[text]``) or holds something other than strings.
        """
        texts = check_texts(texts, "predict")
        probabilities = self.predict_examples(self.featurize(texts), batch_size=batch_size)
        best, index = probabilities.max(-1) if len(texts) else (torch.empty(0), torch.empty(0, dtype=torch.long))
        return [(self.labels.itos[i], p) for i, p in zip(index.tolist(), best.tolist())]

    def format_predictions(self, lines: list[str], *, batch_size: int, first_line: int,
                           output_format: str | None = None) -> list[str]:
        """For each raw text line, its prediction in a registered output format (:mod:`lstm_nlp.data.class_writers`;
        default: the first, ``label<TAB>probability``)."""
        write = classifier_writer(output_format)  # an unknown format is refused before any work
        probabilities = self.predict_examples(self.featurize(lines), batch_size=batch_size)
        return write(self.labels.itos, probabilities.tolist())

    def _read_labelled(self, path: str | os.PathLike, *, split: str = "test", **kwargs) -> Dataset:
        """Reads labelled texts (aclImdb folder, jsonl/csv/parquet, hub id) with this model's label names.

        Keyword arguments (:attr:`read_options`) go to :func:`load_text_classification`.
        """
        from lstm_nlp.data.text_classification import load_text_classification

        kwargs.setdefault("label_names", self.label_names)
        return load_text_classification(path, split=split, **kwargs)

    def evaluate(self, data: Dataset | list[dict] | str | os.PathLike, *, batch_size: int = 256,
                 calibration: bool = False) -> dict:
        """Scores labelled data: a ``text``/``label`` dataset, examples from :meth:`encode`, or a path
        read with :meth:`read_labelled` (as ``lstm-nlp evaluate`` takes).

        Gold labels the model never saw are scored as errors (they cannot be predicted); their
        count is reported as ``unknown_gold_labels``, as taggers report ``unknown_gold_tags``.

        Returns:
            See :func:`classification_metrics` (binary: precision/recall/F1 of ``positive_label``;
            multi-class: macro averages), plus ``unknown_gold_labels``. With ``calibration``,
            ``"calibration": {"class": {...}}``: ECE (15 bins), Brier score, mean confidence, accuracy and
            the per-text ``confidence`` (the chosen class's probability) and ``correct`` lists.
        """
        data = self._labelled_data(data)
        examples = data if isinstance(data, list) else self.encode(data, unknown_labels="keep")
        if not examples or "label" not in examples[0]:
            raise DataFormatError("evaluation data has no labelled examples")
        gold = [e["unknown_label"] if e["label"] is None else self.labels.itos[e["label"]] for e in examples]
        unknown = check_gold_labels(gold, self.labels.itos, what="label")
        with paused_gc():  # see paused_gc: the examples are already in memory, so this is bounded
            probabilities = self.predict_examples(examples, batch_size=batch_size)
        predicted = self.labels.decode(probabilities.argmax(-1).tolist())
        metrics = classification_metrics(gold, predicted, labels=self.labels.itos, positive_label=self.positive_label)
        metrics["unknown_gold_labels"] = unknown
        if calibration:
            from lstm_nlp.calibration import calibration_metrics

            confidence = probabilities.amax(-1).tolist()
            correct = [g == p for g, p in zip(gold, predicted)]
            metrics["calibration"] = {"class": {**calibration_metrics(confidence, correct), "confidence": confidence,
                                                "correct": correct}}
        return metrics

    # ------------------------------------------------------------------ bundles
    def bundle_contents(self) -> dict:
        extra = {TOKENIZER_FILE: self.tokenizer.subword.save} if self.tokenizer.subword is not None else None
        meta = {"task": "classification", "tokenizer": self.tokenizer.settings(), "label_names": self.label_names,
                "positive_label": self.positive_label, "max_length": self.max_length, "temperature": self.temperature}
        return {"vocabs": {"words": self.words, "labels": self.labels}, "meta": meta, "extra_files": extra}

    @classmethod
    def required_vocabs(cls, bundle: Bundle) -> dict[str, str]:
        return {"words": "the word vocabulary", "labels": "the classes"}

    @classmethod
    def _from_bundle(cls, bundle: Bundle) -> ClassificationPipeline:
        tokenizer = bundle_tokenizer(bundle.path, bundle.meta.get("tokenizer"))
        model = TextClassifier.from_bundle(bundle)
        return cls(model, bundle.vocabs["words"], bundle.vocabs["labels"], tokenizer,
                   label_names=bundle.meta.get("label_names"), positive_label=bundle.meta.get("positive_label"),
                   max_length=bundle.meta.get("max_length"), temperature=float(bundle.meta.get("temperature", 1.0)))
