"""Uncertainty ranking of taggers and classifiers, and the annotation tasks written from it."""

import math

import pytest
import torch

from lstm_nlp.data import Vocab
from lstm_nlp.data.annotations import token_offsets
from lstm_nlp.errors import ConfigError
from lstm_nlp.pipelines.ranking import annotation_tasks, measure, rank, token_distributions, uncertainty_scores


def test_measures_of_a_sure_and_of_a_uniform_distribution():
    p = torch.tensor([[1.0, 0.0, 0.0], [1 / 3, 1 / 3, 1 / 3], [0.5, 0.3, 0.2]])
    third = -(0.5 * math.log(0.5) + 0.3 * math.log(0.3) + 0.2 * math.log(0.2))
    assert measure(p, "entropy").tolist() == pytest.approx([0.0, math.log(3), third])
    assert measure(p, "least-confidence").tolist() == pytest.approx([0.0, 2 / 3, 0.5])
    assert measure(p, "margin").tolist() == pytest.approx([0.0, 1.0, 0.8])
    with pytest.raises(ConfigError, match="uncertainty measure must be one of entropy, margin, least-confidence"):
        measure(p, "variance")


@pytest.mark.parametrize("head", ["crf", "softmax"])
def test_token_distributions_are_the_probabilities_predict_gives(tiny_ner_tagger, head):
    pipeline = tiny_ner_tagger(head)
    pipeline.temperature = 1.7  # calibrated probabilities, as the bundle's temperature gives
    sentences = [["Maria", "visited", "Oslo"], [], ["Acme"]]
    distributions = token_distributions(pipeline, sentences)
    assert distributions[1] is None and distributions[0].shape == (3, len(pipeline.labels))
    assert distributions[0].sum(-1).tolist() == pytest.approx([1.0] * 3, abs=1e-5)
    tags, chosen = pipeline.predict_probabilities([sentences[0], sentences[2]])
    for d, seq, p in zip([distributions[0], distributions[2]], tags, chosen):
        ids = [pipeline.labels.stoi[t] for t in seq]
        assert d[torch.arange(len(ids)), ids].tolist() == pytest.approx(p, abs=1e-5)


def test_aggregates_and_the_ranking_order(tiny_ner_tagger):
    pipeline = tiny_ner_tagger()
    sentences = [["Maria", "Lopez", "visited", "Paris", "."], ["Zorblat", "quenched", "Vurmish"], [],
                 ["Acme", "sold", "it"]]
    per_token = [None if d is None else measure(d, "entropy") for d in token_distributions(pipeline, sentences)]
    for how, reduce in (("mean", torch.mean), ("max", torch.max), ("sum", torch.sum)):
        expected = [0.0 if t is None else float(reduce(t)) for t in per_token]
        assert uncertainty_scores(pipeline, sentences, aggregate=how) == pytest.approx(expected, rel=1e-6)
    ranked = rank(pipeline, sentences, by="entropy")
    assert ranked[0].index == 1  # the unseen words, least sure
    assert [r.score for r in ranked] == sorted((r.score for r in ranked), reverse=True)
    assert ranked[-1] == type(ranked[-1])(2, 0.0)  # an empty sentence: nothing to annotate
    assert len(rank(pipeline, sentences, top=2)) == 2 and len(rank(pipeline, sentences, top=99)) == 4
    with pytest.raises(ConfigError, match="top must be >= 1"):
        rank(pipeline, sentences, top=0)
    with pytest.raises(ConfigError, match="aggregate must be one of mean, max, sum"):
        rank(pipeline, sentences, aggregate="median")


def test_a_classifier_is_ranked_by_its_class_probabilities():
    from lstm_nlp.data.tokenizers import TextTokenizer
    from lstm_nlp.models import ClassifierConfig, TextClassifier
    from lstm_nlp.pipelines import ClassificationPipeline

    torch.manual_seed(0)
    words = Vocab.build([["a", "great", "dull", "film"]])
    model = TextClassifier(ClassifierConfig(vocab_size=len(words), num_labels=2, embedding_dim=4, hidden_size=4))
    pipeline = ClassificationPipeline(model, words, Vocab.build_labels(["neg", "pos"]), TextTokenizer("spacy"))
    texts = ["a great film", "a dull film", "film"]
    probabilities = pipeline.predict_examples(pipeline.featurize(texts))
    assert uncertainty_scores(pipeline, texts, by="least-confidence") == pytest.approx(
        (1 - probabilities.max(-1).values).tolist())
    tasks = annotation_tasks(pipeline, texts, rank(pipeline, texts, top=1), format="label-studio")
    result = tasks[0]["predictions"][0]["result"]
    assert result[0]["type"] == "choices" and result[0]["value"]["choices"][0] in ("neg", "pos")
    assert annotation_tasks(pipeline, texts, rank(pipeline, texts), format="doccano")[0]["label"][0] in ("neg", "pos")


@pytest.mark.parametrize("head", ["crf", "softmax"])
def test_tasks_hold_the_predicted_spans_at_character_offsets(tiny_ner_tagger, head):
    pipeline = tiny_ner_tagger(head)
    texts = ["😀 Maria Lopez visited Paris.", "Acme sold it"]
    offsets = [token_offsets(t) for t in texts]
    ranked = rank(pipeline, [[t[a:b] for a, b in o] for t, o in zip(texts, offsets)])
    tasks = annotation_tasks(pipeline, texts, ranked, format="label-studio", offsets=offsets, lines=[4, 9])
    first = tasks[0]
    assert first["data"]["line"] in (4, 9) and first["data"]["uncertainty"] == pytest.approx(ranked[0].score, abs=1e-6)
    regions = [r for task in tasks for r in task["predictions"][0]["result"]]
    assert {r["value"]["text"] for r in regions} >= {"Maria Lopez", "Acme"}
    for task in tasks:
        for region in task["predictions"][0]["result"]:
            value = region["value"]
            assert task["data"]["text"][value["start"]:value["end"]] == value["text"]
            assert 0 < region["score"] <= 1 + 1e-6
    doccano = annotation_tasks(pipeline, texts, ranked, format="doccano", offsets=offsets)
    assert any(label[2] == "PER" and texts[0][label[0]:label[1]] == "Maria Lopez"
               for record in doccano for label in record["label"])
    with pytest.raises(ConfigError, match="format must be"):
        annotation_tasks(pipeline, texts, ranked, format="brat", offsets=offsets)
