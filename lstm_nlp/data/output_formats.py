"""The output formats of ``lstm-nlp predict`` (and ``serve``), registered by name per task with their writer.

    @register_output_format("tagger", "slash", help="token/TAG")
    def write_slash(sentences, tags, **extras) -> list[str]: ...

A writer returns one output item per input (a line, or several for a sentence); the PyTorch and the
ONNX pipelines of a task call the same writers, through :func:`writer`. ``lstm-nlp predict
--output-format`` offers, checks and describes the names registered here. The writers register when
their module is imported: each task names its module (:attr:`lstm_nlp.pipelines.tasks.Task.writers`).

Torch-free.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from lstm_nlp.errors import ConfigError


@dataclass(frozen=True)
class OutputFormat:
    """A registered output format: its ``name``, its ``write`` function and its ``--output-format`` help."""

    name: str
    write: Callable[..., list[str]]
    help: str


#: task name -> format name -> its format, in the order of registration (the first is the default).
_FORMATS: dict[str, dict[str, OutputFormat]] = {}


def register_output_format(task: str, name: str, *, help: str):
    """Decorator: registers ``write`` as ``task``'s output format ``name`` (``help``: what ``--help`` says)."""
    def register(write: Callable[..., list[str]]) -> Callable[..., list[str]]:
        formats = _FORMATS.setdefault(task, {})
        if name in formats and formats[name].write is not write:
            raise ConfigError(f"output format {name!r} of the {task} is already registered by "
                              f"{formats[name].write.__name__}")
        formats[name] = OutputFormat(name, write, help)
        return write
    return register


def registered_formats(task: str) -> dict[str, OutputFormat]:
    """``task``'s output formats by name, as registered so far (import its writers' module first)."""
    return dict(_FORMATS.get(task, {}))


def writer(task: str, name: str, *, title: str | None = None) -> Callable[..., list[str]]:
    """The writer of ``task``'s format ``name``; an unknown name is a :class:`ConfigError` listing the known ones."""
    formats = _FORMATS.get(task, {})
    if name not in formats:
        known = " or ".join(map(repr, formats))
        raise ConfigError(f"a {title or task} writes {known}, not {name!r}")
    return formats[name].write
