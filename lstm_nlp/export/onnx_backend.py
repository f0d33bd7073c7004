"""Torch-free inference: a bundle's exported graph (``model.onnx``) in onnxruntime, with the bundle's own
tokenization, vocabularies and decoding, giving what the PyTorch pipelines give.

    lstm-nlp export  --model runs/pos/model                   # writes runs/pos/model/model.onnx
    lstm-nlp predict --model runs/pos/model --backend onnx "The cat sat on the mat."

    from lstm_nlp.export.onnx_backend import load_onnx_pipeline
    tagger = load_onnx_pipeline("runs/pos/model")
    tagger.predict_tokens([["The", "cat", "sat"]])            # [['DET', 'NOUN', 'VERB']]

Start-up is what onnxruntime and spaCy's tokenizer cost: nothing here imports torch. Taggers tokenize
as ``predict`` does (spaCy blank English), decode by argmax or, for a CRF, by the numpy Viterbi with
the exported transitions and the tag scheme's allowed moves, and write the same ``slash`` / ``conll`` /
``jsonl`` / CoNLL(-U) output; ``probabilities`` of softmax taggers are the calibrated softmax. A CRF's
marginals, span probabilities and k best sequences are the PyTorch backend's. Text classifiers give
the same labels and probabilities (``tsv``, ``jsonl``).
"""

from __future__ import annotations

import importlib
import itertools
import os
import sys
from collections.abc import Iterable, Iterator, Sequence
from typing import TextIO

import numpy as np

from lstm_nlp.data.class_writers import classifier_writer
from lstm_nlp.data.conll_blocks import CONLLU_COLUMNS, Block, read_blocks, write_block
from lstm_nlp.data.lines import MAX_LINE_CHARS, check_sentences, check_texts, clean_lines, stream_name
from lstm_nlp.data.tag_writers import (
    BLOCK_FORMATS,
    check_block_formats,
    check_tag_output,
    conllu_tags_problem,
    line_sentences,
    write_tagged,
)
from lstm_nlp.data.tokenizers import SpacyTokenizer, bundle_tokenizer
from lstm_nlp.errors import BundleError, ConfigError
from lstm_nlp.export.onnx_session import (
    OnnxBundle,
    OnnxLinePipeline,
    check_one_worker,
    length_batches,
    pad,
    unique_words,
)
from lstm_nlp.export.viterbi import viterbi_decode
from lstm_nlp.gc_pause import paused_gc
from lstm_nlp.pipelines.tasks import TASKS, get_task, titles
from lstm_nlp.tags import bundle_label_scheme, convert_tags

#: Longer words are cut to their first characters (= lstm_nlp.pipelines.tagging.MAX_WORD_CHARS).
MAX_WORD_CHARS = 40
_CHAR_CACHE_SIZE = 200_000


def import_spacy_without_torch() -> None:
    """Imports spaCy without letting its thinc import torch (1-3 s of start-up), for a process that runs no PyTorch.

    thinc imports torch whenever it is installed, to offer PyTorch layers that spaCy's tokenizer never
    uses. torch is hidden only while spaCy is imported, and only when neither is imported yet; thinc's
    PyTorch layers are then off in this process (a later ``import torch`` works as usual). ``lstm-nlp
    predict`` and ``serve`` call it with ``--backend onnx``; a library user may call it before anything
    imports spaCy.
    """
    if "spacy" in sys.modules or "torch" in sys.modules:
        return
    sys.modules["torch"] = None  # import torch -> ImportError, which thinc takes as "not installed"
    try:
        import spacy  # noqa: F401
    finally:
        if "torch" in sys.modules and sys.modules["torch"] is None:
            del sys.modules["torch"]


def load_onnx_pipeline(directory: str | os.PathLike, *, onnx_path: str | os.PathLike | None = None,
                       threads: int = 0, calibrated: bool = True) -> OnnxTagger | OnnxClassifier:
    """The ONNX pipeline of a tagger or text-classifier bundle.

    Args:
        directory: The bundle folder.
        onnx_path: Its exported graph (default: ``directory/model.onnx``, where ``lstm-nlp export`` writes it).
        threads: onnxruntime intra-op threads (0: its default).
        calibrated: Probabilities at the bundle's calibrated temperature (``False``: temperature 1).

    Raises:
        ConfigError: no graph (naming the command that writes it), onnxruntime missing, or another kind of model.
        BundleError: a missing or broken bundle file.
    """
    bundle = OnnxBundle(directory, onnx_path=onnx_path, threads=threads)
    task = get_task(bundle.model_type, source=directory, error=BundleError)
    if task.onnx_pipeline is None:
        exportable = [t for t in TASKS.values() if t.onnx_pipeline is not None]
        raise ConfigError(f"the ONNX backend runs {titles(exportable)}; {directory} is a {bundle.model_type}")
    module, name = task.onnx_pipeline
    pipeline = getattr(importlib.import_module(module), name)(bundle)
    if not calibrated:
        pipeline.temperature = 1.0
    return pipeline


def _softmax(scores: np.ndarray) -> np.ndarray:
    """Softmax over the last axis, in the scores' dtype."""
    shifted = np.exp(scores - scores.max(-1, keepdims=True))
    return shifted / shifted.sum(-1, keepdims=True)


class OnnxTagger(OnnxLinePipeline):
    """A tagger bundle's exported graph, predicting as :class:`~lstm_nlp.pipelines.TaggingPipeline` does."""

    model_type = "sequence_tagger"
    task_name = TASKS[model_type].title
    predict_options = TASKS[model_type].predict_options

    def __init__(self, bundle: OnnxBundle):
        meta = bundle.meta
        self.bundle = bundle
        self.words = bundle.vocab("words", "the word vocabulary")
        self.labels = bundle.vocab("labels", "the tag set")
        encoder = bundle.config.get("char_encoder", "none")
        self.chars = bundle.vocab("chars", f"the character vocabulary of its {encoder!r} character encoder") \
            if encoder != "none" else None
        self.head: str = bundle.config.get("head", "softmax")
        self.label_scheme: str = bundle_label_scheme(meta)
        self.tag_column = meta.get("tag_column", "upos")
        self.token_column: int = meta.get("token_column", 0)
        self.file_scheme: str = meta.get("file_scheme", "none")
        self.temperature = float(meta.get("temperature", 1.0))
        crf = bundle.graph.meta.get("crf")
        if (crf is None) != (self.head != "crf"):
            raise BundleError(f"{bundle.graph.path} does not match {bundle.path}'s {self.head} head; export it again")
        self._crf = None if crf is None else {k: np.asarray(v) for k, v in crf.items()}
        self._tokenizer: SpacyTokenizer | None = None
        self._char_ids: dict[str, list[int]] = {}

    @property
    def scheme(self) -> str:
        """The old name of :attr:`label_scheme` (read-only)."""
        return self.label_scheme

    # ------------------------------------------------------------------ inference
    def tokenize(self, texts: Iterable[str]) -> list[list[str]]:
        """spaCy English tokenization of raw text lines (as the PyTorch tagger tokenizes)."""
        if self._tokenizer is None:
            self._tokenizer = SpacyTokenizer("en")
        return list(self._tokenizer.pipe(texts))

    def _word_chars(self, word: str) -> list[int]:
        ids = self._char_ids.get(word)
        if ids is None:
            if len(self._char_ids) >= _CHAR_CACHE_SIZE:
                self._char_ids.clear()
            ids = self._char_ids[word] = self.chars.encode(word[:MAX_WORD_CHARS])
        return ids

    def _feed(self, sentences: list[Sequence[str]]) -> dict[str, np.ndarray]:
        """The graph's inputs for a batch of non-empty sentences (the layout of ``collate_tagging``)."""
        token_ids = pad([self.words.encode(tokens) for tokens in sentences])
        lengths = np.array([len(tokens) for tokens in sentences])
        mask = np.arange(token_ids.shape[1])[None, :] < lengths[:, None]  # [batch, seq]
        feed = {"token_ids": token_ids, "mask": mask}
        if self.chars is not None:
            spellings = pad([self._word_chars(word) for tokens in sentences for word in tokens])  # [tokens, chars]
            char_ids = np.zeros((*token_ids.shape, spellings.shape[1]), dtype=np.int64)  # [batch, seq, chars]
            char_ids[mask] = spellings
            feed["words"], feed["word_index"] = unique_words(char_ids)
        return feed

    def scores(self, sentences: Sequence[Sequence[str]], *, batch_size: int = 256) -> list[np.ndarray]:
        """The graph's tag scores of each sentence, ``float32[len(tokens), tags]`` (CRF emissions for a CRF)."""
        sentences = check_sentences(sentences, "scores")
        out = [np.zeros((0, len(self.labels)), dtype=np.float32) for _ in sentences]
        kept = [i for i, tokens in enumerate(sentences) if len(tokens)]
        for batch in length_batches([len(sentences[i]) for i in kept], batch_size):
            rows = [kept[b] for b in batch]
            scores = self.bundle.graph.run(self._feed([sentences[i] for i in rows]))
            for row, index in enumerate(rows):
                out[index] = scores[row, :len(sentences[index])]
        return out

    def _decode(self, scores: np.ndarray) -> list[int]:
        if not len(scores):
            return []
        if self._crf is None:
            return scores.argmax(-1).tolist()
        return viterbi_decode(scores, **self._crf)

    def predict_tokens(self, sentences: Sequence[Sequence[str]], *, batch_size: int = 256) -> list[list[str]]:
        """Tags pre-tokenized sentences, in order (an empty sentence gets ``[]``)."""
        return [self.labels.decode(self._decode(s)) for s in self.scores(sentences, batch_size=batch_size)]

    def predict_probabilities(self, sentences: Sequence[Sequence[str]], *,
                              batch_size: int = 256) -> tuple[list[list[str]], list[list[float]]]:
        """Tags with each chosen tag's softmax probability at :attr:`temperature` (softmax heads)."""
        if self._crf is not None:
            raise ConfigError("a CRF tagger's probabilities (marginals, spans) and k best sequences need the "
                              "PyTorch backend (--backend torch)")
        scores = self.scores(sentences, batch_size=batch_size)
        tags = [self.labels.decode(self._decode(s)) for s in scores]
        return tags, [_softmax(s / np.float32(self.temperature)).max(-1).tolist() for s in scores]

    # ------------------------------------------------------------------ output
    def format_predictions(self, lines: list[str], *, batch_size: int, first_line: int, input_format: str = "text",
                           output_format: str = "slash", probabilities: bool = False,
                           top_k: int | None = None) -> list[str]:
        """One output item per input line (see :meth:`lstm_nlp.pipelines.TaggingPipeline.format_predictions`)."""
        sentences = line_sentences(lines, input_format, self.tokenize)
        return self._format(sentences, output_format, probabilities, batch_size, top_k)

    def format_sentences(self, sentences: Sequence[Sequence[str]], *, output_format: str = "jsonl",
                         probabilities: bool = False, top_k: int | None = None, batch_size: int = 256) -> list[str]:
        """One output item per pre-tokenized sentence (what ``lstm-nlp serve`` answers with)."""
        sentences = check_sentences(sentences, "format_sentences")
        return self._format(sentences, output_format, probabilities, batch_size, top_k)

    def _format(self, sentences: list[list[str]], output_format: str, probabilities: bool, batch_size: int,
                top_k: int | None = None) -> list[str]:
        check_tag_output(output_format, probabilities, top_k)
        if top_k:
            raise ConfigError("the k best tag sequences need the PyTorch backend (--backend torch)")
        if probabilities:
            tags, chosen = self.predict_probabilities(sentences, batch_size=batch_size)
        else:
            tags, chosen = self.predict_tokens(sentences, batch_size=batch_size), None
        return write_tagged(sentences, [self._file_tags(seq) for seq in tags], output_format, probabilities=chosen)

    def _file_tags(self, tags: list[str]) -> list[str]:
        """Tags in the scheme of the model's training files (as the PyTorch tagger writes them)."""
        target = self.file_scheme if self.file_scheme in ("iob1", "iob2") else "iob2"
        if self.label_scheme in ("none", target):
            return tags
        return convert_tags(tags, self.label_scheme, target)

    def conllu_tags_problem(self) -> str | None:
        """Why this model's tags have no field in a CoNLL-U file, or ``None``."""
        return conllu_tags_problem(self.label_scheme)

    def predict_blocks(self, lines: Iterable[str] | TextIO, *, input_format: str, output_format: str | None = None,
                       probabilities: bool = False, top_k: int | None = None, batch_size: int = 256,
                       chunk_sentences: int = 1024, max_line_chars: int = MAX_LINE_CHARS,
                       workers: int = 1) -> Iterator[str]:
        """Tags a CoNLL or CoNLL-U stream sentence by sentence (see
        :meth:`lstm_nlp.pipelines.TaggingPipeline.predict_blocks`; ``workers`` must be 1)."""
        check_one_worker(workers)
        output_format = check_block_formats(input_format, output_format, self.conllu_tags_problem())
        blocks = read_blocks(clean_lines(lines, max_line_chars=max_line_chars), kind=input_format,
                             token_column=self.token_column, source=stream_name(lines))
        for chunk in iter(lambda: list(itertools.islice(blocks, chunk_sentences)), []):
            with paused_gc():
                yield from self._blocks_outputs(chunk, input_format, output_format, probabilities, batch_size, top_k)

    def _blocks_outputs(self, chunk: list[Block], input_format: str, output_format: str, probabilities: bool,
                        batch_size: int, top_k: int | None) -> list[str]:
        sentences = [block.tokens for block in chunk]
        if output_format not in BLOCK_FORMATS:
            return self._format(sentences, output_format, probabilities, batch_size, top_k)
        column = self.tag_column if self.tag_column in CONLLU_COLUMNS else "upos"
        return [write_block(block, self._file_tags(tags), kind=input_format, column=column) + "\n"
                for block, tags in zip(chunk, self.predict_tokens(sentences, batch_size=batch_size))]


class OnnxClassifier(OnnxLinePipeline):
    """A text-classifier bundle's exported graph, predicting as :class:`~lstm_nlp.pipelines.ClassificationPipeline`."""

    model_type = "text_classifier"
    task_name = TASKS[model_type].title
    predict_options = TASKS[model_type].predict_options

    def __init__(self, bundle: OnnxBundle):
        self.bundle = bundle
        self.words = bundle.vocab("words", "the word vocabulary")
        self.labels = bundle.vocab("labels", "the classes")
        self.tokenizer = bundle_tokenizer(bundle.path, bundle.meta.get("tokenizer"))
        self.max_length = bundle.meta.get("max_length")
        self.temperature = float(bundle.meta.get("temperature", 1.0))
        # the graph's softmax has the temperature of the export baked in (older exports: the bundle's)
        self._graph_temperature = float(bundle.graph.meta.get("temperature", self.temperature))

    def predict_probabilities(self, texts: Sequence[str], *, batch_size: int = 256) -> np.ndarray:
        """Class probabilities ``float32[len(texts), classes]`` of raw texts at :attr:`temperature`."""
        texts = check_texts(texts, "predict_probabilities")
        unk = [self.words.unk_id]
        ids = [self.words.encode(tokens[: self.max_length]) or unk for tokens in self.tokenizer.pipe(texts)]
        out = np.zeros((len(ids), len(self.labels)), dtype=np.float32)
        for batch in length_batches([len(i) for i in ids], batch_size):
            token_ids = pad([ids[i] for i in batch])
            mask = np.arange(token_ids.shape[1])[None, :] < np.array([len(ids[i]) for i in batch])[:, None]
            out[batch] = self.bundle.graph.run({"token_ids": token_ids, "mask": mask})
        if self.temperature != self._graph_temperature:  # log p = z / T_graph + c: rescale to z / T
            with np.errstate(divide="ignore"):
                out = _softmax(np.log(out) * np.float32(self._graph_temperature / self.temperature))
        return out

    def format_predictions(self, lines: list[str], *, batch_size: int, first_line: int,
                           output_format: str | None = None) -> list[str]:
        """Each line's prediction in a registered output format (see
        :meth:`lstm_nlp.pipelines.ClassificationPipeline.format_predictions`)."""
        write = classifier_writer(output_format)
        return write(self.labels.itos, self.predict_probabilities(lines, batch_size=batch_size).tolist())
