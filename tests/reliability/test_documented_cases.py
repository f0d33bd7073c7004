"""Every case of docs/reliability.md with a command: run in a scratch folder, it shows what the table says."""

from __future__ import annotations

import contextlib
import gzip
import io
import logging
import os
import shutil
import subprocess
import sys
import traceback
from pathlib import Path

import pytest

from tests.reliability.reliability_cases import CASES, REPO, Case, Content, matches, shown

RUNNABLE = [case for case in CASES if case.run]
QUIET = {"OMP_NUM_THREADS": "1", "LSTM_NLP_LOGLEVEL": "WARNING"}  # warnings and errors only, as a user sees them


def _write(name: str, content: Content) -> None:
    if name.endswith(".fifo"):
        os.mkfifo(name)
        return
    data = content() if callable(content) else content
    data = data.encode("utf-8") if isinstance(data, str) else data
    Path(name).parent.mkdir(parents=True, exist_ok=True)
    Path(name).write_bytes(gzip.compress(data) if name.endswith(".gz") and not isinstance(content, bytes) else data)


def _cli(args: list[str], stdin: bytes) -> tuple[int, str, str]:
    """``lstm-nlp ARGS`` in this process: exit code, stdout, stderr with the warnings logged (a crash is recorded
    as its traceback)."""
    from lstm_nlp import cli

    out, err, real_stdin = io.StringIO(), io.StringIO(), sys.stdin
    warnings = logging.StreamHandler(err)  # what the command prints on stderr when logging is not configured
    warnings.setLevel(logging.WARNING)
    logging.getLogger("lstm_nlp").addHandler(warnings)
    sys.stdin = io.TextIOWrapper(io.BytesIO(stdin), encoding="utf-8", errors="surrogateescape", newline="\n")
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = cli.main(args)
    except SystemExit as exit_:
        code = exit_.code
    except Exception:  # noqa: BLE001 - what the real command would print
        code = 1
        err.write(traceback.format_exc())
    finally:
        sys.stdin = real_stdin
        logging.getLogger("lstm_nlp").removeHandler(warnings)
    return code, out.getvalue(), err.getvalue()


def _recipe(args: list[str]) -> tuple[int, str, str]:
    """``python recipes/NAME.py ARGS`` as its own process."""
    done = subprocess.run([sys.executable, str(REPO / args[0]), *args[1:]], capture_output=True, text=True, check=False,
                          env={**os.environ, **QUIET, "PYTHONPATH": str(REPO)}, timeout=300)
    return done.returncode, done.stdout, done.stderr


@pytest.fixture
def scratch(tmp_path, monkeypatch, tagger_bundle, classifier_bundle, forecaster_bundle, ner_bundle) -> Path:
    """The current folder of a case: an empty folder with the four bundles under their table names."""
    monkeypatch.chdir(tmp_path)
    for name, bundle in (("tagger", tagger_bundle), ("classifier", classifier_bundle),
                         ("forecaster", forecaster_bundle), ("ner_model", ner_bundle)):
        (tmp_path / name).symlink_to(bundle)
    return tmp_path


@pytest.mark.parametrize("case", RUNNABLE, ids=[case.id for case in RUNNABLE])
def test_a_documented_case_shows_what_the_table_says(case: Case, scratch):
    """No traceback either: a crash would show as ``traceback ending in ...``, which no row says."""
    for name, content in case.files.items():
        _write(name, content)
    if case.bundle:
        shutil.copytree(scratch / case.bundle, scratch / "BUNDLE")
        case.edit(scratch / "BUNDLE")
    args = [*case.run[1:], *case.hidden]
    got = shown(*(_recipe([case.run[0], *args]) if case.run[0].startswith("recipes/")
                  else _cli(args, case.stdin)))
    assert matches(case.shows, got), got
    assert not (scratch / "PWNED").exists(), "a planted payload ran"
