"""The NER recipe end to end on the bundled CoNLL-2003-format sample, then its bundle through the CLI."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    sys.path.insert(0, str(REPO_ROOT / "recipes"))
    try:
        import ner
    finally:
        sys.path.pop(0)
    out = tmp_path_factory.mktemp("ner")
    metrics = ner.main(["--output-dir", str(out), "--epochs", "4", "--lr", "5e-3", "--batch-size", "8",
                        "--no-progress", "--device", "cpu", "--no-checkpoints"])
    return out, metrics


def test_recipe_learns_the_sample_and_writes_entity_scores(trained):
    out, metrics = trained
    assert metrics["dev"]["f1"] >= 0.8
    saved = json.loads((out / "metrics.json").read_text())
    assert set(saved) == {"train", "dev", "test"}
    for split in saved.values():
        assert {"f1", "precision", "recall"} <= set(split)
    assert saved["dev"]["f1"] == pytest.approx(metrics["dev"]["f1"])
    report = (out / "report_dev.txt").read_text()
    assert all(kind in report for kind in ("PER", "LOC", "ORG", "MISC"))
    config = json.loads((out / "model" / "config.json").read_text())
    assert config["config"]["head"] == "crf" and config["config"]["char_encoder"] == "cnn"


def test_cli_evaluates_the_bundle_on_a_conll_file(trained):
    out, metrics = trained
    result = subprocess.run([sys.executable, "-m", "lstm_nlp.cli", "evaluate", "--model", str(out / "model"),
                             "--data", str(REPO_ROOT / "data" / "ner" / "test.txt")],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["f1"] == pytest.approx(metrics["test"]["f1"])
