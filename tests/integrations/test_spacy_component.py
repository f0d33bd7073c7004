"""The spaCy component, found through its entry point: POS tags, entities and categories on spacy.blank("en")."""

from __future__ import annotations

import pytest
import spacy
import torch

from lstm_nlp.data import Vocab
from lstm_nlp.data.series import Scaler
from lstm_nlp.data.tokenizers import TextTokenizer
from lstm_nlp.errors import ConfigError
from lstm_nlp.models import (ClassifierConfig, Forecaster, ForecasterConfig, SequenceTagger, TaggerConfig,
                             TextClassifier)
from lstm_nlp.pipelines import ClassificationPipeline, ForecastPipeline, TaggingPipeline

WORDS = Vocab.build([["the", "cat", "sat", "on", "mat", "."]])


def tagger_bundle(path, labels, *, scheme="none", always=None):
    config = TaggerConfig(vocab_size=len(WORDS), num_labels=len(labels), embedding_dim=4, hidden_size=4,
                          num_layers=1)
    model, label_vocab = SequenceTagger(config), Vocab.build_labels([labels])
    if always is not None:  # make the untrained model predict one tag everywhere
        with torch.no_grad():
            model.head.projection.bias[label_vocab.stoi[always]] = 100.0
    TaggingPipeline(model, WORDS, label_vocab, scheme=scheme).save_pretrained(path)
    return str(path)


def test_pos_model_sets_token_pos(tmp_path):
    nlp = spacy.blank("en")
    nlp.add_pipe("lstm_nlp_tagger", config={"model": tagger_bundle(tmp_path / "pos", ["DET", "NOUN", "VERB"])})
    doc = nlp("The cat sat.")
    assert [t.text for t in doc] == ["The", "cat", "sat", "."]  # spaCy's tokens, tagged as they are
    assert all(t.pos_ in ("DET", "NOUN", "VERB") for t in doc)


def test_ner_model_sets_doc_ents_and_pipe_batches(tmp_path):
    model = tagger_bundle(tmp_path / "ner", ["O", "B-PER", "I-PER"], scheme="iob2", always="B-PER")
    nlp = spacy.blank("en")
    nlp.add_pipe("lstm_nlp_tagger", config={"model": model, "batch_size": 2})
    docs = list(nlp.pipe(["The cat sat.", "On the mat", "the", "cat sat", "."], batch_size=2))
    assert [len(doc.ents) for doc in docs] == [4, 3, 1, 2, 1]  # B-PER on every token: one-token PER spans
    assert {ent.label_ for doc in docs for ent in doc.ents} == {"PER"}


def test_crf_ner_model_stores_span_probabilities_in_doc_spans(tmp_path):
    from lstm_nlp.modules.crf import allowed_transitions

    labels = Vocab.build_labels([["O", "B-PER", "I-PER"]])
    config = TaggerConfig(vocab_size=len(WORDS), num_labels=3, embedding_dim=4, hidden_size=4, num_layers=1,
                          head="crf")
    model = SequenceTagger(config, constraints=allowed_transitions(labels.itos))
    with torch.no_grad():
        model.head.projection.bias[labels.stoi["B-PER"]] = 3.0  # one-token PER spans, not certain ones
    TaggingPipeline(model, WORDS, labels, scheme="iob2").save_pretrained(tmp_path / "crf")
    nlp = spacy.blank("en")
    nlp.add_pipe("lstm_nlp_tagger", config={"model": str(tmp_path / "crf")})
    doc = nlp("The cat sat.")
    group = doc.spans["lstm_nlp_tagger"]
    assert [(s.start, s.end, s.label_) for s in group] == [(e.start, e.end, e.label_) for e in doc.ents]
    assert len(group) > 0 and len(group.attrs["scores"]) == len(group)
    expected = TaggingPipeline.from_pretrained(tmp_path / "crf").predict_spans([[t.text for t in doc]])[2][0]
    assert group.attrs["scores"] == pytest.approx([score for *_, score in expected])
    assert all(0 < score < 1 for score in group.attrs["scores"])


def test_classifier_sets_doc_cats(tmp_path):
    labels = Vocab.build_labels(["neg", "pos"])
    model = TextClassifier(ClassifierConfig(vocab_size=len(WORDS), num_labels=2, embedding_dim=4, hidden_size=4))
    ClassificationPipeline(model, WORDS, labels, TextTokenizer("spacy")).save_pretrained(tmp_path / "clf")
    nlp = spacy.blank("en")
    nlp.add_pipe("lstm_nlp_tagger", config={"model": str(tmp_path / "clf")})
    cats = nlp("This film is great").cats
    assert set(cats) == {"neg", "pos"} and sum(cats.values()) == pytest.approx(1.0)


def test_a_forecaster_or_no_model_is_a_clear_error(tmp_path):
    ForecastPipeline(Forecaster(ForecasterConfig(window=4, horizon=2, hidden_size=4), scaler=Scaler(0.0, 1.0))
                     ).save_pretrained(tmp_path / "fc")
    with pytest.raises(ConfigError, match="takes taggers and text classifiers"):
        spacy.blank("en").add_pipe("lstm_nlp_tagger", config={"model": str(tmp_path / "fc")})
    with pytest.raises(ConfigError, match="needs config"):
        spacy.blank("en").add_pipe("lstm_nlp_tagger")
