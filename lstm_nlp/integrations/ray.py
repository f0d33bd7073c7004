"""Batch prediction on Ray Data: a corpus spread over many machines, tagged by a pool of actors.

::

    import ray
    from lstm_nlp.integrations.ray import predict_dataset, read_lines

    ray.init(num_cpus=3)                           # or ray.init("auto"): join a running cluster
    lines = read_lines("corpus/", num_blocks=8)    # one row per line: {"text": ...}
    tagged = predict_dataset(lines, "runs/pos/model", concurrency=2)
    tagged.write_json("tagged/")                   # rows {"text", "prediction"}, a file per block

:class:`Predictor` is the callable class for ``Dataset.map_batches``: each actor of the pool loads
the bundle once (:func:`~lstm_nlp.inference.load_for_inference`, as ``lstm-nlp predict`` does) and
then predicts batch after batch. Its ``prediction`` column holds, for each ``text``, the line
``lstm-nlp predict`` writes for it (by default ``--output-format jsonl``: one JSON record), made by
the same code (the pipeline's ``format_predictions``), so the outputs are equal string for string.

:func:`read_lines` reads text files as ``lstm-nlp predict --input`` reads them: lines end at
``\\n`` only (``\\r\\n`` stripped), a UTF-8 byte-order mark at the start of a file is dropped, empty
lines are kept (each gets its output), invalid UTF-8 and over-long lines stop the run naming the
file and line. ``ray.data.read_text`` differs on each point (it splits at ``\\r`` and other Unicode
line breaks too, and drops empty lines unless ``drop_empty_lines=False``), so its lines need not
line up with ``lstm-nlp predict``'s.

The read tasks need CPUs beyond the actor pool's: with every CPU held by an actor the run waits
forever (``ray.init(num_cpus=3)`` for 2 actors; Ray's CPUs are logical).

Ray Data gives the rows back in input order only with
``ray.data.DataContext.get_current().execution_options.preserve_order = True``.

Needs the ``ray`` extra (``pip install "lstm_nlp[ray]"``: Ray Data).
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterator, Mapping
from typing import Any

try:
    import ray.data
except ImportError:  # pragma: no cover - the message is tested with ray hidden
    raise ImportError('lstm_nlp.integrations.ray needs Ray Data: pip install "lstm_nlp[ray]"') from None
import numpy as np

#: The input column :class:`Predictor` reads (``read_lines``' and ``ray.data.read_text``'s).
TEXT_COLUMN = "text"
#: The output column :class:`Predictor` writes.
PREDICTION_COLUMN = "prediction"


class Predictor:
    """A ``map_batches`` callable class: ``lstm-nlp predict``'s output line for each text of a batch.

    Args:
        model_dir: The bundle folder (a recipe's ``OUTPUT_DIR/model``), readable from every worker at this
            path: an absolute one (actors do not run in the driver's working directory).
        device, precision, threads, calibrated: As ``lstm-nlp predict``'s ``--device``, ``--precision``,
            ``--threads`` and ``--no-calibrate`` (``calibrated=False``). ``threads=None`` follows
            ``OMP_NUM_THREADS``, which Ray sets in each actor to its ``num_cpus`` (1 by default).
        batch_size: Sentences per inference batch (``--batch-size``), inside each Ray batch.
        output_format: ``--output-format``; ``None``: ``"jsonl"`` for taggers and text classifiers,
            nothing for forecasters (they write their forecasts).
        input_format: Taggers: ``"text"`` (raw lines, spaCy tokenization) or ``"tokens"``
            (``--input-format``; CoNLL files are blocks of lines, not lines: use ``lstm-nlp predict``).
        probabilities, top_k: Taggers' ``--probabilities`` and ``--top-k`` (jsonl output).
        column, output_column: The batch column read and the one added.

    Raises:
        ConfigError: an option the model does not take (when the actor starts, before any batch).
    """

    def __init__(self, model_dir: str | os.PathLike, *, device: str = "cpu", precision: str = "fp32",
                 threads: int | None = None, calibrated: bool = True, batch_size: int = 256,
                 output_format: str | None = None, input_format: str | None = None, probabilities: bool = False,
                 top_k: int | None = None, column: str = TEXT_COLUMN, output_column: str = PREDICTION_COLUMN):
        from lstm_nlp.inference import load_for_inference

        self.pipeline = load_for_inference(model_dir, device=device, precision=precision, threads=threads,
                                           calibrated=calibrated)
        if output_format is None and "output_format" in self.pipeline.predict_options:
            output_format = "jsonl"
        options = {"output_format": output_format, "input_format": input_format,
                   "probabilities": probabilities or None, "top_k": top_k}
        self.options = {k: v for k, v in options.items() if v is not None}
        list(self.pipeline.predict_lines([], **self.options))  # refuses options the task does not take, now
        self.batch_size, self.column, self.output_column = batch_size, column, output_column

    def predict(self, texts: list[str]) -> list[str]:
        """The output line of each text (each one input line, without its line end)."""
        from lstm_nlp.gc_pause import paused_gc

        with paused_gc():  # one bounded batch, as predict's chunks
            return self.pipeline.format_predictions(texts, batch_size=self.batch_size, first_line=1, **self.options)

    def __call__(self, batch: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        """``batch`` (``batch_format="numpy"``) with the :attr:`output_column` added."""
        outputs = self.predict([str(text) for text in batch[self.column]])
        return {**batch, self.output_column: np.array(outputs, dtype=object)}


def predict_dataset(dataset: ray.data.Dataset, model_dir: str | os.PathLike, *, concurrency: int = 2,
                    rows_per_batch: int = 1024, num_cpus: float = 1, num_gpus: float = 0,
                    **options: Any) -> ray.data.Dataset:
    """``dataset`` (a ``text`` column) with a ``prediction`` column, from a pool of ``concurrency`` actors.

    ``model_dir`` is made absolute here (on the driver), so a relative path works as in ``lstm-nlp predict``.

    Args:
        rows_per_batch: Rows of a Ray batch (``map_batches``' ``batch_size``); the model's own
            batches are :class:`Predictor`'s ``batch_size``, one of the ``options``.
        num_cpus, num_gpus: Each actor's share (give ``num_gpus=1`` with ``device="cuda"``).
        options: :class:`Predictor`'s keyword arguments.
    """
    return dataset.map_batches(Predictor, fn_constructor_args=(os.path.abspath(model_dir),),
                               fn_constructor_kwargs=options, batch_size=rows_per_batch, batch_format="numpy",
                               compute=ray.data.ActorPoolStrategy(size=concurrency),
                               num_cpus=num_cpus, num_gpus=num_gpus)


def read_lines(paths: str | os.PathLike | list[str | os.PathLike], *, num_blocks: int | None = None,
               encoding_errors: str = "strict", max_line_chars: int | None = None) -> ray.data.Dataset:
    """Text files as a dataset of lines (``text`` column), split as ``lstm-nlp predict --input`` splits them.

    Args:
        paths: Files or folders (every file in them), local (a relative path is taken from the driver's
            working directory) or any filesystem Ray Data reads (``s3://...``).
        num_blocks: Repartition into this many blocks (keeping the order): a file is read into one
            block, so a single file needs it to reach more than one actor.
        encoding_errors, max_line_chars: ``--encoding-errors`` and ``--max-line-chars``.
    """
    from lstm_nlp.data.lines import MAX_LINE_CHARS

    limit = MAX_LINE_CHARS if max_line_chars is None else max_line_chars
    sources = [_absolute(p) for p in (paths if isinstance(paths, list) else [paths])]
    files = ray.data.read_binary_files(sources, include_paths=True)
    lines = files.flat_map(_file_lines, fn_kwargs={"encoding_errors": encoding_errors, "max_line_chars": limit})
    return lines.repartition(num_blocks) if num_blocks else lines


def _absolute(path: str | os.PathLike) -> str:
    """A local path made absolute on the driver (the read tasks do not run in its working directory);
    a URI (``s3://...``) as it is."""
    path = os.fspath(path)
    return path if "://" in path else os.path.abspath(path)


def _file_lines(row: Mapping[str, Any], *, encoding_errors: str, max_line_chars: int) -> Iterator[dict[str, str]]:
    """The ``text`` rows of one file's ``bytes`` (``read_binary_files``' row), read as predict reads ``--input``."""
    from lstm_nlp.data.lines import clean_lines
    from lstm_nlp.data.textfiles import Utf8Lines
    from lstm_nlp.errors import DataFormatError

    stream = Utf8Lines(io.BytesIO(row["bytes"]), row["path"], errors=encoding_errors)
    try:
        for line in clean_lines(stream, max_line_chars=max_line_chars):
            yield {TEXT_COLUMN: line}
    except DataFormatError as err:
        if err.path is not None:  # invalid UTF-8: Utf8Lines named the file and line
            raise
        raise DataFormatError(str(err), row["path"]) from None  # a line too long: name the file
