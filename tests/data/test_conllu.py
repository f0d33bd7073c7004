import gzip

import pytest

from lstm_nlp.data import load_tagging_dataset, read_conllu
from lstm_nlp.errors import DataFormatError

CONLLU = """# sent_id = 1
# text = I don't know.
1\tI\tI\tPRON\tPRP\t_\t2\tnsubj\t_\t_
2-3\tdon't\t_\t_\t_\t_\t_\t_\t_\t_
2\tdo\tdo\tAUX\tVBP\t_\t4\taux\t_\t_
3\tn't\tnot\tPART\tRB\t_\t4\tadvmod\t_\t_
4\tknow\tknow\tVERB\tVB\t_\t0\troot\t_\t_
4.1\tknows\t_\t_\t_\t_\t_\t_\t_\t_
5\t.\t.\tPUNCT\t.\t_\t4\tpunct\t_\t_

1\tHi\thi\tINTJ\tUH\t_\t0\troot\t_\t_
"""


def write(path, text):
    path.write_text(text, encoding="utf-8")
    return path


def test_reads_tokens_and_upos_skipping_multiword_and_empty_nodes(tmp_path):
    dataset = read_conllu(write(tmp_path / "a.conllu", CONLLU))
    assert dataset.column_names == ["tokens", "tags"]
    assert dataset[0]["tokens"] == ["I", "do", "n't", "know", "."]
    assert dataset[0]["tags"] == ["PRON", "AUX", "PART", "VERB", "PUNCT"]
    assert dataset[1]["tokens"] == ["Hi"]  # last sentence without a trailing blank line


def test_xpos_column(tmp_path):
    dataset = read_conllu(write(tmp_path / "a.conllu", CONLLU), tag_column="xpos")
    assert dataset[0]["tags"] == ["PRP", "VBP", "RB", "VB", "."]


def test_gzip_crlf_and_bom_are_read_transparently(tmp_path):
    path = tmp_path / "a.conllu.gz"
    with gzip.open(path, "wb") as handle:
        handle.write(b"\xef\xbb\xbf" + CONLLU.replace("\n", "\r\n").encode("utf-8"))
    dataset = read_conllu(path)
    assert len(dataset) == 2 and dataset[0]["tags"][-1] == "PUNCT"


def test_wrong_column_count_names_file_and_line(tmp_path):
    path = write(tmp_path / "bad.conllu", "1\tI\tI\tPRON\tPRP\t_\t2\tnsubj\t_\t_\n2\tam\tbe\tAUX\n")
    with pytest.raises(DataFormatError, match=r"bad.conllu:2: expected 10 tab-separated CoNLL-U columns, found 4"):
        read_conllu(path)


def test_token_without_tag_names_file_and_line(tmp_path):
    path = write(tmp_path / "notag.conllu", "1\tI\tI\t_\tPRP\t_\t2\tnsubj\t_\t_\n")
    with pytest.raises(DataFormatError, match=r"notag.conllu:1: token 'I' has no UPOS tag"):
        read_conllu(path)


def test_empty_file_is_an_error(tmp_path):
    with pytest.raises(DataFormatError, match="empty.conllu: no sentences found"):
        read_conllu(write(tmp_path / "empty.conllu", "\n# only a comment\n"))


def test_invalid_utf8_names_the_line(tmp_path):
    path = tmp_path / "latin1.conllu"
    path.write_bytes(CONLLU.encode("utf-8") + "1\tcaf\xe9\t_\tNOUN\t_\t_\t_\t_\t_\t_\n".encode("latin-1"))
    with pytest.raises(DataFormatError, match=r"latin1.conllu:12: invalid UTF-8"):
        read_conllu(path)


def test_missing_local_file_is_reported_not_sent_to_the_hub(tmp_path):
    with pytest.raises(DataFormatError, match="file not found"):
        load_tagging_dataset(str(tmp_path / "missing.conllu"))


def test_bundled_sample_loads(sample_dir):
    dataset = load_tagging_dataset(sample_dir / "pos" / "train.conllu")
    assert len(dataset) >= 40
    assert all(len(t) == len(g) for t, g in zip(dataset["tokens"], dataset["tags"]))


@pytest.mark.parametrize("name, content, kind", [
    ("data.jsonl", '{"tokens": ["a", "b"], "upos": ["X", "Y"]}\n', "JSON lines"),
    ("data.conllu", "[1, 2, 3]\n", "JSON"),
    ("data.csv", "text,label\n\"A fine, moving film.\",pos\nDull.,neg\n", "CSV/TSV with a header row (text, label)"),
    ("train.txt", "".join(f"w{i} NN B-NP O\n" for i in range(6)), "a column file with 4 columns on most lines, not 10"),
    ("data.conllu.gz", b"PK\x03\x04\x14\x00\x00\x00", "a zip archive"),
    ("data.conllu", b"\x00\x00\x00\x01", "binary data"),
])
def test_a_file_that_is_not_conllu_is_named_as_such(tmp_path, name, content, kind):
    path = tmp_path / name
    data = content.encode("utf-8") if isinstance(content, str) else content
    path.write_bytes(data if not name.endswith(".gz") or isinstance(content, bytes) else gzip.compress(data))
    with pytest.raises(DataFormatError) as info:
        read_conllu(path)
    message = str(info.value)
    assert message.startswith(f"{path}: not a CoNLL-U file: it looks like {kind}")
    assert "expected CoNLL-U: 10 tab-separated columns (ID FORM LEMMA UPOS" in message


@pytest.mark.parametrize("source", ["missing.conllu", "./ewt", "a/b/c", "dir/train", "my file", "~/ewt"])
def test_a_missing_path_is_never_looked_up_on_the_hub(tmp_path, monkeypatch, source):
    import datasets

    def no_hub(*args, **kwargs):
        raise AssertionError("looked up on the hub")

    monkeypatch.setattr(datasets, "load_dataset", no_hub)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "dir").mkdir()
    with pytest.raises(DataFormatError, match=f"^{source}: file not found$"):
        load_tagging_dataset(source)
