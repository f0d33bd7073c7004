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


def test_requests_waiting_together_share_one_model_call_and_get_their_own_lines():
    pipeline = FakeClassifier()
    worker, metrics = _worker(pipeline, max_wait_s=0.2)
    answers = asyncio.run(_answers(worker, [texts("a b"), texts("c", "d"), texts("e")]))
    worker.stop(5)
    assert pipeline.calls == [["a b", "c", "d", "e"]]
    assert [[json.loads(line)["text"] for line in answer] for answer in answers] == [["a b"], ["c", "d"], ["e"]]
    assert metrics.registry.get_sample_value("lstm_nlp_batch_requests_sum") == 3
    assert metrics.registry.get_sample_value("lstm_nlp_batch_requests_count") == 1
    assert metrics.registry.get_sample_value("lstm_nlp_tokens_total") == 5


def test_a_batch_stops_at_max_batch_tokens():
    pipeline = FakeClassifier()
    worker, _ = _worker(pipeline, max_wait_s=0.2, max_batch_tokens=4)
    asyncio.run(_answers(worker, [texts("a b c"), texts("d"), texts("e f")]))
    worker.stop(5)
    assert pipeline.calls == [["a b c", "d"], ["e f"]]


def test_a_lone_request_waits_at_most_max_wait():
    worker, _ = _worker(FakeClassifier(), max_wait_s=0.05)
    started = time.monotonic()
    asyncio.run(_answers(worker, [texts("a")]))
    worker.stop(5)
    assert time.monotonic() - started < 1.0


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
    worker, _ = _worker(pipeline, max_wait_s=0.2)
    good, boom, bad = asyncio.run(_answers(worker, [texts("good"), texts("boom"), texts("bad")]))
    worker.stop(5)
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
        return await asyncio.gather(*(job.future for job in jobs))

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
