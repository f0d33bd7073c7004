"""Kill-and-resume equivalence for every recipe: final weights bit-identical to an uninterrupted run.

For each recipe, on tiny settings: a run of 3 epochs, against (a) a clean stop after epoch 1 and
``--resume`` up to 3, and (b) a separate process killed with SIGKILL at a random optimizer step
(``--checkpoint-every 1``), then ``--resume``. ``model.safetensors`` must hold equal tensors. The POS
recipe is also run under ``torchrun`` with 2 ranks, the whole job SIGKILLed at a random step and resumed
with the same command.
"""

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from lstm_nlp.training import CheckpointManager, load_checkpoint

COMMON = ["--no-progress", "--device", "cpu", "--seed", "3", "--epochs", "3"]
TINY = {
    "pos_tagger": ["--embedding-dim", "8", "--hidden-size", "8", "--char-dim", "8", "--char-hidden", "8",
                   "--batch-size", "16"],
    "ner": ["--embedding-dim", "8", "--hidden-size", "8", "--char-dim", "8", "--char-hidden", "8", "--batch-size", "8"],
    "chunking": ["--embedding-dim", "8", "--hidden-size", "8", "--char-dim", "8", "--char-hidden", "8",
                 "--batch-size", "8"],
    "imdb_sentiment": ["--embedding-dim", "16", "--hidden-size", "16", "--batch-size", "16", "--patience", "0",
                       "--max-length", "64"],
    "forecast": ["--window", "24", "--horizon", "6", "--hidden-size", "8", "--length", "600", "--batch-size", "16",
                 "--dropout", "0.2", "--num-layers", "2"],
}


def weights(out: Path) -> dict:
    return load_file(out / "model" / "model.safetensors")


def assert_same_weights(a: Path, b: Path) -> None:
    wa, wb = weights(a), weights(b)
    assert wa.keys() == wb.keys()
    different = [k for k in wa if not torch.equal(wa[k], wb[k])]
    assert not different, f"tensors differ after resume: {different}"


def history(out: Path) -> list[dict]:
    records = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    return [{k: v for k, v in r.items() if k not in ("train_tokens_per_s", "train_seconds")} for r in records]


def latest_step(out: Path) -> int:
    try:
        return int(json.loads((out / "checkpoints" / "index.json").read_text())["latest"][5:14])
    except (OSError, ValueError, KeyError, TypeError):
        return -1


def run_and_kill(recipe: str, argv: list[str], out: Path, *, at_step: int, repo_root: Path, log: Path) -> int:
    """Runs the recipe in its own process and SIGKILLs it once a checkpoint of step >= ``at_step`` exists."""
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1"}
    with log.open("w") as stream:
        process = subprocess.Popen([sys.executable, str(repo_root / "recipes" / f"{recipe}.py"), *argv], env=env,
                                   stdout=stream, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 120
    try:
        while time.monotonic() < deadline and process.poll() is None and latest_step(out) < at_step:
            time.sleep(0.002)
        assert process.poll() is None, f"the run ended before step {at_step}:\n{log.read_text()[-3000:]}"
        process.send_signal(signal.SIGKILL)
    finally:
        process.kill()
        process.wait(timeout=30)
    return latest_step(out)


@pytest.mark.parametrize("recipe", sorted(TINY))
def test_stopped_or_killed_then_resumed_equals_uninterrupted(recipe, tmp_path, load_recipe, repo_root):
    module = load_recipe(recipe)
    extra = TINY[recipe] + (["--cache-dir", str(tmp_path / "cache")] if recipe == "imdb_sentiment" else [])
    argv = lambda out, *more: ["--output-dir", str(out), *extra, *COMMON, *more]  # noqa: E731
    straight = tmp_path / "straight"
    module.main(argv(straight))
    steps = load_checkpoint(CheckpointManager(straight / "checkpoints").latest())["global_step"]

    # (a) a clean stop at an epoch boundary, then --resume for the remaining epochs
    stopped = tmp_path / "stopped"
    module.main([*argv(stopped), "--epochs", "1"])
    module.main([*argv(stopped), "--resume"])
    assert_same_weights(straight, stopped)
    assert history(stopped) == history(straight)

    # (b) SIGKILL at a random optimizer step of a checkpoint-every-step run, then --resume
    killed = tmp_path / "killed"
    at_step = random.Random(f"{recipe}-{time.time_ns()}").randrange(2, steps - 1)
    reached = run_and_kill(recipe, argv(killed, "--checkpoint-every", "1"), killed, at_step=at_step,
                           repo_root=repo_root, log=tmp_path / "killed.log")
    assert 0 < reached < steps, (at_step, reached, steps)
    module.main([*argv(killed, "--checkpoint-every", "1"), "--resume"])
    assert_same_weights(straight, killed)
    assert history(killed) == history(straight), f"killed at step {reached} (target {at_step})"
    assert not list((killed / "checkpoints").glob(".*.tmp"))


# ---------------------------------------------------------------------- under torchrun (2 CPU ranks, gloo)
TORCHRUN_ARGS = ["--device", "cpu", "--no-progress", "--seed", "5", "--epochs", "3", "--embedding-dim", "8",
                 "--hidden-size", "8", "--char-dim", "8", "--char-hidden", "8", "--num-layers", "1",
                 "--batch-size", "16"]


def torchrun(repo_root, out, *more):
    return [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2",
            str(repo_root / "recipes" / "pos_tagger.py"), "--output-dir", str(out), *TORCHRUN_ARGS, *more]


TORCHRUN_ENV = {**os.environ, "OMP_NUM_THREADS": "1", "LSTM_NLP_LOGLEVEL": "WARNING"}


@pytest.mark.slow
def test_torchrun_job_killed_then_resumed_equals_uninterrupted(tmp_path, repo_root):
    straight = tmp_path / "straight"
    done = subprocess.run(torchrun(repo_root, straight), env=TORCHRUN_ENV, capture_output=True, text=True, timeout=400)
    assert done.returncode == 0, done.stderr[-3000:]
    steps = latest_step(straight)

    killed = tmp_path / "killed"
    at_step = random.Random(time.time_ns()).randrange(2, steps - 1)
    with open(tmp_path / "killed.log", "w") as log:
        job = subprocess.Popen(torchrun(repo_root, killed, "--checkpoint-every", "1"), env=TORCHRUN_ENV, stdout=log,
                               stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.monotonic() + 400
    try:
        while time.monotonic() < deadline and job.poll() is None and latest_step(killed) < at_step:
            time.sleep(0.005)
        assert job.poll() is None, (tmp_path / "killed.log").read_text()[-3000:]
        os.killpg(job.pid, signal.SIGKILL)  # the launcher and both ranks at once
    finally:
        job.wait(timeout=60)
    reached = latest_step(killed)
    assert 0 < reached < steps, (at_step, reached, steps)

    resumed = subprocess.run(torchrun(repo_root, killed, "--checkpoint-every", "1", "--resume"), env=TORCHRUN_ENV,
                             capture_output=True, text=True, timeout=400)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    a, b = (load_file(out / "model" / "model.safetensors") for out in (straight, killed))
    assert a.keys() == b.keys()
    assert not [k for k in a if not torch.equal(a[k], b[k])], f"killed at step {reached} of {steps}"
