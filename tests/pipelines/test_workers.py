"""Prediction in worker processes: the same outputs in the same order as one process, errors in their turn."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import pytest
import torch

from lstm_nlp.data import Vocab
from lstm_nlp.errors import ConfigError, DataFormatError
from lstm_nlp.models import SequenceTagger, TaggerConfig
from lstm_nlp.pipelines import TaggingPipeline
from lstm_nlp.pipelines.tagging import build_char_vocab
from lstm_nlp.pipelines.workers import check_workers

LINES = [f"The dog {'sleeps ' * (i % 7)}number {i} ." if i % 5 else "" for i in range(60)]


@pytest.fixture(scope="module")
def tagger() -> TaggingPipeline:
    torch.manual_seed(0)
    sentences = [["the", "dog", "sleeps", "."]]
    words, chars = Vocab.build(sentences), build_char_vocab(sentences)
    labels = Vocab.build_labels([["DET", "NOUN", "VERB", "PUNCT"]])
    config = TaggerConfig(vocab_size=len(words), num_labels=len(labels), embedding_dim=8, hidden_size=8, num_layers=1,
                          char_encoder="lstm", char_vocab_size=len(chars), char_embedding_dim=4, char_hidden_size=4)
    return TaggingPipeline(SequenceTagger(config).eval(), words, labels, chars=chars)


@pytest.mark.parametrize("workers", [2, 3])
def test_workers_give_the_outputs_of_one_process_in_input_order(tagger, workers):
    alone = list(tagger.predict_lines(LINES, chunk_size=7))
    assert list(tagger.predict_lines(LINES, chunk_size=7, workers=workers)) == alone
    assert len(alone) == len(LINES) and alone[0] == "" and alone[1].startswith("The/")


def test_workers_tag_conllu_blocks_as_one_process_does(tagger, sample_dir):
    lines = (sample_dir / "pos" / "dev.conllu").read_text(encoding="utf-8").splitlines()
    alone = list(tagger.predict_blocks(lines, input_format="conllu", chunk_sentences=3))
    assert list(tagger.predict_blocks(lines, input_format="conllu", chunk_sentences=3, workers=2)) == alone


def test_a_line_too_long_comes_after_the_outputs_of_the_chunks_before_it(tagger):
    lines = ["the dog ."] * 10 + ["x" * 50] + ["the dog ."] * 10
    outputs = []
    with pytest.raises(DataFormatError, match="line 11 has more than 40 characters"):
        for output in tagger.predict_lines(lines, chunk_size=2, max_line_chars=40, workers=2):
            outputs.append(output)
    assert outputs == list(tagger.predict_lines(lines[:10], chunk_size=2))


def test_an_error_inside_a_worker_reaches_the_caller(tagger):
    with pytest.raises(ConfigError, match="output format must be one of"):
        list(tagger.predict_lines(LINES, chunk_size=7, workers=2, output_format="xml"))


@pytest.mark.parametrize("workers, device, message", [
    (0, "cpu", "workers must be >= 1, got 0"),
    (2, "cuda", "workers apply to CPU prediction; this model is on cuda"),
])
def test_workers_that_cannot_run_are_a_clear_error(workers, device, message):
    with pytest.raises(ConfigError, match=message):
        check_workers(SimpleNamespace(device=torch.device(device)), workers)


def _children(pid: int) -> set[int]:
    found = set()
    for task in Path(f"/proc/{pid}/task").iterdir():
        found.update(int(child) for child in (task / "children").read_text().split())
    return found


def _start_with_workers(model: Path) -> tuple[subprocess.Popen, set[int]]:
    """``lstm-nlp predict --workers 2`` reading a stdin that stays open, once both workers run."""
    process = subprocess.Popen([sys.executable, "-m", "lstm_nlp.cli", "predict", "--model", str(model),
                                "--workers", "2"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, env={**os.environ, "OMP_NUM_THREADS": "2"},
                               start_new_session=True)
    process.stdin.write("The dog sleeps .\n" * 5000)  # more than one chunk, so the workers start
    process.stdin.flush()
    deadline = time.monotonic() + 60
    while len(workers := _children(process.pid)) < 2:
        assert process.poll() is None and time.monotonic() < deadline, process.communicate()
        time.sleep(0.05)
    return process, workers


def _alive(pids: set[int]) -> list[int]:
    """The processes of ``pids`` still running (not gone, not zombies), after waiting up to 5 s."""
    deadline = time.monotonic() + 5
    while True:
        alive = [pid for pid in pids if Path(f"/proc/{pid}").exists()
                 and Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"]
        if not alive or time.monotonic() > deadline:
            return alive
        time.sleep(0.05)


linux_only = pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="reads child processes from /proc")


@linux_only
def test_ctrl_c_with_workers_exits_130_and_leaves_no_worker(tagger, tmp_path):
    tagger.save_pretrained(tmp_path / "model")
    process, workers = _start_with_workers(tmp_path / "model")
    os.killpg(process.pid, signal.SIGINT)  # what a terminal's Ctrl-C does: the whole process group
    _, err = process.communicate(timeout=60)
    assert process.returncode == 130 and "Traceback" not in err, err
    assert err.strip().splitlines()[-1] == "lstm-nlp predict: interrupted"
    assert not _alive(workers)


@linux_only
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGKILL])
def test_workers_end_with_a_killed_parent(tagger, tmp_path, signum):
    tagger.save_pretrained(tmp_path / "model")
    process, workers = _start_with_workers(tmp_path / "model")
    process.send_signal(signum)  # the parent only, as `kill` or an out-of-memory kill does
    process.communicate(timeout=60)
    assert process.returncode == -signum
    assert not _alive(workers)
