"""Parsing predict bodies: every malformed body is a 4xx ApiError whose message says what is wrong."""

from __future__ import annotations

import json

import pytest

from lstm_nlp.serving.limits import ApiError, Limits
from lstm_nlp.serving.requests import ModelInfo, parse_predict

TAGGER = ModelInfo("sequence_tagger", ("O", "B-LOC", "I-LOC"), scheme="iob2", crf=False)
CRF = ModelInfo("sequence_tagger", ("O", "B-LOC", "I-LOC"), scheme="iob2", crf=True)
CLASSIFIER = ModelInfo("text_classifier", ("neg", "pos"))
LIMITS = Limits(max_texts=3, max_text_chars=20, max_top_k=5)


def refused(body: bytes | object, model: ModelInfo = TAGGER) -> ApiError:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    with pytest.raises(ApiError) as caught:
        parse_predict(raw, LIMITS, model)
    return caught.value


def test_texts_and_tokens_are_taken_as_given():
    request = parse_predict(b'{"texts": ["The dog sleeps .", ""]}', LIMITS, TAGGER)
    assert request.kind == "text" and request.items == ("The dog sleeps .", "") and request.words == 4
    request = parse_predict(b'{"tokens": [["New York", "is"]], "probabilities": true}', LIMITS, TAGGER)
    assert request.kind == "tokens" and request.items == (("New York", "is"),) and request.probabilities


def test_conllu_input_becomes_its_sentences_tokens():
    document = ("# text = A cat\n1\tA\ta\tDET\tDT\t_\t2\tdet\t_\t_\n2\tcat\tcat\tNOUN\tNN\t_\t0\troot\t_\t_\n\n"
                "1\tHi\thi\tINTJ\tUH\t_\t0\troot\t_\t_\n")
    request = parse_predict(json.dumps({"conllu": document}).encode(), LIMITS, TAGGER)
    assert request.kind == "tokens" and request.items == (("A", "cat"), ("Hi",))
    conll = parse_predict(json.dumps({"conll": "Paris NNP\n. .\n"}).encode(), LIMITS, TAGGER)
    assert conll.items == (("Paris", "."),)


@pytest.mark.parametrize("body, status, code, words", [
    (b"\xff\xfe{}", 400, "invalid_utf8", "byte 0"),
    (b'{"texts": ["caf\xc3"]}', 400, "invalid_utf8", "byte 15"),
    (b"", 400, "invalid_json", "empty"),
    (b'{"texts": [', 400, "invalid_json", "line 1 column 12"),
    (b"[" * 100_000 + b"]" * 100_000, 400, "invalid_json", "nested too deeply"),
    (b'["a"]', 422, "invalid_request", "JSON object"),
    (b'{"text": ["a"]}', 422, "invalid_request", "'text'"),
    (b'{"texts": ["a"], "tokens": [["a"]]}', 422, "invalid_request", "exactly one"),
    (b"{}", 422, "invalid_request", "exactly one"),
    (b'{"texts": "one text"}', 422, "invalid_request", "wrap it in"),
    (b'{"texts": [1]}', 422, "invalid_request", "item 0 is a number"),
    (b'{"tokens": ["a", "b"]}', 422, "invalid_request", "one sentence?"),
    (b'{"tokens": [["a", null]]}', 422, "invalid_request", "null token"),
    (b'{"conllu": ["a"]}', 422, "invalid_request", "one string"),
    (b'{"conllu": "1\\tonly two columns"}', 422, "invalid_request", "conllu:1"),
    (b'{"texts": ["a"], "probabilities": "yes"}', 422, "invalid_request", "true or false"),
    (b'{"texts": ["a"], "top_k": 0}', 422, "invalid_request", "positive integer"),
    (b'{"texts": ["a"], "top_k": 2}', 422, "invalid_request", "CRF"),
    (b'{"texts": ["a", "b", "c", "d"]}', 413, "too_many_texts", "max_texts = 3"),
    (b'{"tokens": [[], [], [], []]}', 413, "too_many_texts", "--max-texts"),
    (b'{"texts": ["' + b"x" * 21 + b'"]}', 413, "text_too_long", "text 0 has 21 characters"),
    (b'{"tokens": [["' + b"x" * 10 + b'", "' + b"y" * 10 + b'"]]}', 413, "text_too_long", "max_text_chars = 20"),
])
def test_malformed_bodies_are_4xx_with_a_message(body, status, code, words):
    error = refused(body)
    assert (error.status, error.code) == (status, code) and words in error.message, error.message
    assert 400 <= error.status < 500


def test_limit_errors_name_the_limit():
    assert refused({"texts": ["a"] * 4}).limit == "max_texts"
    assert refused({"texts": ["x" * 21]}).limit == "max_text_chars"
    assert refused({"texts": ["a"], "top_k": 6}, CRF).limit == "max_top_k"


def test_a_classifier_takes_texts_only_and_no_tagger_options():
    assert "a text classifier takes 'texts'" in refused({"tokens": [["a"]]}, CLASSIFIER).message
    assert "apply to taggers" in refused({"texts": ["a"], "probabilities": True}, CLASSIFIER).message
    assert parse_predict(b'{"texts": ["fine"]}', LIMITS, CLASSIFIER).items == ("fine",)
