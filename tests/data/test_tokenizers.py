from lstm_nlp.data import SpacyTokenizer


def test_spacy_english_rules_split_contractions_and_punctuation():
    tokenizer = SpacyTokenizer()
    assert tokenizer("I don't like it!") == ["I", "do", "n't", "like", "it", "!"]


def test_pipe_matches_single_calls_and_drops_whitespace_tokens():
    tokenizer = SpacyTokenizer(lower=True)
    texts = ["Hello   World.", "", "  ", "It's 5 p.m."]
    assert list(tokenizer.pipe(texts)) == [tokenizer(t) for t in texts]
    assert tokenizer("Hello   World.") == ["hello", "world", "."]
    assert tokenizer("   ") == []
