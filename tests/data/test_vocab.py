import pytest

from lstm_nlp.data import PAD, UNK, Vocab
from lstm_nlp.errors import VocabError


def test_build_orders_by_frequency_then_alphabet_with_specials_first():
    vocab = Vocab.build([["b", "a", "b"], ["c", "a", "b"]])
    assert vocab.itos == [PAD, UNK, "b", "a", "c"]
    assert vocab.pad_id == 0 and vocab.unk_id == 1


def test_min_freq_and_max_size():
    seqs = [["a"] * 5 + ["b"] * 3 + ["c"] * 2 + ["d"]]
    assert Vocab.build(seqs, min_freq=2).itos[2:] == ["a", "b", "c"]
    assert Vocab.build(seqs, max_size=2).itos[2:] == ["a", "b"]


def test_unknown_tokens_map_to_unk_and_decode_round_trip():
    vocab = Vocab.build([["the", "cat"]])
    ids = vocab.encode(["the", "dog", "cat"])
    assert ids == [vocab.index("the"), vocab.unk_id, vocab.index("cat")]
    assert vocab.decode(ids) == ["the", UNK, "cat"]


def test_lowercasing():
    vocab = Vocab.build([["The", "the", "CAT"]], lower=True)
    assert "THE" in vocab
    assert vocab.encode(["ThE", "cat"]) == [vocab.index("the"), vocab.index("cat")]


def test_label_vocab_has_no_specials_and_rejects_unknown_labels():
    labels = Vocab.build_labels([["NOUN", "VERB"], ["DET"]])
    assert labels.itos == ["DET", "NOUN", "VERB"]
    assert labels.pad_id is None and labels.unk_id is None
    with pytest.raises(VocabError, match="unknown label 'ADJ'"):
        labels.encode(["NOUN", "ADJ"])


def test_save_load_round_trip(tmp_path):
    vocab = Vocab.build([["a", "b", "a"]], lower=True)
    vocab.save(tmp_path / "v.json")
    assert Vocab.load(tmp_path / "v.json") == vocab


def test_load_rejects_a_file_that_is_not_a_vocabulary(tmp_path):
    (tmp_path / "bad.json").write_text("[1, 2]")
    with pytest.raises(VocabError, match="bad.json"):
        Vocab.load(tmp_path / "bad.json")
    (tmp_path / "broken.json").write_text("{not json")
    with pytest.raises(VocabError, match="not valid JSON"):
        Vocab.load(tmp_path / "broken.json")


def test_decode_rejects_out_of_range_ids():
    with pytest.raises(VocabError, match="outside the vocabulary"):
        Vocab.build([["a"]]).decode([0, 99])
