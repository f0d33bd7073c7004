"""Output paths are checked before any work: the reason names the option and the path; nothing is created."""

from __future__ import annotations

import os
import re

import pytest

from lstm_nlp.outputs import output_dir_problem, output_file_problem


def test_a_writable_file_path_passes_and_nothing_is_created(tmp_path):
    assert output_file_problem(tmp_path / "model.onnx") is None
    (tmp_path / "old.onnx").write_text("x")
    assert output_file_problem(tmp_path / "old.onnx") is None  # replaced
    assert output_file_problem(tmp_path / "new" / "deeper" / "v.vec", make_parents=True) is None
    assert sorted(p.name for p in tmp_path.iterdir()) == ["old.onnx"]


@pytest.mark.parametrize("make, parents, expected", [
    (lambda d: d / "sub", False, "is a folder; give the name of the file"),
    (lambda d: str(d / "sub") + os.sep, True, "is a folder"),
    (lambda d: d / "missing" / "model.onnx", False, "the folder .*missing does not exist"),
    (lambda d: d / "a_file" / "model.onnx", False, "is not a folder"),
    (lambda d: d / "a_file" / "deeper" / "v.vec", True, "is not a folder"),
])
def test_a_path_that_cannot_be_written_names_the_option_and_why(tmp_path, make, parents, expected):
    (tmp_path / "sub").mkdir()
    (tmp_path / "a_file").write_text("x")
    path = make(tmp_path)
    problem = output_file_problem(path, option="--output", make_parents=parents)
    assert problem is not None and problem.startswith(f"--output {path}") and "\n" not in problem
    assert re.search(expected, problem), problem


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="needs POSIX permissions and a non-root user")
def test_a_read_only_folder_is_refused(tmp_path):
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        assert "not writable" in output_file_problem(folder / "v.vec", option="--plot")
        assert "not writable" in output_dir_problem(folder / "run")
    finally:
        folder.chmod(0o700)


def test_output_dir_problem_keeps_its_messages(tmp_path):
    (tmp_path / "f").write_text("x")
    assert output_dir_problem(tmp_path / "f") == f"--output-dir {tmp_path / 'f'} is a file, not a folder"
    assert "is not a folder" in output_dir_problem(tmp_path / "f" / "run")
    assert output_dir_problem(tmp_path / "new" / "run") is None
