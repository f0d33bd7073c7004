"""Distributed data parallel: helpers in one process, and the POS recipe under ``torchrun`` (gloo, 2 CPU ranks)."""

import json
import os
import subprocess
import sys
import textwrap

import pytest
import torch

from lstm_nlp import cli
from lstm_nlp.training import distributed

# Runs a recipe unchanged, recording which examples this rank's training batch sampler yields per
# epoch and the parameters the Trainer ends with.
RANK_WRAPPER = textwrap.dedent("""
    import json, os, runpy, sys
    from pathlib import Path
    import torch
    from lstm_nlp.data.batching import BucketBatchSampler
    import lstm_nlp.training.trainer as trainer_module

    out, recipe, argv = Path(sys.argv[1]), sys.argv[2], sys.argv[3:]
    rank, seen = int(os.environ["RANK"]), {}

    def recording_iter(self):
        batches = self.batches()
        if self.shuffle:
            seen.setdefault(self.epoch, []).extend(i for b in batches for i in b)
        return iter(batches)

    BucketBatchSampler.__iter__ = recording_iter
    original_fit = trainer_module.Trainer.fit

    def fit(self, *args, **kwargs):
        result = original_fit(self, *args, **kwargs)
        torch.save({k: v.detach().cpu() for k, v in self.model.state_dict().items()}, out / f"params-{rank}.pt")
        (out / f"seen-{rank}.json").write_text(json.dumps({"seen": seen, "replicas": self.dist.world_size}))
        return result

    trainer_module.Trainer.fit = fit
    sys.argv = [recipe, *argv]
    runpy.run_path(recipe, run_name="__main__")
""")


def test_single_process_helpers(monkeypatch):
    monkeypatch.delenv("WORLD_SIZE", raising=False)
    monkeypatch.delenv("RANK", raising=False)
    assert distributed.is_main_process() and distributed.get_world_size() == 1
    context = distributed.setup_distributed("cpu")
    assert not context.enabled and context.device == torch.device("cpu")
    assert distributed.broadcast_object({"a": 1}) == {"a": 1}
    assert distributed.all_gather_object(3) == [3]
    assert distributed.any_across_ranks([True, False], torch.device("cpu")) == [True, False]
    monkeypatch.setenv("RANK", "1")
    assert not distributed.is_main_process()


def test_torchrun_two_ranks_train_the_pos_recipe(tmp_path, repo_root):
    wrapper = tmp_path / "rank_wrapper.py"
    wrapper.write_text(RANK_WRAPPER)
    out = tmp_path / "run"
    env = {**os.environ, "OMP_NUM_THREADS": "1", "LSTM_NLP_LOGLEVEL": "WARNING"}
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2", str(wrapper),
               str(tmp_path), str(repo_root / "recipes" / "pos_tagger.py"), "--output-dir", str(out), "--epochs", "2",
               "--device", "cpu", "--no-progress", "--embedding-dim", "16", "--hidden-size", "16", "--num-layers", "1"]
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=240)
    assert result.returncode == 0, result.stderr[-3000:]

    # Both ranks trained DDP replicas and ended with identical parameters.
    params = [torch.load(tmp_path / f"params-{rank}.pt", weights_only=True) for rank in (0, 1)]
    assert all(torch.equal(params[0][k], params[1][k]) for k in params[0])
    # Each epoch the ranks saw disjoint batches, no example twice, and together nearly all of the data.
    seen = [json.loads((tmp_path / f"seen-{rank}.json").read_text()) for rank in (0, 1)]
    assert seen[0]["replicas"] == seen[1]["replicas"] == 2
    for epoch in ("1", "2"):
        a, b = seen[0]["seen"][epoch], seen[1]["seen"][epoch]
        assert len(set(a)) == len(a) and len(set(b)) == len(b) and not set(a) & set(b)
        assert len(a) + len(b) >= 200 - 32  # at most one batch (of 32) dropped to keep ranks in step

    # Only rank 0 wrote: one metrics.jsonl with one record per epoch, one bundle, the plots.
    records = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert [r["epoch"] for r in records] == [1, 2]
    for name in ("metrics.json", "training_curve.png", "confusion_matrix.png", "model/model.safetensors"):
        assert (out / name).is_file(), name
    saved = json.loads((out / "metrics.json").read_text())

    # Single-process evaluation of the saved bundle matches what the distributed run reported.
    bundle = torch.load(tmp_path / "params-0.pt", weights_only=True)
    from safetensors.torch import load_file

    on_disk = load_file(out / "model" / "model.safetensors")
    assert all(torch.equal(bundle[k], on_disk[k]) for k in bundle)
    printed = _cli_json(["evaluate", "--model", str(out / "model"), "--data", str(repo_root / "data/pos/dev.conllu")])
    assert printed["accuracy"] == pytest.approx(saved["dev"]["accuracy"], abs=1e-12)
    assert records[-1]["dev_accuracy"] == pytest.approx(saved["dev"]["accuracy"], abs=1e-12)


def _cli_json(argv):
    import contextlib
    import io

    stdout, stderr = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        assert cli.main(argv) == 0, stderr.getvalue()
    return json.loads(stdout.getvalue())
