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
