"""Hostile and damaged files: planted pickles never run, inconsistent bundles are refused with a
message that says what disagrees, newer formats are refused, and a failed save loses nothing.

Checkpoint loading itself (``load_checkpoint`` on a planted pickle, newer checkpoint versions) is
covered in tests/training/test_checkpoint.py; here: bundles, every other loader in the code, and
the ``--resume`` entry point of a recipe.
"""

from __future__ import annotations

import ast
import importlib.util
import io
import json
import os
import pickle
import re
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file, save_file

from lstm_nlp import cli, serialization
from lstm_nlp.data.subword import SubwordTokenizer
from lstm_nlp.errors import BundleError, LstmNlpError
from lstm_nlp.pipelines import load_pipeline
from lstm_nlp.serialization import CONFIG_NAME, FORMAT_VERSION, WEIGHTS_NAME

REPO = Path(__file__).resolve().parents[2]
SENTENCES = ["The dog barked at the mailman .", "", "I loved it !"]


class PlantsAMarker:
    """Unpickling this object creates a file: proof that code from the file ran."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (open, (str(self.marker), "w"))


def plant(path: Path, marker: Path, writer: str) -> None:
    payload = {"embedding.embedding.weight": torch.zeros(2, 2), "x": PlantsAMarker(marker)}
    if writer == "pickle":
        path.write_bytes(pickle.dumps(payload))
    else:
        torch.save(payload, path)


def run_cli(argv, capsys) -> tuple[int, str, str]:
    code = cli.main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


# ---------------------------------------------------------------------- planted pickles
@pytest.mark.filterwarnings("ignore:Detected pickle protocol")
@pytest.mark.parametrize("writer", ["pickle", "torch.save"])
@pytest.mark.parametrize("kind", ["tagger", "classifier"])
def test_a_pickle_planted_as_model_safetensors_is_refused_without_running(
        kind, writer, request, copy_bundle, tmp_path, capsys):
    bundle = copy_bundle(request.getfixturevalue(f"{kind}_bundle"))
    marker = tmp_path / "pwned"
    plant(bundle / WEIGHTS_NAME, marker, writer)
    with pytest.raises(BundleError, match=f"{WEIGHTS_NAME} is not a readable safetensors file"):
        load_pipeline(bundle)
    code, out, err = run_cli(["predict", "--model", bundle, "--input", os.devnull], capsys)
    assert code == 2 and out == "" and "not a readable safetensors file" in err and "Traceback" not in err
    assert not marker.exists()
    # Control: the payload is live; an unrestricted unpickler does run it.
    data = (bundle / WEIGHTS_NAME).read_bytes()
    pickle.loads(data) if writer == "pickle" else torch.load(io.BytesIO(data), weights_only=False)
    assert marker.exists()


@pytest.mark.parametrize("target", [CONFIG_NAME, "words.vocab.json", "labels.vocab.json"])
def test_a_pickle_planted_as_a_json_file_of_the_bundle_is_refused(target, tagger_bundle, copy_bundle, tmp_path):
    bundle = copy_bundle(tagger_bundle)
    marker = tmp_path / "pwned"
    plant(bundle / target, marker, "pickle")
    with pytest.raises(BundleError, match=f"{target}.*not valid JSON"):
        load_pipeline(bundle)
    assert not marker.exists()


def test_a_pickle_planted_as_a_subword_tokenizer_file_is_refused(tmp_path):
    marker = tmp_path / "pwned"
    plant(tmp_path / "tokenizer.json", marker, "pickle")
    with pytest.raises(LstmNlpError, match="not a valid tokenizers JSON file"):
        SubwordTokenizer.load(tmp_path / "tokenizer.json")
    assert not marker.exists()


@pytest.mark.filterwarnings("ignore:Detected pickle protocol")
def test_recipe_resume_from_a_planted_checkpoint_refuses_it_without_running(tmp_path):
    """The user-facing path: ``--resume`` pointing at a crafted file (here in OUTPUT_DIR/checkpoints)."""
    spec = importlib.util.spec_from_file_location("pos_tagger_recipe", REPO / "recipes" / "pos_tagger.py")
    recipe = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(recipe)
    marker = tmp_path / "pwned"
    planted = tmp_path / "run" / "checkpoints" / "ckpt-000000003.pt"
    planted.parent.mkdir(parents=True)
    torch.save({"format_version": 1, "model": {}, "optimizer": {}, "epoch": 1, "batches_done": 0,
                "global_step": 3, "history": [], "evil": PlantsAMarker(marker)}, planted)
    with pytest.raises(BundleError, match="not a loadable lstm_nlp checkpoint"):
        recipe.main(["--output-dir", str(tmp_path / "run"), "--epochs", "1", "--resume", "--no-progress",
                     "--hidden-size", "4", "--embedding-dim", "4", "--char-encoder", "none", "--num-layers", "1"])
    assert not marker.exists()


UNSAFE_CALLS = {("torch", "load"), ("pickle", "load"), ("pickle", "loads"), ("pickle", "Unpickler"),
                ("dill", "load"), ("joblib", "load"), ("marshal", "loads"), ("yaml", "load"), ("np", "load"),
                ("numpy", "load")}


def _unsafe_calls(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        name = (func.value.id, func.attr) if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) \
            else ("", func.id) if isinstance(func, ast.Name) else None
        keywords = {k.arg: k.value for k in node.keywords}
        safe_torch_load = name == ("torch", "load") and isinstance(keywords.get("weights_only"), ast.Constant) \
            and keywords["weights_only"].value is True
        safe_np_load = name in (("np", "load"), ("numpy", "load")) and not (
            isinstance(keywords.get("allow_pickle"), ast.Constant) and keywords["allow_pickle"].value)
        if name in UNSAFE_CALLS and not (safe_torch_load or safe_np_load) or name in (("", "eval"), ("", "exec")):
            found.append(f"{path.relative_to(REPO)}:{node.lineno}: {'.'.join(filter(None, name))}")
    return found


def test_no_loader_in_the_code_can_execute_code_from_a_file():
    """Every ``torch.load`` passes ``weights_only=True``; no pickle/marshal/yaml.load/eval/exec anywhere."""
    sources = [p for folder in ("lstm_nlp", "recipes", "benchmarks") for p in sorted((REPO / folder).rglob("*.py"))]
    assert len(sources) > 20
    problems = [problem for path in sources for problem in _unsafe_calls(path)]
    assert problems == []


# ---------------------------------------------------------------------- inconsistent bundles
def _edit_json(path: Path, change) -> None:
    data = json.loads(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(json.dumps(data), encoding="utf-8")


def _edit_weights(path: Path, change) -> None:
    tensors = load_file(str(path))
    change(tensors)
    save_file(tensors, str(path))


EMBEDDING = "embedding.embedding.weight"
DAMAGES = {
    "config vocab_size": (CONFIG_NAME, lambda h: h["config"].update(vocab_size=h["config"]["vocab_size"] + 3),
                          r"weight 'embedding.embedding.weight' has shape \(\d+, 16\) but the config implies"),
    "config hidden_size": (CONFIG_NAME, lambda h: h["config"].update(hidden_size=32),
                           r"weight '.*' has shape .* but the config implies"),
    "unknown config key": (CONFIG_NAME, lambda h: h["config"].update(attention=True),
                           r"config.json does not fit .*Config .*attention"),
    "unknown model_type": (CONFIG_NAME, lambda h: h.update(model_type="transformer"),
                           r"unknown model_type 'transformer'"),
    "no config": (CONFIG_NAME, lambda h: h.pop("config"), r"config.json: config is missing"),
    "newer format": (CONFIG_NAME, lambda h: h.update(format_version=FORMAT_VERSION + 1),
                     rf"bundle format version {FORMAT_VERSION + 1}; this lstm_nlp .* reads up to {FORMAT_VERSION}"),
    "word vocabulary size": ("words.vocab.json", lambda v: v["itos"].append("zzz-extra"),
                             r"model expects \d+ words but the vocabulary has \d+"),
    "label set size": ("labels.vocab.json", lambda v: v["itos"].pop(),
                       r"model expects \d+ labels but the label set has \d+"),
    "duplicate label": ("labels.vocab.json", lambda v: v["itos"].__setitem__(1, v["itos"][0]),
                        r"duplicate entry .* in vocabulary"),
    "vocabulary not a list": ("words.vocab.json", lambda v: v.update(itos="abc"), r"not a vocabulary file"),
    "missing weight": (WEIGHTS_NAME, lambda t: t.pop(max(t)), r"weights do not match the config \(missing"),
    "extra weight": (WEIGHTS_NAME, lambda t: t.update(extra=torch.zeros(1)),
                     r"weights do not match the config .*unexpected \['extra'\]"),
    "transposed weight": (WEIGHTS_NAME, lambda t: t.update({EMBEDDING: t[EMBEDDING].t().contiguous()}),
                        r"weight '.*' has shape .* but the config implies"),
}


@pytest.mark.parametrize("kind", ["tagger", "classifier"])
@pytest.mark.parametrize("damage", sorted(DAMAGES))
def test_a_bundle_that_disagrees_with_itself_is_refused_saying_what(kind, damage, request, copy_bundle, capsys):
    bundle = copy_bundle(request.getfixturevalue(f"{kind}_bundle"))
    file, change, message = DAMAGES[damage]
    (_edit_weights if file == WEIGHTS_NAME else _edit_json)(bundle / file, change)
    with pytest.raises(LstmNlpError, match=message):
        load_pipeline(bundle)
    code, out, err = run_cli(["predict", "--model", bundle, "--input", os.devnull], capsys)
    assert code == 2 and out == "" and err.startswith("lstm-nlp predict: error: ") and "Traceback" not in err


@pytest.mark.parametrize("missing, message", [("labels.vocab.json", "has no labels.vocab.json"),
                                              (WEIGHTS_NAME, f"has no {WEIGHTS_NAME}"),
                                              (CONFIG_NAME, f"has no {CONFIG_NAME}")])
def test_a_bundle_missing_a_file_is_refused_naming_it(missing, message, tagger_bundle, copy_bundle):
    bundle = copy_bundle(tagger_bundle)
    (bundle / missing).unlink()
    with pytest.raises(BundleError, match=message):
        load_pipeline(bundle)


def test_char_vocabulary_that_disagrees_with_the_char_encoder_is_refused(tagger_bundle, copy_bundle):
    bundle = copy_bundle(tagger_bundle)
    _edit_json(bundle / "chars.vocab.json", lambda v: v["itos"].append("\u2603"))
    with pytest.raises(BundleError, match=r"model expects \d+ characters but the character vocabulary has \d+"):
        load_pipeline(bundle)
    (bundle / "chars.vocab.json").unlink()
    with pytest.raises(BundleError, match=r"has no chars.vocab.json \(the character vocabulary of its 'cnn' "
                                          r"character encoder\)"):
        load_pipeline(bundle)


# ---------------------------------------------------------------------- failed writes
def _predictions(bundle: Path) -> list[str]:
    return list(load_pipeline(bundle).predict_lines(SENTENCES))


@pytest.mark.parametrize("kind", ["tagger", "classifier"])
def test_disk_full_while_saving_leaves_the_previous_bundle_loadable(kind, request, copy_bundle, monkeypatch):
    bundle = copy_bundle(request.getfixturevalue(f"{kind}_bundle"))
    before = _predictions(bundle)
    pipeline = load_pipeline(bundle)
    torch.nn.init.zeros_(next(pipeline.model.parameters()))  # the new save would change predictions

    def half_written(tensors, filename, metadata=None):
        Path(filename).write_bytes(b"\x00" * 100)  # a partial file, then the disk is full
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(serialization, "save_file", half_written)
    with pytest.raises(OSError, match=rf"^no space left on device \({re.escape(str(bundle))}\)$"):
        pipeline.save_pretrained(bundle)
    monkeypatch.undo()
    assert _predictions(bundle) == before
    assert [p.name for p in bundle.parent.iterdir()] == [bundle.name]  # no staging leftovers


def test_a_failure_between_the_two_renames_puts_the_previous_bundle_back(tagger_bundle, copy_bundle, monkeypatch):
    bundle = copy_bundle(tagger_bundle)
    before = _predictions(bundle)
    real_replace = os.replace
    calls = []

    def failing_second_replace(src, dst):
        calls.append((src, dst))
        if len(calls) == 2:  # old bundle already moved aside, new one not yet in place
            raise OSError(5, "Input/output error")
        real_replace(src, dst)

    monkeypatch.setattr(serialization.os, "replace", failing_second_replace)
    with pytest.raises(OSError, match="Input/output error"):
        load_pipeline(bundle).save_pretrained(bundle)
    monkeypatch.undo()
    assert _predictions(bundle) == before
    assert sorted(p.name for p in bundle.parent.iterdir()) == [bundle.name]


KILL_SCRIPT = textwrap.dedent("""
    import os, signal, sys
    import torch
    from lstm_nlp import serialization
    real_replace, calls = os.replace, []

    def replace(src, dst):
        calls.append(src)
        if len(calls) == 2:  # between moving the old bundle aside and moving the new one in
            os.kill(os.getpid(), signal.SIGKILL)
        real_replace(src, dst)

    serialization.os.replace = replace
    header = serialization.read_bundle(sys.argv[1])
    serialization.write_bundle(sys.argv[1], model_type=header.model_type, config=header.config,
                               state_dict={k: torch.zeros_like(v) for k, v in header.state_dict.items()},
                               vocabs=header.vocabs, meta=header.meta)
""")


def test_a_save_killed_between_the_two_renames_loses_nothing(tagger_bundle, copy_bundle, caplog):
    """SIGKILL in the one instant the bundle path is empty: loading falls back to the moved-aside bundle."""
    bundle = copy_bundle(tagger_bundle)
    before = _predictions(bundle)
    result = subprocess.run([sys.executable, "-c", KILL_SCRIPT, str(bundle)], capture_output=True, text=True,
                            env={**os.environ, "OMP_NUM_THREADS": "1"}, timeout=120, check=False)
    assert result.returncode == -signal.SIGKILL, result.stderr
    assert not bundle.exists()
    assert _predictions(bundle) == before
    assert "interrupted save" in caplog.text
    load_pipeline(bundle).save_pretrained(bundle)  # the next save cleans up the moved-aside copy
    assert sorted(p.name for p in bundle.parent.iterdir()) == [bundle.name]
    assert _predictions(bundle) == before
