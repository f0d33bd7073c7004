"""What the ONNX backend runs on, without torch: the exported graph in onnxruntime, a bundle's JSON files,
length-bucketed numpy batches, and line streaming.

The graph is the one :func:`lstm_nlp.export.onnx.export_onnx` writes (``lstm-nlp export``), by default as
``model.onnx`` inside the bundle folder; the bundle's ``config.json`` and vocabulary files turn text into
its inputs. Imports numpy, onnxruntime and the bundle's tokenizer (spaCy or HF tokenizers), never torch.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any, ClassVar, TextIO

import numpy as np

from lstm_nlp.bundle_header import VOCAB_SUFFIX, locate_bundle, read_header
from lstm_nlp.data.lines import MAX_LINE_CHARS, clean_lines, line_chunks
from lstm_nlp.data.vocab import Vocab
from lstm_nlp.errors import BundleError, ConfigError, VocabError
from lstm_nlp.gc_pause import paused_gc

#: The graph's file name inside a bundle folder (where ``lstm-nlp export`` writes it by default).
ONNX_NAME = "model.onnx"
#: The graph's metadata entry (JSON: labels, task, tag scheme, CRF transitions).
METADATA_KEY = "lstm_nlp"
#: Most padded tokens in a batch (= lstm_nlp.pipelines.base.MAX_BATCH_TOKENS; not imported: it imports torch).
MAX_BATCH_TOKENS = 32_768


def require_onnxruntime():
    """The onnxruntime module, or a ConfigError naming the extra that installs it."""
    try:
        import onnxruntime
    except ImportError:
        raise ConfigError('the ONNX backend needs onnxruntime: pip install "lstm_nlp[onnx]"') from None
    return onnxruntime


def export_command(bundle: str | os.PathLike) -> str:
    """The command that writes ``bundle``'s graph where the ONNX backend looks for it."""
    return f"lstm-nlp export --model {bundle}"


def check_exported(directory: str | os.PathLike, onnx_path: str | os.PathLike | None = None) -> Path:
    """The graph's path (default ``directory/model.onnx``), or a ConfigError naming the command that writes it."""
    path = Path(onnx_path) if onnx_path is not None else Path(directory) / ONNX_NAME
    if not path.is_file():
        raise ConfigError(f"{directory} has no {path.name} (the ONNX backend runs the exported graph); "
                          f"write it with: {export_command(directory)}")
    return path


class OnnxGraph:
    """An exported graph in an onnxruntime session, with the metadata the export stored beside it.

    Args:
        path: The ``.onnx`` file.
        threads: onnxruntime intra-op threads (0: its default, one per core).

    Raises:
        ConfigError: onnxruntime missing, or a file without lstm_nlp's metadata.
    """

    def __init__(self, path: str | os.PathLike, *, threads: int = 0):
        ort = require_onnxruntime()
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        try:
            self.session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        except Exception as err:  # noqa: BLE001  (onnxruntime raises its own types for a broken file)
            raise BundleError(f"{path} is not a readable ONNX graph ({str(err).splitlines()[0][:200]})") from None
        meta = self.session.get_modelmeta().custom_metadata_map.get(METADATA_KEY)
        if meta is None:
            raise ConfigError(f"{path} was not written by lstm_nlp's export (no {METADATA_KEY!r} metadata)")
        self.path = Path(path)
        self.meta: dict = json.loads(meta)
        self.inputs = {i.name for i in self.session.get_inputs()}

    def run(self, feed: dict[str, np.ndarray]) -> np.ndarray:
        """The graph's one output for ``feed`` (the inputs it takes; others are left out)."""
        return self.session.run(None, {k: v for k, v in feed.items() if k in self.inputs})[0]


class OnnxBundle:
    """A bundle folder read for the ONNX backend: ``config.json``, the vocabularies and the graph.

    Args:
        directory: The bundle folder.
        onnx_path: The graph (default: ``directory/model.onnx``).
        threads: onnxruntime intra-op threads (0: its default).

    Raises:
        BundleError: no bundle there, a broken file, or a graph exported from a model with other labels.
        ConfigError: no graph (the message gives the command that writes it), or onnxruntime missing.
    """

    def __init__(self, directory: str | os.PathLike, *, onnx_path: str | os.PathLike | None = None, threads: int = 0):
        self.path = locate_bundle(directory)
        header = read_header(self.path)
        self.model_type: str = header["model_type"]
        self.config: dict = header["config"]
        self.meta: dict = header.get("meta") or {}
        graph_path = check_exported(self.path, onnx_path)
        self.vocabs = {}
        for file in sorted(self.path.glob(f"*{VOCAB_SUFFIX}")):
            try:
                self.vocabs[file.name[: -len(VOCAB_SUFFIX)]] = Vocab.load(file)
            except VocabError as err:
                raise BundleError(str(err)) from None
        self.graph = OnnxGraph(graph_path, threads=threads)
        labels = self.vocab("labels", "the labels").itos
        if self.graph.meta.get("labels") != labels:
            raise BundleError(f"{graph_path} was exported from a model with other labels than {self.path}'s; "
                              f"export it again: {export_command(directory)}")

    def vocab(self, name: str, purpose: str) -> Vocab:
        """The vocabulary ``name``, or a BundleError saying what it is for."""
        if name not in self.vocabs:
            raise BundleError(f"{self.path} has no {name}{VOCAB_SUFFIX} ({purpose}); was the bundle copied without it?")
        return self.vocabs[name]


def length_batches(lengths: Sequence[int], batch_size: int, *, max_tokens: int = MAX_BATCH_TOKENS) -> list[list[int]]:
    """Indices sorted by length, cut into batches of at most ``batch_size`` items and ``max_tokens`` padded
    tokens (a longer item is a batch of its own): the unshuffled order of
    :class:`~lstm_nlp.data.batching.BucketBatchSampler`."""
    if batch_size < 1:
        raise ConfigError(f"batch_size must be >= 1, got {batch_size}")
    batches: list[list[int]] = []
    batch: list[int] = []
    for i in sorted(range(len(lengths)), key=lengths.__getitem__):
        if batch and (len(batch) == batch_size or (len(batch) + 1) * lengths[i] > max_tokens):
            batches.append(batch)
            batch = []
        batch.append(i)
    return batches + [batch] if batch else batches


def pad(sequences: Sequence[Sequence[int]], value: int = 0) -> np.ndarray:
    """``int64[len(sequences), longest]``: each sequence left-aligned, then ``value``."""
    width = max(map(len, sequences), default=0) or 1
    out = np.full((len(sequences), width), value, dtype=np.int64)
    for row, ids in enumerate(sequences):
        out[row, :len(ids)] = ids
    return out


def unique_words(char_ids: np.ndarray, padding_idx: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``char_ids [batch, seq, chars]`` -> ``(words [n, chars], word_index [batch, seq])``: each distinct
    spelling once, and each position's row (``n`` for a padding word)."""
    batch, seq, width = char_ids.shape
    flat = char_ids.reshape(batch * seq, width)
    words, inverse = np.unique(flat, axis=0, return_inverse=True)
    inverse = inverse.reshape(-1)
    real = (words != padding_idx).any(axis=1)
    if not real.all():  # drop the all-padding row; its positions point one past the end
        new_id = np.cumsum(real) - 1
        inverse = np.where(real[inverse], new_id[inverse], int(real.sum()))
        words = words[real]
    return words, inverse.reshape(batch, seq)


class OnnxLinePipeline:
    """What both ONNX pipelines share: the task's settings for messages, and streaming over text lines.

    A subclass sets the class attributes and implements ``format_predictions``.
    """

    model_type: ClassVar[str]
    task_name: ClassVar[str]
    predict_options: ClassVar[tuple[str, ...]]

    def predict_lines(self, lines: Iterable[str] | TextIO, *, batch_size: int = 256, chunk_size: int = 4096,
                      max_line_chars: int = MAX_LINE_CHARS, workers: int = 1, **options: Any) -> Iterator[str]:
        """One output line per input line, in order, a bounded chunk at a time (as
        :meth:`lstm_nlp.pipelines.base.TaskPipeline.predict_lines`; ``workers`` must be 1)."""
        check_one_worker(workers)
        refused = sorted(k for k, v in options.items() if v is not None and k not in self.predict_options)
        if refused:
            raise ConfigError(f"{', '.join(refused)} does not apply to a {self.task_name}; it predicts with "
                              f"{', '.join(self.predict_options)}")
        options = {k: v for k, v in options.items() if v is not None}
        for first_line, chunk in line_chunks(clean_lines(lines, max_line_chars=max_line_chars), chunk_size):
            with paused_gc():  # one bounded chunk
                yield from self.format_predictions(chunk, batch_size=batch_size, first_line=first_line, **options)

    def format_predictions(self, lines: list[str], *, batch_size: int, first_line: int, **options: Any) -> list[str]:
        raise NotImplementedError


def check_one_worker(workers: int) -> None:
    """The ONNX backend predicts in this process (onnxruntime's threads share the cores instead)."""
    if workers != 1:
        raise ConfigError(f"--workers {workers}: the ONNX backend predicts in one process; give onnxruntime the "
                          "cores with --threads instead")
