"""CoNLL column reader and IOB1 <-> IOB2 conversion."""

import gzip

import pytest

from lstm_nlp.data.conll import iob1_to_iob2, iob2_to_iob1, read_conll
from lstm_nlp.errors import DataFormatError

CONLL03 = """-DOCSTART- -X- -X- O

EU NNP B-NP I-ORG
rejects VBZ B-VP O
German JJ B-NP I-MISC
call NN I-NP O

Peter NNP B-NP I-PER
Blackburn NNP I-NP I-PER

-DOCSTART- -X- -X- O

Rome NNP B-NP I-LOC
"""


def test_reads_sentences_drops_docstart_and_picks_columns(tmp_path):
    path = tmp_path / "train.txt"
    path.write_text(CONLL03, encoding="utf-8")
    data = read_conll(path)
    assert data["tokens"] == [["EU", "rejects", "German", "call"], ["Peter", "Blackburn"], ["Rome"]]
    assert data["tags"][0] == ["I-ORG", "O", "I-MISC", "O"]  # "none": kept as in the file
    chunks = read_conll(path, tag_column=2)
    assert chunks["tags"][0] == ["B-NP", "B-VP", "B-NP", "I-NP"]


def test_iob1_file_is_converted_to_iob2_and_gz_is_read(tmp_path):
    path = tmp_path / "train.txt.gz"
    with gzip.open(path, "wt", encoding="utf-8") as handle:
        handle.write(CONLL03)
    data = read_conll(path, tag_column=3, scheme="iob1")
    assert data["tags"] == [["B-ORG", "O", "B-MISC", "O"], ["B-PER", "I-PER"], ["B-LOC"]]


def test_iob_conversions_round_trip():
    iob1 = ["I-PER", "I-PER", "B-PER", "O", "I-LOC", "I-ORG", "B-ORG", "I-ORG"]
    iob2 = ["B-PER", "I-PER", "B-PER", "O", "B-LOC", "B-ORG", "B-ORG", "I-ORG"]
    assert iob1_to_iob2(iob1) == iob2
    assert iob2_to_iob1(iob2) == iob1
    assert iob1_to_iob2(iob2) == iob2  # valid IOB2 is left alone
    assert iob1_to_iob2(["O", "I-NP", "NN"]) == ["O", "B-NP", "NN"]


def test_wrong_column_count_names_file_and_line(tmp_path):
    path = tmp_path / "bad.txt"
    path.write_text("a DT B-NP\nb NN\n", encoding="utf-8")
    with pytest.raises(DataFormatError, match=r"bad.txt:2: expected 3 columns \(as on line 1\), found 2"):
        read_conll(path)
    path.write_text("a DT\n", encoding="utf-8")
    with pytest.raises(DataFormatError, match=r"bad.txt:1: .*need 4"):
        read_conll(path, tag_column=3)
    path.write_text("\n-DOCSTART- O\n\n", encoding="utf-8")
    with pytest.raises(DataFormatError, match="no sentences"):
        read_conll(path)
    with pytest.raises(DataFormatError, match="file not found"):
        read_conll(tmp_path / "missing.txt")


# ---------------------------------------------------------------- IOB1 read as IOB2
NER_IOB2 = "EU NNP B-ORG\nrejects VBZ O\nGerman JJ B-MISC\n\nPeter NNP B-PER\nBlackburn NNP I-PER\nB NNP B-PER\n"


@pytest.mark.parametrize("text, line, after", [
    (CONLL03, 3, "at the start of a sentence"),                              # I-ORG opens line 3's sentence
    ("a X O\nb X I-PER\n", 2, "after 'O'"),
    ("a X B-LOC\nb X I-PER\n", 2, "after 'B-LOC'"),
])
def test_iob1_tags_read_as_iob2_are_refused_naming_line_and_option(tmp_path, text, line, after):
    path = tmp_path / "train.txt"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(DataFormatError) as info:
        read_conll(path, scheme="iob2")
    message = str(info.value)
    assert message.startswith(f"{path}:{line}: tag 'I-")
    assert after in message and "look like IOB1" in message
    assert 'scheme="iob1"' in message and "--scheme iob1" in message


def test_valid_iob2_passes_the_check_and_none_skips_it(tmp_path):
    path = tmp_path / "train.txt"
    path.write_text(NER_IOB2, encoding="utf-8")
    assert read_conll(path, scheme="iob2")["tags"] == [["B-ORG", "O", "B-MISC"], ["B-PER", "I-PER", "B-PER"]]
    path.write_text(CONLL03, encoding="utf-8")
    assert read_conll(path, scheme="none")["tags"][0] == ["I-ORG", "O", "I-MISC", "O"]  # unchecked, as in the file


def test_the_iob2_check_restarts_at_each_sentence_and_docstart(tmp_path):
    path = tmp_path / "train.txt"
    path.write_text("a X B-PER\n\nb X I-PER\n", encoding="utf-8")  # I-PER opens the second sentence
    with pytest.raises(DataFormatError, match=r"train.txt:3: tag 'I-PER' at the start of a sentence"):
        read_conll(path, scheme="iob2")
    path.write_text("a X B-PER\n-DOCSTART- X O\nb X I-PER\n", encoding="utf-8")
    with pytest.raises(DataFormatError, match=r"train.txt:3: "):
        read_conll(path, scheme="iob2")


# ---------------------------------------------------------------- not a CoNLL file at all
@pytest.mark.parametrize("name, content, kind", [
    ("data.jsonl", '{"tokens": ["a", "b"], "tags": ["X", "Y"]}\n{"tokens": ["c"], "tags": ["Z"]}\n', "JSON lines"),
    ("data.json", '[\n  {"tokens": ["a"], "tags": ["X"]}\n]\n', "JSON"),
    ("data.csv", "text,label\n\"A fine, moving film.\",pos\nDull.,neg\n", "CSV/TSV with a header row (text, label)"),
    ("data.tsv", "text\tlabel\nA fine film.\tpos\nDull.\tneg\n", "CSV/TSV with a header row (text, label)"),
    ("data.parquet", b"PAR1\x15\x04\x15\x00\x00", "a Parquet file"),
    ("data.bin", b"\x00\x01\x02text\n\x00", "binary data"),
    ("notes.txt", "This is a story.\nIt has several lines of prose.\nNone of them are columns.\n"
                  "Some are short.\nSome are a little longer than that.\nThe end.\n", "plain text"),
])
def test_a_file_that_is_not_conll_is_named_as_such(tmp_path, name, content, kind):
    path = tmp_path / name
    path.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
    with pytest.raises(DataFormatError) as info:
        read_conll(path)
    message = str(info.value)
    assert message.startswith(f"{path}: not a CoNLL column file: it looks like {kind}")
    assert "expected a CoNLL column file: whitespace-separated columns 'token ... tag'" in message


def test_one_bad_line_in_a_column_file_is_still_reported_by_line(tmp_path):
    path = tmp_path / "train.txt"
    path.write_text("".join(f"w{i} X O\n" for i in range(8)) + "bad O\n", encoding="utf-8")
    with pytest.raises(DataFormatError, match=r"train.txt:9: expected 3 columns \(as on line 1\), found 2"):
        read_conll(path)
