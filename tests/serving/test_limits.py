"""Limits: checked values; errors are one JSON object naming the code and, for a limit, the limit and its option."""

from __future__ import annotations

import json

import pytest

from lstm_nlp.serving.limits import ApiError, Limits, limit_error


def test_a_limit_error_names_the_limit_its_value_and_its_option():
    error = limit_error(413, "too_many_texts", "max_texts", 256, "the request has 300 texts")
    body = json.loads(error.body())
    assert error.status == 413 and body["error"]["code"] == "too_many_texts" and body["error"]["limit"] == "max_texts"
    assert "max_texts = 256" in body["error"]["message"] and "--max-texts" in body["error"]["message"]


def test_an_error_without_a_limit_has_no_limit_field():
    assert json.loads(ApiError(400, "invalid_json", "x").body()) == {"error": {"code": "invalid_json", "message": "x"}}


@pytest.mark.parametrize("field", ["max_body_bytes", "max_texts", "max_text_chars", "max_queue", "max_top_k",
                                   "request_timeout_s"])
def test_limits_refuse_values_that_would_refuse_everything(field):
    with pytest.raises(ValueError, match=field):
        Limits(**{field: 0})
