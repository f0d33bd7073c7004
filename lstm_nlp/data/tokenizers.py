"""Word tokenization with spaCy's English tokenizer (what torchtext's ``tokenize='spacy'`` used)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from functools import lru_cache

#: Space-free runs longer than this are cut into pieces of this many characters before spaCy
#: sees them: its prefix/suffix splitting is quadratic in a run's length (a 100,000-character
#: run of emoji or "!" took minutes). Real tokens, URLs included, are far shorter.
MAX_RUN_CHARS = 1000
_LONG_RUN = re.compile(f"[^ ]{{{MAX_RUN_CHARS + 1},}}")


def replace_surrogates(text: str) -> str:
    """``text`` with lone surrogates (undecodable bytes that ``surrogateescape`` smuggled in) as U+FFFD.

    Such strings cannot be encoded as UTF-8, so spaCy and HF tokenizers reject them; this keeps
    one bad byte in an input line from failing the whole batch.
    """
    if text.isascii():
        return text
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        try:  # U+DC80..U+DCFF stand for raw bytes: restore them, then one U+FFFD per bad byte
            raw = text.encode("utf-8", "surrogateescape")
        except UnicodeEncodeError:
            raw = text.encode("utf-8", "surrogatepass")
        return raw.decode("utf-8", "replace")
    return text


def _cut_long_runs(text: str) -> str:
    if len(text) <= MAX_RUN_CHARS:
        return text
    return _LONG_RUN.sub(lambda m: " ".join(m[0][i:i + MAX_RUN_CHARS] for i in range(0, len(m[0]), MAX_RUN_CHARS)),
                         text)


def _prepare(text: str) -> str:
    return _cut_long_runs(replace_surrogates(text))


@lru_cache(maxsize=4)
def _blank_pipeline(lang: str):
    import spacy

    return spacy.blank(lang)


class SpacyTokenizer:
    """Rule-based spaCy tokenizer from ``spacy.blank(lang)``: no model download needed.

    Whitespace-only tokens (spaCy keeps runs of spaces as tokens) are dropped. Lone surrogates
    (undecodable input bytes) become U+FFFD, and space-free runs longer than
    :data:`MAX_RUN_CHARS` are cut into pieces of that length, so any input line is tokenized
    in time linear in its length.

    Args:
        lang: spaCy language code.
        lower: Lower-case the tokens.
    """

    def __init__(self, lang: str = "en", lower: bool = False):
        self.lang = lang
        self.lower = lower
        self._tokenizer = _blank_pipeline(lang).tokenizer

    def _words(self, doc) -> list[str]:
        words = [t.text for t in doc if not t.is_space]
        return [w.lower() for w in words] if self.lower else words

    def __call__(self, text: str) -> list[str]:
        """Tokenizes one text."""
        return self._words(self._tokenizer(_prepare(text)))

    def pipe(self, texts: Iterable[str], batch_size: int = 1000) -> Iterator[list[str]]:
        """Tokenizes many texts in batches (faster than calling one by one)."""
        for doc in self._tokenizer.pipe((_prepare(t) for t in texts), batch_size=batch_size):
            yield self._words(doc)
