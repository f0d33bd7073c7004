"""bench_onnx.py --smoke: a tagger and a text classifier trained 1 epoch on the sample, exported and run by
onnxruntime, predict what PyTorch fp32 predicts."""

import json
import subprocess
import sys

import pytest

pytest.importorskip("onnxruntime", reason="the onnx extra is not installed")


@pytest.mark.slow
@pytest.mark.parametrize("recipe, header, diff_key", [("pos_tagger", "tags equal to PyTorch fp32", "max_score_diff"),
                                                      ("imdb_sentiment", "labels equal to PyTorch fp32",
                                                       "max_probability_diff")])
def test_smoke_run_agrees_with_pytorch_fp32(recipe, header, diff_key, tmp_path, repo_root):
    out = tmp_path / "onnx.json"
    done = subprocess.run([sys.executable, str(repo_root / "benchmarks" / "bench_onnx.py"), "--smoke",
                           "--smoke-recipe", recipe, "--repeats", "1", "--json", str(out)],
                          cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(out.read_text())
    [section] = result["sections"]
    assert header in section["markdown"] and "| ONNX Runtime fp32 |" in section["markdown"]
    metrics = result["metrics"]
    assert set(metrics["tokens_per_s"]) == {"PyTorch fp32", "PyTorch bf16", "ONNX Runtime fp32"}
    assert all(v > 0 for v in metrics["tokens_per_s"].values())
    assert metrics["agreement"]["PyTorch fp32"] == 1.0 and metrics["agreement"]["ONNX Runtime fp32"] == 1.0
    onnx_diff = metrics[diff_key]["ONNX Runtime fp32"] if recipe == "imdb_sentiment" else metrics[diff_key]
    assert onnx_diff < 1e-4
    if recipe == "imdb_sentiment":
        assert metrics["texts_per_s"]["ONNX Runtime fp32"] > 0 and metrics["tokenization_texts_per_s"] > 0
