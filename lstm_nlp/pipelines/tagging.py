"""``TaggingPipeline``: a trained tagger with its vocabularies, from strings to tags and back.

It is what a bundle directory holds (model + ``words``/``labels`` (+ ``chars``) vocabularies +
task settings) and what ``lstm-nlp predict`` / ``evaluate`` and the tagging recipes use. Labelled
files are CoNLL-U (``.conllu``, ``.conllu.gz``) or CoNLL columns (anything else, e.g. CoNLL-2003).
"""

from __future__ import annotations

import itertools
import logging
import math
import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

import torch

from lstm_nlp.batch import model_inputs
from lstm_nlp.calibration import TEMPERATURE_RANGE, check_temperature
from lstm_nlp.data.batching import collate_tagging
from lstm_nlp.data.conll_blocks import CONLLU_COLUMNS, Block, read_blocks, write_block
from lstm_nlp.data.lines import stream_name
from lstm_nlp.data.tag_writers import (
    BLOCK_FORMATS,
    check_block_formats,
    check_tag_output,
    conllu_tags_problem,
    line_sentences,
    write_tagged,
)
from lstm_nlp.data.tokenizers import SpacyTokenizer
from lstm_nlp.data.vocab import Vocab
from lstm_nlp.device import move_batch
from lstm_nlp.errors import BundleError, ConfigError, DataFormatError
from lstm_nlp.gc_pause import paused_gc
from lstm_nlp.models.tagger import MODEL_TYPE, SequenceTagger
from lstm_nlp.pipelines.base import (
    MAX_LINE_CHARS,
    TaskPipeline,
    check_gold_labels,
    check_sentences,
    check_texts,
    clean_lines,
)
from lstm_nlp.pipelines.span_probabilities import decoded_path, span_probabilities
from lstm_nlp.pipelines.tasks import TASKS
from lstm_nlp.schema import Field
from lstm_nlp.serialization import Bundle
from lstm_nlp.tags import RECIPE_LABEL_SCHEMES, TagScheme, bundle_label_scheme, check_scheme, convert_tags, to_spans

if TYPE_CHECKING:
    from datasets import Dataset

logger = logging.getLogger("lstm_nlp")

#: Longer words are cut to their first characters for the character encoder.
MAX_WORD_CHARS = 40
#: Label schemes a tagger may be trained on (files are read as IOB2 and converted).
LABEL_SCHEMES = ("none", *RECIPE_LABEL_SCHEMES)
_CHAR_CACHE_SIZE = 200_000  # distinct spellings kept by TaggingPipeline featurize (a few tens of MB)


def is_conllu(path: str | os.PathLike) -> bool:
    """Whether ``path`` names a CoNLL-U file (``.conllu`` / ``.conllu.gz``); other files are CoNLL columns."""
    return str(path).lower().endswith((".conllu", ".conllu.gz"))


def build_char_vocab(sentences: Iterable[Sequence[str]], *, min_freq: int = 1) -> Vocab:
    """Character vocabulary (``<pad>`` = 0, ``<unk>`` = 1) of tokenized sentences, case kept."""
    return Vocab.build(("".join(tokens) for tokens in sentences), min_freq=min_freq)


def _softmax_nll(scores: list[torch.Tensor], golds: list[torch.Tensor]) -> Callable[[float], float]:
    """``nll(T)``: the mean negative log-likelihood of the known gold tags at temperature ``T`` (softmax heads)."""
    flat = torch.cat([s[g != -100] for s, g in zip(scores, golds)])
    target = torch.cat([g[g != -100] for g in golds])
    if not len(target):
        raise DataFormatError("no token with a tag the model knows to fit the temperature on")

    def nll(t: float) -> float:
        return float(torch.nn.functional.cross_entropy(flat / t, target))
    return nll


def _crf_nll(crf, scores: list[torch.Tensor], golds: list[torch.Tensor],
             masks: list[torch.Tensor]) -> Callable[[float], float]:
    """``nll(T)``: the mean over sentences of ``log Z_T - score(gold) / T`` (CRF heads; sets the CRF's
    temperature as it goes). Sentences whose gold path the tag scheme forbids have no NLL and are left out."""
    allowed = [torch.isfinite(crf.sequence_log_probability(s, g.clamp(min=0), mask=m))
               for s, g, m in zip(scores, golds, masks)]
    kept = [i for i, ok in enumerate(allowed) if ok.any()]
    scores = [scores[i][allowed[i]] for i in kept]
    golds = [golds[i][allowed[i]] for i in kept]
    masks = [masks[i][allowed[i]] for i in kept]
    count = sum(len(s) for s in scores)
    if not count:
        raise DataFormatError("no sentence whose gold tags the model's tag scheme allows, to fit the "
                              "temperature on")
    gold_scores = [crf.sequence_score(s, g.clamp(min=0), mask=m).double() for s, g, m in zip(scores, golds, masks)]

    def nll(t: float) -> float:
        crf.temperature = t
        return sum(float((crf.forward_backward(s, mask=m)[2] - g / t).sum())
                   for s, g, m in zip(scores, gold_scores, masks)) / count
    return nll


class TaggingPipeline(TaskPipeline):
    """A :class:`SequenceTagger` plus the vocabularies that turn strings into ids.

    Args:
        model: The tagger.
        words: Word vocabulary (with ``<pad>`` = 0 and ``<unk>``; may be lower-casing).
        labels: Tag vocabulary (no specials).
        chars: Character vocabulary, required when the model has a character encoder.
        scheme: The labels' :data:`~lstm_nlp.tags.TagScheme` (:attr:`label_scheme`): ``"none"`` (POS: token
            scores) or one of :data:`~lstm_nlp.tags.RECIPE_LABEL_SCHEMES` (entity/chunk spans; the labels are
            converted from the IOB2 the readers give, and spans are scored in IOB2); ``"token"`` is read as
            ``"none"``.
        tag_column: Which column of a labelled file holds the tags: ``"upos"``/``"xpos"`` for
            CoNLL-U, a 0-based column number (negative: from the end) for CoNLL column files.
        token_column: The word column of CoNLL column files.
        file_scheme: Tag scheme of CoNLL column files: ``"iob1"`` files are converted to IOB2 on reading.
        temperature: Every score is divided by it before probabilities are taken (softmax, or the CRF's
            marginals and span probabilities); tags do not change. :meth:`fit_temperature` sets it from
            dev data (the recipes do after training); bundles keep it, those without one load with 1.
    """

    model_type = MODEL_TYPE
    collate = staticmethod(collate_tagging)
    task_name = TASKS[MODEL_TYPE].title
    read_options = ("tag_column", "scheme")
    predict_options = TASKS[MODEL_TYPE].predict_options
    meta_schema = {
        "task": Field((str,)),
        "label_scheme": Field((str,), choices=("none", *RECIPE_LABEL_SCHEMES)),
        "scheme": Field((str,), choices=("none", *RECIPE_LABEL_SCHEMES, "token")),  # label_scheme's old name
        "tag_column": Field((str, int), choices=("upos", "xpos"), low=-1000, high=1000),
        "token_column": Field((int,), low=0, high=1000),
        "file_scheme": Field((str,), choices=("iob1", "iob2", "none", "token")),
        "temperature": Field((float,), low=TEMPERATURE_RANGE[0], high=TEMPERATURE_RANGE[1]),
    }

    def __init__(self, model: SequenceTagger, words: Vocab, labels: Vocab, *, chars: Vocab | None = None,
                 scheme: TagScheme = "none", tag_column: str | int = "upos", token_column: int = 0,
                 file_scheme: TagScheme = "none", temperature: float = 1.0):
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
        self.label_scheme = check_scheme(scheme, allowed=LABEL_SCHEMES)
        self.tag_column = tag_column
        self.token_column = token_column
        self.file_scheme = check_scheme(file_scheme)
        self.temperature = temperature
        self._tokenizer: SpacyTokenizer | None = None
        self._char_ids: dict[str, tuple[int, ...]] = {}  # spelling -> char ids, filled by featurize

    @property
    def scheme(self) -> str:
        """The old name of :attr:`label_scheme` (read-only)."""
        return self.label_scheme

    @property
    def head(self) -> str:
        """The tag decoder: ``"softmax"`` or ``"crf"``."""
        return self.model.config.head

    @property
    def temperature(self) -> float:
        """The calibration temperature (1: the model's own probabilities)."""
        return self._temperature

    @temperature.setter
    def temperature(self, value: float) -> None:
        self._temperature = check_temperature(value)
        crf = getattr(self.model.head, "crf", None)
        if crf is not None:
            crf.temperature = self._temperature

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
                example["label_ids"] = self.labels.encode(self._model_tags(tags_column[index][:max_length]))
            examples.append(example)
        if skipped:
            logger.warning("skipped %d empty sentence(s) out of %d", skipped, len(dataset))
        if truncated:
            logger.warning("cut %d sentence(s) longer than max_length=%d tokens", truncated, max_length)
        return examples

    # ------------------------------------------------------------------ inference
    def predict_tokens(self, sentences: Sequence[Sequence[str]], *, batch_size: int = 256) -> list[list[str]]:
        """Tags pre-tokenized sentences; output is in input order (empty sentence -> empty list).

        Raises:
            TypeError: ``sentences`` is not a list of token lists (one ``str``, or one flat sentence).
        """
        sentences = check_sentences(sentences, "predict_tokens")
        return self._predict(sentences, batch_size=batch_size)[0]

    def predict_probabilities(self, sentences: Sequence[Sequence[str]], *,
                              batch_size: int = 256) -> tuple[list[list[str]], list[list[float]]]:
        """Tags pre-tokenized sentences with the probability of each chosen tag: its softmax
        probability, or for a CRF its exact marginal ``P(tag_t | sentence)`` over the sequences the
        tag scheme allows (forward-backward)."""
        sentences = check_sentences(sentences, "predict_probabilities")
        tags, probabilities, _ = self._predict(sentences, batch_size=batch_size, probabilities=True)
        return tags, probabilities

    def predict_spans(self, sentences: Sequence[Sequence[str]], *, batch_size: int = 256
                      ) -> tuple[list[list[str]], list[list[float]], list[list[tuple[int, int, str, float]]]]:
        """Like :meth:`predict_probabilities`, plus each sentence's decoded spans ``(start, end
        exclusive, type, probability)`` (CRF span-scheme taggers): the exact probability that exactly
        this span is an entity, not a product of token probabilities.

        Raises:
            ConfigError: a softmax head or a tagger without spans (``--tag-scheme none``).
        """
        if self.model.config.head != "crf" or self.label_scheme == "none":
            raise ConfigError("span probabilities need a CRF tagger with a span tag scheme "
                              f"({', '.join(RECIPE_LABEL_SCHEMES)})")
        sentences = check_sentences(sentences, "predict_spans")
        return self._predict(sentences, batch_size=batch_size, probabilities=True, spans=True)

    @torch.no_grad()
    def predict_top_k(self, sentences: Sequence[Sequence[str]], k: int, *,
                      batch_size: int = 256) -> list[list[tuple[list[str], float, float]]]:
        """The ``k`` best tag sequences of each sentence (CRF heads): ``(tags, score, probability)``, best first.

        ``probability`` is the CRF's ``exp(score / T - log Z_T)`` at the pipeline's :attr:`temperature` ``T``,
        the sequence's share of the partition
        function over all the sequences the tag scheme allows (not just of the k); empty sentences get ``[]``.

        Raises:
            ConfigError: a softmax head (its tags are independent: there is no sequence ranking).
        """
        crf = getattr(self.model.head, "crf", None)
        if crf is None:
            raise ConfigError("the k best tag sequences need a CRF tagger (--head crf); this one has a softmax head")
        sentences = check_sentences(sentences, "predict_top_k")
        self.model.eval()
        results: list[list[tuple[list[str], float, float]]] = [[] for _ in sentences]
        examples = [{**self.featurize(tokens), "index": i} for i, tokens in enumerate(sentences) if len(tokens)]
        for batch in self.inference_batches(examples, batch_size=batch_size):
            indices, lengths = batch["index"].tolist(), batch["lengths"].tolist()
            emissions = self.model(**model_inputs(move_batch(batch, self.device), with_labels=False)).logits
            emissions = emissions.float().cpu()
            for row, (index, length) in enumerate(zip(indices, lengths)):
                scores = emissions[row, :length]
                log_z = float(crf.forward_backward(scores[None], mask=torch.ones(1, length, dtype=torch.bool))[2])
                results[index] = [(self.labels.decode(ids), score, math.exp(score / self.temperature - log_z))
                                  for ids, score in crf.top_k(scores, k)]
        return results

    @torch.no_grad()
    def _predict(self, sentences: Sequence[Sequence[str]], *, batch_size: int, probabilities: bool = False,
                 spans: bool = False) -> tuple[list[list[str]], list[list[float]] | None, list | None]:
        self.model.eval()
        results: list[list[str]] = [[] for _ in sentences]
        chosen: list[list[float]] | None = [[] for _ in sentences] if probabilities else None
        found: list[list[tuple[int, int, str, float]]] | None = [[] for _ in sentences] if spans else None
        crf = getattr(self.model.head, "crf", None)
        examples = []
        for index, tokens in enumerate(sentences):
            if len(tokens):
                examples.append({**self.featurize(tokens), "index": index})
        for batch in self.inference_batches(examples, batch_size=batch_size):
            indices = batch["index"].tolist()
            batch = move_batch(batch, self.device)
            output = self.model(**model_inputs(batch, with_labels=False))
            decoded = self.model.decode(output)
            for index, ids in zip(indices, decoded):
                results[index] = self.labels.decode(ids)
            if chosen is None:
                continue
            if crf is None:
                best = (output.logits.float() / self.temperature).softmax(-1).amax(-1).cpu()  # [batch, seq]
            else:
                mask = torch.arange(output.logits.shape[1], device=output.logits.device) < batch["lengths"].unsqueeze(1)
                path = decoded_path(decoded, mask)
                tables = crf.forward_backward(output.logits, mask=mask)
                best = crf.tag_marginals(output.logits, path, mask=mask, tables=tables).cpu()
            for index, ids, values in zip(indices, decoded, best.tolist()):
                chosen[index] = values[:len(ids)]
            if found is not None:
                self._span_probabilities(crf, output.logits, mask, tables, indices, path, found)
        return results, chosen, found

    def _span_probabilities(self, crf, emissions: torch.Tensor, mask: torch.Tensor, tables: tuple,
                            indices: list[int], path: torch.Tensor, found: list) -> None:
        """Fills ``found[index]`` with the decoded spans of each row and their exact probabilities."""
        spans = span_probabilities(crf, emissions, mask, path, self.labels.itos, self.label_scheme, tables=tables)
        for index, row in zip(indices, spans):
            found[index] = row

    # ------------------------------------------------------------------ calibration
    @torch.no_grad()
    def fit_temperature(self, dataset: Dataset | str | os.PathLike, *, batch_size: int = 256) -> float:
        """Fits :attr:`temperature` on labelled data (dev) by minimising the negative log-likelihood of
        the gold tags (per token for a softmax head, per sentence for a CRF); sets it and returns it.

        Tokens (softmax) or sentences (CRF) with a gold tag the model does not know are left out.
        """
        from lstm_nlp.calibration import fit_temperature

        crf = getattr(self.model.head, "crf", None)
        scores, golds, masks = self._gold_scores(self._labelled_data(dataset), crf is not None, batch_size)
        nll = _softmax_nll(scores, golds) if crf is None else _crf_nll(crf, scores, golds, masks)
        try:
            fitted = fit_temperature(nll)
        finally:
            self.temperature = self.temperature  # puts the CRF's back after the search
        self.temperature = fitted
        return fitted

    def _gold_scores(self, dataset: Dataset, whole_sentences: bool,
                     batch_size: int) -> tuple[list[torch.Tensor], list[torch.Tensor], list[torch.Tensor]]:
        """Per batch of labelled sentences: the model's raw scores (float64), the gold tag ids (-100: a tag the
        model does not know, and padding) and the mask. ``whole_sentences``: leave out the sentences with an
        unknown gold tag (a CRF scores whole sequences)."""
        index = self.labels.stoi
        self.model.eval()
        examples = []
        for tokens, tags in zip(dataset["tokens"], dataset["tags"]):
            ids = [index.get(tag) for tag in self._model_tags(list(tags))]
            if tokens and not (whole_sentences and None in ids):
                examples.append({**self.featurize(tokens), "gold": ids})
        if not examples:
            raise DataFormatError("no sentence to fit the temperature on (empty data, or every one has tags the "
                                  "model does not know)")
        scores, golds, masks = [], [], []
        for batch in self.inference_batches([{k: v for k, v in e.items() if k != "gold"} | {"index": i}
                                             for i, e in enumerate(examples)], batch_size=batch_size):
            logits = self.model(**model_inputs(move_batch(batch, self.device), with_labels=False)).logits
            mask = torch.arange(logits.shape[1]) < batch["lengths"].unsqueeze(1)
            gold = torch.full(mask.shape, -100, dtype=torch.long)
            for row, i in enumerate(batch["index"].tolist()):
                ids = examples[i]["gold"]
                gold[row, :len(ids)] = torch.tensor([-100 if t is None else t for t in ids])
            scores.append(logits.double())
            golds.append(gold.to(logits.device))
            masks.append(mask.to(logits.device))
        return scores, golds, masks

    def calibration(self, dataset: Dataset | str | os.PathLike, *, batch_size: int = 256) -> dict:
        """How well the probabilities match accuracy on labelled data, at the current :attr:`temperature`.

        Returns:
            ``{"token": {...}, "span": {...}}`` (``span`` for CRF span taggers only), each with ``ece``
            (15 bins), ``brier``, ``mean_confidence``, ``accuracy``, ``count`` (see
            :func:`lstm_nlp.calibration.calibration_metrics`) and the per-prediction ``confidence`` and
            ``correct`` lists (for a reliability diagram). A token counts as right when its tag is the gold
            one; a decoded span when the gold sentence has exactly that span (same start, end and type).
        """
        dataset = self._labelled_data(dataset)
        gold = [self._model_tags(list(t)) for t in dataset["tags"]]
        return self._calibration(check_sentences(list(dataset["tokens"]), "calibration"), gold, batch_size)[1]

    def _calibration(self, sentences: list[list[str]], gold: list[list[str]],
                     batch_size: int) -> tuple[list[list[str]], dict]:
        """The predicted tags and :meth:`calibration`'s result (``gold`` in the model's scheme)."""
        from lstm_nlp.calibration import calibration_metrics

        spans = self.model.config.head == "crf" and self.label_scheme != "none"
        tags, chosen, found = self._predict(sentences, batch_size=batch_size, probabilities=True, spans=spans)
        confidence = [p for row in chosen for p in row]
        correct = [a == b for seq, ref in zip(tags, gold) for a, b in zip(seq, ref)]
        result = {"token": {**calibration_metrics(confidence, correct), "confidence": confidence, "correct": correct}}
        if spans:
            confidence, correct = [], []
            for ref, row in zip(gold, found):
                truth = set(to_spans(ref, self.label_scheme))
                for start, stop, kind, probability in row:
                    confidence.append(min(1.0, probability))  # exp of a log sum may pass 1 by an ulp
                    correct.append((start, stop, kind) in truth)
            result["span"] = {**calibration_metrics(confidence, correct), "confidence": confidence,
                              "correct": correct}
        return tags, result

    def tokenize(self, texts: Iterable[str]) -> list[list[str]]:
        """spaCy English tokenization of raw text lines."""
        if self._tokenizer is None:
            self._tokenizer = SpacyTokenizer("en")
        return list(self._tokenizer.pipe(texts))

    def predict_text(self, texts: Sequence[str], *, batch_size: int = 256) -> list[list[tuple[str, str]]]:
        """Tokenizes and tags raw text lines: one ``[(token, tag), ...]`` list per line.

        Raises:
            TypeError: ``texts`` is one ``str`` (pass ``[text]``) or holds something other than strings.
        """
        texts = check_texts(texts, "predict_text")
        sentences = self.tokenize(texts)
        tags = self.predict_tokens(sentences, batch_size=batch_size)
        return [list(zip(tokens, seq)) for tokens, seq in zip(sentences, tags)]

    def format_predictions(self, lines: list[str], *, batch_size: int, first_line: int, input_format: str = "text",
                           output_format: str = "slash", probabilities: bool = False,
                           top_k: int | None = None) -> list[str]:
        """One output item per input line, in a registered output format (:mod:`lstm_nlp.data.tag_writers`).

        Args:
            input_format: ``"text"`` (raw text, spaCy tokenization) or ``"tokens"`` (tokens separated
                by spaces or tabs, taken as they are). CoNLL files go through :meth:`predict_blocks`.
            output_format: A registered format: ``"slash"``, ``"jsonl"``, ``"conll"`` (``token<TAB>TAG``
                lines and a blank line after the sentence), ...
            probabilities: Add the probability of each chosen tag (``jsonl``; a CRF: its marginal, plus
                each decoded span's probability, see :meth:`predict_spans`).
            top_k: Add the ``top_k`` best tag sequences with their scores and probabilities
                (``jsonl``; CRF heads; see :meth:`predict_top_k`).
        """
        sentences = line_sentences(lines, input_format, self.tokenize)
        return self._format(sentences, output_format, probabilities, batch_size, top_k)

    def format_sentences(self, sentences: Sequence[Sequence[str]], *, output_format: str = "jsonl",
                         probabilities: bool = False, top_k: int | None = None, batch_size: int = 256) -> list[str]:
        """One output item per pre-tokenized sentence, as :meth:`format_predictions` writes it (tokens taken
        as they are, spaces inside a token included): what ``lstm-nlp serve`` answers with."""
        sentences = check_sentences(sentences, "format_sentences")
        return self._format(sentences, output_format, probabilities, batch_size, top_k)

    def predict_blocks(self, lines: Iterable[str] | TextIO, *, input_format: str, output_format: str | None = None,
                       probabilities: bool = False, top_k: int | None = None, batch_size: int = 256,
                       chunk_sentences: int = 1024, max_line_chars: int = MAX_LINE_CHARS,
                       workers: int = 1) -> Iterator[str]:
        """Tags a CoNLL or CoNLL-U stream sentence by sentence; yields one text per sentence.

        Args:
            lines: The file's lines, or a text stream (see :meth:`predict_lines` for line handling).
            input_format: ``"conll"`` (the words in this model's token column) or ``"conllu"``.
            output_format: The input's own format (default): every line kept byte for byte but the
                tags (CoNLL-U: the UPOS or XPOS field the model was trained on; CoNLL: a new last
                column, in the scheme of the model's training files), then a blank line; or
                ``"slash"`` / ``"jsonl"``.
            probabilities: Add the probability of each chosen tag (``jsonl``; a CRF: its marginal, plus
                each decoded span's probability, see :meth:`predict_spans`).
            workers: Processes that tag chunks side by side (see :meth:`predict_lines`).
        """
        output_format = check_block_formats(input_format, output_format, self.conllu_tags_problem())
        blocks = read_blocks(clean_lines(lines, max_line_chars=max_line_chars), kind=input_format,
                             token_column=self.token_column, source=stream_name(lines))
        chunks = iter(lambda: list(itertools.islice(blocks, chunk_sentences)), [])
        settings = (input_format, output_format, probabilities, batch_size, top_k)
        for outputs in self._map_chunks("_blocks_outputs", ((chunk, *settings) for chunk in chunks), workers):
            yield from outputs

    def conllu_tags_problem(self) -> str | None:
        """Why this model's tags have no field in a CoNLL-U file, or ``None``: the one model/format check of
        ``lstm-nlp predict`` (CoNLL-U output) and ``evaluate`` (CoNLL-U data); see
        :func:`~lstm_nlp.data.tag_writers.conllu_tags_problem`."""
        return conllu_tags_problem(self.label_scheme)

    def _blocks_outputs(self, chunk: list[Block], input_format: str, output_format: str, probabilities: bool,
                        batch_size: int, top_k: int | None) -> list[str]:
        """The output text of each sentence block of ``chunk`` (see :meth:`predict_blocks`)."""
        sentences = [block.tokens for block in chunk]
        with paused_gc():
            if output_format not in BLOCK_FORMATS:
                return self._format(sentences, output_format, probabilities, batch_size, top_k)
            tags = self.predict_tokens(sentences, batch_size=batch_size)
        column = self.tag_column if self.tag_column in CONLLU_COLUMNS else "upos"
        return [write_block(block, self._file_tags(sequence), kind=input_format, column=column) + "\n"
                for block, sequence in zip(chunk, tags)]

    def _model_tags(self, tags: Sequence[str]) -> list[str]:
        """IOB2 tags (what the readers give) in the model's label scheme."""
        return list(tags) if self.label_scheme in ("none", "iob2") else convert_tags(tags, "iob2", self.label_scheme)

    def _file_tags(self, tags: list[str]) -> list[str]:
        """Predicted tags in the scheme of the model's training files (IOB1 files get IOB1 back, a
        BIOES model trained on IOB2 files writes IOB2)."""
        target = self.file_scheme if self.file_scheme in ("iob1", "iob2") else "iob2"
        if self.label_scheme in ("none", target):
            return tags
        return convert_tags(tags, self.label_scheme, target)

    def _format(self, sentences: list[list[str]], output_format: str, probabilities: bool,
                batch_size: int, top_k: int | None = None) -> list[str]:
        check_tag_output(output_format, probabilities, top_k)
        found = None
        if probabilities and self.model.config.head == "crf" and self.label_scheme != "none":
            tags, chosen, found = self.predict_spans(sentences, batch_size=batch_size)
        elif probabilities:
            tags, chosen = self.predict_probabilities(sentences, batch_size=batch_size)
        else:
            tags, chosen = self.predict_tokens(sentences, batch_size=batch_size), None
        candidates = None
        if top_k:
            candidates = [[(self._file_tags(seq), score, probability) for seq, score, probability in ranked]
                          for ranked in self.predict_top_k(sentences, top_k, batch_size=batch_size)]
        return write_tagged(sentences, [self._file_tags(seq) for seq in tags], output_format, probabilities=chosen,
                            spans=found, top_k=candidates)

    def _read_labelled(self, path: str | os.PathLike, *, tag_column: str | int | None = None,
                       scheme: TagScheme | None = None) -> Dataset:
        """Reads a labelled file: CoNLL-U for ``.conllu``/``.conllu.gz`` paths (or hub ids for a model
        trained on CoNLL-U), CoNLL columns otherwise, with this model's column settings.

        Args:
            path: The file.
            tag_column: Override the tag column (``"upos"``/``"xpos"`` for CoNLL-U, a column number,
                also as a string, for column files).
            scheme: Override the tag scheme of column files (``"iob1"`` files are converted to IOB2).
        """
        from lstm_nlp.data.conll import read_conll  # readers load `datasets` (~1 s): only when reading
        from lstm_nlp.data.conllu import load_tagging_dataset

        column = self.tag_column if tag_column is None else tag_column
        if is_conllu(path) or (not Path(path).exists() and isinstance(self.tag_column, str)):
            # Options for column files would otherwise be ignored here without a word.
            if scheme is not None:
                raise DataFormatError(f"a tag scheme ({scheme!r}) applies to CoNLL column files; CoNLL-U tags "
                                      "are read as they are", path)
            if tag_column is not None and column not in ("upos", "xpos"):
                raise DataFormatError(f"tag column {column!r} is for CoNLL column files; give upos or xpos for "
                                      "CoNLL-U files", path)
            if column not in ("upos", "xpos"):
                column = "upos"  # a column-file model scored on CoNLL-U
            return load_tagging_dataset(path, tag_column=column)
        if isinstance(column, str):
            try:
                column = int(column)
            except ValueError:
                if tag_column is not None:
                    raise DataFormatError(f"tag column {column!r} is for CoNLL-U files; give a column number "
                                          "for CoNLL column files", path) from None
                column = -1  # a CoNLL-U model scored on a column file: tags in the last column
        return read_conll(path, token_column=self.token_column, tag_column=column,
                          scheme=self.file_scheme if scheme is None else check_scheme(scheme))

    def evaluate(self, dataset: Dataset | str | os.PathLike, *, batch_size: int = 256,
                 calibration: bool = False) -> dict:
        """Metrics on a labelled dataset, or on a file read with :meth:`read_labelled` (see :func:`tagging_metrics`).

        Gold tags the model never saw are scored as errors (they cannot be predicted); their
        count is reported as ``unknown_gold_tags``. With ``calibration``, ``"calibration"`` holds
        :meth:`calibration`'s result too (the same predictions, one pass).

        Raises:
            DataFormatError: most gold tags are unknown to the model (data made for another model),
                see :func:`~lstm_nlp.pipelines.base.check_gold_labels`.
        """
        from lstm_nlp.metrics import tagging_metrics  # seqeval: ~1 s of imports, not needed to predict

        dataset = self._labelled_data(dataset)
        if "tags" not in dataset.column_names:
            raise DataFormatError(f"evaluation data has columns {dataset.column_names}; expected 'tokens' and 'tags'")
        with paused_gc():  # see paused_gc: the dataset is already in memory, so this is bounded
            gold = [list(t) for t in dataset["tags"]]
            unknown = check_gold_labels((tag for seq in gold for tag in self._model_tags(seq)), self.labels.itos,
                                        what="tag")
            report = None
            if calibration:
                sentences = check_sentences(list(dataset["tokens"]), "evaluate")
                predicted, report = self._calibration(sentences, [self._model_tags(seq) for seq in gold], batch_size)
            else:
                predicted = self.predict_tokens(dataset["tokens"], batch_size=batch_size)
        if self.label_scheme not in ("none", "iob2"):  # spans are scored in IOB2, the files' scheme
            predicted = [convert_tags(seq, self.label_scheme, "iob2") for seq in predicted]
        metrics = tagging_metrics(gold, predicted, scheme="none" if self.label_scheme == "none" else "iob2")
        metrics["unknown_gold_tags"] = unknown
        if report is not None:
            metrics["calibration"] = report
        return metrics

    # ------------------------------------------------------------------ bundles
    def bundle_contents(self) -> dict:
        vocabs = {"words": self.words, "labels": self.labels}
        if self.chars is not None:
            vocabs["chars"] = self.chars
        return {"vocabs": vocabs, "meta": {
            "task": "tagging", "label_scheme": self.label_scheme,
            "scheme": self.label_scheme,  # for lstm_nlp releases that read only this, the old name
            "tag_column": self.tag_column,
            "token_column": self.token_column, "file_scheme": self.file_scheme, "temperature": self.temperature}}

    @classmethod
    def required_vocabs(cls, bundle: Bundle) -> dict[str, str]:
        needed = {"words": "the word vocabulary", "labels": "the tag set"}
        char_encoder = bundle.config.get("char_encoder", "none") if isinstance(bundle.config, dict) else "none"
        if char_encoder != "none":
            needed["chars"] = f"the character vocabulary of its {char_encoder!r} character encoder"
        return needed

    @classmethod
    def _from_bundle(cls, bundle: Bundle) -> TaggingPipeline:
        meta = bundle.meta
        return cls(SequenceTagger.from_bundle(bundle), bundle.vocabs["words"], bundle.vocabs["labels"],
                   chars=bundle.vocabs.get("chars"), scheme=bundle_label_scheme(meta),
                   tag_column=meta.get("tag_column", "upos"), token_column=meta.get("token_column", 0),
                   file_scheme=meta.get("file_scheme", "none"), temperature=float(meta.get("temperature", 1.0)))
