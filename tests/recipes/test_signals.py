"""Ctrl-C / SIGTERM during training: a checkpoint, one line on stderr, exit 130 / 143, then --resume continues."""

import json
import os
import random
import signal
import subprocess
import sys
import time

import pytest

from lstm_nlp.training import load_checkpoint

ARGS = ["--window", "24", "--horizon", "6", "--hidden-size", "8", "--length", "600", "--batch-size", "8",
        "--no-progress", "--device", "cpu", "--epochs", "1000", "--checkpoint-every", "1"]


def latest_step(out) -> int:
    try:
        return int(json.loads((out / "checkpoints" / "index.json").read_text())["latest"][5:14])
    except (OSError, ValueError, KeyError, TypeError):
        return -1


@pytest.mark.parametrize("signum, code", [(signal.SIGINT, 130), (signal.SIGTERM, 143)], ids=["SIGINT", "SIGTERM"])
def test_a_signal_during_training_ends_with_one_line_and_the_shell_code(signum, code, tmp_path, repo_root,
                                                                         load_recipe):
    out = tmp_path / "run"
    env = {**os.environ, "OMP_NUM_THREADS": "1", "LSTM_NLP_LOGLEVEL": "WARNING"}
    process = subprocess.Popen([sys.executable, str(repo_root / "recipes" / "forecast.py"), "--output-dir", str(out),
                                *ARGS], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    at_step = random.randrange(2, 40)
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline and process.poll() is None and latest_step(out) < at_step:
        time.sleep(0.005)
    assert process.poll() is None, process.communicate()
    process.send_signal(signum)
    stdout, stderr = process.communicate(timeout=60)
    name = signal.Signals(signum).name
    assert process.returncode == code, stderr
    assert "Traceback" not in stderr
    last = stderr.strip().splitlines()[-1]
    assert last.startswith("forecast.py: training stopped at epoch ") and f"({name}); checkpoint written to " in last
    assert last.endswith("; continue with the same command plus --resume")
    checkpoint = last.split("checkpoint written to ")[1].split(";")[0]
    assert os.path.isfile(checkpoint) and not (out / "model").exists()
    # The one line tells the truth: resuming from there works.
    epochs = load_checkpoint(checkpoint)["epoch"] + 1
    load_recipe("forecast").main(["--output-dir", str(out), *ARGS, "--epochs", str(epochs), "--resume"])
    assert (out / "model" / "model.safetensors").is_file()
