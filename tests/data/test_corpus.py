"""Raw-text corpora as streams: formats, folders, sharding, skip/limit/repeat, clear errors."""

from __future__ import annotations

import gzip
import json

import pytest

from lstm_nlp.data.corpus import TextCorpus, corpus_files
from lstm_nlp.data.tokenizers import TextTokenizer
from lstm_nlp.errors import ConfigError, DataFormatError

TEXTS = [f"Review number {i} was <br />fine." for i in range(10)]


@pytest.fixture
def jsonl(tmp_path):
    path = tmp_path / "texts.jsonl"
    path.write_text("".join(json.dumps({"text": t, "id": i}) + "\n" for i, t in enumerate(TEXTS)))
    return path


def test_reads_jsonl_csv_txt_gz_and_parquet_alike(tmp_path, jsonl):
    (tmp_path / "t.csv").write_text("text,label\n" + "".join(f'"{t}",0\n' for t in TEXTS))
    (tmp_path / "t.txt").write_text("\n".join(TEXTS) + "\n")
    with gzip.open(tmp_path / "t.txt.gz", "wt") as handle:
        handle.write("\n".join(TEXTS) + "\n")
    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_table(pa.table({"text": TEXTS}), tmp_path / "t.parquet")
    for name in ("texts.jsonl", "t.csv", "t.txt", "t.txt.gz", "t.parquet"):
        assert list(TextCorpus([tmp_path / name])) == TEXTS, name


def test_a_folder_reads_its_files_in_sorted_order(tmp_path):
    folder = tmp_path / "corpus"
    (folder / "sub").mkdir(parents=True)
    (folder / "b.txt").write_text("second\n")
    (folder / "a.txt").write_text("first\n")
    (folder / "sub" / "c.txt").write_text("third\n")
    (folder / "notes.md").write_text("ignored\n")
    assert [p.name for p in corpus_files(folder)] == ["a.txt", "b.txt", "c.txt"]
    assert list(TextCorpus([folder])) == ["first", "second", "third"]


def test_ranks_read_disjoint_shards_that_cover_the_corpus(jsonl):
    shards = [list(TextCorpus([jsonl], rank=r, world_size=3)) for r in range(3)]
    assert sorted(sum(shards, [])) == sorted(TEXTS)
    assert shards[1] == TEXTS[1::3]


def test_skip_limit_and_repeat(jsonl):
    assert list(TextCorpus([jsonl], limit=3)) == TEXTS[:3]
    assert list(TextCorpus([jsonl], skip=8)) == TEXTS[8:]
    assert list(TextCorpus([jsonl], skip=2, limit=2, repeat=3)) == TEXTS[2:4] * 3


def test_tokens_use_the_toolkit_tokenizer(jsonl):
    tokens = next(TextCorpus([jsonl]).tokens(TextTokenizer()))
    assert tokens == ["review", "number", "0", "was", "fine", "."]


def test_the_stream_is_lazy(tmp_path):
    path = tmp_path / "big.txt"
    path.write_text("x\n" * 100_000)
    stream = iter(TextCorpus([path]))
    assert next(stream) == "x"  # no need to read the rest first


@pytest.mark.parametrize("make, message", [
    (lambda d: d / "missing.jsonl", "file not found"),
    (lambda d: (d / "x.docx").write_text("hi") and d / "x.docx", "unsupported corpus file type '.docx'"),
    (lambda d: (d / "empty").mkdir() or d / "empty", "no corpus files"),
])
def test_bad_sources_fail_when_the_corpus_is_built(tmp_path, make, message):
    with pytest.raises(DataFormatError, match=message):
        TextCorpus([make(tmp_path)])


def test_a_missing_text_column_names_the_columns(jsonl):
    with pytest.raises(DataFormatError, match=r"no 'review' column \(columns: text, id\)"):
        list(TextCorpus([jsonl], text_column="review"))


def test_a_non_text_column_and_a_malformed_file_are_named(tmp_path, jsonl):
    with pytest.raises(DataFormatError, match="holds int"):
        list(TextCorpus([jsonl], text_column="id"))
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"text": "ok"}\n{not json\n')
    with pytest.raises(DataFormatError, match="cannot read it as a corpus"):
        list(TextCorpus([bad]))


def test_bad_options(jsonl):
    with pytest.raises(ConfigError):
        TextCorpus([])
    with pytest.raises(ConfigError):
        TextCorpus([jsonl], repeat=0)
    with pytest.raises(ConfigError, match="rank"):
        list(TextCorpus([jsonl], rank=2, world_size=2))


@pytest.mark.parametrize("content, message", [
    (b'{"text": "ok"}\n' + b"[" * 100_000 + b"]" * 100_000 + b"\n", "line 2 is not JSON"),
    (b'{"text": "ok"}\n["a list"]\n', "line 2 holds a JSON list"),
    (b'{"text": "caf\xe9"}\n', r"bad.jsonl:1: invalid UTF-8 at byte 13 of the line"),
])
def test_hostile_json_lines_are_named_with_their_line(tmp_path, content, message):
    bad = tmp_path / "bad.jsonl"
    bad.write_bytes(content)
    with pytest.raises(DataFormatError, match=message):
        list(TextCorpus([bad]))


def test_lines_split_at_newlines_only_and_a_bom_is_dropped(tmp_path):
    path = tmp_path / "t.txt"
    path.write_bytes("\ufeffone\r\ntwo\rstill two\n\nlast".encode())
    assert list(TextCorpus([path])) == ["one", "two\rstill two", "", "last"]
    broken = tmp_path / "t.txt.gz"
    broken.write_bytes(b"\x1f\x8b not really gzip")
    with pytest.raises(DataFormatError, match="cannot read it as a corpus"):
        list(TextCorpus([broken]))
