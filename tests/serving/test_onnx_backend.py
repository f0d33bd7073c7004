"""``lstm-nlp serve --backend onnx``: the same answers as the PyTorch backend, from a process that never loads torch."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pytest

pytest.importorskip("fastapi", reason="the service needs the [serve] extra: pip install -e '.[serve]'")
pytest.importorskip("httpx", reason="Starlette's TestClient needs httpx (the [serve] extra)")
pytest.importorskip("onnxruntime", reason="the onnx extra is not installed")

from fastapi.testclient import TestClient  # noqa: E402

from lstm_nlp import cli  # noqa: E402
from lstm_nlp.serving.app import create_app  # noqa: E402

TEXTS = ["Alice lives in Paris .", "", "Bob met Alice in London, and the dog sleeps!", "Zyzzyva"]


def exported(bundle: Path) -> Path:
    """``bundle`` with its graph written by ``lstm-nlp export`` (MODEL/model.onnx)."""
    if not (bundle / "model.onnx").exists():
        assert cli.main(["export", "--model", str(bundle)]) == 0
    return bundle


def answers(bundle: Path, backend: str, payload: dict) -> dict:
    args = cli.build_parser().parse_args(["serve", "--model", str(bundle), "--backend", backend, "--threads", "1"])
    with TestClient(create_app(lambda: cli._load_backend(args))) as client:
        deadline = time.monotonic() + 30
        while client.get("/health").status_code != 200:
            assert time.monotonic() < deadline, client.get("/health").json()
            time.sleep(0.02)
        answer = client.post("/v1/predict", json=payload)
        assert answer.status_code == 200, answer.json()
        return {"model": client.get("/v1/model").json(), **answer.json()}


@pytest.mark.parametrize("name", ["pos_bundle", "ner_bundle", "crf_bundle", "classifier_bundle"])
def test_onnx_answers_equal_the_torch_backend(name, request):
    bundle = exported(request.getfixturevalue(name))
    payloads = [{"texts": TEXTS}]
    if name != "classifier_bundle":
        payloads.append({"tokens": [text.split() for text in TEXTS]})
    if name in ("pos_bundle", "ner_bundle"):  # softmax heads: probabilities too
        payloads.append({"texts": TEXTS, "probabilities": True})
    for payload in payloads:
        onnx, torch_ = answers(bundle, "onnx", payload), answers(bundle, "torch", payload)
        assert onnx["model"] == torch_["model"]
        for got, expected in zip(onnx["results"], torch_["results"]):
            got_p, expected_p = got.pop("probabilities", None), expected.pop("probabilities", None)
            assert got == expected
            if isinstance(expected_p, dict):
                got_p, expected_p = list(got_p.values()), list(expected_p.values())
            assert got_p == pytest.approx(expected_p, abs=2e-5)


def test_a_crf_request_for_the_k_best_is_a_422_naming_the_torch_backend(crf_bundle):
    args = cli.build_parser().parse_args(["serve", "--model", str(exported(crf_bundle)), "--backend", "onnx"])
    with TestClient(create_app(lambda: cli._load_backend(args))) as client:
        while client.get("/health").status_code != 200:
            time.sleep(0.02)
        answer = client.post("/v1/predict", json={"texts": ["Alice"], "top_k": 2})
    assert answer.status_code == 422
    assert "--backend torch" in answer.json()["error"]["message"]


def test_serve_without_the_graph_is_an_error_before_listening(pos_bundle, tmp_path, capsys):
    bundle = tmp_path / "bundle"
    bundle.mkdir()
    for file in pos_bundle.iterdir():
        if file.name != "model.onnx":
            (bundle / file.name).write_bytes(file.read_bytes())
    assert cli.main(["serve", "--model", str(bundle), "--backend", "onnx", "--port", "0"]) == 2
    assert f"write it with: lstm-nlp export --model {bundle}" in capsys.readouterr().err


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/PID/maps")
def test_the_serving_process_never_loads_torch(pos_bundle, http):
    port = http.free_port()
    command = http.serve_command(exported(pos_bundle), port, "--backend", "onnx")
    with http.running_server(command, port) as server:
        status, body, _ = http.post_json(f"http://127.0.0.1:{port}/v1/predict", {"texts": ["the dog sleeps ."]})
        assert status == 200 and body["results"][0]["tokens"] == ["the", "dog", "sleeps", "."]
        libraries = Path(f"/proc/{server.pid}/maps").read_text()
    assert "onnxruntime" in libraries and "libtorch" not in libraries
