"""Resuming the POS recipe: interrupted-and-resumed equals uninterrupted; a SIGKILLed run resumes."""

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from lstm_nlp.training import CheckpointManager, load_checkpoint

TINY = ["--embedding-dim", "16", "--hidden-size", "16", "--num-layers", "2", "--dropout", "0.3", "--batch-size", "16",
        "--no-progress", "--device", "cpu", "--seed", "3"]


@pytest.fixture(scope="module")
def pos_tagger(load_recipe):
    return load_recipe("pos_tagger")


def epochs_without_timing(out: Path) -> list[dict]:
    records = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    return [{k: v for k, v in r.items() if k not in ("train_tokens_per_s", "train_seconds")} for r in records]


def test_three_epochs_equal_one_epoch_then_resume_for_two_more(tmp_path, pos_tagger):
    straight, resumed = tmp_path / "straight", tmp_path / "resumed"
    expected = pos_tagger.main(["--output-dir", str(straight), "--epochs", "3", *TINY])
    pos_tagger.main(["--output-dir", str(resumed), "--epochs", "1", *TINY])
    got = pos_tagger.main(["--output-dir", str(resumed), "--epochs", "3", "--resume", *TINY])
    a, b = load_file(straight / "model" / "model.safetensors"), load_file(resumed / "model" / "model.safetensors")
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    assert got["dev"]["accuracy"] == expected["dev"]["accuracy"]
    assert epochs_without_timing(resumed) == epochs_without_timing(straight)
    for name in ("training_curve.png", "confusion_matrix.png", "metrics.json"):
        assert (resumed / name).is_file()


def test_a_sigkilled_run_leaves_a_loadable_checkpoint_and_resumes(tmp_path, pos_tagger, repo_root):
    out = tmp_path / "run"
    args = ["--output-dir", str(out), *TINY, "--batch-size", "4", "--checkpoint-every", "3"]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1"}
    log = tmp_path / "killed_run.log"
    with log.open("w") as stream:
        process = subprocess.Popen([sys.executable, str(repo_root / "recipes" / "pos_tagger.py"), *args,
                                    "--epochs", "1000"], env=env, stdout=stream, stderr=subprocess.STDOUT)
    index = out / "checkpoints" / "index.json"
    deadline = time.monotonic() + 90
    try:
        # 75 batches per epoch: wait until the run is inside its second epoch, then kill it mid-write or mid-step.
        while time.monotonic() < deadline and process.poll() is None:
            try:
                if int(json.loads(index.read_text())["latest"][5:14]) >= 90:
                    break
            except (OSError, ValueError, KeyError):
                pass
            time.sleep(0.02)
        assert process.poll() is None, log.read_text()[-3000:]
        process.send_signal(signal.SIGKILL)
    finally:
        process.kill()
        process.wait(timeout=30)
    state = load_checkpoint(CheckpointManager(out / "checkpoints").latest())
    assert state["global_step"] >= 90 and state["epoch"] >= 1, log.read_text()[-3000:]
    total = state["epoch"] + 1
    metrics = pos_tagger.main([*args, "--epochs", str(total), "--resume"])
    assert [r["epoch"] for r in epochs_without_timing(out)] == list(range(1, total + 1))
    assert metrics["dev"]["accuracy"] > 0 and (out / "model" / "model.safetensors").is_file()
    assert not list((out / "checkpoints").glob(".*.tmp"))


def test_resuming_a_finished_run_says_there_is_nothing_to_do(tmp_path, pos_tagger, capsys):
    out = tmp_path / "run"
    args = ["--output-dir", str(out), "--epochs", "1", *TINY]
    pos_tagger.main(args)
    saved = (out / "model" / "model.safetensors").stat().st_mtime_ns
    capsys.readouterr()
    with pytest.raises(SystemExit) as stop:
        pos_tagger.main([*args, "--resume"])
    err = capsys.readouterr().err
    assert stop.value.code == 0 and err.count("\n") == 1, err
    assert f": nothing to do: the run in {out} finished all 1 epochs; its model is {out / 'model'} (give a " \
           "larger --epochs to train on, or leave out --resume to start afresh)" in err
    assert (out / "model" / "model.safetensors").stat().st_mtime_ns == saved

    # trained to the end but stopped before saving: the resume scores and saves
    shutil.rmtree(out / "model")
    metrics = pos_tagger.main([*args, "--resume"])
    assert (out / "model" / "model.safetensors").is_file() and "dev" in metrics
