"""Subword tokenizers (HF ``tokenizers`` BPE / WordPiece) trained on texts, saved and loaded."""

import pytest

from lstm_nlp.data.subword import SubwordTokenizer
from lstm_nlp.data.tokenizers import TextTokenizer
from lstm_nlp.errors import ConfigError, DataFormatError

TEXTS = ["The movie was wonderful and the acting wonderful too.", "A boring movie; the acting was boring.",
         "Wonderfully boring? No: wonderful!"] * 5


@pytest.mark.parametrize("kind", ["bpe", "wordpiece"])
def test_training_gives_word_pieces_that_rebuild_the_words(kind):
    tokenizer = SubwordTokenizer.train(TEXTS, kind=kind, vocab_size=80, min_frequency=1)
    assert tokenizer.kind == kind and 1 < tokenizer.vocab_size <= 80
    pieces = tokenizer("Wonderful acting")
    words, current = [], ""
    for piece in pieces:
        if piece.startswith("##"):
            current += piece[2:]
        else:
            words.append(current) if current else None
            current = piece
    words.append(current)
    assert words == ["wonderful", "acting"]  # lower-cased, "##" marks word-internal pieces
    assert tokenizer("") == []
    assert list(tokenizer.pipe(["a movie", "", "boring"], batch_size=2)) == [
        tokenizer("a movie"), [], tokenizer("boring")]


@pytest.mark.parametrize("kind", ["bpe", "wordpiece"])
def test_save_load_round_trip(tmp_path, kind):
    tokenizer = SubwordTokenizer.train(TEXTS, kind=kind, vocab_size=60, min_frequency=1, lower=False)
    tokenizer.save(tmp_path / "tokenizer.json")
    loaded = SubwordTokenizer.load(tmp_path / "tokenizer.json")
    assert loaded.kind == kind and loaded.to_str() == tokenizer.to_str()
    for text in TEXTS[:3] + ["unseen Zebra words"]:
        assert loaded(text) == tokenizer(text)


def test_text_tokenizer_fit_trains_on_cleaned_texts_and_pickles_the_model():
    import pickle

    tokenizer = TextTokenizer.fit(["Good<br />film"] * 4 + ["Bad film"] * 4, "wordpiece", vocab_size=40,
                                  min_frequency=1)
    assert tokenizer.subword is not None and tokenizer("Good<br />FILM") == ["good", "film"]
    clone = pickle.loads(pickle.dumps(tokenizer))
    assert clone.subword.to_str() == tokenizer.subword.to_str() and clone.fingerprint() == tokenizer.fingerprint()


def test_bad_arguments_and_files(tmp_path):
    with pytest.raises(ConfigError, match="'bpe' or 'wordpiece'"):
        SubwordTokenizer.train(TEXTS, kind="unigram")
    with pytest.raises(DataFormatError, match="texts are empty"):
        SubwordTokenizer.train(["", "  "], kind="bpe")
    with pytest.raises(DataFormatError, match="not found"):
        SubwordTokenizer.load(tmp_path / "missing.json")
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(DataFormatError, match="bad.json: not a valid tokenizers JSON"):
        SubwordTokenizer.load(tmp_path / "bad.json")
