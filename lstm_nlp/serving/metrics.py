"""The service's Prometheus metrics (``GET /metrics``), in a registry of their own per application."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
ASGIApp = Callable[[Scope, Callable[[], Awaitable[Message]], Callable[[Message], Awaitable[None]]], Awaitable[None]]

#: Paths counted under their own name; any other is counted as ``other`` (no label per stray URL).
KNOWN_PATHS = frozenset({"/", "/health", "/metrics", "/v1/predict", "/v1/model", "/openapi.json", "/docs"})
_LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
_SIZE_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384, 32768)


class ServiceMetrics:
    """Counters and histograms of one service; :meth:`render` writes them in the Prometheus text format."""

    content_type = CONTENT_TYPE_LATEST

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.requests = Counter("lstm_nlp_requests", "HTTP requests answered, by path and status",
                                ["path", "status"], registry=r)
        self.errors = Counter("lstm_nlp_request_errors", "Requests answered with an error, by error code",
                              ["code"], registry=r)
        self.latency = Histogram("lstm_nlp_request_duration_seconds", "Time from a request's arrival to its answer",
                                 ["path"], buckets=_LATENCY_BUCKETS, registry=r)
        self.queue_wait = Histogram("lstm_nlp_queue_wait_seconds", "Time a predict request waited for the model",
                                    buckets=_LATENCY_BUCKETS, registry=r)
        self.batch_texts = Histogram("lstm_nlp_batch_texts", "Texts (sentences) in each model batch",
                                     buckets=_SIZE_BUCKETS, registry=r)
        self.batch_tokens = Histogram("lstm_nlp_batch_tokens", "Tokens in each model batch",
                                      buckets=_SIZE_BUCKETS, registry=r)
        self.batch_requests = Histogram("lstm_nlp_batch_requests", "Requests gathered into each model batch",
                                        buckets=_SIZE_BUCKETS, registry=r)
        self.texts = Counter("lstm_nlp_texts", "Texts (sentences) predicted", registry=r)
        self.tokens = Counter("lstm_nlp_tokens", "Tokens predicted (a classifier's: whitespace-separated words)",
                              registry=r)
        self.queue_depth = Gauge("lstm_nlp_queue_depth", "Predict requests waiting for the model", registry=r)
        self.model_loaded = Gauge("lstm_nlp_model_loaded", "1 once the model is loaded", registry=r)

    def render(self) -> bytes:
        """Every metric in the Prometheus text exposition format."""
        return generate_latest(self.registry)

    def observe_waits(self, waits: list[float]) -> None:
        """Counts how long each request of a batch waited for the model, in seconds."""
        for wait in waits:
            self.queue_wait.observe(wait)

    def observe_batch(self, requests: int, texts: int, tokens: int) -> None:
        """Counts one model call over ``requests`` requests holding ``texts`` texts of ``tokens`` tokens."""
        self.batch_requests.observe(requests)
        self.batch_texts.observe(texts)
        self.batch_tokens.observe(tokens)
        self.texts.inc(texts)
        self.tokens.inc(tokens)


class RequestMetrics:
    """ASGI middleware: counts every HTTP request by path and status and times it."""

    def __init__(self, app: ASGIApp, metrics: ServiceMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Callable[[], Awaitable[Message]],
                       send: Callable[[Message], Awaitable[None]]) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope.get("path", "")
        path = path if path in KNOWN_PATHS else "other"
        started = time.perf_counter()
        status = 500  # what the client sees when the app fails before answering

        async def counting_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, counting_send)
        finally:
            self.metrics.requests.labels(path, str(status)).inc()
            self.metrics.latency.labels(path).observe(time.perf_counter() - started)
