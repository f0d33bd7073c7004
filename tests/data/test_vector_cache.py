"""Vectors by name: download from a local HTTP server (127.0.0.1), resume, checks, cache, offline error."""

from __future__ import annotations

import hashlib
import io
import threading
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from lstm_nlp.data.vector_cache import KNOWN_VECTORS, VectorsSource, cache_dir, download, resolve_vectors
from lstm_nlp.data.vectors import read_vectors
from lstm_nlp.errors import ConfigError, DataFormatError

VECTORS = "the 0.1 0.2 0.3\nmovie 0.4 0.5 0.6\ngood -0.1 0.0 0.7\n"


def make_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zipped:
        zipped.writestr("tiny.3d.txt", VECTORS)
        zipped.writestr("README", "tiny test vectors")
    return buffer.getvalue()


class Server:
    """Serves ``files`` with Range support; ``cut_first`` sends only half of the first full response."""

    def __init__(self, files: dict[str, bytes], *, ranges: bool = True, cut_first: bool = False):
        self.files, self.ranges, self.cut_first = files, ranges, cut_first
        self.requests: list[str | None] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                body = server.files.get(self.path.lstrip("/"))
                server.requests.append(self.headers.get("Range"))
                if body is None:
                    self.send_error(404)
                    return
                start = 0
                header = self.headers.get("Range")
                if header and server.ranges:
                    start = int(header.split("=")[1].split("-")[0])
                    if start >= len(body):
                        self.send_error(416)
                        return
                    self.send_response(206)
                    self.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
                else:
                    self.send_response(200)
                part = body[start:]
                self.send_header("Content-Length", str(len(part)))
                self.end_headers()
                if server.cut_first and start == 0:
                    server.cut_first = False
                    self.wfile.write(part[: len(part) // 2])  # then drop the connection
                    self.wfile.flush()
                    self.connection.shutdown(2)
                    return
                self.wfile.write(part)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("LSTM_NLP_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache" / "vectors"


def test_known_names_point_at_the_real_archives():
    assert KNOWN_VECTORS["glove.6B.100d"].url == "https://nlp.stanford.edu/data/glove.6B.zip"
    assert KNOWN_VECTORS["glove.6B.100d"].member == "glove.6B.100d.txt"
    assert KNOWN_VECTORS["crawl-300d-2M"].url.startswith("https://dl.fbaipublicfiles.com/fasttext/vectors-english/")
    assert "wiki-news-300d-1M" in KNOWN_VECTORS


def test_cache_dir_follows_the_environment(cache):
    assert cache_dir() == cache


def test_downloads_once_unpacks_and_reads_from_the_cache(cache):
    archive = make_zip()
    with Server({"tiny.zip": archive}) as server:
        sources = {"tiny": VectorsSource(server.url + "tiny.zip", member="tiny.3d.txt",
                                         sha256=hashlib.sha256(archive).hexdigest(), size=len(archive))}
        path = resolve_vectors("tiny", sources=sources, progress=False)
        assert path == cache / "tiny.3d.txt"
        assert read_vectors(path).words == ["the", "movie", "good"]
        assert resolve_vectors("tiny", sources=sources, progress=False) == path
        assert len(server.requests) == 1  # the second call read the cache


def test_an_interrupted_download_resumes_with_a_range_request(cache):
    archive = make_zip() + b"\0" * 50_000  # zip readers skip trailing bytes; long enough to cut
    with Server({"tiny.zip": archive}, cut_first=True) as server:
        sources = {"tiny": VectorsSource(server.url + "tiny.zip", member="tiny.3d.txt")}
        with pytest.raises((ConfigError, DataFormatError)):
            resolve_vectors("tiny", sources=sources, progress=False)
        part = cache / "tiny.zip.part"
        assert 0 < part.stat().st_size < len(archive)
        path = resolve_vectors("tiny", sources=sources, progress=False)
        assert server.requests[-1] == f"bytes={len(archive) // 2}-"
        assert (cache / "tiny.zip").read_bytes() == archive and read_vectors(path).dim == 3


def test_a_server_without_ranges_restarts_the_download(cache, tmp_path):
    archive = make_zip()
    (cache).mkdir(parents=True)
    (cache / "tiny.zip.part").write_bytes(b"garbage")
    with Server({"tiny.zip": archive}, ranges=False) as server:
        download(server.url + "tiny.zip", cache / "tiny.zip", progress=False)
    assert (cache / "tiny.zip").read_bytes() == archive


def test_a_wrong_checksum_is_refused_and_removed(cache):
    with Server({"tiny.zip": make_zip()}) as server:
        sources = {"tiny": VectorsSource(server.url + "tiny.zip", member="tiny.3d.txt", sha256="0" * 64)}
        with pytest.raises(DataFormatError, match="SHA-256"):
            resolve_vectors("tiny", sources=sources, progress=False)
    assert not list(cache.glob("tiny.zip*"))


def test_a_missing_member_is_named(cache):
    with Server({"tiny.zip": make_zip()}) as server:
        sources = {"tiny": VectorsSource(server.url + "tiny.zip", member="other.txt")}
        with pytest.raises(DataFormatError, match="no other.txt"):
            resolve_vectors("tiny", sources=sources, progress=False)


def test_offline_the_error_says_where_to_put_the_file(cache):
    sources = {"glove.6B.100d": VectorsSource("http://127.0.0.1:9/glove.6B.zip", member="glove.6B.100d.txt")}
    with pytest.raises(ConfigError) as err:
        resolve_vectors("glove.6B.100d", sources=sources, progress=False, timeout=2)
    message = str(err.value)
    assert "glove.6B.zip" in message and str(cache) in message and "LSTM_NLP_CACHE" in message


def test_a_file_put_in_the_cache_by_hand_is_used_without_network(cache):
    cache.mkdir(parents=True)
    (cache / "glove.6B.100d.txt").write_text(VECTORS)
    sources = {"glove.6B.100d": VectorsSource("http://127.0.0.1:9/glove.6B.zip", member="glove.6B.100d.txt")}
    assert resolve_vectors("glove.6B.100d", sources=sources) == cache / "glove.6B.100d.txt"


def test_paths_pass_through_and_unknown_names_are_refused(tmp_path, cache):
    file = tmp_path / "mine.vec"
    file.write_text(VECTORS)
    assert resolve_vectors(str(file)) == file
    with pytest.raises(ConfigError, match="not a known name"):
        resolve_vectors("glove.42B.1000d")
