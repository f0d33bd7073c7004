"""Text classification readers, the validation split and cached tokenization / numericalization."""

import json

import pandas as pd
import pytest
from datasets import ClassLabel, Dataset, Features, Value

from lstm_nlp.data import TextTokenizer, Vocab
from lstm_nlp.data import text_classification as tc
from lstm_nlp.data.text_classification import (
    build_vocab,
    load_text_classification,
    numericalize_dataset,
    read_aclimdb,
    tokenize_dataset,
    train_validation_split,
)
from lstm_nlp.errors import ConfigError, DataFormatError

ROWS = [
    {"text": "A great film.<br />Loved it!", "label": 1, "id": 7},
    {"text": "Boring and far too long.", "label": 0, "id": 8},
    {"text": "Great cast, great fun.", "label": 1, "id": 9},
]


def _write_jsonl(path, rows):
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    return path


def _aclimdb(root):
    reviews = {"train/pos/0_9.txt": "Wonderful movie.", "train/pos/1_8.txt": "Great<br />acting.",
               "train/neg/2_1.txt": "Awful plot.", "train/unsup/3_0.txt": "No label here.",
               "test/pos/4_10.txt": "Superb!", "test/neg/5_2.txt": "Dull."}
    for name, text in reviews.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text, encoding="utf-8")
    return root


# ---------------------------------------------------------------- aclImdb folders
def test_aclimdb_root_reads_each_split_and_ignores_unsup(tmp_path):
    root = _aclimdb(tmp_path / "aclImdb")
    train = load_text_classification(root)
    assert train.column_names == ["text", "label"]
    assert sorted(zip(train["label"], train["text"])) == [
        ("neg", "Awful plot."), ("pos", "Great<br />acting."), ("pos", "Wonderful movie.")]
    test = load_text_classification(root, split="test")
    assert sorted(test["label"]) == ["neg", "pos"]
    assert list(read_aclimdb(root / "test")["text"]) == list(test["text"])  # a split folder works directly


def test_aclimdb_folder_without_reviews_is_a_clear_error(tmp_path):
    (tmp_path / "aclImdb" / "train" / "pos").mkdir(parents=True)
    with pytest.raises(DataFormatError, match="no reviews found.*train/pos"):
        load_text_classification(tmp_path / "aclImdb")


def test_aclimdb_empty_review_file_names_the_file(tmp_path):
    root = _aclimdb(tmp_path / "aclImdb")
    (root / "train" / "neg" / "6_3.txt").write_text("  \n", encoding="utf-8")
    with pytest.raises(DataFormatError, match=r"6_3\.txt.*empty review"):
        load_text_classification(root)


# ---------------------------------------------------------------- files
def test_jsonl_maps_integer_labels_through_label_names_and_drops_other_columns(tmp_path):
    path = _write_jsonl(tmp_path / "train.jsonl", ROWS)
    dataset = load_text_classification(path, label_names=["neg", "pos"], cache_dir=tmp_path / "cache")
    assert dataset.column_names == ["text", "label"]
    assert list(dataset["label"]) == ["pos", "neg", "pos"]
    assert dataset.cache_files  # file-backed, so later maps cache next to it
    digits = load_text_classification(path, cache_dir=tmp_path / "cache")
    assert list(digits["label"]) == ["1", "0", "1"]


def test_csv_parquet_and_custom_columns(tmp_path):
    frame = pd.DataFrame({"review": ["good", "bad"], "sentiment": ["positive", "negative"]})
    frame.to_csv(tmp_path / "a.csv", index=False)
    frame.to_parquet(tmp_path / "a.parquet")
    for name in ("a.csv", "a.parquet"):
        dataset = load_text_classification(tmp_path / name, text_column="review", label_column="sentiment",
                                           cache_dir=tmp_path / "cache")
        assert dataset.to_dict() == {"text": ["good", "bad"], "label": ["positive", "negative"]}


@pytest.mark.parametrize("rows, message", [
    ([{"review": "good", "label": 1}], "no text column 'text'; the columns are"),
    ([{"text": "good", "label": 1}, {"text": "   ", "label": 0}], "record 2 has an empty text"),
    ([{"text": "good", "label": 1}, {"text": None, "label": 0}], "record 2 has no text"),
    ([{"text": "good", "label": 1}, {"text": "bad", "label": 2}], "record 2 has label 2, outside the label set"),
    ([{"text": "good", "label": 1}, {"text": "bad", "label": None}], "record 2 has no label"),
])
def test_bad_files_raise_clear_errors(tmp_path, rows, message):
    path = _write_jsonl(tmp_path / "bad.jsonl", rows)
    with pytest.raises(DataFormatError, match=message) as info:
        load_text_classification(path, label_names=["neg", "pos"], cache_dir=tmp_path / "cache")
    assert "bad.jsonl" in str(info.value)


def test_missing_file_unknown_format_and_unparsable_json(tmp_path):
    with pytest.raises(DataFormatError, match="file not found"):
        load_text_classification(tmp_path / "nope.jsonl")
    (tmp_path / "a.xml").write_text("<x/>")
    with pytest.raises(DataFormatError, match="unknown file type"):
        load_text_classification(tmp_path / "a.xml")
    (tmp_path / "broken.jsonl").write_text('{"text": "a", "label": 1}\n{not json\n')
    with pytest.raises(DataFormatError, match=r"broken.jsonl(:2: invalid JSON|: cannot read as json)"):
        load_text_classification(tmp_path / "broken.jsonl", cache_dir=tmp_path / "cache")


def test_hub_ids_go_to_load_dataset_and_class_label_names_are_used(monkeypatch):
    import datasets

    from lstm_nlp.data import textfiles

    monkeypatch.setattr(textfiles, "hub_unreachable", lambda timeout=2.5: None)  # no network in tests

    features = Features({"text": Value("string"), "label": ClassLabel(names=["neg", "pos"])})
    calls = []

    def fake_load_dataset(name, split, cache_dir=None):
        calls.append((name, split))
        return Dataset.from_dict({"text": ["fine", "awful"], "label": [1, 0]}, features=features)

    monkeypatch.setattr(datasets, "load_dataset", fake_load_dataset)
    dataset = load_text_classification("stanfordnlp/imdb", split="test")
    assert calls == [("stanfordnlp/imdb", "test")]
    assert list(dataset["label"]) == ["pos", "neg"]


def test_hub_failure_offline_is_a_clear_error(monkeypatch):
    import datasets

    from lstm_nlp.data import textfiles

    monkeypatch.setattr(textfiles, "hub_unreachable", lambda timeout=2.5: None)  # no network in tests

    def offline(*args, **kwargs):
        raise ConnectionError("Couldn't reach the Hugging Face Hub")

    monkeypatch.setattr(datasets, "load_dataset", offline)
    with pytest.raises(DataFormatError, match="not a local file or folder.*hub.*offline"):
        load_text_classification("stanfordnlp/imdb")


# ---------------------------------------------------------------- validation split
def test_validation_split_is_stratified_seeded_and_disjoint():
    # sorted by label, like the shared IMDB jsonl
    dataset = Dataset.from_dict({"text": [f"t{i}" for i in range(100)], "label": ["neg"] * 60 + ["pos"] * 40})
    train, dev = train_validation_split(dataset, fraction=0.1, seed=3)
    assert sorted(dev["label"]) == ["neg"] * 6 + ["pos"] * 4
    assert len(train) == 90 and not set(train["text"]) & set(dev["text"])
    again = train_validation_split(dataset, fraction=0.1, seed=3)[1]
    other = train_validation_split(dataset, fraction=0.1, seed=4)[1]
    assert list(again["text"]) == list(dev["text"]) and list(other["text"]) != list(dev["text"])
    with pytest.raises(ConfigError, match="fraction"):
        train_validation_split(dataset, fraction=1.0)


# ---------------------------------------------------------------- tokenization and caching
def test_file_backed_tokenization_is_cached_next_to_the_source(tmp_path, monkeypatch):
    path = _write_jsonl(tmp_path / "train.jsonl", ROWS)
    dataset = load_text_classification(path, label_names=["neg", "pos"], cache_dir=tmp_path / "cache")
    first = tokenize_dataset(dataset, TextTokenizer("spacy"))
    assert first["tokens"][0] == ["a", "great", "film", ".", "loved", "it", "!"]
    assert first.cache_files[0]["filename"].startswith(str(tmp_path / "cache"))

    def must_not_run(*args, **kwargs):
        raise AssertionError("tokenization ran again instead of reading the cache")

    monkeypatch.setattr(tc, "_tokenize_batch", must_not_run)
    reloaded = load_text_classification(path, label_names=["neg", "pos"], cache_dir=tmp_path / "cache")
    second = tokenize_dataset(reloaded, TextTokenizer("spacy"))
    assert second.cache_files == first.cache_files and second.to_dict() == first.to_dict()
    with pytest.raises(AssertionError, match="ran again"):  # other settings -> other cache entry
        tokenize_dataset(reloaded, TextTokenizer("spacy", lower=False))


def test_in_memory_data_caches_under_cache_dir_and_num_proc_agrees(tmp_path, monkeypatch):
    dataset = Dataset.from_dict({"text": [r["text"] for r in ROWS] * 3, "label": ["pos", "neg", "pos"] * 3})
    first = tokenize_dataset(dataset, TextTokenizer("spacy"), cache_dir=tmp_path)
    assert list(tmp_path.glob("tokenizing-*.arrow"))
    parallel = tokenize_dataset(dataset, TextTokenizer("spacy"), num_proc=2)
    assert parallel.to_dict() == first.to_dict()
    monkeypatch.setattr(tc, "_tokenize_batch", None)  # a cache hit never calls it
    assert tokenize_dataset(dataset, TextTokenizer("spacy"), cache_dir=tmp_path).to_dict() == first.to_dict()


def test_build_vocab_matches_vocab_build_and_numericalize_truncates():
    tokens = [["b", "a", "c", "a"], ["c", "a", "d"], ["e"]]
    dataset = Dataset.from_dict({"tokens": tokens, "label": ["x", "y", "x"]})
    for kwargs in ({}, {"min_freq": 2}, {"max_size": 2}):
        assert build_vocab(dataset, **kwargs) == Vocab.build(tokens, **kwargs)
    vocab = build_vocab(dataset, min_freq=2)  # <pad> <unk> a c
    ids = numericalize_dataset(dataset, vocab, max_length=3)
    assert ids.column_names == ["label", "token_ids"]
    assert list(ids["token_ids"]) == [[1, 2, 3], [3, 2, 1], [1]]
    assert list(numericalize_dataset(dataset, vocab)["token_ids"])[0] == [1, 2, 3, 2]
    with pytest.raises(ConfigError, match="max_length"):
        numericalize_dataset(dataset, vocab, max_length=0)
