"""Parsing a ``POST /v1/predict`` body into a :class:`PredictRequest`, or an :class:`ApiError` saying why not.

The body is a JSON object with exactly one input field:

* ``texts``: raw text lines (taggers tokenize them with spaCy; classifiers classify them);
* ``tokens``: pre-tokenized sentences, each a list of strings (taggers), taken as they are;
* ``conllu`` / ``conll``: a CoNLL-U or CoNLL (whitespace columns) document as one string (taggers);
  its sentences are tagged like ``tokens``;

and, for taggers, ``probabilities`` (bool) and ``top_k`` (int, CRF heads). Anything else is refused
with a message naming the field, so that a typo (``"text"``) is not silently ignored.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Literal

from lstm_nlp.serving.limits import ApiError, Limits, limit_error

INPUT_FIELDS = ("texts", "tokens", "conllu", "conll")
OPTION_FIELDS = ("probabilities", "top_k")


@dataclass(frozen=True)
class ModelInfo:
    """What the loaded model accepts (from its pipeline), for checking requests before they queue.

    Attributes:
        model_type: ``"sequence_tagger"`` or ``"text_classifier"``.
        labels: Its tags or classes.
        scheme: A tagger's tag scheme (``"none"`` for POS-like tags), ``None`` for a classifier.
        crf: Whether a tagger has a CRF head (``top_k``, span probabilities).
        token_column: The word column of CoNLL input.
    """

    model_type: str
    labels: tuple[str, ...]
    scheme: str | None = None
    crf: bool = False
    token_column: int = 0

    @property
    def is_tagger(self) -> bool:
        return self.model_type == "sequence_tagger"

    def as_json(self) -> dict:
        info: dict[str, Any] = {"model_type": self.model_type, "labels": list(self.labels)}
        if self.is_tagger:
            info.update(scheme=self.scheme, head="crf" if self.crf else "softmax")
        return info


@dataclass(frozen=True)
class PredictRequest:
    """A checked request: ``kind`` ``"text"`` (raw lines) or ``"tokens"`` (token lists), and the tagger options."""

    kind: Literal["text", "tokens"]
    items: tuple
    probabilities: bool = False
    top_k: int | None = None

    @property
    def words(self) -> int:
        """Its size in words (tokens, or whitespace-separated words of raw text), at least 1: what batches count."""
        if self.kind == "tokens":
            return max(1, sum(len(tokens) for tokens in self.items))
        return max(1, sum(len(text.split()) for text in self.items))

    @property
    def options(self) -> tuple[str, bool, int | None]:
        """What must be the same for requests to share a model call."""
        return self.kind, self.probabilities, self.top_k


def decode_json(body: bytes) -> Any:
    """The JSON value of ``body``; 400 ``invalid_utf8`` / ``invalid_json`` with the position when it is not."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as err:
        raise ApiError(400, "invalid_utf8", f"the body is not UTF-8: byte {err.start} (0x{body[err.start]:02x}) "
                                            "cannot be decoded") from None
    if not text.strip():
        raise ApiError(400, "invalid_json", 'the body is empty; send a JSON object such as {"texts": ["..."]}')
    try:
        return json.loads(text)
    except json.JSONDecodeError as err:
        raise ApiError(400, "invalid_json", f"the body is not valid JSON: {err.msg} at line {err.lineno} column "
                                            f"{err.colno}") from None
    except RecursionError:  # [[[[...]]]] nested deeper than the parser's stack
        raise ApiError(400, "invalid_json", "the body is not valid JSON: nested too deeply") from None


def parse_predict(body: bytes, limits: Limits, model: ModelInfo) -> PredictRequest:
    """Checks a predict body against the limits and what ``model`` takes.

    Raises:
        ApiError: 400 (not UTF-8, not JSON), 413 (a limit: too many texts, a text too long) or
            422 (a field of the wrong type, a missing or unknown field, an option the model does not take).
    """
    value = decode_json(body)
    if not isinstance(value, dict):
        raise _invalid(f"the body must be a JSON object such as {{\"texts\": [\"...\"]}}, not a {_kind(value)}")
    unknown = sorted(set(value) - set(INPUT_FIELDS) - set(OPTION_FIELDS))
    if unknown:
        raise _invalid(f"unknown field(s) {', '.join(map(repr, unknown))}; a request has one of "
                       f"{', '.join(INPUT_FIELDS)} and, for taggers, probabilities and top_k")
    given = [name for name in INPUT_FIELDS if name in value]
    if len(given) != 1:
        raise _invalid(f"give exactly one of {', '.join(INPUT_FIELDS)}"
                       + (f"; got {', '.join(given)}" if given else ""))
    name = given[0]
    if name != "texts" and not model.is_tagger:
        raise _invalid(f"{name!r} input is for taggers; a text classifier takes 'texts'")
    probabilities, top_k = _options(value, model, limits)
    if name == "texts":
        return PredictRequest("text", _texts(value[name], limits), probabilities, top_k)
    if name == "tokens":
        return PredictRequest("tokens", _sentences(value[name], limits), probabilities, top_k)
    return PredictRequest("tokens", _conll(value[name], name, limits, model), probabilities, top_k)


def _options(value: dict, model: ModelInfo, limits: Limits) -> tuple[bool, int | None]:
    probabilities = value.get("probabilities", False)
    top_k = value.get("top_k")
    if not isinstance(probabilities, bool):
        raise _invalid(f"'probabilities' must be true or false, not a {_kind(probabilities)}")
    if top_k is not None and (not isinstance(top_k, int) or isinstance(top_k, bool) or top_k < 1):
        raise _invalid(f"'top_k' must be a positive integer, not {json.dumps(top_k)}")
    if not model.is_tagger and (probabilities or top_k is not None):
        raise _invalid("'probabilities' and 'top_k' apply to taggers; a text classifier always returns every "
                       "class's probability")
    if top_k is not None:
        if not model.crf:
            raise _invalid("'top_k' needs a CRF tagger; this one has a softmax head")
        if top_k > limits.max_top_k:
            raise limit_error(413, "top_k_too_large", "max_top_k", limits.max_top_k,
                              f"'top_k' is {top_k}, more than the service computes")
    return probabilities, top_k


def _texts(texts: Any, limits: Limits) -> tuple[str, ...]:
    if not isinstance(texts, list):
        raise _invalid(f"'texts' must be a list of strings, not a {_kind(texts)}"
                       + (': wrap it in [ ]' if isinstance(texts, str) else ""))
    _check_count(len(texts), "texts", limits)
    for index, text in enumerate(texts):
        if not isinstance(text, str):
            raise _invalid(f"'texts' must be a list of strings; item {index} is a {_kind(text)}")
        _check_chars(len(text), f"text {index}", limits)
    return tuple(texts)


def _sentences(sentences: Any, limits: Limits) -> tuple[tuple[str, ...], ...]:
    example = '[["The", "dog", "barks"]]'
    if not isinstance(sentences, list):
        raise _invalid(f"'tokens' must be a list of sentences, each a list of strings ({example}), "
                       f"not a {_kind(sentences)}")
    _check_count(len(sentences), "sentences", limits)
    checked = []
    for index, tokens in enumerate(sentences):
        if not isinstance(tokens, list):
            raise _invalid(f"'tokens' must be a list of sentences, each a list of strings ({example}); item "
                           f"{index} is a {_kind(tokens)}" + (" (one sentence? wrap it in [ ])"
                                                               if isinstance(tokens, str) else ""))
        for token in tokens:
            if not isinstance(token, str):
                raise _invalid(f"'tokens': sentence {index} has a {_kind(token)} token; tokens are strings")
        _check_chars(sum(map(len, tokens)) + max(len(tokens) - 1, 0), f"sentence {index}", limits)
        checked.append(tuple(tokens))
    return tuple(checked)


def _conll(document: Any, kind: str, limits: Limits, model: ModelInfo) -> tuple[tuple[str, ...], ...]:
    from lstm_nlp.data.conll_blocks import read_blocks
    from lstm_nlp.errors import DataFormatError

    if not isinstance(document, str):
        raise _invalid(f"{kind!r} must be the document as one string, not a {_kind(document)}")
    lines = [line.removesuffix("\r") for line in document.removeprefix("\ufeff").split("\n")]
    try:
        sentences = [tuple(block.tokens) for block in read_blocks(lines, kind=kind, token_column=model.token_column,
                                                                   source=kind)]
    except DataFormatError as err:
        raise _invalid(str(err)) from None
    _check_count(len(sentences), "sentences", limits)
    for index, tokens in enumerate(sentences):
        _check_chars(sum(map(len, tokens)) + max(len(tokens) - 1, 0), f"sentence {index}", limits)
    return tuple(sentences)


def _check_count(count: int, what: str, limits: Limits) -> None:
    if count > limits.max_texts:
        raise limit_error(413, "too_many_texts", "max_texts", limits.max_texts,
                          f"the request has {count} {what}; split it into several requests")


def _check_chars(chars: int, what: str, limits: Limits) -> None:
    if chars > limits.max_text_chars:
        raise limit_error(413, "text_too_long", "max_text_chars", limits.max_text_chars,
                          f"{what} has {chars} characters; split it into shorter texts")


def _invalid(message: str) -> ApiError:
    return ApiError(422, "invalid_request", message)


def _kind(value: Any) -> str:
    """A JSON value's type in JSON's words."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    return {str: "string", int: "number", float: "number", list: "list", dict: "object"}.get(type(value), "value")
