"""Property-based tests (hypothesis): round trips that must hold for every input, and readers that
only ever fail with the toolkit's own error types, whatever bytes they are given."""

from __future__ import annotations

import gzip
import json
import tempfile
from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from lstm_nlp.data import BucketBatchSampler, Vocab, collate_classification, collate_tagging, read_conllu
from lstm_nlp.data.conll import iob1_to_iob2, iob2_to_iob1, read_conll
from lstm_nlp.data.series import read_series_csv
from lstm_nlp.data.text_classification import load_text_classification, read_aclimdb
from lstm_nlp.errors import LstmNlpError
from lstm_nlp.modules import LSTMEncoder

FAST = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
# Readers backed by `datasets` builders take ~50 ms a call: fewer examples keep the file quick.
SLOW_READER = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])

tokens = st.text(min_size=1, max_size=12)


# ---------------------------------------------------------------------- vocabularies
@FAST
@given(sentences=st.lists(st.lists(tokens, max_size=8), max_size=8), lower=st.booleans())
def test_vocab_encode_decode_round_trip(sentences, lower):
    vocab = Vocab.build(sentences, lower=lower)
    for sentence in sentences:
        ids = vocab.encode(sentence)
        assert all(0 <= i < len(vocab) for i in ids)
        assert vocab.decode(ids) == [t.lower() if lower else t for t in sentence]
    assert Vocab.from_dict(vocab.to_dict()) == vocab


@FAST
@given(seen=st.lists(tokens, min_size=1, max_size=10), unseen=st.lists(tokens, max_size=10))
def test_unknown_tokens_map_to_unk_and_unknown_labels_raise_vocab_errors(seen, unseen):
    vocab = Vocab.build([seen])
    labels = Vocab.build_labels([seen])
    for token in unseen:
        if token not in vocab:
            assert vocab.encode([token]) == [vocab.unk_id]
        if token not in labels:
            with pytest.raises(LstmNlpError, match="unknown label"):
                labels.encode([token])
    assert labels.decode(labels.encode(seen)) == seen
    with pytest.raises(LstmNlpError, match="outside the vocabulary"):
        vocab.decode([len(vocab)])


@FAST
@given(itos=st.lists(tokens, min_size=2, max_size=20, unique=True))
def test_vocab_file_round_trip(itos):
    with tempfile.TemporaryDirectory() as folder:
        vocab = Vocab(itos, pad_token=itos[0], unk_token=itos[1])
        vocab.save(Path(folder) / "v.json")
        assert Vocab.load(Path(folder) / "v.json") == vocab


# ---------------------------------------------------------------------- batching
lengths_strategy = st.lists(st.integers(min_value=1, max_value=12), min_size=1, max_size=8)


@FAST
@given(lengths=lengths_strategy, data=st.data())
def test_collate_pack_unpack_round_trip(lengths, data):
    examples = [{"token_ids": data.draw(st.lists(st.integers(2, 50), min_size=n, max_size=n)),
                 "label_ids": data.draw(st.lists(st.integers(0, 4), min_size=n, max_size=n)), "index": i}
                for i, n in enumerate(lengths)]
    batch = collate_tagging(examples)
    assert batch["lengths"].tolist() == lengths
    assert torch.equal(batch["mask"].sum(-1), batch["lengths"])
    assert batch["token_ids"].shape == (len(lengths), max(lengths))
    features = batch["token_ids"].unsqueeze(-1).float()  # [batch, seq, 1]
    packed = pack_padded_sequence(features, batch["lengths"], batch_first=True, enforce_sorted=False)
    unpacked, unpacked_lengths = pad_packed_sequence(packed, batch_first=True, total_length=max(lengths))
    assert unpacked_lengths.tolist() == lengths
    assert torch.equal(unpacked.squeeze(-1).long(), batch["token_ids"] * batch["mask"])
    for row, example in enumerate(examples):
        n = lengths[row]
        assert batch["token_ids"][row, :n].tolist() == example["token_ids"]
        assert batch["labels"][row, :n].tolist() == example["label_ids"]
        assert (batch["labels"][row, n:] == -100).all() and (batch["token_ids"][row, n:] == 0).all()
    classification = collate_classification([{"token_ids": e["token_ids"], "label": 1} for e in examples])
    assert classification["lengths"].tolist() == lengths


@settings(max_examples=30, deadline=None)
@given(lengths=lengths_strategy)
def test_encoder_output_at_real_tokens_ignores_padding(lengths):
    """The packed encoder over a padded batch equals each sequence run alone (length 1 included)."""
    torch.manual_seed(0)
    encoder = LSTMEncoder(3, 4, bidirectional=True, impl="packed").double().eval()
    inputs = torch.randn(len(lengths), max(lengths), 3, dtype=torch.float64)
    mask = torch.arange(max(lengths))[None, :] < torch.tensor(lengths)[:, None]
    batched = encoder(inputs, mask=mask).outputs
    for row, n in enumerate(lengths):
        alone = encoder(inputs[row:row + 1, :n], mask=torch.ones(1, n, dtype=torch.bool)).outputs
        assert torch.allclose(batched[row, :n], alone[0], atol=1e-10)
        assert (batched[row, n:] == 0).all()


@FAST
@given(lengths=st.lists(st.integers(1, 30), min_size=1, max_size=60), batch_size=st.integers(1, 9),
       shuffle=st.booleans(), seed=st.integers(0, 5))
def test_bucket_sampler_yields_every_example_once(lengths, batch_size, shuffle, seed):
    sampler = BucketBatchSampler(lengths, batch_size, shuffle=shuffle, seed=seed, pool_size=3)
    batches = list(sampler)
    assert sorted(i for b in batches for i in b) == list(range(len(lengths)))
    assert all(1 <= len(b) <= batch_size for b in batches) and len(sampler) == len(batches)


# ---------------------------------------------------------------------- tag schemes
ENTITY_TYPES = ["PER", "LOC", "ORG-X"]


@st.composite
def iob2_sequences(draw):
    """Valid IOB2: runs of ``O`` and entities ``B-X I-X ...`` (adjacent entities of one type allowed)."""
    tags: list[str] = []
    for _ in range(draw(st.integers(0, 8))):
        if draw(st.booleans()):
            tags += ["O"] * draw(st.integers(1, 3))
        else:
            kind = draw(st.sampled_from(ENTITY_TYPES))
            tags += [f"B-{kind}"] + [f"I-{kind}"] * draw(st.integers(0, 3))
    return tags


def entities(iob2: list[str]) -> list[tuple[str, int, int]]:
    """(type, start, end) spans of an IOB2 sequence."""
    spans, start = [], None
    for i, tag in enumerate([*iob2, "O"]):
        if start is not None and not (tag.startswith("I-") and tag[2:] == iob2[start][2:]):
            spans.append((iob2[start][2:], start, i))
            start = None
        if tag.startswith("B-"):
            start = i
    return spans


@FAST
@given(iob2=iob2_sequences())
def test_iob2_to_iob1_and_back_is_the_identity(iob2):
    iob1 = iob2_to_iob1(iob2)
    assert len(iob1) == len(iob2)
    for previous, tag in zip(["O", *iob1], iob1):  # IOB1: B-X only right after another X token
        if tag.startswith("B-"):
            assert previous[2:] == tag[2:] and previous != "O"
    assert iob1_to_iob2(iob1) == iob2
    assert iob2_to_iob1(iob1_to_iob2(iob1)) == iob1


@FAST
@given(tags=st.lists(st.sampled_from(["O", "B-PER", "I-PER", "B-LOC", "I-LOC", "E-LOC", "I-", "B-"]),
                     max_size=15))
def test_iob1_to_iob2_always_gives_valid_idempotent_iob2(tags):
    iob2 = iob1_to_iob2(tags)
    assert iob1_to_iob2(iob2) == iob2
    for previous, tag in zip(["O", *iob2], iob2):
        if tag.startswith("I-") and len(tag) > 2:
            assert previous[2:] == tag[2:] and previous[:2] in ("B-", "I-")
    assert entities(iob2) == entities(iob1_to_iob2(iob2_to_iob1(iob2)))


# ---------------------------------------------------------------------- readers on arbitrary bytes
# Raw bytes, plus line-shaped text built from the characters that matter to the parsers (tabs,
# spaces, CR, BOM, comment and id syntax, quotes, braces, invalid UTF-8 bytes), so the random files
# reach the column checks, not only the decoder.
PIECES = [b"\t", b" ", b"\n", b"\r\n", b"\r", b"\xef\xbb\xbf", b"#", b"1", b"2-3", b"4.1", b"_", b"-DOCSTART-",
          b"B-PER", b"O", b"NOUN", b"word", b"\xff", b"\xc3", b"\x00", b'"', b",", b"{", b"}", b":",
          b'"text"', b'"label"', b"null", b"text,label", b"nan"]
file_bytes = st.one_of(st.binary(max_size=300), st.lists(st.sampled_from(PIECES), max_size=60).map(b"".join))


def _only_toolkit_errors(read, path: Path) -> None:
    try:
        result = read(path)
    except LstmNlpError:
        return
    assert result is not None


@pytest.fixture(scope="module")
def scratch(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("random_files")


@FAST
@given(content=file_bytes, gz=st.booleans())
def test_conllu_reader_raises_only_toolkit_errors(scratch, content, gz):
    path = scratch / ("f.conllu.gz" if gz else "f.conllu")
    path.write_bytes(gzip.compress(content) if gz else content)
    _only_toolkit_errors(read_conllu, path)
    _only_toolkit_errors(lambda p: read_conllu(p, tag_column="xpos"), path)


@FAST
@given(content=file_bytes, scheme=st.sampled_from(["iob1", "iob2", "none"]), tag_column=st.integers(-3, 3))
def test_conll_column_reader_raises_only_toolkit_errors(scratch, content, scheme, tag_column):
    path = scratch / "f.txt"
    path.write_bytes(content)
    _only_toolkit_errors(lambda p: read_conll(p, tag_column=tag_column, scheme=scheme), path)


@FAST
@given(content=file_bytes)
def test_gzip_garbage_raises_only_toolkit_errors(scratch, content):
    path = scratch / "g.txt.gz"
    path.write_bytes(content)  # not gzip at all, or a truncated stream
    _only_toolkit_errors(read_conll, path)


@FAST
@given(content=file_bytes, column=st.sampled_from(["y", "t", "missing"]))
def test_series_csv_reader_raises_only_toolkit_errors(scratch, content, column):
    path = scratch / "series.csv"
    path.write_bytes(b"t,y\n" + content if column != "missing" else content)
    _only_toolkit_errors(lambda p: read_series_csv(p, column), path)


@SLOW_READER
@given(content=file_bytes, suffix=st.sampled_from([".jsonl", ".csv", ".tsv", ".json"]))
def test_text_classification_file_readers_raise_only_toolkit_errors(scratch, content, suffix):
    path = scratch / f"texts{suffix}"
    path.write_bytes(content)
    _only_toolkit_errors(lambda p: load_text_classification(p, cache_dir=scratch / "cache"), path)


json_value = st.one_of(st.none(), st.text(max_size=5), st.integers(-2, 3), st.booleans(),
                     st.floats(allow_nan=True), st.lists(st.integers(0, 1), max_size=2))


@SLOW_READER
@given(rows=st.lists(st.fixed_dictionaries({"text": json_value, "label": json_value}), max_size=4))
def test_jsonl_with_random_values_raises_only_toolkit_errors(scratch, rows):
    """Well-formed JSON lines whose values are random: wrong types, nulls, empty texts, bad labels."""
    path = scratch / "rows.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows), encoding="utf-8")
    _only_toolkit_errors(lambda p: load_text_classification(p, label_names=["neg", "pos"],
                                                            cache_dir=scratch / "cache"), path)


@FAST
@given(reviews=st.lists(st.tuples(st.sampled_from(["pos", "neg", "unsup"]), st.binary(max_size=40)), max_size=4))
def test_aclimdb_reader_raises_only_toolkit_errors(reviews):
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder) / "aclImdb"
        (root / "train").mkdir(parents=True)
        for number, (label, content) in enumerate(reviews):
            (root / "train" / label).mkdir(exist_ok=True)
            (root / "train" / label / f"{number}_7.txt").write_bytes(content)
        _only_toolkit_errors(lambda p: read_aclimdb(p, split="train"), root)
        _only_toolkit_errors(lambda p: read_aclimdb(p, split="test"), root)


def test_the_readers_return_what_they_promise_on_a_valid_file(tmp_path):
    """Guard for the properties above: a valid file is read, not refused."""
    (tmp_path / "a.conllu").write_text("1\tHi\thi\tINTJ\tUH\t_\t0\troot\t_\t_\n", encoding="utf-8")
    assert read_conllu(tmp_path / "a.conllu")["tags"] == [["INTJ"]]
    (tmp_path / "s.csv").write_text("t,y\n1,2.5\n", encoding="utf-8")
    assert np.array_equal(read_series_csv(tmp_path / "s.csv", "y"), [2.5])
    (tmp_path / "t.jsonl").write_text('{"text": "fine", "label": 1}\n', encoding="utf-8")
    assert load_text_classification(tmp_path / "t.jsonl", cache_dir=tmp_path)["label"] == ["1"]
