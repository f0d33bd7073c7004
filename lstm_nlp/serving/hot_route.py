"""``POST /v1/predict`` as plain ASGI, answered before FastAPI's routing and middleware.

Under load the service spends more on each request's way through the framework than on its share
of the model, so the hot route skips Starlette's routing, middleware stack and exception handling:
:class:`ServiceApp` hands the request to :class:`PredictRoute`, which reads the body, parses it
with :func:`~lstm_nlp.serving.requests.parse_predict`, queues it and writes the answer itself,
with the same statuses, bodies, limits and metrics as the rest of the service. Every other path
goes through FastAPI.
"""

from __future__ import annotations

import asyncio
import logging
import sys
import time
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import FastAPI

from lstm_nlp.serving.batching import BatchWorker, Job
from lstm_nlp.serving.limits import ApiError, Limits, limit_error
from lstm_nlp.serving.metrics import Message, ServiceMetrics
from lstm_nlp.serving.requests import ModelInfo, parse_predict

logger = logging.getLogger("lstm_nlp.serving")

Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
Answer = tuple[int, bytes, dict[str, str]]

PATH = "/v1/predict"
_EMPTY = b'{"results": []}'
_JSON = (b"content-type", b"application/json")


class ServiceApp(FastAPI):
    """The service's FastAPI application, whose ``POST /v1/predict`` goes straight to :attr:`predict`."""

    predict: PredictRoute | None = None

    async def __call__(self, scope: dict, receive: Receive, send: Send) -> None:
        if (self.predict is not None and scope["type"] == "http" and scope["path"] == PATH
                and scope["method"] == "POST"):
            await self.predict(scope, receive, send)
        else:
            await super().__call__(scope, receive, send)


class _Disconnected(Exception):
    """The client went away before its body was read: nobody to answer."""


class _Progress:
    """How far a request got when its time budget ran out."""

    job: Job | None = None


class PredictRoute:
    """Answers ``POST /v1/predict``: parse, queue for the :class:`BatchWorker`, write the records."""

    def __init__(self, worker: BatchWorker, limits: Limits, metrics: ServiceMetrics,
                 ready: Callable[[], ModelInfo]) -> None:
        self.worker, self.limits, self.metrics, self.ready = worker, limits, metrics, ready
        self._requests: dict[int, Any] = {}  # status -> its bound counter
        self._latency = metrics.latency.labels(PATH)

    async def __call__(self, scope: dict, receive: Receive, send: Send) -> None:
        started = time.perf_counter()
        declared = next((value for name, value in scope["headers"] if name == b"content-length"), None)
        status, body, headers = await self.answer(receive, declared)
        if status:
            raw = [_JSON, (b"content-length", str(len(body)).encode())]
            raw.extend((name.lower().encode(), value.encode()) for name, value in headers.items())
            await send({"type": "http.response.start", "status": status, "headers": raw})
            await send({"type": "http.response.body", "body": body})
        self._count(status or 499, time.perf_counter() - started)  # 499: the client left before its answer

    def _count(self, status: int, seconds: float) -> None:
        counter = self._requests.get(status)
        if counter is None:
            counter = self._requests[status] = self.metrics.requests.labels(PATH, str(status))
        counter.inc()
        self._latency.observe(seconds)

    async def answer(self, receive: Receive, declared: bytes | str | None) -> Answer:
        """``(status, body, headers)`` of the request (status 0: the client disconnected)."""
        try:
            return 200, await self._predict(receive, declared), {}
        except ApiError as error:
            self.metrics.errors.labels(error.code).inc()
            return error.status, error.body(), error.headers
        except _Disconnected:
            return 0, b"", {}
        except Exception as err:  # noqa: BLE001  (answered 500, logged; the body never has the traceback)
            logger.error("request failed", exc_info=err)
            error = ApiError(500, "internal_error", "the request failed; the server log has the details")
            self.metrics.errors.labels(error.code).inc()
            return error.status, error.body(), error.headers

    async def _predict(self, receive: Receive, declared: bytes | str | None) -> bytes:
        """The answer's body; the time budget counts from here (body upload, queue and model)."""
        info = self.ready()
        budget = self.limits.request_timeout_s
        progress = _Progress()
        work = self._work(receive, declared, info, time.monotonic() + budget, progress)
        try:
            if sys.version_info >= (3, 11):
                async with asyncio.timeout(budget):  # a timer, not a task per request as wait_for makes
                    return await work
            return await asyncio.wait_for(work, budget)
        except TimeoutError:
            if progress.job is None:
                raise self._timeout("the request body was not received within the time budget") from None
            progress.job.abandoned = True  # still queued: the worker skips it
            raise self._timeout("the prediction did not finish within the time budget") from None

    async def _work(self, receive: Receive, declared: bytes | str | None, info: ModelInfo, deadline: float,
                    progress: _Progress) -> bytes:
        body = await read_body(receive, declared, self.limits.max_body_bytes)
        parsed = parse_predict(body, self.limits, info)
        if not parsed.items:
            return _EMPTY
        progress.job = self.worker.submit(parsed, deadline - time.monotonic())
        lines = await progress.job.future
        return ('{"results": [' + ", ".join(lines) + "]}").encode()

    def _timeout(self, message: str) -> ApiError:
        return limit_error(408, "timeout", "request_timeout_s", self.limits.request_timeout_s, message)


async def read_body(receive: Receive, declared: bytes | str | None, max_bytes: int) -> bytes:
    """The request body, refused (413) as soon as it is longer than ``max_bytes`` (declared or streamed)."""
    def too_large(size: str) -> ApiError:
        return limit_error(413, "body_too_large", "max_body_bytes", max_bytes, f"the request body has {size} bytes")

    if declared is not None and declared.isdigit() and int(declared) > max_bytes:
        raise too_large(declared.decode() if isinstance(declared, bytes) else declared)
    chunks, size = [], 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise _Disconnected
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > max_bytes:
            raise too_large(f"more than {max_bytes}")
        if not message.get("more_body", False):
            if not chunks:
                return chunk
            chunks.append(chunk)
            return b"".join(chunks)
        chunks.append(chunk)
