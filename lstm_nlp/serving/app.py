"""The ASGI application of ``lstm-nlp serve``: routes, error answers and the demo page.

``POST /v1/predict`` answers ``{"results": [...]}``, one record per input, the records that
``lstm-nlp predict --output-format jsonl`` writes. ``GET /health`` is 503 until the model is loaded
(and while shutting down), ``GET /metrics`` has the Prometheus metrics, ``GET /`` the demo page,
``GET /openapi.json`` the API's description. Every error is JSON (``{"error": {"code", "message",
"limit"?}}``, see :class:`~lstm_nlp.serving.limits.ApiError`); none carries a traceback.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from importlib import resources
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from starlette.exceptions import HTTPException

from lstm_nlp import __version__
from lstm_nlp.serving.batching import BatchWorker
from lstm_nlp.serving.hot_route import PredictRoute, ServiceApp
from lstm_nlp.serving.limits import ApiError, Limits
from lstm_nlp.serving.metrics import RequestMetrics, ServiceMetrics
from lstm_nlp.serving.openapi import ErrorAnswer, Health, PredictAnswer, PredictBody
from lstm_nlp.serving.requests import ModelInfo

logger = logging.getLogger("lstm_nlp.serving")

_ERRORS = {status: {"model": ErrorAnswer} for status in (400, 408, 413, 422, 503)}
_HTTP_CODES = {404: "not_found", 405: "method_not_allowed"}


def create_app(load: Callable[[], Any], *, limits: Limits | None = None, max_batch_tokens: int = 4096,
               max_wait_ms: float = 5.0, batch_size: int = 256,
               on_load_failed: Callable[[str], None] | None = None) -> ServiceApp:
    """The service for the pipeline that ``load()`` returns (called in the model's worker thread at start-up).

    Args:
        load: Loads the pipeline (a tagger or a text classifier).
        limits: What one request may ask (see :class:`Limits`).
        max_batch_tokens: Words gathered into one model batch at most.
        max_wait_ms: Under concurrent load, how long the first request of a batch waits for others.
        batch_size: Sentences per model call (the pipelines' ``batch_size``).
        on_load_failed: Called (on the event loop) with the error when the model cannot be loaded.
    """
    limits = limits or Limits()
    metrics = ServiceMetrics()
    worker = BatchWorker(load, limits=limits, metrics=metrics, max_batch_tokens=max_batch_tokens,
                         max_wait_s=max_wait_ms / 1000, batch_size=batch_size)
    app = ServiceApp(title="lstm_nlp", version=__version__, lifespan=_lifespan(worker, limits),
                     description="Tagging and text classification with an lstm_nlp model bundle.")
    app.state.worker, app.state.metrics, app.state.limits, app.state.draining = worker, metrics, limits, False
    app.state.on_load_failed = on_load_failed
    app.add_middleware(RequestMetrics, metrics=metrics)
    _add_error_handlers(app, metrics)
    ready = _ready_check(worker)
    _add_status_routes(app, worker, metrics, ready)
    predict = PredictRoute(worker, limits, metrics, ready)
    _add_predict_route(app, predict)
    app.predict = predict
    return app


def _lifespan(worker: BatchWorker, limits: Limits) -> Callable[[FastAPI], contextlib.AbstractAsyncContextManager]:
    """The app's lifespan: starts the worker (and the load watcher); at shutdown drains, answering what is queued."""

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        worker.start()
        watcher = asyncio.create_task(_watch_loading(worker, app))
        try:
            yield
        finally:
            app.state.draining = True
            watcher.cancel()
            await asyncio.to_thread(worker.stop, limits.request_timeout_s + 5)  # answers what is queued

    return lifespan


def _ready_check(worker: BatchWorker) -> Callable[[], ModelInfo]:
    """``ready()``: the loaded model's info, or a 503 :class:`ApiError` while loading or after a failed load."""

    def ready() -> ModelInfo:
        if worker.info is None:
            if worker.load_error is not None:
                raise ApiError(503, "model_failed", f"the model could not be loaded: {worker.load_error}")
            raise ApiError(503, "model_loading", "the model is still loading; retry shortly",
                           headers={"Retry-After": "1"})
        return worker.info

    return ready


def _add_status_routes(app: FastAPI, worker: BatchWorker, metrics: ServiceMetrics,
                       ready: Callable[[], ModelInfo]) -> None:
    """``GET /`` (the demo page), ``/health``, ``/metrics`` and ``/v1/model``."""

    @app.get("/", include_in_schema=False)
    async def demo() -> HTMLResponse:
        return HTMLResponse(_demo_page())

    @app.get("/health", response_model=Health, responses={503: {"model": Health}},
             summary="200 once the model is loaded; 503 while loading, after a failed load, and while shutting down")
    async def health() -> JSONResponse:
        if worker.info is not None and not app.state.draining:
            return JSONResponse({"status": "ok", "model_type": worker.info.model_type})
        if worker.load_error is not None:
            return JSONResponse({"status": "failed", "error": worker.load_error}, status_code=503)
        status = "draining" if app.state.draining else "loading"
        return JSONResponse({"status": status}, status_code=503, headers={"Retry-After": "1"})

    @app.get("/metrics", summary="Prometheus metrics (text exposition format)",
             response_class=Response, responses={200: {"content": {"text/plain": {}}}})
    async def prometheus() -> Response:
        return Response(metrics.render(), media_type=metrics.content_type)

    @app.get("/v1/model", summary="The model's type, labels and (taggers) tag scheme and head",
             responses={503: {"model": ErrorAnswer}})
    async def model() -> dict:
        return ready().as_json()


def _add_predict_route(app: FastAPI, predict: PredictRoute) -> None:
    """``POST /v1/predict``'s OpenAPI entry (and route); :class:`ServiceApp` answers it before routing."""

    @app.post("/v1/predict", summary="Tag or classify texts", response_class=Response,
              responses={200: {"model": PredictAnswer}, **_ERRORS},
              openapi_extra={"requestBody": {"required": True, "content": {
                  "application/json": {"schema": PredictBody.model_json_schema()}}}})
    async def predict_route(request: Request) -> Response:  # the OpenAPI entry; ServiceApp answers before routing
        status, body, headers = await predict.answer(request.receive, request.headers.get("content-length"))
        return Response(body, status_code=status, headers=headers, media_type="application/json")


async def _watch_loading(worker: BatchWorker, app: FastAPI) -> None:
    """Calls ``app.state.on_load_failed`` when the model cannot be loaded."""
    while not worker.loaded.is_set():
        await asyncio.sleep(0.05)
    if worker.load_error is not None and app.state.on_load_failed is not None:
        app.state.on_load_failed(worker.load_error)


def _add_error_handlers(app: FastAPI, metrics: ServiceMetrics) -> None:
    def answer(error: ApiError) -> Response:
        metrics.errors.labels(error.code).inc()
        return Response(error.body(), status_code=error.status, headers=error.headers, media_type="application/json")

    @app.exception_handler(ApiError)
    async def api_error(request: Request, error: ApiError) -> Response:
        return answer(error)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, error: HTTPException) -> Response:
        code = _HTTP_CODES.get(error.status_code, "http_error")
        return answer(ApiError(error.status_code, code, str(error.detail), headers=dict(error.headers or {})))

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, error: RequestValidationError) -> Response:
        return answer(ApiError(422, "invalid_request", "; ".join(str(e.get("msg", e)) for e in error.errors())))

    @app.exception_handler(Exception)
    async def internal_error(request: Request, error: Exception) -> Response:
        logger.error("request failed", exc_info=error)
        return answer(ApiError(500, "internal_error", "the request failed; the server log has the details"))


_PAGE: str | None = None


def _demo_page() -> str:
    global _PAGE
    if _PAGE is None:
        _PAGE = resources.files("lstm_nlp.serving").joinpath("static/index.html").read_text(encoding="utf-8")
    return _PAGE
