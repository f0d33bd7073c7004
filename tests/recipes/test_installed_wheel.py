"""The built wheel, installed into a fresh environment, trains from a folder outside the checkout."""

from __future__ import annotations

import importlib.util
import os
import shutil
import site
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import pytest

SOURCES = ("lstm_nlp", "recipes", "data", "setup.py", "setup.cfg", "pyproject.toml", "README.md")


def build_wheel(repo_root: Path, tmp_path: Path) -> Path:
    """``pip wheel`` of a copy of the sources (the build writes build/ and *.egg-info beside them), offline."""
    source = tmp_path / "source"
    for name in SOURCES:
        if (repo_root / name).is_dir():
            shutil.copytree(repo_root / name, source / name, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
        else:
            shutil.copy2(repo_root / name, source / name)
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", "--no-index",
                    "-w", str(tmp_path / "dist"), str(source)], check=True, capture_output=True, timeout=300)
    return next((tmp_path / "dist").glob("lstm_nlp-*.whl"))


def fresh_environment(tmp_path: Path, wheel: Path) -> Path:
    """A new venv holding only the wheel; it sees this environment's dependencies (torch, ...) through a
    .pth file, whose folders' own .pth files (an editable lstm_nlp) are not run."""
    env = tmp_path / "env"
    venv.EnvBuilder(with_pip=True).create(env)
    python = env / "bin" / "python"
    purelib = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                             check=True, capture_output=True, text=True).stdout.strip()
    deps = [*site.getsitepackages(), *([site.getusersitepackages()] if site.ENABLE_USER_SITE else [])]
    Path(purelib, "dependencies.pth").write_text("".join(f"{d}\n" for d in deps))
    subprocess.run([str(python), "-m", "pip", "install", "-q", "--no-deps", "--no-index", str(wheel)], check=True,
                   capture_output=True, timeout=300)
    return env


@pytest.mark.slow
def test_the_installed_wheel_trains_on_its_bundled_sample_outside_the_checkout(tmp_path, repo_root):
    if not (importlib.util.find_spec("setuptools") and importlib.util.find_spec("wheel")):
        pytest.skip("building the wheel offline needs setuptools and wheel (the [test] extra)")
    wheel = build_wheel(repo_root, tmp_path)
    names = set(zipfile.ZipFile(wheel).namelist())
    samples = {f"lstm_nlp/recipes/data/{p.relative_to(repo_root / 'data').as_posix()}"
               for p in (repo_root / "data").glob("*/*") if p.suffix in (".conllu", ".txt", ".jsonl")}
    recipes = {f"lstm_nlp/recipes/{p.name}" for p in (repo_root / "recipes").glob("*.py")}
    assert len(samples) >= 10 and len(recipes) == 8 and samples | recipes <= names, sorted(names)
    env = fresh_environment(tmp_path, wheel)
    work = tmp_path / "work"  # no recipes/ or data/ here
    work.mkdir()
    environ = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    environ.update(COLUMNS="100", LSTM_NLP_LOGLEVEL="INFO")
    command = [str(env / "bin" / "lstm-nlp"), "train", "pos"]

    where = subprocess.run([str(env / "bin" / "python"), "-c", "import lstm_nlp; print(lstm_nlp.__file__)"],
                           capture_output=True, text=True, cwd=work, env=environ, check=True).stdout.strip()
    assert Path(where).resolve().is_relative_to(env.resolve()), where

    trained = subprocess.run([*command, "--epochs", "1", "--no-progress"], capture_output=True, text=True, cwd=work,
                             env=environ, timeout=600)
    assert trained.returncode == 0, trained.stderr[-3000:]
    assert f"bundled demo sample {env.resolve()}" in trained.stderr
    assert (work / "runs" / "pos" / "model" / "model.safetensors").is_file()

    installed = subprocess.run([*command, "--help"], capture_output=True, text=True, cwd=work, env=environ,
                               timeout=120)
    checkout = subprocess.run([sys.executable, str(repo_root / "recipes" / "pos_tagger.py"), "--help"],
                              capture_output=True, text=True, cwd=work, env=environ, timeout=120)
    assert installed.returncode == 0 and installed.stdout.startswith("usage: lstm-nlp train pos [-h] [--version]")
    assert "--epochs EPOCHS" in installed.stdout and "(default: 30)" in installed.stdout
    assert installed.stdout.split("\noptions:\n")[1] == checkout.stdout.split("\noptions:\n")[1]
