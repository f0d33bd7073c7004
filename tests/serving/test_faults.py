"""A running service under a stream of malformed requests: every one a JSON 4xx, and its memory stays flat."""

from __future__ import annotations

import json
import socket
import time
from http.client import HTTPConnection
from pathlib import Path

import pytest

pytest.importorskip("fastapi", reason="the service needs the [serve] extra: pip install -e '.[serve]'")
pytest.importorskip("uvicorn", reason="the service needs the [serve] extra: pip install -e '.[serve]'")

MAX_BODY = 2048
#: (body, expected status), sent in turn; ``None`` is a chunked body over the limit (no Content-Length).
MALFORMED: list[tuple[bytes | None, int]] = [
    (b"{not json", 400),
    (b'{"texts": ["\xff\xfe"]}', 400),  # not UTF-8
    (b"", 400),
    (b"[" * 1000, 400),
    (b"null", 422),
    (b'{"texts": "one"}', 422),
    (b'{"tokens": [[1, 2]]}', 422),
    (b'{"texts": ["a"], "top_k": 3}', 422),
    (b'{"text": ["a"]}', 422),
    (json.dumps({"texts": ["dog"] * 300}).encode(), 413),  # more than --max-texts
    (b'{"texts": ["' + b"x" * (MAX_BODY + 10) + b'"]}', 413),  # declared length over --max-body-bytes
    (None, 413),
]


def rss_kib(pid: int) -> int:
    with open(f"/proc/{pid}/status", encoding="ascii") as status:
        return int(next(line for line in status if line.startswith("VmRSS:")).split()[1])


def send(connection: HTTPConnection, body: bytes | None) -> tuple[int, bytes]:
    if body is None:
        chunks = iter([b'{"texts": ["', b"y" * MAX_BODY, b'"]}'])
        connection.request("POST", "/v1/predict", body=chunks, encode_chunked=True,
                           headers={"Content-Type": "application/json"})
    else:
        connection.request("POST", "/v1/predict", body=body, headers={"Content-Type": "application/json"})
    answer = connection.getresponse()
    return answer.status, answer.read()


@pytest.fixture(scope="module")
def server(pos_bundle, http):
    """A running ``lstm-nlp serve`` with a small ``--max-body-bytes``: ``(port, process)``."""
    port = http.free_port()
    with http.running_server(http.serve_command(pos_bundle, port, "--max-body-bytes", str(MAX_BODY)), port) as process:
        yield port, process


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads the server's VmRSS from /proc")
def test_a_thousand_malformed_requests_are_4xx_and_leave_memory_flat(server):
    port, process = server
    connection = HTTPConnection("127.0.0.1", port, timeout=30)
    for index in range(100):  # warm-up: every code path once, allocator pools filled
        send(connection, MALFORMED[index % len(MALFORMED)][0])
    before = rss_kib(process.pid)
    wrong = []
    for index in range(1000):
        body, expected = MALFORMED[index % len(MALFORMED)]
        status, answer = send(connection, body)
        if status != expected or not json.loads(answer)["error"]["code"] or b"Traceback" in answer:
            wrong.append((index, status, answer[:200]))
    after = rss_kib(process.pid)
    connection.close()
    assert not wrong, wrong[:5]
    assert after - before < 10 * 1024, f"VmRSS grew by {(after - before) / 1024:.1f} MiB over 1,000 requests"


@pytest.mark.slow
def test_a_client_that_leaves_mid_body_is_counted_and_the_service_goes_on(server, http):
    port, _ = server
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(b"POST /v1/predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                     b"Content-Length: 100\r\n\r\n{\"texts\": [")
    deadline = time.monotonic() + 10
    while '/v1/predict",status="499"} 1.0' not in http.get(f"http://127.0.0.1:{port}/metrics")[1].decode():
        assert time.monotonic() < deadline, "the disconnect was not counted"
        time.sleep(0.05)
    status, answer, _ = http.post_json(f"http://127.0.0.1:{port}/v1/predict", {"texts": ["The dog"]})
    assert status == 200 and len(answer["results"]) == 1
    assert 'status="500"' not in http.get(f"http://127.0.0.1:{port}/metrics")[1].decode()
