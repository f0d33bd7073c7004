"""Dynamic batching: one worker thread owns the model and runs the waiting requests together.

Requests arrive on the event loop (:meth:`BatchWorker.submit`) and wait in a bounded queue. The
worker takes the oldest and every one queued behind it, up to ``max_batch_tokens`` words, and
predicts them in one model call per set of options (the pipeline's own batching by length does
the rest). Torch runs in that thread, never on the event loop, so the service keeps accepting
and answering while the model works, and requests that arrive during a model call make the next
batch: under load batches fill by themselves. Under concurrent load (recent batches held more
than one request) the worker also waits up to ``max_wait_s`` for more to arrive; a request on
its own does not wait at all.
"""

from __future__ import annotations

import asyncio
import collections
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from lstm_nlp.errors import LstmNlpError
from lstm_nlp.serving.limits import ApiError, Limits, limit_error
from lstm_nlp.serving.metrics import ServiceMetrics
from lstm_nlp.serving.requests import ModelInfo, PredictRequest

logger = logging.getLogger("lstm_nlp.serving")


@dataclass(eq=False)
class Job:
    """One request waiting for the model; the worker resolves :attr:`future` with its output lines."""

    request: PredictRequest
    deadline: float  # time.monotonic() after which nobody waits for the answer
    loop: asyncio.AbstractEventLoop
    future: asyncio.Future
    enqueued: float = field(default_factory=time.monotonic)
    abandoned: bool = False  # the handler gave up (time budget): skip it if not started


#: A job with its output lines, or with the error that answers it.
Answer = tuple[Job, "list[str] | None", "ApiError | None"]


class BatchWorker:
    """The thread that loads the model, then predicts the queued requests in batches.

    Args:
        load: Loads and returns the pipeline (called in the worker thread, which then owns it).
        limits: The queue bound (:attr:`Limits.max_queue`).
        metrics: Where batch sizes and the queue depth are counted.
        max_batch_tokens: Words gathered into one batch at most (a larger request runs alone).
        max_wait_s: How long the first request of a batch waits for others.
        batch_size: Sentences per model call inside a batch (the pipelines' ``batch_size``).
    """

    def __init__(self, load: Callable[[], Any], *, limits: Limits, metrics: ServiceMetrics,
                 max_batch_tokens: int = 4096, max_wait_s: float = 0.005, batch_size: int = 256) -> None:
        if max_batch_tokens < 1:
            raise ValueError(f"max_batch_tokens must be >= 1, got {max_batch_tokens}")
        if max_wait_s < 0:
            raise ValueError(f"max_wait_s must be >= 0, got {max_wait_s}")
        self._load = load
        self.limits = limits
        self.metrics = metrics
        self.max_batch_tokens = max_batch_tokens
        self.max_wait_s = max_wait_s
        self.batch_size = batch_size
        self.pipeline: Any = None
        self.info: ModelInfo | None = None
        self.load_error: str | None = None
        self.loaded = threading.Event()  # set once loading ended, well or not
        self._queue: collections.deque[Job] = collections.deque()
        self._ready = threading.Condition()
        self._stopping = False
        self._company = 0.0  # moving average of requests per batch, minus one: > 0.5 means concurrent load
        self._thread = threading.Thread(target=self._run, name="lstm-nlp-model", daemon=True)
        metrics.queue_depth.set_function(lambda: len(self._queue))  # read at each scrape, not set per request

    # ------------------------------------------------------------------ event-loop side
    def start(self) -> None:
        """Starts the thread: it loads the model, then serves the queue until :meth:`stop`."""
        self._thread.start()

    def submit(self, request: PredictRequest, timeout_s: float) -> Job:
        """Queues ``request`` (call on the event loop); await ``job.future`` for its output lines.

        Raises:
            ApiError: 503 ``queue_full`` (with ``Retry-After``) when :attr:`Limits.max_queue` requests wait.
        """
        loop = asyncio.get_running_loop()
        job = Job(request, time.monotonic() + timeout_s, loop, loop.create_future())
        with self._ready:
            if self._stopping:
                raise ApiError(503, "shutting_down", "the service is shutting down", headers={"Retry-After": "1"})
            if len(self._queue) >= self.limits.max_queue:
                error = limit_error(503, "queue_full", "max_queue", self.limits.max_queue,
                                    "too many requests are waiting for the model; retry shortly")
                error.headers["Retry-After"] = "1"
                raise error
            self._queue.append(job)
            self._ready.notify()
        return job

    @property
    def queued(self) -> int:
        """Requests waiting for the model now."""
        return len(self._queue)

    def stop(self, timeout: float | None = None) -> None:
        """Lets the thread answer what is queued, then end; waits for it (at most ``timeout`` seconds)."""
        with self._ready:
            self._stopping = True
            self._ready.notify_all()
        if self._thread.is_alive():
            self._thread.join(timeout)

    # ------------------------------------------------------------------ worker thread
    def _run(self) -> None:
        try:
            self.pipeline = self._load()
            self.info = model_info(self.pipeline)
        except Exception as err:  # noqa: BLE001  (any failure is reported by /health, then the server exits)
            logger.error("cannot load the model: %s", err)
            self.load_error = str(err) or type(err).__name__
            self.loaded.set()
            return
        self.metrics.model_loaded.set(1)
        self.loaded.set()
        while True:
            batch = self._next_batch()
            if batch is None:
                return
            self._predict(batch)

    def _next_batch(self) -> list[Job] | None:
        """The next jobs to run together (``None``: stopping and nothing is left)."""
        with self._ready:
            while not self._queue:
                if self._stopping:
                    return None
                self._ready.wait()
            batch = [self._queue.popleft()]
            words = batch[0].request.words
            wait = self.max_wait_s if self._company > 0.5 else 0.0  # alone: no wait for company
            gather_until = time.monotonic() + wait
            while words < self.max_batch_tokens:
                if not self._queue:
                    left = gather_until - time.monotonic()
                    if left <= 0 or self._stopping:
                        break
                    self._ready.wait(left)  # a new request, or the end of the wait
                    continue
                following = self._queue[0].request.words
                if words + following > self.max_batch_tokens:
                    break
                batch.append(self._queue.popleft())
                words += following
            self._company = 0.8 * self._company + 0.2 * (len(batch) - 1)
        return batch

    def _predict(self, batch: list[Job]) -> None:
        """Runs ``batch`` and hands every job its answer: one wake-up of each event loop per batch."""
        now = time.monotonic()
        live, answers = [], []
        for job in batch:
            if job.abandoned or now >= job.deadline:
                answers.append((job, None, limit_error(408, "timeout", "request_timeout_s",
                                                       self.limits.request_timeout_s,
                                                       "the request waited for the model past its time budget")))
            else:
                live.append(job)
        self.metrics.observe_waits([now - job.enqueued for job in live])
        groups: dict[tuple, list[Job]] = {}
        for job in live:
            groups.setdefault(job.request.options, []).append(job)
        for jobs in groups.values():
            try:
                answers.extend(self._run_group(jobs))
            except Exception as err:  # noqa: BLE001
                if len(jobs) == 1:
                    answers.append(self._failure(jobs[0], err))
                    continue
                for job in jobs:  # one bad request must not fail the others: run them one by one
                    try:
                        answers.extend(self._run_group([job]))
                    except Exception as single:  # noqa: BLE001
                        answers.append(self._failure(job, single))
        _deliver(answers)

    def _run_group(self, jobs: list[Job]) -> list[Answer]:
        """Predicts the jobs (same options) in one call: each job with its lines."""
        from lstm_nlp.gc_pause import paused_gc

        first = jobs[0].request
        items = [item for job in jobs for item in job.request.items]
        with paused_gc():  # bounded work; see paused_gc
            lines, tokens = predict_lines(self.pipeline, first, items, self.batch_size)
        self.metrics.observe_batch(len(jobs), len(items), tokens)
        answers, start = [], 0
        for job in jobs:
            count = len(job.request.items)
            answers.append((job, lines[start:start + count], None))
            start += count
        return answers

    def _failure(self, job: Job, err: Exception) -> Answer:
        """What went wrong for ``job``: 422 for an input the pipeline refuses, else 500 (logged)."""
        if isinstance(err, LstmNlpError):  # an input the pipeline refuses: the client's to fix
            return job, None, ApiError(422, "invalid_request", str(err))
        logger.error("prediction failed", exc_info=err)
        return job, None, ApiError(500, "internal_error", "the prediction failed; the server log has the details")


def predict_lines(pipeline: Any, request: PredictRequest, items: list, batch_size: int) -> tuple[list[str], int]:
    """The ``predict --output-format jsonl`` line of each item, and the number of tokens predicted.

    Taggers: raw text is tokenized as ``predict`` does (spaCy), then every sentence goes through
    :meth:`~lstm_nlp.pipelines.TaggingPipeline.format_sentences`; classifiers through their
    ``format_predictions``.
    """
    if request.kind == "text" and not hasattr(pipeline, "format_sentences"):
        lines = pipeline.format_predictions(items, batch_size=batch_size, first_line=1, output_format="jsonl")
        return lines, sum(len(text.split()) for text in items)
    sentences = pipeline.tokenize(items) if request.kind == "text" else [list(tokens) for tokens in items]
    lines = pipeline.format_sentences(sentences, output_format="jsonl", probabilities=request.probabilities,
                                      top_k=request.top_k, batch_size=batch_size)
    return lines, sum(map(len, sentences))


def model_info(pipeline: Any) -> ModelInfo:
    """What :func:`~lstm_nlp.serving.requests.parse_predict` needs to know of ``pipeline``."""
    labels = tuple(pipeline.labels.itos)
    if pipeline.model_type == "sequence_tagger":
        return ModelInfo(pipeline.model_type, labels, scheme=pipeline.label_scheme,
                         crf=pipeline.head == "crf", token_column=pipeline.token_column)
    return ModelInfo(pipeline.model_type, labels)


def _deliver(answers: list[Answer]) -> None:
    """Hands each job its lines or error on its event loop, with one thread-safe call per loop.

    A loop may be gone at shutdown: then nobody waits for those answers.
    """
    by_loop: dict[asyncio.AbstractEventLoop, list[Answer]] = {}
    for answer in answers:
        by_loop.setdefault(answer[0].loop, []).append(answer)
    for loop, settled in by_loop.items():
        try:
            loop.call_soon_threadsafe(_settle, settled)
        except RuntimeError:  # the loop is closed
            pass


def _settle(answers: list[Answer]) -> None:
    """On the event loop: resolves the futures nobody gave up on."""
    for job, result, error in answers:
        if not job.future.done():
            if error is not None:
                job.future.set_exception(error)
            else:
                job.future.set_result(result)
