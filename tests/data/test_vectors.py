"""Pretrained vectors: GloVe / word2vec text files (plain and .gz), coverage, extension, freezing."""

import gzip

import pytest
import torch
from torch import nn

from lstm_nlp.data import Vocab
from lstm_nlp.data.vectors import embedding_matrix, extend_vocab, load_embedding, read_vectors, vocab_keep_set
from lstm_nlp.errors import ConfigError, DataFormatError

GLOVE = "the 0.1 0.2 0.3\nParis 1.0 -1.0 0.5\ndog 0.0 0.5 -0.5\nzebra 2 2 2\n"
WORD2VEC = "3 2\nthe 1 2\ncat 3 4\nthe 9 9\n"


@pytest.fixture(params=["plain", "gz"])
def glove_file(request, tmp_path):
    if request.param == "gz":
        path = tmp_path / "glove.txt.gz"
        with gzip.open(path, "wt", encoding="utf-8") as handle:
            handle.write(GLOVE)
    else:
        path = tmp_path / "glove.txt"
        path.write_text(GLOVE, encoding="utf-8")
    return path


def test_reads_glove_plain_and_gz(glove_file):
    vectors = read_vectors(glove_file)
    assert vectors.words == ["the", "Paris", "dog", "zebra"] and vectors.dim == 3
    torch.testing.assert_close(vectors.vectors[1], torch.tensor([1.0, -1.0, 0.5]))


def test_reads_word2vec_header_and_keeps_the_first_duplicate(tmp_path):
    path = tmp_path / "w2v.txt"
    path.write_text(WORD2VEC, encoding="utf-8")
    vectors = read_vectors(path)
    assert vectors.words == ["the", "cat"] and vectors.dim == 2
    torch.testing.assert_close(vectors.vectors[0], torch.tensor([1.0, 2.0]))


def test_embedding_matrix_coverage_and_lowercase_fallback(glove_file):
    vectors = read_vectors(glove_file)
    vocab = Vocab(["<pad>", "<unk>", "the", "paris", "Dog", "unseen"])
    matrix, coverage = embedding_matrix(vocab, vectors, generator=torch.Generator().manual_seed(0))
    assert (coverage.found, coverage.total) == (2, 4)  # "the", "Dog" -> "dog"; "paris" != "Paris"
    assert "2/4" in str(coverage) and coverage.ratio == 0.5
    torch.testing.assert_close(matrix[2], vectors.vectors[0])
    torch.testing.assert_close(matrix[4], vectors.vectors[2])
    assert torch.count_nonzero(matrix[0]) == 0


def test_extend_vocab_keeps_ids_and_adds_vector_words(glove_file):
    vectors = read_vectors(glove_file)
    vocab = Vocab(["<pad>", "<unk>", "the", "cat"])
    extended = extend_vocab(vocab, vectors)
    assert extended.itos[:4] == vocab.itos and extended.itos[4:] == ["Paris", "dog", "zebra"]
    lowered = extend_vocab(Vocab(["<pad>", "<unk>", "the"], lower=True), vectors, max_new=1)
    assert lowered.itos == ["<pad>", "<unk>", "the", "paris"]
    _, coverage = embedding_matrix(extended, vectors)
    assert (coverage.found, coverage.total) == (4, 5)


def test_keep_restricts_what_is_read(glove_file):
    vocab = Vocab(["<pad>", "<unk>", "paris", "dog"])
    vectors = read_vectors(glove_file, keep=vocab_keep_set(vocab))
    assert vectors.words == ["Paris", "dog"]
    assert read_vectors(glove_file, max_vectors=2).words == ["the", "Paris"]


def test_load_embedding_copies_and_freezes(glove_file):
    vectors = read_vectors(glove_file)
    vocab = Vocab(["<pad>", "<unk>", "the"])
    matrix, _ = embedding_matrix(vocab, vectors)
    table = nn.Embedding(3, 3, padding_idx=0)
    load_embedding(table, matrix, freeze=True)
    assert torch.equal(table.weight.data, matrix) and not table.weight.requires_grad
    with pytest.raises(ConfigError, match="embedding_dim"):
        load_embedding(nn.Embedding(3, 5), matrix)


def test_malformed_lines_name_file_and_line(tmp_path):
    path = tmp_path / "bad.txt"
    path.write_text("a 1 2 3\nb 1 2\n", encoding="utf-8")
    with pytest.raises(DataFormatError, match=r"bad.txt:2: expected a word and 3 values"):
        read_vectors(path)
    path.write_text("a 1 2\nb 1 x\n", encoding="utf-8")
    with pytest.raises(DataFormatError, match=r"bad.txt:2: non-numeric"):
        read_vectors(path)
    path.write_text("", encoding="utf-8")
    with pytest.raises(DataFormatError, match="no vectors"):
        read_vectors(path)
