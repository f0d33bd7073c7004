"""The application in-process (Starlette's TestClient): predict answers what ``predict --output-format jsonl``
writes, health follows the model, every error is a JSON 4xx naming the limit or the mistake."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

pytest.importorskip("fastapi", reason="the service needs the [serve] extra: pip install -e '.[serve]'")
pytest.importorskip("httpx", reason="Starlette's TestClient needs httpx (the [serve] extra)")

from fastapi.testclient import TestClient  # noqa: E402

from lstm_nlp import cli  # noqa: E402
from lstm_nlp.serving.app import create_app  # noqa: E402
from lstm_nlp.serving.limits import Limits  # noqa: E402

TEXTS = ["The dog sleeps .", "", "A dog, the dog; dogs sleep!", "Paris"]


def loader(bundle: Path) -> Callable:
    return lambda: cli._load_pipeline(str(bundle), "cpu")  # what lstm-nlp serve loads


@contextmanager
def client_for(load: Callable, **options) -> Iterator[TestClient]:
    with TestClient(create_app(load, **options)) as client:
        deadline = time.monotonic() + 30
        while client.get("/health").status_code != 200:
            assert time.monotonic() < deadline, client.get("/health").json()
            time.sleep(0.02)
        yield client


def predict_jsonl(bundle: Path, lines: list[str], tmp_path: Path, capsys, *options: str) -> list[dict]:
    """What ``lstm-nlp predict --output-format jsonl`` writes for ``lines``."""
    source = tmp_path / "in.txt"
    source.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    capsys.readouterr()
    assert cli.main(["predict", "--model", str(bundle), "--input", str(source), "--output-format", "jsonl",
                     *options]) == 0
    return [json.loads(line) for line in capsys.readouterr().out.splitlines()]


def test_health_is_503_while_the_model_loads_then_200(pos_bundle):
    gate = threading.Event()

    def slow_load():
        gate.wait(10)
        return cli._load_pipeline(str(pos_bundle), "cpu")

    with TestClient(create_app(slow_load)) as client:
        loading = client.get("/health")
        refused = client.post("/v1/predict", json={"texts": ["a"]})
        gate.set()
        while client.get("/health").status_code != 200:
            time.sleep(0.02)
        assert client.get("/health").json() == {"status": "ok", "model_type": "sequence_tagger"}
    assert loading.status_code == 503 and loading.json()["status"] == "loading"
    assert refused.status_code == 503 and refused.json()["error"]["code"] == "model_loading"
    assert refused.headers["retry-after"] == "1"


def test_a_model_that_cannot_load_keeps_health_at_503_with_the_error(tmp_path):
    def broken():
        return cli._load_pipeline(str(tmp_path / "missing"), "cpu")

    with TestClient(create_app(broken)) as client:
        app = client.app
        assert app.state.worker.loaded.wait(10)
        health = client.get("/health")
        assert health.status_code == 503 and health.json()["status"] == "failed" and "missing" in health.json()["error"]
        assert client.post("/v1/predict", json={"texts": ["a"]}).json()["error"]["code"] == "model_failed"


def test_texts_get_the_records_of_predict_jsonl(pos_bundle, tmp_path, capsys):
    expected = predict_jsonl(pos_bundle, TEXTS, tmp_path, capsys)
    with client_for(loader(pos_bundle)) as client:
        answer = client.post("/v1/predict", json={"texts": TEXTS})
        with_probabilities = client.post("/v1/predict", json={"texts": TEXTS, "probabilities": True})
    assert answer.status_code == 200 and answer.headers["content-type"] == "application/json"
    assert answer.json() == {"results": expected}
    assert with_probabilities.json()["results"] == predict_jsonl(pos_bundle, TEXTS, tmp_path, capsys, "--probabilities")


def test_tokens_get_the_records_of_predict_tokens_input(pos_bundle, tmp_path, capsys):
    sentences = [["The", "dog", "sleeps", "."], [], ["dogs"]]
    expected = predict_jsonl(pos_bundle, [" ".join(s) for s in sentences], tmp_path, capsys,
                             "--input-format", "tokens")
    with client_for(loader(pos_bundle)) as client:
        answer = client.post("/v1/predict", json={"tokens": sentences})
        spaced = client.post("/v1/predict", json={"tokens": [["New York", "dog"]]}).json()["results"][0]
    assert answer.json()["results"] == expected
    assert spaced["tokens"] == ["New York", "dog"] and len(spaced["tags"]) == 2  # a token with a space stays one


def test_crf_span_probabilities_and_top_k_are_predicts(crf_bundle, tmp_path, capsys):
    lines = ["Alice lives in Paris .", "Bob met Alice"]
    expected = predict_jsonl(crf_bundle, lines, tmp_path, capsys, "--probabilities", "--top-k", "2")
    with client_for(loader(crf_bundle)) as client:
        answer = client.post("/v1/predict", json={"texts": lines, "probabilities": True, "top_k": 2})
        assert client.get("/v1/model").json() == {"model_type": "sequence_tagger", "head": "crf", "scheme": "iob2",
                                                  "labels": ["B-LOC", "B-PER", "I-LOC", "I-PER", "O"]}
    assert answer.json()["results"] == expected
    assert all("spans" in record and len(record["top_k"]) == 2 for record in expected)


def test_a_classifier_answers_labels_and_probabilities_like_predict(classifier_bundle, tmp_path, capsys):
    texts = ["a great film !", "", "boring"]
    expected = predict_jsonl(classifier_bundle, texts, tmp_path, capsys)
    with client_for(loader(classifier_bundle)) as client:
        answer = client.post("/v1/predict", json={"texts": texts})
        tokens = client.post("/v1/predict", json={"tokens": [["a"]]})
    assert answer.json()["results"] == expected and set(expected[0]["probabilities"]) == {"neg", "pos"}
    assert tokens.status_code == 422 and "classifier" in tokens.json()["error"]["message"]


def test_conllu_input_is_tagged_sentence_by_sentence(pos_bundle):
    document = ("# sent_id = 1\n1\tThe\tthe\tDET\tDT\t_\t2\tdet\t_\t_\n2\tdog\tdog\tNOUN\tNN\t_\t0\troot\t_\t_\n\n"
                "1\tSleeps\tsleep\tVERB\tVBZ\t_\t0\troot\t_\t_\n\n")
    with client_for(loader(pos_bundle)) as client:
        conllu = client.post("/v1/predict", json={"conllu": document}).json()["results"]
        tokens = client.post("/v1/predict", json={"tokens": [["The", "dog"], ["Sleeps"]]}).json()["results"]
    assert conllu == tokens


def test_an_empty_request_is_answered_without_the_model(pos_bundle):
    with client_for(loader(pos_bundle)) as client:
        assert client.post("/v1/predict", json={"texts": []}).json() == {"results": []}


def test_a_body_over_the_limit_is_413_naming_it_declared_or_streamed(pos_bundle):
    body = json.dumps({"texts": ["dog"] * 100}).encode()
    with client_for(loader(pos_bundle), limits=Limits(max_body_bytes=200)) as client:
        declared = client.post("/v1/predict", content=body, headers={"Content-Type": "application/json"})
        streamed = client.post("/v1/predict", content=iter([body[:150], body[150:]]))  # chunked: no length
        fits = client.post("/v1/predict", json={"texts": ["dog"]})
    for answer in (declared, streamed):
        assert answer.status_code == 413
        assert answer.json()["error"]["limit"] == "max_body_bytes" and "--max-body-bytes" in answer.text
    assert fits.status_code == 200


@pytest.mark.parametrize("method, path, body, status, code", [
    ("POST", "/v1/predict", b"{not json", 400, "invalid_json"),
    ("POST", "/v1/predict", b'{"texts": ["\xff"]}', 400, "invalid_utf8"),
    ("POST", "/v1/predict", b"", 400, "invalid_json"),
    ("POST", "/v1/predict", b"null", 422, "invalid_request"),
    ("POST", "/v1/predict", b'{"texts": [["nested"]]}', 422, "invalid_request"),
    ("POST", "/v1/predict", b'{"texts": "one"}', 422, "invalid_request"),
    ("POST", "/v1/predict", b'{"texts": ["a"], "top_k": 3}', 422, "invalid_request"),
    ("POST", "/v1/predict", b'{"texts": ["a"], "top_k": 1e999}', 422, "invalid_request"),
    ("POST", "/v1/predict", b'{"tokens": [[1, 2]]}', 422, "invalid_request"),
    ("POST", "/v1/predict", b"[" * 50_000, 400, "invalid_json"),
    ("GET", "/v1/predict", None, 405, "method_not_allowed"),
    ("GET", "/v2/anything", None, 404, "not_found"),
])
def test_malformed_requests_are_4xx_json_never_a_500(pos_bundle, method, path, body, status, code):
    with client_for(loader(pos_bundle)) as client:
        answer = client.request(method, path, content=body)
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"].startswith("application/json")
    assert answer.json()["error"]["code"] == code and answer.json()["error"]["message"]
    assert "Traceback" not in answer.text


def test_each_request_limit_is_a_4xx_naming_it(pos_bundle):
    limits = Limits(max_texts=2, max_text_chars=10)
    with client_for(loader(pos_bundle), limits=limits) as client:
        many = client.post("/v1/predict", json={"texts": ["a", "b", "c"]})
        long = client.post("/v1/predict", json={"texts": ["x" * 11]})
    assert (many.status_code, many.json()["error"]["limit"]) == (413, "max_texts")
    assert (long.status_code, long.json()["error"]["limit"]) == (413, "max_text_chars")


def test_a_prediction_past_the_time_budget_is_408(pos_bundle):
    def slow_model():
        pipeline = cli._load_pipeline(str(pos_bundle), "cpu")
        fast = pipeline.format_sentences

        def slow(*args, **kwargs):
            time.sleep(1.0)
            return fast(*args, **kwargs)

        pipeline.format_sentences = slow
        return pipeline

    with client_for(slow_model, limits=Limits(request_timeout_s=0.3)) as client:
        started = time.monotonic()
        answer = client.post("/v1/predict", json={"texts": ["The dog"]})
        waited = time.monotonic() - started
    assert answer.status_code == 408 and answer.json()["error"]["limit"] == "request_timeout_s"
    assert waited < 0.9  # answered at the budget, not when the model finished


def test_metrics_count_requests_errors_latency_batches_and_tokens(pos_bundle):
    with client_for(loader(pos_bundle)) as client:
        client.post("/v1/predict", json={"texts": ["The dog sleeps ."]})
        client.post("/v1/predict", content=b"{")
        text = client.get("/metrics").text
    assert 'lstm_nlp_requests_total{path="/v1/predict",status="200"} 1.0' in text
    assert 'lstm_nlp_requests_total{path="/v1/predict",status="400"} 1.0' in text
    assert 'lstm_nlp_request_errors_total{code="invalid_json"} 1.0' in text
    assert 'lstm_nlp_request_duration_seconds_bucket{le="+Inf",path="/v1/predict"} 2.0' in text
    assert "lstm_nlp_batch_texts_count 1.0" in text and "lstm_nlp_batch_tokens_sum 4.0" in text
    assert "lstm_nlp_tokens_total 4.0" in text and "lstm_nlp_model_loaded 1.0" in text


def test_openapi_describes_predict_and_the_demo_page_is_html(pos_bundle):
    with client_for(loader(pos_bundle)) as client:
        spec = client.get("/openapi.json").json()
        page = client.get("/")
    body = spec["paths"]["/v1/predict"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert {"texts", "tokens", "conllu", "probabilities", "top_k"} <= set(body["properties"])
    assert {"200", "413", "422", "503"} <= set(spec["paths"]["/v1/predict"]["post"]["responses"])
    assert "/health" in spec["paths"] and "/metrics" in spec["paths"]
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert 'id="text"' in page.text and "v1/predict" in page.text
