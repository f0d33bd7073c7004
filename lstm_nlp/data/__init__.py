"""Data: readers (-> ``datasets.Dataset``), tokenizers, vocabularies and batching."""

from lstm_nlp.data.batching import (
    IGNORE_INDEX,
    BucketBatchSampler,
    collate_classification,
    collate_tagging,
    padding_efficiency,
)
from lstm_nlp.data.conllu import load_tagging_dataset, read_conllu
from lstm_nlp.data.tokenizers import SpacyTokenizer
from lstm_nlp.data.vocab import PAD, UNK, Vocab

__all__ = [
    "IGNORE_INDEX", "PAD", "UNK", "BucketBatchSampler", "SpacyTokenizer", "Vocab", "collate_classification",
    "collate_tagging", "load_tagging_dataset", "padding_efficiency", "read_conllu",
]

from lstm_nlp.data.subword import SubwordTokenizer  # noqa: E402
from lstm_nlp.data.text_classification import (  # noqa: E402
    TextTokenizer, build_vocab, load_text_classification, numericalize_dataset, read_aclimdb, tokenize_dataset,
    train_validation_split,
)

__all__ += ["SubwordTokenizer", "TextTokenizer", "build_vocab", "load_text_classification", "numericalize_dataset",
            "read_aclimdb", "tokenize_dataset", "train_validation_split"]

from lstm_nlp.data.conll import iob1_to_iob2, iob2_to_iob1, read_conll  # noqa: E402
from lstm_nlp.data.vectors import (  # noqa: E402
    Coverage, Vectors, embedding_matrix, extend_vocab, load_embedding, read_vectors, vocab_keep_set,
)

__all__ += ["Coverage", "Vectors", "embedding_matrix", "extend_vocab", "iob1_to_iob2", "iob2_to_iob1",
            "load_embedding", "read_conll", "read_vectors", "vocab_keep_set"]
