"""The task contract: what every pipeline (tagging, classification, forecasting) shares.

A pipeline is a trained model plus whatever turns the user's data into its inputs and its
outputs back into the user's terms. :class:`TaskPipeline` owns the parts that are the same for
every task, so that each gets the same checks:

* the device (:attr:`device`, :meth:`to`) and length-bucketed batches (:meth:`loader`);
* streaming prediction over text lines (:meth:`predict_lines`): one rule for line ends, a UTF-8
  byte-order mark dropped, a bounded line length (a longer line is an error naming it), chunks
  bounded in lines and characters with the garbage collector paused;
* reading labelled files (:meth:`read_labelled`) and the label-set check of evaluation
  (:func:`check_gold_labels`);
* bundles: :meth:`save_pretrained` / :meth:`from_pretrained`, with every required vocabulary
  file named when it is missing and the task settings in ``config.json``'s ``meta`` checked
  against the task's :attr:`meta_schema` (one line naming the file and field).

A task supplies only what differs: ``collate`` (its batch layout, see :mod:`lstm_nlp.batch`),
:meth:`format_predictions` (featurize, run, decode, format a chunk of lines), ``_read_labelled``,
``evaluate`` (its metrics), :meth:`bundle_contents` and ``_from_bundle``.
"""

from __future__ import annotations

import logging
import os
import sys
from collections import Counter
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping
from typing import Any, ClassVar, TextIO

import torch
from torch import nn
from torch.utils.data import DataLoader

from lstm_nlp.data.batching import BucketBatchSampler
from lstm_nlp.data.lines import (  # noqa: F401
    BOM,
    MAX_LINE_CHARS,
    PeekedLines,
    check_sentences,
    check_texts,
    clean_lines,
    line_chunks,
    long_line_error,
    read_lines,
)
from lstm_nlp.data.textfiles import check_data_path
from lstm_nlp.device import adapt_cpu_threads, resolve_device
from lstm_nlp.errors import BundleError, ConfigError, DataFormatError
from lstm_nlp.gc_pause import paused_gc
from lstm_nlp.schema import Field, check_fields
from lstm_nlp.serialization import VOCAB_SUFFIX, Bundle, read_bundle

logger = logging.getLogger("lstm_nlp")

#: Vocabularies of tokens (not labels): they map what they never saw to their ``unk_token``.
TOKEN_VOCABS = ("words", "chars")
#: Most padded tokens in a prediction/evaluation batch (256 sentences of 128 tokens; fewer, longer ones).
MAX_BATCH_TOKENS = 32_768
#: A prediction chunk is cut once its lines hold this many characters (bounds memory per chunk).
CHUNK_CHARS = 4_000_000
#: Shown in label-set errors: this many labels of each side.
_SHOWN_LABELS = 8


class TaskPipeline:
    """Base of the task pipelines: a model, its device, batching, streaming prediction and bundle I/O.

    Subclasses set :attr:`model_type` (the bundle's ``model_type``) and ``collate`` and implement
    the hooks named in the module docstring.
    """

    model: nn.Module
    #: ``model_type`` in a bundle's ``config.json`` that this pipeline loads.
    model_type: ClassVar[str]
    #: Collate function of :meth:`loader` (``None``: the task has its own loader).
    collate: ClassVar[Callable[[list[dict]], dict[str, torch.Tensor]] | None] = None
    #: What the task is called in messages ("tagger", "text classifier", ...).
    task_name: ClassVar[str] = "model"
    #: Keyword options of :meth:`read_labelled` for this task; others given a value are refused.
    read_options: ClassVar[tuple[str, ...]] = ()
    #: Keyword options of :meth:`format_predictions` (input/output formats), checked the same way.
    predict_options: ClassVar[tuple[str, ...]] = ()
    #: The task settings a bundle's ``meta`` may hold (see :mod:`lstm_nlp.schema`); other keys are ignored.
    meta_schema: ClassVar[Mapping[str, Field]] = {}
    #: Show a progress bar on a terminal during :meth:`inference_batches` (off for library use).
    progress: bool = False
    progress_label: str = "predicting"

    # ------------------------------------------------------------------ device and batches
    @property
    def device(self) -> torch.device:
        return next(self.model.parameters()).device

    def to(self, device: str | torch.device) -> TaskPipeline:
        """Moves the model to ``device`` (``"auto"``, ``"cpu"``, ``"cuda"``, ``"cuda:N"``, ``"mps"``)."""
        self.model.to(resolve_device(device) if isinstance(device, str) else device)
        return self

    def loader(self, examples: list[dict], *, batch_size: int = 32, shuffle: bool = False, seed: int = 0,
               num_replicas: int = 1, rank: int = 0) -> DataLoader:
        """A DataLoader with length-bucketed batches over encoded examples (each with ``token_ids``).

        Unshuffled (prediction, evaluation) batches also hold at most :data:`MAX_BATCH_TOKENS` padded
        tokens, so that long texts do not multiply the memory a batch takes.
        """
        sampler = BucketBatchSampler([len(e["token_ids"]) for e in examples], batch_size, shuffle=shuffle,
                                     seed=seed, num_replicas=num_replicas, rank=rank,
                                     max_tokens=None if shuffle else MAX_BATCH_TOKENS)
        return DataLoader(examples, batch_sampler=sampler, collate_fn=type(self).collate,
                          pin_memory=self.device.type == "cuda")

    def inference_batches(self, examples: list[dict], *, batch_size: int) -> Iterator[dict[str, torch.Tensor]]:
        """The unshuffled batches of :meth:`loader`, for prediction and evaluation.

        Before each batch the CPU thread count follows the free cores (:func:`~lstm_nlp.device.adapt_cpu_threads`).
        With :attr:`progress` set (``lstm-nlp evaluate`` sets it), a progress bar over the examples is shown on a
        terminal's stderr.
        """
        bar = None
        if self.progress and examples:
            from tqdm.auto import tqdm

            bar = tqdm(total=len(examples), unit="example", desc=self.progress_label, leave=False, disable=None,
                       file=sys.stderr)
        try:
            for batch in self.loader(examples, batch_size=batch_size) if examples else ():
                adapt_cpu_threads()
                yield batch
                if bar is not None:
                    bar.update(len(batch["lengths"]) if "lengths" in batch else batch["token_ids"].shape[0])
        finally:
            if bar is not None:
                bar.close()

    # ------------------------------------------------------------------ prediction
    def predict_lines(self, lines: Iterable[str] | TextIO, *, batch_size: int = 256, chunk_size: int = 4096,
                      max_line_chars: int = MAX_LINE_CHARS, workers: int = 1, **options: Any) -> Iterator[str]:
        """Streams one output line per input line, in input order, a bounded chunk at a time.

        Line ends (``\\n``, ``\\r\\n``) are stripped and a UTF-8 byte-order mark at the start of the
        input is dropped; what an output line holds is the task's (:meth:`format_predictions`).
        A chunk holds at most ``chunk_size`` lines and :data:`CHUNK_CHARS` characters (or one line).

        Args:
            lines: Text lines, or a text stream (read with :func:`read_lines`, so an endless line such
                as ``/dev/zero`` stops at ``max_line_chars`` instead of filling memory).
            max_line_chars: Longest line taken, in characters (without its line end).
            workers: Processes that predict chunks side by side (CPU, ``fork`` platforms; see
                :mod:`lstm_nlp.pipelines.workers`); 1 predicts here.
            options: The task's :attr:`predict_options` (e.g. ``output_format``), passed to
                :meth:`format_predictions`; one the task does not take is a ConfigError unless ``None``.

        Raises:
            DataFormatError: a line longer than ``max_line_chars`` (``line N has more than ... characters``).
        """
        options = self._check_options(options, self.predict_options, "predicts")
        chunks = self._line_chunks(clean_lines(lines, max_line_chars=max_line_chars), chunk_size)
        jobs = ((chunk, batch_size, first_line, options) for first_line, chunk in chunks)
        for outputs in self._map_chunks("_predict_chunk", jobs, workers):
            yield from outputs

    def _map_chunks(self, method: str, jobs: Iterable[tuple], workers: int) -> Iterator[list[str]]:
        """``self.<method>(*args)`` for each ``args`` of ``jobs``, in order: here, or in ``workers`` processes."""
        if workers == 1:
            return (getattr(self, method)(*args) for args in jobs)
        from lstm_nlp.pipelines.workers import map_in_workers  # multiprocessing only when asked for

        return map_in_workers(self, method, jobs, workers)

    @staticmethod
    def _line_chunks(lines: Iterable[str], chunk_size: int) -> Iterator[tuple[int, list[str]]]:
        """:func:`~lstm_nlp.data.lines.line_chunks` with this module's :data:`CHUNK_CHARS`."""
        return line_chunks(lines, chunk_size, max_chars=CHUNK_CHARS)

    def _predict_chunk(self, lines: list[str], batch_size: int, first_line: int, options: dict) -> list[str]:
        with paused_gc():  # one bounded chunk; see paused_gc
            return self.format_predictions(lines, batch_size=batch_size, first_line=first_line, **options)

    def format_predictions(self, lines: list[str], *, batch_size: int, first_line: int, **options: Any) -> list[str]:
        """The output line of each input line (``first_line``: the 1-based number of ``lines[0]``)."""
        raise NotImplementedError

    def _check_options(self, options: dict, allowed: tuple[str, ...], verb: str) -> dict:
        """``options`` without ``None`` values; a given one the task does not take is a ConfigError."""
        refused = sorted(k for k, v in options.items() if v is not None and k not in allowed)
        if refused:
            raise ConfigError(f"{', '.join(refused)} does not apply to a {self.task_name}; it {verb} with "
                              f"{', '.join(allowed) or 'no options'}")
        return {k: v for k, v in options.items() if v is not None}

    # ------------------------------------------------------------------ labelled data
    def read_labelled(self, path: str | os.PathLike, **options: Any):
        """Reads a labelled file for :meth:`evaluate`, with this model's column and label settings.

        ``options`` are the task's (:attr:`read_options`, e.g. ``tag_column`` for taggers); one the
        task does not take is a :class:`~lstm_nlp.errors.ConfigError` naming it, unless it is ``None``.
        A path that exists must be a regular file or a folder (a FIFO or ``/dev/zero`` would never end).
        """
        options = self._check_options(options, self.read_options, "reads labelled data")
        check_data_path(path)
        return self._read_labelled(path, **options)

    def _read_labelled(self, path: str | os.PathLike, **options: Any):
        raise NotImplementedError

    def evaluate(self, data: Any, *, batch_size: int = 256) -> dict:
        """The task's metrics on labelled data (what :meth:`read_labelled` returns, or a path to read)."""
        raise NotImplementedError

    def _labelled_data(self, data: Any) -> Any:
        """``data`` itself, or what :meth:`read_labelled` reads from it when it is a path (as the CLI takes)."""
        if isinstance(data, (str, os.PathLike)):
            return self.read_labelled(data)
        return data

    # ------------------------------------------------------------------ bundles
    def bundle_contents(self) -> dict:
        """Keyword arguments of the model's ``save_pretrained``: ``vocabs``, ``meta``, ``extra_files``."""
        raise NotImplementedError

    def save_pretrained(self, directory: str | os.PathLike) -> None:
        """Writes the model, its vocabularies and the task settings to ``directory`` (atomically)."""
        self.model.save_pretrained(directory, **self.bundle_contents())

    @classmethod
    def required_vocabs(cls, bundle: Bundle) -> dict[str, str]:
        """Vocabulary files ``bundle`` must hold: ``{name: what it is for}``."""
        return {}

    @classmethod
    def from_pretrained(cls, directory: str | os.PathLike, *, device: str | torch.device = "cpu"):
        """Loads a bundle written by :meth:`save_pretrained` (no code in it is executed).

        Raises:
            BundleError: a missing or unreadable file (named), or a bundle of another task.
        """
        bundle = read_bundle(directory, expected_type=cls.model_type)
        check_fields(bundle.meta, cls.meta_schema, source=bundle.config_file, prefix="meta.", allow_unknown=True)
        for name, purpose in cls.required_vocabs(bundle).items():
            if name not in bundle.vocabs:
                raise BundleError(f"{bundle.path} has no {name}{VOCAB_SUFFIX} ({purpose}); was the bundle copied "
                                  "without it?")
            if name in TOKEN_VOCABS and bundle.vocabs[name].unk_id is None:
                raise BundleError(f"{bundle.path / (name + VOCAB_SUFFIX)}: unk_token is null, but {purpose} needs one "
                                  "(tokens it never saw map to it)")
        try:
            pipeline = cls._from_bundle(bundle)
        except (ConfigError, BundleError) as err:  # a setting the task refuses, files that disagree: name the bundle
            if str(err).startswith(str(bundle.path)):
                raise
            where = bundle.config_file if isinstance(err, ConfigError) else bundle.path
            raise BundleError(f"{where}: {err}") from None
        return pipeline.to(device)

    @classmethod
    def _from_bundle(cls, bundle: Bundle) -> TaskPipeline:
        raise NotImplementedError


def check_gold_labels(gold: Iterable[str], known: Collection[str], *, what: str = "label",
                      shared: Collection[str] = ("O",)) -> int:
    """Checks that gold labels of labelled data belong to the model; returns how many do not.

    A few unknown labels are scored as errors (the model cannot predict them) and logged. When
    most gold labels are unknown, the data was not made for this model (a NER model on a POS file,
    a chunker on NER data) and its scores would mean nothing: that is an error listing a few labels
    of each side. Labels in ``shared`` (``O``, outside any span, which every BIO tag set has) do
    not count towards "most": NER data is mostly ``O``, which a chunker knows too.

    Raises:
        DataFormatError: most gold labels outside ``shared`` are unknown to the model.
    """
    counts = Counter(gold)
    unknown = {label: n for label, n in counts.items() if label not in known}
    n_unknown = sum(unknown.values())
    judged = sum(n for label, n in counts.items() if label not in shared)
    if unknown and n_unknown * 2 > judged:
        total = sum(counts.values())
        data_side = ", ".join(map(repr, sorted(unknown, key=lambda label: -unknown[label])[:_SHOWN_LABELS]))
        model_side = ", ".join(map(repr, list(known)[:_SHOWN_LABELS]))
        raise DataFormatError(
            f"the data does not match the model's {what} set: {n_unknown} of its {total} gold {what}s "
            f"({len(unknown)} of {len(counts)} distinct) are unknown to the model. The data has {data_side}"
            f"{', ...' if len(unknown) > _SHOWN_LABELS else ''}; the model knows {model_side}"
            f"{', ...' if len(known) > _SHOWN_LABELS else ''}. Is it the right file (and column) for this model?")
    if unknown:
        logger.warning("%d gold %s(s) are not in the model's %s set (%s); they count as errors", n_unknown, what,
                       what, ", ".join(sorted(unknown)[:_SHOWN_LABELS]))
    return n_unknown
