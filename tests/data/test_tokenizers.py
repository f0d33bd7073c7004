import pickle

import pytest

from lstm_nlp.data import SpacyTokenizer, TextTokenizer
from lstm_nlp.errors import ConfigError


def test_spacy_english_rules_split_contractions_and_punctuation():
    tokenizer = SpacyTokenizer()
    assert tokenizer("I don't like it!") == ["I", "do", "n't", "like", "it", "!"]


def test_pipe_matches_single_calls_and_drops_whitespace_tokens():
    tokenizer = SpacyTokenizer(lower=True)
    texts = ["Hello   World.", "", "  ", "It's 5 p.m."]
    assert list(tokenizer.pipe(texts)) == [tokenizer(t) for t in texts]
    assert tokenizer("Hello   World.") == ["hello", "world", "."]
    assert tokenizer("   ") == []


def test_tokenizer_strips_html_breaks_lowercases_and_pickles_cheaply():
    tokenizer = TextTokenizer("spacy")
    assert tokenizer("Great<br />Movie!") == ["great", "movie", "!"]
    assert TextTokenizer("spacy", lower=False, strip_html=False)("Hi<br/>") != ["hi"]
    clone = pickle.loads(pickle.dumps(tokenizer))
    assert clone("Great<br />Movie!") == ["great", "movie", "!"] and clone.fingerprint() == tokenizer.fingerprint()
    assert TextTokenizer("spacy", lower=False).fingerprint() != tokenizer.fingerprint()
    with pytest.raises(ConfigError, match="TextTokenizer.fit"):
        TextTokenizer("bpe")


def test_a_subword_tokenizer_needs_no_spacy(monkeypatch):
    """``--tokenizer bpe`` failed with ``No module named 'spacy'`` where spaCy was not installed."""
    tokenizer = TextTokenizer.fit(["a good film", "a bad film"] * 20, "bpe", vocab_size=60)
    monkeypatch.setitem(__import__("sys").modules, "spacy", None)  # `import spacy` now raises ImportError
    assert len(tokenizer.fingerprint()) == 32 and tokenizer("a good film")
