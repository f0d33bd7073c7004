"""One place per concept: the last addition of each kind went in through its registry, and nothing else names it.

The additions are the ``gru`` encoder (:mod:`lstm_nlp.modules.gru_encoder`), the ``bilou`` tag scheme
(:mod:`lstm_nlp.tags`), the tagger's ``tsv`` output format (:mod:`lstm_nlp.data.tag_writers`) and the tasks
(:mod:`lstm_nlp.pipelines.tasks`). The source scan reads the package's code, not its prose: docstrings,
comments and help or error texts that merely contain the word (``"... (bioes/bilou: ...)"``) are left out;
a string that *is* the name (``"gru"``, ``"BILOU"``, ``'tsv'``), which is what a type switch compares
against, is what it looks for, and so are identifiers (``GRUEncoder``, which an ``isinstance`` switch would
name). Allowed outside the defining module: the line that registers the addition (the import of
``gru_encoder`` in ``lstm_nlp.modules``, which registers the encoder, and its ``__all__`` entry) and the
output-format registrations of other tasks (the classifier's own ``tsv``).
"""

from __future__ import annotations

import ast
import importlib
import io
import tokenize
from pathlib import Path

import pytest

import lstm_nlp
from lstm_nlp.data.output_formats import registered_formats
from lstm_nlp.data.tag_writers import output_formats
from lstm_nlp.modules.encoder import ENCODERS
from lstm_nlp.pipelines import PIPELINES
from lstm_nlp.pipelines.base import TaskPipeline
from lstm_nlp.pipelines.tasks import TASKS
from lstm_nlp.tags import RECIPE_LABEL_SCHEMES, TAG_SCHEMES

PACKAGE = Path(lstm_nlp.__file__).parent


def test_the_additions_are_in_their_registries():
    assert ENCODERS["gru"].__module__ == "lstm_nlp.modules.gru_encoder"
    assert "bilou" in TAG_SCHEMES and "bilou" in RECIPE_LABEL_SCHEMES
    TASKS["sequence_tagger"].output_formats()  # imports the tagger's writers
    assert registered_formats("tagger")["tsv"].write.__module__ == "lstm_nlp.data.tag_writers"
    assert output_formats("text")[0] == "slash" and output_formats("conll")[0] == "conll"  # the defaults


def test_every_pipeline_is_a_registered_task_and_says_what_its_task_says():
    classes = set()
    for model_type, task in TASKS.items():
        module, name = task.pipeline
        cls = getattr(importlib.import_module(module), name)
        classes.add(cls)
        assert PIPELINES[model_type] == task.pipeline
        assert (cls.model_type, cls.task_name, cls.predict_options) == (model_type, task.title, task.predict_options)
        if task.onnx_pipeline is not None:
            onnx = getattr(importlib.import_module(task.onnx_pipeline[0]), task.onnx_pipeline[1])
            assert (onnx.model_type, onnx.task_name, onnx.predict_options) == (model_type, task.title,
                                                                               task.predict_options)
        assert (task.onnx_output is None) == (task.onnx_pipeline is None)
    for path in (PACKAGE / "pipelines").glob("*.py"):
        importlib.import_module(f"lstm_nlp.pipelines.{path.stem}" if path.stem != "__init__" else "lstm_nlp.pipelines")
    concrete = {cls for cls in _subclasses(TaskPipeline) if "model_type" in vars(cls)}
    assert concrete == classes


def _subclasses(cls: type) -> set[type]:
    found = set(cls.__subclasses__())
    return found.union(*(_subclasses(sub) for sub in found))


def _docstring_lines(tree: ast.AST) -> set[int]:
    lines = set()
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if (isinstance(body, list) and body and isinstance(body[0], ast.Expr)
                and isinstance(body[0].value, ast.Constant) and isinstance(body[0].value.value, str)):
            lines.update(range(body[0].lineno, body[0].end_lineno + 1))
    return lines


def _code_words(path: Path):
    """``(line number, line, token)`` for the identifiers and the string values of ``path``'s code."""
    text = path.read_text(encoding="utf-8")
    docstrings, lines = _docstring_lines(ast.parse(text)), text.splitlines()
    for token in tokenize.generate_tokens(io.StringIO(text).readline):
        row = token.start[0]
        if token.type == tokenize.NAME:
            yield row, lines[row - 1], token.string
        elif token.type == tokenize.STRING and row not in docstrings:
            try:
                value = ast.literal_eval(token.string)
            except ValueError:  # an f-string: help or error text, not a name compared against
                continue
            if isinstance(value, str):
                yield row, lines[row - 1], value


@pytest.mark.parametrize("word, home, registration", [
    ("gru", "modules/gru_encoder.py", ("from lstm_nlp.modules.gru_encoder import GRUEncoder", '"GRUEncoder"')),
    ("bilou", "tags.py", ()),
    ("tsv", "data/tag_writers.py", ("@register_output_format(",)),
])
def test_no_type_switch_names_an_addition_outside_its_module(word, home, registration):
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if path == PACKAGE / home:
            continue
        for row, line, value in _code_words(path):
            names_it = value.lower() == word if word != "gru" else word in value.lower()
            if names_it and not any(allowed in line for allowed in registration):
                found.append(f"{path.relative_to(PACKAGE)}:{row}: {line.strip()}")
    assert found == []
