"""Tiny bundles for the service tests (each built in well under a second) and a running-server helper.

The tests that need the [serve] extra skip themselves (``pytest.importorskip``) when it is missing.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
import torch

from lstm_nlp.data import Vocab

NER_SENTENCES = [
    ("Alice lives in Paris .", "B-PER O O B-LOC O"),
    ("Bob works in London .", "B-PER O O B-LOC O"),
    ("Alice met Bob in London .", "B-PER O B-PER O B-LOC O"),
    ("Bob flew to Paris .", "B-PER O O B-LOC O"),
]


@pytest.fixture(scope="session")
def pos_bundle(tmp_path_factory) -> Path:
    """An untrained word-level POS tagger (softmax head, tags without spans)."""
    from lstm_nlp.models import SequenceTagger, TaggerConfig
    from lstm_nlp.pipelines import TaggingPipeline

    words = Vocab.build([["the", "dog", "sleeps", "."]])
    labels = Vocab.build_labels([["DET", "NOUN", "VERB", "PUNCT"]])
    config = TaggerConfig(vocab_size=len(words), num_labels=len(labels), embedding_dim=4, hidden_size=4, num_layers=1)
    path = tmp_path_factory.mktemp("bundles") / "pos"
    TaggingPipeline(SequenceTagger(config), words, labels).save_pretrained(path)
    return path


@pytest.fixture(scope="session")
def crf_bundle(tmp_path_factory) -> Path:
    """An untrained IOB2 NER tagger with a CRF head (span probabilities, top_k)."""
    from lstm_nlp.models import SequenceTagger, TaggerConfig
    from lstm_nlp.pipelines import TaggingPipeline

    torch.manual_seed(1)
    words = Vocab.build([text.split() for text, _ in NER_SENTENCES])
    labels = Vocab.build_labels([["O", "B-PER", "I-PER", "B-LOC", "I-LOC"]])
    config = TaggerConfig(vocab_size=len(words), num_labels=len(labels), embedding_dim=4, hidden_size=4,
                          num_layers=1, head="crf")
    path = tmp_path_factory.mktemp("bundles") / "crf"
    TaggingPipeline(SequenceTagger(config), words, labels, scheme="iob2").save_pretrained(path)
    return path


@pytest.fixture(scope="session")
def ner_bundle(tmp_path_factory) -> Path:
    """A softmax IOB2 NER tagger fitted to :data:`NER_SENTENCES` (Alice, Bob: PER; Paris, London: LOC)."""
    from lstm_nlp.batch import model_inputs
    from lstm_nlp.models import SequenceTagger, TaggerConfig
    from lstm_nlp.pipelines import TaggingPipeline

    torch.manual_seed(0)
    words = Vocab.build([text.split() for text, _ in NER_SENTENCES])
    labels = Vocab.build_labels([["O", "B-PER", "I-PER", "B-LOC", "I-LOC"]])
    config = TaggerConfig(vocab_size=len(words), num_labels=len(labels), embedding_dim=16, hidden_size=16,
                          num_layers=1, dropout=0.0)
    pipeline = TaggingPipeline(SequenceTagger(config), words, labels, scheme="iob2")
    examples = [{**pipeline.featurize(text.split()), "label_ids": labels.encode(tags.split()), "index": i}
                for i, (text, tags) in enumerate(NER_SENTENCES)]
    batch = next(iter(pipeline.loader(examples, batch_size=len(examples))))
    optimizer = torch.optim.Adam(pipeline.model.parameters(), lr=0.05)
    pipeline.model.train()
    for _ in range(60):
        optimizer.zero_grad()
        pipeline.model(**model_inputs(batch)).loss.backward()
        optimizer.step()
    pipeline.model.eval()
    path = tmp_path_factory.mktemp("bundles") / "ner"
    pipeline.save_pretrained(path)
    return path


@pytest.fixture(scope="session")
def classifier_bundle(tmp_path_factory) -> Path:
    """An untrained neg/pos text classifier (spaCy words)."""
    from lstm_nlp.data import TextTokenizer
    from lstm_nlp.models import ClassifierConfig, TextClassifier
    from lstm_nlp.pipelines import ClassificationPipeline

    words = Vocab.build([["a", "great", "film", "bad", "boring", "!"]])
    config = ClassifierConfig(vocab_size=len(words), num_labels=2, embedding_dim=4, hidden_size=4, num_layers=1)
    path = tmp_path_factory.mktemp("bundles") / "classifier"
    ClassificationPipeline(TextClassifier(config), words, Vocab.build_labels(["neg", "pos"]),
                           TextTokenizer("spacy")).save_pretrained(path)
    return path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def get(url: str, timeout: float = 5.0) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as answer:
            return answer.status, answer.read()
    except urllib.error.HTTPError as err:
        return err.code, err.read()


def post_json(url: str, payload: object, timeout: float = 30.0) -> tuple[int, dict, dict]:
    """``(status, JSON body, headers with lower-case names)`` of a POST."""
    request = urllib.request.Request(url, data=json.dumps(payload).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:
            return answer.status, json.loads(answer.read()), {k.lower(): v for k, v in answer.headers.items()}
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read()), {k.lower(): v for k, v in err.headers.items()}


@contextlib.contextmanager
def running_server(command: list[str], port: int, *, timeout: float = 120.0) -> Iterator[subprocess.Popen]:
    """Starts ``command`` (a server on 127.0.0.1:``port``), waits for ``/health`` to be 200, and stops it after.

    Its output goes to a file (``process.log``, a Path), not a pipe that nobody reads while it runs.
    """
    import tempfile

    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    log = Path(tempfile.mkstemp(prefix="serve-", suffix=".log")[1])
    with open(log, "wb") as stream:
        process = subprocess.Popen(command, stdout=stream, stderr=subprocess.STDOUT, env=env)
    process.log = log
    try:
        deadline = time.monotonic() + timeout
        while True:
            if process.poll() is not None:
                raise AssertionError(f"the server exited with {process.returncode}:\n"
                                     f"{log.read_text(errors='replace')[-3000:]}")
            try:
                if get(f"http://127.0.0.1:{port}/health", timeout=1)[0] == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise AssertionError("the server did not become healthy in time")
            time.sleep(0.1)
        yield process
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        log.unlink(missing_ok=True)


def serve_command(bundle: Path, port: int, *extra: str) -> list[str]:
    """``lstm-nlp serve`` as a subprocess (through ``python -m lstm_nlp``, so the venv's interpreter runs it)."""
    return [sys.executable, "-m", "lstm_nlp", "serve", "--model", str(bundle), "--port", str(port),
            "--threads", "1", "--log-level", "warning", *extra]


@pytest.fixture(scope="session")
def http():
    """The helpers above for the test modules (``--import-mode=importlib`` puts no test folder on sys.path):
    ``free_port``, ``get``, ``post_json``, ``running_server``, ``serve_command``."""
    import types

    return types.SimpleNamespace(free_port=free_port, get=get, post_json=post_json, running_server=running_server,
                                 serve_command=serve_command)
