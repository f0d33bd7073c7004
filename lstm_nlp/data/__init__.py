"""Data: readers (-> ``datasets.Dataset``), tokenizers, vocabularies, vectors and batching.

Names are imported on first use (PEP 562), so ``from lstm_nlp.data import Vocab`` does not load
``datasets``/``pyarrow`` (about a second) for code that only predicts.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

_EXPORTS = {
    "annotations": ["read_annotations"],
    "batching": ["BucketBatchSampler", "collate_classification", "collate_tagging", "padding_efficiency"],
    "conll": ["iob1_to_iob2", "iob2_to_iob1", "read_conll"],
    "conllu": ["load_tagging_dataset", "read_conllu"],
    "subword": ["SubwordTokenizer"],
    "text_classification": ["build_vocab", "load_text_classification", "numericalize_dataset", "read_aclimdb",
                            "tokenize_dataset", "train_validation_split"],
    "tokenizers": ["SpacyTokenizer", "TextTokenizer"],
    "vectors": ["Coverage", "Vectors", "embedding_matrix", "extend_vocab", "load_embedding", "read_vectors",
                "vocab_keep_set"],
    "vocab": ["PAD", "UNK", "Vocab"],
}
_MODULE_OF = {name: module for module, names in _EXPORTS.items() for name in names}
# a literal list (the names of _EXPORTS and IGNORE_INDEX), so linters see the TYPE_CHECKING imports as re-exports
__all__ = [
    "BucketBatchSampler", "Coverage", "IGNORE_INDEX", "PAD", "SpacyTokenizer", "SubwordTokenizer", "TextTokenizer",
    "UNK", "Vectors", "Vocab", "build_vocab", "collate_classification", "collate_tagging", "embedding_matrix",
    "extend_vocab", "iob1_to_iob2", "iob2_to_iob1", "load_embedding", "load_tagging_dataset",
    "load_text_classification", "numericalize_dataset", "padding_efficiency", "read_aclimdb", "read_annotations",
    "read_conll", "read_conllu", "read_vectors", "tokenize_dataset", "train_validation_split", "vocab_keep_set",
]


def __getattr__(name: str):
    if name == "IGNORE_INDEX":
        from lstm_nlp.batch import IGNORE_INDEX

        return IGNORE_INDEX
    if name not in _MODULE_OF:
        raise AttributeError(f"module 'lstm_nlp.data' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"lstm_nlp.data.{_MODULE_OF[name]}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__


if TYPE_CHECKING:  # for type checkers and IDEs: the same names, imported eagerly
    from lstm_nlp.batch import IGNORE_INDEX
    from lstm_nlp.data.annotations import read_annotations
    from lstm_nlp.data.batching import BucketBatchSampler, collate_classification, collate_tagging, padding_efficiency
    from lstm_nlp.data.conll import iob1_to_iob2, iob2_to_iob1, read_conll
    from lstm_nlp.data.conllu import load_tagging_dataset, read_conllu
    from lstm_nlp.data.subword import SubwordTokenizer
    from lstm_nlp.data.text_classification import (
        build_vocab,
        load_text_classification,
        numericalize_dataset,
        read_aclimdb,
        tokenize_dataset,
        train_validation_split,
    )
    from lstm_nlp.data.tokenizers import SpacyTokenizer, TextTokenizer
    from lstm_nlp.data.vectors import (
        Coverage,
        Vectors,
        embedding_matrix,
        extend_vocab,
        load_embedding,
        read_vectors,
        vocab_keep_set,
    )
    from lstm_nlp.data.vocab import PAD, UNK, Vocab
