"""Tokenizers: spaCy's English word tokenizer (what torchtext's ``tokenize='spacy'`` used), and
:class:`TextTokenizer`, the text classifier's raw text -> tokens step (spaCy words or subwords)."""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Iterable, Iterator
from functools import lru_cache
from pathlib import Path
from typing import Literal

from lstm_nlp.data.subword import TOKENIZER_FILE, SubwordTokenizer
from lstm_nlp.errors import BundleError, ConfigError, DataFormatError
from lstm_nlp.schema import MAX_JSON_BYTES, read_regular_file

TokenizerKind = Literal["spacy", "bpe", "wordpiece"]
_HTML_BREAK = re.compile(r"<br\s*/?>", re.IGNORECASE)  # IMDB reviews use <br /> for line breaks

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


_LANG_CODE = re.compile(r"[a-z]{2,3}")


@lru_cache(maxsize=4)
def _blank_pipeline(lang: str):
    import spacy

    # Only a plain language code reaches spaCy, which imports ``spacy.lang.<lang>`` by that name.
    if not isinstance(lang, str) or not _LANG_CODE.fullmatch(lang):
        raise ConfigError(f"unknown spaCy language {lang!r}; expected a language code such as 'en', 'de' or 'xx'")
    try:
        return spacy.blank(lang)
    except ImportError:
        raise ConfigError(f"unknown spaCy language {lang!r}; spaCy has no rules for it (codes such as 'en', "
                          "'de' or 'xx' for any language)") from None


class SpacyTokenizer:
    """Rule-based spaCy tokenizer from ``spacy.blank(lang)``: no model download needed.

    Whitespace-only tokens (spaCy keeps runs of spaces as tokens) are dropped. Lone surrogates
    (undecodable input bytes) become U+FFFD, and space-free runs longer than
    :data:`MAX_RUN_CHARS` are cut into pieces of that length, so any input line is tokenized
    in time linear in its length.

    Args:
        lang: spaCy language code.
        lower: Lower-case the tokens.

    Raises:
        ConfigError: a language spaCy does not know.
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


class TextTokenizer:
    """Raw text -> tokens: optional ``<br />`` removal, then spaCy words or trained subword pieces.

    Cheap to pickle (a worker process rebuilds the spaCy tokenizer from the settings), which
    ``Dataset.map(num_proc=N)`` needs.

    Args:
        kind: ``"spacy"`` (``spacy.blank(lang)`` rules), ``"bpe"`` or ``"wordpiece"``.
        lower: Lower-case the tokens (for subword kinds this is fixed when training; see :meth:`fit`).
        strip_html: Replace HTML line breaks (``<br />``) by spaces first.
        lang: spaCy language code.
        subword: The trained model, required for ``"bpe"`` / ``"wordpiece"``.
    """

    def __init__(self, kind: TokenizerKind = "spacy", *, lower: bool = True, strip_html: bool = True,
                 lang: str = "en", subword: SubwordTokenizer | None = None):
        if kind not in ("spacy", "bpe", "wordpiece"):
            raise ConfigError(f"tokenizer must be 'spacy', 'bpe' or 'wordpiece', got {kind!r}")
        if kind != "spacy" and subword is None:
            raise ConfigError(f"a {kind!r} tokenizer needs a trained subword model; use TextTokenizer.fit")
        self.kind = kind
        self.lower = lower
        self.strip_html = strip_html
        self.lang = lang
        self.subword = subword if kind != "spacy" else None
        self._words = SpacyTokenizer(lang, lower=lower) if kind == "spacy" else None

    @classmethod
    def fit(cls, texts: Iterable[str], kind: TokenizerKind = "spacy", *, lower: bool = True,
            strip_html: bool = True, vocab_size: int = 16000, min_frequency: int = 2) -> TextTokenizer:
        """Builds a tokenizer, training the subword model on ``texts`` when ``kind`` needs one."""
        if kind == "spacy":
            return cls("spacy", lower=lower, strip_html=strip_html)
        cleaned = (clean_text(t, strip_html) for t in texts)
        subword = SubwordTokenizer.train(cleaned, kind=kind, vocab_size=vocab_size, min_frequency=min_frequency,
                                         lower=lower)
        return cls(kind, lower=lower, strip_html=strip_html, subword=subword)

    def settings(self) -> dict:
        """JSON-serialisable settings (the subword model itself is saved separately)."""
        return {"kind": self.kind, "lower": self.lower, "strip_html": self.strip_html, "lang": self.lang}

    def fingerprint(self) -> str:
        """A hash of everything that changes the tokens (settings, library version, subword model)."""
        digest = hashlib.sha256(json.dumps(self.settings(), sort_keys=True).encode())
        if self.kind == "spacy":  # subword tokenizers work without spaCy installed
            import spacy

            digest.update(b"\0" + spacy.__version__.encode())
        else:
            digest.update(b"\0")
        if self.subword is not None:
            digest.update(b"\0" + self.subword.to_str().encode("utf-8"))
        return digest.hexdigest()[:32]

    def __call__(self, text: str) -> list[str]:
        """Tokens of one text (an empty text gives ``[]``)."""
        return next(self.pipe([text]))

    def pipe(self, texts: Iterable[str], batch_size: int = 1000) -> Iterator[list[str]]:
        """Tokens of many texts, in order, processed ``batch_size`` at a time."""
        cleaned = (clean_text(t, self.strip_html) for t in texts)
        if self.subword is not None:
            return self.subword.pipe(cleaned, batch_size=batch_size)
        return self._words.pipe(cleaned, batch_size=batch_size)

    def __getstate__(self) -> dict:
        return {**self.settings(), "subword": None if self.subword is None else self.subword.to_str()}

    def __setstate__(self, state: dict) -> None:
        subword = state.pop("subword")
        self.__init__(state.pop("kind"), **state,
                      subword=None if subword is None else SubwordTokenizer.from_str(subword))


def clean_text(text: str | None, strip_html: bool) -> str:
    """``text`` with lone surrogates replaced and, with ``strip_html``, HTML line breaks as spaces."""
    text = replace_surrogates(text or "")
    return _HTML_BREAK.sub(" ", text) if strip_html else text


def bundle_tokenizer(folder: str | os.PathLike, settings: dict | None) -> TextTokenizer:
    """The :class:`TextTokenizer` of a text-classifier bundle: its ``meta.tokenizer`` settings, and for
    subword kinds the trained model in ``folder/tokenizer.json``.

    Raises:
        BundleError: the subword file is missing, not UTF-8 or not a tokenizer, or a setting is refused.
    """
    folder = Path(folder)
    settings = dict(settings or {"kind": "spacy"})
    subword = None
    if settings.get("kind", "spacy") != "spacy":
        path = folder / TOKENIZER_FILE
        try:  # a regular file of bounded size only (not a FIFO or a device)
            text = read_regular_file(path, max_bytes=MAX_JSON_BYTES)
        except FileNotFoundError:
            raise BundleError(f"{folder} uses a {settings['kind']} tokenizer but has no {TOKENIZER_FILE}") from None
        try:
            subword = SubwordTokenizer.from_str(text.decode("utf-8"), source=str(path))
        except UnicodeDecodeError as err:
            raise BundleError(f"{path}: not valid JSON (not UTF-8 text: byte {err.start})") from None
        except DataFormatError as err:
            raise BundleError(str(err)) from None
    try:
        return TextTokenizer(settings.pop("kind", "spacy"), **settings, subword=subword)
    except ConfigError as err:
        raise BundleError(f"{folder / 'config.json'}: meta.tokenizer: {err}") from None
