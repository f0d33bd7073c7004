"""Evaluation metrics: token accuracy and seqeval reports.

For BIO-tagged tasks (NER, chunking) seqeval scores whole entities (strict IOB2). For tag sets
without BIO prefixes (POS), each token is scored as a one-token entity of its tag, which makes
seqeval's per-tag precision/recall/F1 the usual per-class token scores.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from seqeval.metrics import classification_report, f1_score, precision_score, recall_score
from seqeval.scheme import IOB2

TagScheme = Literal["token", "iob2"]


def token_accuracy(gold: Sequence[Sequence[str]], predicted: Sequence[Sequence[str]]) -> float:
    """Fraction of tokens whose predicted tag equals the gold tag."""
    _check_aligned(gold, predicted)
    total = sum(len(g) for g in gold)
    correct = sum(g == p for gs, ps in zip(gold, predicted) for g, p in zip(gs, ps))
    return correct / total if total else 0.0


def _check_aligned(gold, predicted) -> None:
    if len(gold) != len(predicted):
        raise ValueError(f"{len(gold)} gold sentences but {len(predicted)} predicted")
    for i, (g, p) in enumerate(zip(gold, predicted)):
        if len(g) != len(p):
            raise ValueError(f"sentence {i}: {len(g)} gold tags but {len(p)} predicted")


def _as_single_token_entities(sequences: Sequence[Sequence[str]]) -> list[list[str]]:
    return [[f"B-{tag}" for tag in seq] for seq in sequences]


def tagging_metrics(
    gold: Sequence[Sequence[str]], predicted: Sequence[Sequence[str]], *, scheme: TagScheme = "token"
) -> dict:
    """Scores predicted tag sequences against gold ones.

    Args:
        gold: Gold tags per sentence.
        predicted: Predicted tags per sentence (same lengths).
        scheme: ``"token"`` (POS-style tags, per-class token scores) or ``"iob2"`` (entity-level,
            seqeval ``mode="strict"``, ``scheme=IOB2``).

    Returns:
        ``{"accuracy", "precision", "recall", "f1", "per_tag": {tag: {precision, recall, f1, support}},
        "report": str}`` (precision/recall/F1 are micro averages).
    """
    _check_aligned(gold, predicted)
    if scheme == "token":
        g, p = _as_single_token_entities(gold), _as_single_token_entities(predicted)
        kwargs = {}
    elif scheme == "iob2":
        g, p = [list(s) for s in gold], [list(s) for s in predicted]
        kwargs = {"mode": "strict", "scheme": IOB2}
    else:
        raise ValueError(f"scheme must be 'token' or 'iob2', got {scheme!r}")
    report_dict = classification_report(g, p, output_dict=True, zero_division=0, **kwargs)
    per_tag = {
        tag: {"precision": v["precision"], "recall": v["recall"], "f1": v["f1-score"], "support": int(v["support"])}
        for tag, v in report_dict.items() if not tag.endswith(" avg")
    }
    return {
        "accuracy": token_accuracy(gold, predicted),
        "precision": precision_score(g, p, zero_division=0, **kwargs),
        "recall": recall_score(g, p, zero_division=0, **kwargs),
        "f1": f1_score(g, p, zero_division=0, **kwargs),
        "per_tag": per_tag,
        "report": classification_report(g, p, digits=4, zero_division=0, **kwargs),
        "confusion": confusion_counts([t for s in gold for t in s], [t for s in predicted for t in s]),
    }


def confusion_counts(gold: Sequence[str], predicted: Sequence[str]) -> dict:
    """Confusion matrix of flat label lists: ``{"labels": [...], "matrix": [[count]]}``, rows gold, columns predicted."""
    labels = sorted(set(gold) | set(predicted))
    position = {label: i for i, label in enumerate(labels)}
    matrix = [[0] * len(labels) for _ in labels]
    for g, p in zip(gold, predicted):
        matrix[position[g]][position[p]] += 1
    return {"labels": labels, "matrix": matrix}
