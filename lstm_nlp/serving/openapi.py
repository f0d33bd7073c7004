"""The shapes of the API's bodies, for its OpenAPI description (``/openapi.json``, ``/docs``).

Requests are parsed by :mod:`lstm_nlp.serving.requests`, which gives clearer errors than a schema
validator would; these models only describe what it takes and what the service answers.
"""

from __future__ import annotations

from pydantic import BaseModel, Field


class PredictBody(BaseModel):
    """Exactly one of ``texts``, ``tokens``, ``conllu``, ``conll``; the options apply to taggers."""

    texts: list[str] | None = Field(None, description="raw text lines (taggers: spaCy English tokenization)",
                                    examples=[["The quick brown fox jumps over the lazy dog."]])
    tokens: list[list[str]] | None = Field(None, description="taggers: pre-tokenized sentences, taken as they are")
    conllu: str | None = Field(None, description="taggers: a CoNLL-U document; its sentences are tagged")
    conll: str | None = Field(None, description="taggers: a CoNLL document (whitespace columns, the model's "
                                                "token column)")
    probabilities: bool = Field(False, description="taggers: each chosen tag's probability (and CRF span "
                                                   "probabilities)")
    top_k: int | None = Field(None, ge=1, description="CRF taggers: the K best tag sequences")


class Span(BaseModel):
    start: int
    end: int = Field(description="exclusive")
    label: str
    probability: float


class Candidate(BaseModel):
    tags: list[str]
    score: float
    probability: float


class TaggerRecord(BaseModel):
    """One sentence, as ``lstm-nlp predict --output-format jsonl`` writes it."""

    tokens: list[str]
    tags: list[str]
    probabilities: list[float] | None = None
    spans: list[Span] | None = None
    top_k: list[Candidate] | None = None


class ClassifierRecord(BaseModel):
    """One text, as ``lstm-nlp predict --output-format jsonl`` writes it."""

    label: str
    probabilities: dict[str, float]


class PredictAnswer(BaseModel):
    results: list[TaggerRecord | ClassifierRecord] = Field(description="one record per input text, in order")


class ErrorDetail(BaseModel):
    code: str = Field(examples=["too_many_texts"])
    message: str
    limit: str | None = Field(None, description="the limit that was reached, when one was")


class ErrorAnswer(BaseModel):
    error: ErrorDetail


class Health(BaseModel):
    status: str = Field(description="ok, loading, failed or draining")
    model_type: str | None = None
    error: str | None = None
