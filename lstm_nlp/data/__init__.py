"""Data: readers (-> ``datasets.Dataset``), tokenizers, vocabularies, vectors and batching."""

from lstm_nlp.data.batching import (
    IGNORE_INDEX, BucketBatchSampler, collate_classification, collate_tagging, padding_efficiency,
)
from lstm_nlp.data.conll import iob1_to_iob2, iob2_to_iob1, read_conll
from lstm_nlp.data.conllu import load_tagging_dataset, read_conllu
from lstm_nlp.data.subword import SubwordTokenizer
from lstm_nlp.data.text_classification import (
    build_vocab, load_text_classification, numericalize_dataset, read_aclimdb, tokenize_dataset, train_validation_split,
)
from lstm_nlp.data.tokenizers import SpacyTokenizer, TextTokenizer
from lstm_nlp.data.vectors import (
    Coverage, Vectors, embedding_matrix, extend_vocab, load_embedding, read_vectors, vocab_keep_set,
)
from lstm_nlp.data.vocab import PAD, UNK, Vocab

__all__ = [
    "IGNORE_INDEX", "PAD", "UNK", "BucketBatchSampler", "Coverage", "SpacyTokenizer", "SubwordTokenizer",
    "TextTokenizer", "Vectors", "Vocab", "build_vocab", "collate_classification", "collate_tagging",
    "embedding_matrix", "extend_vocab", "iob1_to_iob2", "iob2_to_iob1", "load_embedding", "load_tagging_dataset",
    "load_text_classification", "numericalize_dataset", "padding_efficiency", "read_aclimdb", "read_conll",
    "read_conllu", "read_vectors", "tokenize_dataset", "train_validation_split", "vocab_keep_set",
]
