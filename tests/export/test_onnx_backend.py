"""``--backend onnx``: the exported graph in onnxruntime writes what the PyTorch backend writes, and never imports
torch.

The models are the recipes' own, trained briefly on the bundled samples (offline); the real-data test
trains on a slice of EWT when ``$LSTM_NLP_DATA`` is set.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from contextlib import redirect_stdout
from pathlib import Path

import numpy as np
import pytest

from lstm_nlp.cli import main

pytest.importorskip("onnxruntime", reason="the onnx extra is not installed")

REPO = Path(__file__).resolve().parents[2]
RECIPES = {"pos": ("pos_tagger", 1), "ner": ("ner", 2), "imdb": ("imdb_sentiment", 1)}
TEXTS = ["The cat sat on the mat.", "", "EU rejects German call to boycott British lamb.", "Peter Blackburn met "
         "Angela Merkel in Berlin on Monday , and it was a wonderful , boring film !", "Zyzzyva <pad> quux"]


def run_cli(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    with redirect_stdout(out):
        code = main(list(argv))
    return code, out.getvalue()


def train(workdir: Path, recipe: str, epochs: int, *extra: str) -> Path:
    """A recipe's bundle (trained for ``epochs`` on its sample, or on ``extra``'s files), exported to model.onnx."""
    env = {**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1"}
    subprocess.run([sys.executable, str(REPO / "recipes" / f"{recipe}.py"), "--epochs", str(epochs), "--no-progress",
                    "--no-checkpoints", "--device", "cpu", "--output-dir", str(workdir), *extra],
                   check=True, capture_output=True, env=env)
    model = workdir / "model"
    assert run_cli("export", "--model", str(model))[0] == 0  # the default output: MODEL/model.onnx
    return model


@pytest.fixture(scope="module", params=sorted(RECIPES))
def sample_model(request, tmp_path_factory) -> tuple[str, Path]:
    recipe, epochs = RECIPES[request.param]
    return request.param, train(tmp_path_factory.mktemp(request.param), recipe, epochs)


def predict(model: Path, backend: str, *argv: str) -> list[str]:
    code, out = run_cli("predict", "--model", str(model), "--backend", backend, "--threads", "1", *argv)
    assert code == 0
    return out.splitlines()


def assert_same_records(onnx_lines: list[str], torch_lines: list[str]) -> None:
    """Equal records, probabilities within float32 rounding (the graph's scores differ in the last bits)."""
    assert len(onnx_lines) == len(torch_lines)
    for got, expected in zip(map(json.loads, onnx_lines), map(json.loads, torch_lines)):
        got_p, expected_p = got.pop("probabilities", None), expected.pop("probabilities", None)
        assert got == expected
        if isinstance(expected_p, dict):
            got_p, expected_p = list(got_p.values()), list(expected_p.values())
        np.testing.assert_allclose(np.asarray(got_p, dtype=float), np.asarray(expected_p, dtype=float), atol=2e-5)


def test_predict_writes_what_the_torch_backend_writes(sample_model):
    name, model = sample_model
    formats = {"pos": [[], ["--output-format", "jsonl", "--probabilities"], ["--input-format", "tokens"]],
               "ner": [["--output-format", "conll"], ["--output-format", "jsonl"]],
               "imdb": [[], ["--output-format", "jsonl"], ["--output-format", "jsonl", "--no-calibrate"]]}[name]
    for options in formats:
        onnx, torch_ = predict(model, "onnx", *options, *TEXTS), predict(model, "torch", *options, *TEXTS)
        if "jsonl" in options:
            assert_same_records(onnx, torch_)
        elif name == "imdb":  # label<TAB>probability (4 decimals)
            assert [line.split("\t")[0] for line in onnx] == [line.split("\t")[0] for line in torch_]
        else:
            assert onnx == torch_


def test_conll_files_are_written_back_as_the_torch_backend_does(sample_model, sample_dir):
    name, model = sample_model
    if name == "imdb":
        pytest.skip("classifiers read text lines")
    data = sample_dir / ("pos/dev.conllu" if name == "pos" else "ner/dev.txt")
    fmt = "conllu" if name == "pos" else "conll"
    for options in ([], ["--output-format", "jsonl"]):
        argv = ["--input", str(data), "--input-format", fmt, *options]
        onnx, torch_ = predict(model, "onnx", *argv), predict(model, "torch", *argv)
        if options:
            assert_same_records(onnx, torch_)
        else:
            assert onnx == torch_


def test_the_onnx_path_never_imports_torch(sample_model):
    name, model = sample_model
    script = ("import sys\nfrom lstm_nlp.cli import main\n"
              f"code = main(['predict', '--model', {str(model)!r}, '--backend', 'onnx', 'The cat sat.'])\n"
              "assert code == 0, code\nprint('torch' in sys.modules, 'spacy' in sys.modules)\n")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300,
                          env={**os.environ, "PYTHONPATH": str(REPO)})
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1] == "False True"  # spaCy tokenized, torch was never imported


def test_a_bundle_without_its_graph_names_the_file_and_the_command(sample_model, tmp_path, capsys):
    bundle = tmp_path / "bundle"
    bundle.mkdir()
    for file in sample_model[1].iterdir():
        if file.name != "model.onnx":
            (bundle / file.name).write_bytes(file.read_bytes())
    assert run_cli("predict", "--model", str(bundle), "--backend", "onnx", "x")[0] == 2
    message = capsys.readouterr().err.strip()
    assert message == (f"lstm-nlp predict: error: {bundle} has no model.onnx (the ONNX backend runs the exported "
                       f"graph); write it with: lstm-nlp export --model {bundle}")


def test_options_the_onnx_backend_cannot_honour_are_refused(sample_model, capsys):
    name, model = sample_model
    refused = [["--device", "cuda"], ["--precision", "bf16"], ["--workers", "2"]]
    if name == "ner":
        refused += [["--output-format", "jsonl", "--top-k", "2"], ["--output-format", "jsonl", "--probabilities"]]
    for options in refused:
        assert run_cli("predict", "--model", str(model), "--backend", "onnx", *options, "x")[0] == 2
        assert "--backend torch" in capsys.readouterr().err or options[0] == "--workers"


def test_real_ewt_dev_tags_equal_the_torch_backend(real_data, tmp_path):
    """A POS tagger trained for one epoch on 1,000 EWT train sentences; the first 500 dev sentences tagged."""
    from lstm_nlp.data.conll_blocks import read_blocks

    def head(source: Path, count: int) -> Path:
        blocks = source.read_text(encoding="utf-8").split("\n\n")[:count]
        target = tmp_path / source.name
        target.write_text("\n\n".join(blocks) + "\n\n", encoding="utf-8")
        return target

    ewt = real_data / "ud_english_ewt"
    train_file, dev = head(ewt / "en_ewt-ud-train.conllu", 1000), head(ewt / "en_ewt-ud-dev.conllu", 500)
    model = train(tmp_path / "pos", "pos_tagger", 1, "--train", str(train_file), "--dev", str(dev), "--test",
                  str(dev))
    sentences = [" ".join(b.tokens) for b in read_blocks(dev.read_text(encoding="utf-8").splitlines(), kind="conllu")]
    argv = ["--input-format", "tokens", "--output-format", "jsonl", *sentences]
    onnx, torch_ = predict(model, "onnx", *argv), predict(model, "torch", *argv)
    assert [json.loads(line)["tags"] for line in onnx] == [json.loads(line)["tags"] for line in torch_]
