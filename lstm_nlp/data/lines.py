"""Input lines as prediction reads them, and the checks of what the prediction methods are given.

One rule for every task and backend: line ends (``\\n``, ``\\r\\n``) stripped, a UTF-8 byte-order mark at
the start dropped, a bounded line length (a longer line is an error naming it), and chunks bounded in
lines and characters. Imports nothing heavy (no torch), so the ONNX backend streams with it too.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any, TextIO

from lstm_nlp.errors import ConfigError, DataFormatError

BOM = "\ufeff"
#: Longest input line :meth:`~lstm_nlp.pipelines.base.TaskPipeline.predict_lines` takes by default (characters).
MAX_LINE_CHARS = 100_000  # one line is one sentence: a 1M-character one (200k words) took 2 GB
#: A prediction chunk is cut once its lines hold this many characters (bounds memory per chunk).
CHUNK_CHARS = 4_000_000


def line_chunks(lines: Iterable[str], chunk_size: int, *, max_chars: int = CHUNK_CHARS
                ) -> Iterator[tuple[int, list[str]]]:
    """``(number of the first line, lines)`` chunks of at most ``chunk_size`` lines and ``max_chars``
    characters (or one line)."""
    chunk: list[str] = []
    chars = 0
    first_line = 1
    for line in lines:
        chunk.append(line)
        chars += len(line)
        if len(chunk) >= chunk_size or chars >= max_chars:
            yield first_line, chunk
            first_line += len(chunk)
            chunk, chars = [], 0
    if chunk:
        yield first_line, chunk


def clean_lines(lines: Iterable[str] | TextIO, *, max_line_chars: int = MAX_LINE_CHARS) -> Iterator[str]:
    """Input lines as prediction reads them: line ends (``\\n``, ``\\r\\n``) stripped, a byte-order mark
    at the start of the input dropped, a line over ``max_line_chars`` refused (see :func:`read_lines`)."""
    if max_line_chars < 1:
        raise ConfigError(f"max_line_chars must be >= 1, got {max_line_chars}")
    if hasattr(lines, "readline"):
        lines = read_lines(lines, max_chars=max_line_chars)
    for number, line in enumerate(lines, start=1):
        line = line.rstrip("\n").removesuffix("\r")
        if len(line) > max_line_chars:
            raise long_line_error(number, max_line_chars)
        yield line.removeprefix(BOM) if number == 1 else line


def read_lines(stream: TextIO, *, max_chars: int = MAX_LINE_CHARS) -> Iterator[str]:
    """The lines of a text stream (with their line ends), reading at most ``max_chars`` (+ the line end) at a time.

    ``for line in stream`` would hold a whole line in memory however long it is (``/dev/zero``
    never ends one); this stops at the first line longer than ``max_chars``.

    Raises:
        DataFormatError: ``line N has more than MAX_CHARS characters ...``.
    """
    limit = max_chars + 2  # room for "\r\n"
    number = 0
    while True:
        line = stream.readline(limit)
        if not line:
            return
        number += 1
        if len(line) == limit and not line.endswith("\n"):
            raise long_line_error(number, max_chars)
        yield line


class PeekedLines:
    """A text stream whose first lines are read ahead (to see what the input looks like) and then given
    back first, so that the readers still see every line.

    Args:
        stream: A text stream (``readline(limit)``).
        count: Lines to read ahead.
        max_chars: The readers' ``max_line_chars``: lines are read ahead with their bound, so a line
            too long is still refused by :func:`read_lines`.
    """

    def __init__(self, stream: TextIO, count: int, *, max_chars: int = MAX_LINE_CHARS):
        self._stream, self.name = stream, getattr(stream, "name", None)
        self.head: list[str] = []
        for _ in range(count):
            line = stream.readline(max_chars + 2)  # the limit read_lines reads with
            if not line:
                break
            self.head.append(line)
            if not line.endswith("\n"):
                break  # the end, or a line cut at the limit: the rest is for the readers
        self._next = 0

    def readline(self, limit: int = -1) -> str:
        if self._next < len(self.head):
            self._next += 1
            return self.head[self._next - 1]
        return self._stream.readline(limit)

    def __iter__(self) -> Iterator[str]:
        return iter(self.readline, "")


def stream_name(lines: object) -> str:
    """What errors call an input: a file's path, ``stdin``, or ``input`` (a list of lines)."""
    name = getattr(lines, "name", None)
    if not isinstance(name, str):
        return "input"
    return "stdin" if name == "<stdin>" else name


def long_line_error(number: int, max_chars: int) -> DataFormatError:
    """The error of an input line longer than ``max_chars`` characters."""
    return DataFormatError(f"line {number} has more than {max_chars:,} characters; split it into shorter lines "
                           "(or raise the limit: lstm-nlp predict --max-line-chars)")


def check_texts(texts: Any, method: str) -> list[str]:
    """``texts`` as a list; raises ``TypeError`` unless ``texts`` is a sequence of strings (a lone ``str`` is not).

    A ``str`` is itself a sequence of one-character strings, so without this check
    ``predict(["Great film!"])``'s natural mistake ``predict("Great film!")`` returns one answer per character.
    """
    if isinstance(texts, (str, bytes)):
        raise TypeError(f"{method}() takes a list of texts, not one {type(texts).__name__}: "
                        f"pass [{texts[:40]!r}]")
    if not isinstance(texts, Iterable):
        raise TypeError(f"{method}() takes a list of texts, got {type(texts).__name__}")
    texts = list(texts)  # a generator is read once, here
    for index, text in enumerate(texts):
        if not isinstance(text, str):
            raise TypeError(f"{method}() takes a list of texts (str); item {index} is a {type(text).__name__}")
    return texts


def check_sentences(sentences: Any, method: str) -> list:
    """``sentences`` as a list; raises ``TypeError`` unless ``sentences`` is a sequence of token lists of strings.

    Catches the two natural mistakes: one sentence as a ``str``, and one sentence as a flat
    token list (``["The", "dog"]``, which would tag each word's characters as a sentence).
    """
    example = "[['The', 'dog', 'barks']]"
    if isinstance(sentences, (str, bytes)):
        raise TypeError(f"{method}() takes a list of sentences, each a list of tokens ({example}), not a "
                        f"{type(sentences).__name__}; raw text goes to predict_text()")
    if not isinstance(sentences, Iterable):
        raise TypeError(f"{method}() takes a list of sentences, each a list of tokens ({example}), "
                        f"got {type(sentences).__name__}")
    sentences = list(sentences)  # a generator is read once, here
    for index, tokens in enumerate(sentences):
        if isinstance(tokens, (str, bytes)) or not isinstance(tokens, Iterable):
            raise TypeError(f"{method}() takes a list of sentences, each a list of tokens ({example}); item "
                            f"{index} is a {type(tokens).__name__} (one sentence? wrap it in a list)")
        for token in tokens:
            if not isinstance(token, str):
                raise TypeError(f"{method}(): sentence {index} has a {type(token).__name__} token; "
                                "tokens are str")
    return sentences
