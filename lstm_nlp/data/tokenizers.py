"""Word tokenization with spaCy's English tokenizer (what torchtext's ``tokenize='spacy'`` used)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from functools import lru_cache


@lru_cache(maxsize=4)
def _blank_pipeline(lang: str):
    import spacy

    return spacy.blank(lang)


class SpacyTokenizer:
    """Rule-based spaCy tokenizer from ``spacy.blank(lang)``: no model download needed.

    Whitespace-only tokens (spaCy keeps runs of spaces as tokens) are dropped.

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
        return self._words(self._tokenizer(text))

    def pipe(self, texts: Iterable[str], batch_size: int = 1000) -> Iterator[list[str]]:
        """Tokenizes many texts in batches (faster than calling one by one)."""
        for doc in self._tokenizer.pipe(texts, batch_size=batch_size):
            yield self._words(doc)
