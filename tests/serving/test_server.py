"""The service as a process on 127.0.0.1: SIGTERM answers every accepted request and exits 0, a full queue
answers 503 with Retry-After, a bundle that cannot be served is refused before listening."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

pytest.importorskip("fastapi", reason="the service needs the [serve] extra: pip install -e '.[serve]'")
pytest.importorskip("uvicorn", reason="the service needs the [serve] extra: pip install -e '.[serve]'")


from lstm_nlp import cli  # noqa: E402


def test_serve_binds_127_0_0_1_by_default():
    args = cli.build_parser().parse_args(["serve", "--model", "m"])
    assert (args.host, args.port) == ("127.0.0.1", 8000)


@pytest.mark.slow
def test_sigterm_when_idle_exits_0_and_stops_listening(pos_bundle, http):
    port = http.free_port()
    with http.running_server(http.serve_command(pos_bundle, port), port) as server:
        server.send_signal(signal.SIGTERM)
        assert server.wait(30) == 0
    with pytest.raises(OSError):
        http.get(f"http://127.0.0.1:{port}/health", timeout=2)


SLOW_SERVER = textwrap.dedent("""
    import sys, time
    from lstm_nlp import cli
    from lstm_nlp.serving.app import create_app
    from lstm_nlp.serving.limits import Limits
    from lstm_nlp.serving.server import serve

    def load():
        pipeline = cli._load_pipeline(sys.argv[1], "cpu")
        fast = pipeline.format_sentences
        def slow(*args, **kwargs):  # a model that takes 300 ms a batch
            time.sleep(0.3)
            return fast(*args, **kwargs)
        pipeline.format_sentences = slow
        return pipeline

    app = create_app(load, limits=Limits(max_queue=int(sys.argv[3])), max_wait_ms=0, max_batch_tokens=2)
    sys.exit(serve(app, port=int(sys.argv[2]), log_level="warning"))
""")


@pytest.mark.slow
def test_sigterm_during_requests_answers_every_accepted_one_then_exits_0(pos_bundle, tmp_path, http):
    script = tmp_path / "slow_server.py"
    script.write_text(SLOW_SERVER, encoding="utf-8")
    port = http.free_port()
    url = f"http://127.0.0.1:{port}/v1/predict"

    def timed_post(i: int) -> tuple[int, dict, float]:
        status, body, _ = http.post_json(url, {"texts": [f"The dog {i}"]})
        return status, body, time.monotonic()

    # One request a batch, 300 ms each: 8 requests take 2.4 s, and SIGTERM comes 0.6 s in.
    with http.running_server([sys.executable, str(script), str(pos_bundle), str(port), "64"], port) as server:
        with ThreadPoolExecutor(8) as pool:
            answers = [pool.submit(timed_post, i) for i in range(8)]
            time.sleep(0.6)
            signalled = time.monotonic()
            server.send_signal(signal.SIGTERM)
            results = [answer.result(60) for answer in answers]
        assert server.wait(60) == 0
        log = server.log.read_text(errors="replace")
    assert [status for status, _, _ in results] == [200] * 8, log
    assert all(len(body["results"]) == 1 for _, body, _ in results)
    assert sum(done > signalled for _, _, done in results) >= 4  # answered after SIGTERM: they were in flight
    assert "Traceback" not in log


@pytest.mark.slow
def test_a_full_queue_answers_503_with_retry_after_and_the_rest_200(pos_bundle, tmp_path, http):
    script = tmp_path / "slow_server.py"
    script.write_text(SLOW_SERVER, encoding="utf-8")
    port = http.free_port()
    with http.running_server([sys.executable, str(script), str(pos_bundle), str(port), "2"], port) as server:
        url = f"http://127.0.0.1:{port}/v1/predict"
        with ThreadPoolExecutor(10) as pool:
            results = list(pool.map(lambda i: http.post_json(url, {"texts": [f"The dog {i}"]}), range(10)))
        metrics = http.get(f"http://127.0.0.1:{port}/metrics")[1].decode()
        server.send_signal(signal.SIGTERM)
        assert server.wait(30) == 0
    statuses = sorted(status for status, _, _ in results)
    full = [(body, headers) for status, body, headers in results if status == 503]
    assert set(statuses) == {200, 503} and statuses.count(200) >= 2, statuses  # at least the queue's worth
    assert all(body["error"]["code"] == "queue_full" and body["error"]["limit"] == "max_queue" for body, _ in full)
    assert all(headers["retry-after"] == "1" for _, headers in full)
    assert 'lstm_nlp_request_errors_total{code="queue_full"}' in metrics


@pytest.mark.slow
def test_a_missing_bundle_is_an_error_before_listening(tmp_path, http):
    done = subprocess.run([sys.executable, "-m", "lstm_nlp", "serve", "--model", str(tmp_path / "none"), "--port",
                           str(http.free_port())], capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and done.stderr.startswith("lstm-nlp serve: error: ")
    assert "Traceback" not in done.stderr


def test_a_forecaster_is_refused_by_serve(tmp_path):
    from lstm_nlp.data.series import Scaler
    from lstm_nlp.models import Forecaster, ForecasterConfig
    from lstm_nlp.pipelines import ForecastPipeline

    ForecastPipeline(Forecaster(ForecasterConfig(window=4, horizon=2, hidden_size=4), scaler=Scaler(0.0, 1.0))) \
        .save_pretrained(tmp_path / "model")
    assert cli.main(["serve", "--model", str(tmp_path / "model")]) == 2


def test_serve_without_the_extra_says_what_to_install(pos_bundle, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "uvicorn", None)  # `import uvicorn` now fails as if it were not installed
    assert cli.main(["serve", "--model", str(pos_bundle)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("lstm-nlp serve: error: ") and "uvicorn" in err and 'pip install "lstm_nlp[serve]"' in err
