"""The task contract: streaming prediction, the label-set check and bundle loading, shared by every task."""

from __future__ import annotations

import logging

import pytest

from lstm_nlp.data import Vocab
from lstm_nlp.errors import BundleError, DataFormatError
from lstm_nlp.models import SequenceTagger, TaggerConfig
from lstm_nlp.pipelines import TaggingPipeline, load_pipeline
from lstm_nlp.pipelines.base import TaskPipeline, check_gold_labels
from lstm_nlp.pipelines.tagging import build_char_vocab


class Echo(TaskPipeline):
    """The smallest task: each output line is its input line, with the line number."""

    def format_predictions(self, lines, *, batch_size, first_line):
        return [f"{number}:{line}" for number, line in enumerate(lines, start=first_line)]


@pytest.mark.parametrize("chunk_size", [1, 2, 4096])
def test_predict_lines_strips_line_ends_and_a_leading_bom_and_keeps_order(chunk_size):
    lines = ["\ufeffThe dog sleeps .\r\n", "a\rb\n", "\n", "\ufeffkept"]
    assert list(Echo().predict_lines(lines, chunk_size=chunk_size)) == [
        "1:The dog sleeps .", "2:a\rb", "3:", "4:\ufeffkept"]  # only the input's first character is a BOM


def tiny_tagger(labels: list[str], *, chars: bool = True) -> TaggingPipeline:
    words = Vocab.build([["the", "dog"]])
    char_vocab = build_char_vocab([["the", "dog"]]) if chars else None
    config = TaggerConfig(vocab_size=len(words), num_labels=len(labels), embedding_dim=4, hidden_size=4,
                          num_layers=1, char_encoder="cnn" if chars else "none",
                          char_vocab_size=len(char_vocab) if chars else 0, char_embedding_dim=4, char_hidden_size=4)
    scheme = "iob2" if any(label.startswith("B-") for label in labels) else "none"
    return TaggingPipeline(SequenceTagger(config), words, Vocab.build_labels([labels]), chars=char_vocab,
                           scheme=scheme)


def test_a_bundle_without_its_character_vocabulary_names_the_missing_file(tmp_path):
    tiny_tagger(["DET", "NOUN"]).save_pretrained(tmp_path / "model")
    (tmp_path / "model" / "chars.vocab.json").unlink()
    with pytest.raises(BundleError, match=r"has no chars\.vocab\.json \(the character vocabulary of its 'cnn'"):
        load_pipeline(tmp_path / "model")


def test_check_gold_labels_counts_a_few_unknown_labels(caplog):
    with caplog.at_level(logging.WARNING, logger="lstm_nlp"):
        assert check_gold_labels(["DET", "NOUN", "NOUN", "INTJ"], ["DET", "NOUN"], what="tag") == 1
    assert "1 gold tag(s) are not in the model's tag set (INTJ)" in caplog.text


@pytest.mark.parametrize("gold, known", [
    (["NOUN", "VERB", "DET"], ["O", "B-PER", "I-PER"]),                            # NER model, POS data
    (["O"] * 50 + ["B-PER", "I-PER", "B-LOC"], ["O", "B-NP", "I-NP", "B-VP"]),     # chunker, NER data: mostly O
])
def test_check_gold_labels_refuses_data_made_for_another_model(gold, known):
    with pytest.raises(DataFormatError, match="the data does not match the model's tag set.*the model knows 'O'"):
        check_gold_labels(gold, known, what="tag")


def test_evaluate_a_ner_model_on_a_pos_file_is_a_clear_error(sample_dir):
    """It used to end in seqeval's ``KeyError: 'P'``."""
    ner = tiny_tagger(["O", "B-PER", "I-PER"])
    with pytest.raises(DataFormatError, match="does not match the model's tag set.*'NOUN'"):
        ner.evaluate(ner.read_labelled(sample_dir / "pos" / "dev.conllu"))


def test_evaluate_a_pos_model_on_a_conll03_file_is_a_clear_error(sample_dir):
    """It used to "succeed" with accuracy 0.0."""
    pos = tiny_tagger(["DET", "NOUN", "VERB"])
    with pytest.raises(DataFormatError, match="does not match the model's tag set"):
        pos.evaluate(pos.read_labelled(sample_dir / "ner" / "dev.txt"))
