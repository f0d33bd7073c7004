"""The batching worker: concurrent requests share model calls, within the token and time bounds; a full
queue, a spent time budget and a failing request are answered, and stopping answers what is queued."""

from __future__ import annotations

import asyncio
import json
import threading
import time

import pytest

pytest.importorskip("prometheus_client", reason="the service needs the [serve] extra: pip install -e '.[serve]'")

from lstm_nlp.errors import DataFormatError  # noqa: E402
from lstm_nlp.serving.batching import BatchWorker  # noqa: E402
from lstm_nlp.serving.limits import ApiError, Limits  # noqa: E402
from lstm_nlp.serving.metrics import ServiceMetrics  # noqa: E402
from lstm_nlp.serving.requests import PredictRequest  # noqa: E402


class _Labels:
    itos = ["neg", "pos"]


class FakeClassifier:
    """A classifier that records its calls; ``gate`` holds each call until set; "boom" fails, "bad" is refused."""

    model_type = "text_classifier"
    labels = _Labels()

    def __init__(self) -> None:
        self.calls: list[list[str]] = []
        self.gate = threading.Event()
        self.gate.set()

    def format_predictions(self, lines, *, batch_size, first_line, output_format):
        assert output_format == "jsonl"
        self.calls.append(list(lines))
        self.gate.wait(10)
        if "boom" in lines:
            raise RuntimeError("boom")
        if "bad" in lines:
            raise DataFormatError("a bad line")
        return [json.dumps({"label": "pos", "text": line}) for line in lines]


def texts(*items: str) -> PredictRequest:
    return PredictRequest("text", items)


async def _answers(worker: BatchWorker, requests: list[PredictRequest], timeout: float = 10.0) -> list:
    jobs = [worker.submit(request, timeout) for request in requests]
    return await asyncio.gather(*(job.future for job in jobs), return_exceptions=True)


def _worker(pipeline: FakeClassifier, **kwargs) -> tuple[BatchWorker, ServiceMetrics]:
    metrics = ServiceMetrics()
    limits = kwargs.pop("limits", Limits())
    worker = BatchWorker(lambda: pipeline, limits=limits, metrics=metrics, **kwargs)
    worker.start()
    assert worker.loaded.wait(5) and worker.info is not None
    return worker, metrics


async def _queued_behind_a_busy_model(worker: BatchWorker, pipeline: FakeClassifier,
                                      requests: list[PredictRequest]) -> list:
    """Answers of ``requests``, all queued while the model is busy with a first one ("busy")."""
    pipeline.gate.clear()
    busy = worker.submit(texts("busy"), 10)
    while not pipeline.calls:
        await asyncio.sleep(0.01)
    jobs = [worker.submit(request, 10) for request in requests]
    pipeline.gate.set()
    await busy.future
    return await asyncio.gather(*(job.future for job in jobs), return_exceptions=True)


def test_requests_waiting_together_share_one_model_call_and_get_their_own_lines():
    pipeline = FakeClassifier()
    worker, metrics = _worker(pipeline)
    answers = asyncio.run(_queued_behind_a_busy_model(worker, pipeline, [texts("a b"), texts("c", "d"), texts("e")]))
    worker.stop(5)
    assert pipeline.calls == [["busy"], ["a b", "c", "d", "e"]]
    assert [[json.loads(line)["text"] for line in answer] for answer in answers] == [["a b"], ["c", "d"], ["e"]]
    assert metrics.registry.get_sample_value("lstm_nlp_batch_requests_sum") == 4
    assert metrics.registry.get_sample_value("lstm_nlp_batch_requests_count") == 2
    assert metrics.registry.get_sample_value("lstm_nlp_tokens_total") == 6


def test_a_batch_stops_at_max_batch_tokens():
    pipeline = FakeClassifier()
    worker, _ = _worker(pipeline, max_batch_tokens=4)
    asyncio.run(_queued_behind_a_busy_model(worker, pipeline, [texts("a b c"), texts("d"), texts("e f")]))
    worker.stop(5)
    assert pipeline.calls == [["busy"], ["a b c", "d"], ["e f"]]


def test_a_request_alone_does_not_wait_for_company():
    worker, _ = _worker(FakeClassifier(), max_wait_s=5.0)
    for _ in range(3):
        started = time.monotonic()
        asyncio.run(_answers(worker, [texts("a")]))
        assert time.monotonic() - started < 2.0
    worker.stop(5)


def test_under_concurrent_load_the_worker_waits_for_more_requests():
    pipeline = FakeClassifier()
    worker, _ = _worker(pipeline, max_wait_s=0.3)
    worker._company = 1.0  # recent batches held two requests each

    async def scenario():
        first = worker.submit(texts("first"), 10)
        await asyncio.sleep(0.1)  # arrives while the first waits for company
        second = worker.submit(texts("second"), 10)
        return await asyncio.gather(first.future, second.future)

    asyncio.run(scenario())
    worker.stop(5)
    assert pipeline.calls == [["first", "second"]]


def test_a_full_queue_is_503_with_retry_after():
    pipeline = FakeClassifier()
    worker, _ = _worker(pipeline, max_wait_s=0, limits=Limits(max_queue=2))
    pipeline.gate.clear()  # the first request holds the model; the next two fill the queue

    async def scenario():
        first = worker.submit(texts("1"), 10)
        while not pipeline.calls:
            await asyncio.sleep(0.01)
        queued = [worker.submit(texts(str(i)), 10) for i in (2, 3)]
        with pytest.raises(ApiError) as caught:
            worker.submit(texts("4"), 10)
        pipeline.gate.set()
        await asyncio.gather(first.future, *(job.future for job in queued))
        return caught.value

    error = asyncio.run(scenario())
    worker.stop(5)
    assert (error.status, error.code, error.limit) == (503, "queue_full", "max_queue")
    assert error.headers["Retry-After"] == "1"


def test_a_request_past_its_time_budget_is_408_and_not_predicted():
    pipeline = FakeClassifier()
    worker, _ = _worker(pipeline, max_wait_s=0)
    pipeline.gate.clear()

    async def scenario():
        first = worker.submit(texts("slow"), 10)
        while not pipeline.calls:
            await asyncio.sleep(0.01)
        late = worker.submit(texts("late"), 0.05)
        await asyncio.sleep(0.1)
        pipeline.gate.set()
        return await asyncio.gather(first.future, late.future, return_exceptions=True)

    slow, late = asyncio.run(scenario())
    worker.stop(5)
    assert isinstance(late, ApiError) and (late.status, late.limit) == (408, "request_timeout_s")
    assert pipeline.calls == [["slow"]]


def test_a_failing_request_does_not_fail_the_others_in_its_batch():
    pipeline = FakeClassifier()
    worker, _ = _worker(pipeline)
    good, boom, bad = asyncio.run(_queued_behind_a_busy_model(worker, pipeline, [texts("good"), texts("boom"),
                                                                                 texts("bad")]))
    worker.stop(5)
    assert pipeline.calls[1] == ["good", "boom", "bad"]  # one batch, then each alone
    assert json.loads(good[0])["text"] == "good"
    assert isinstance(boom, ApiError) and boom.status == 500 and "Traceback" not in boom.message
    assert isinstance(bad, ApiError) and bad.status == 422 and "a bad line" in bad.message


def test_stopping_answers_what_is_queued_first():
    pipeline = FakeClassifier()
    worker, _ = _worker(pipeline, max_wait_s=0)
    pipeline.gate.clear()

    async def scenario():
        jobs = [worker.submit(texts(str(i)), 10) for i in range(5)]
        stopper = asyncio.get_running_loop().run_in_executor(None, worker.stop, 10)
        await asyncio.sleep(0.05)
        pipeline.gate.set()
        await stopper
        return await asyncio.gather(*(job.future for job in jobs), return_exceptions=True)

    answers = asyncio.run(scenario())
    assert [json.loads(a[0])["text"] for a in answers] == ["0", "1", "2", "3", "4"]
    with pytest.raises(ApiError, match="shutting down"):
        asyncio.run(_answers(worker, [texts("after")]))


def test_a_model_that_cannot_load_is_reported():
    def broken():
        raise OSError("no such bundle")

    worker = BatchWorker(broken, limits=Limits(), metrics=ServiceMetrics())
    worker.start()
    assert worker.loaded.wait(5)
    assert worker.info is None and worker.load_error == "no such bundle"
