"""Evaluation metrics: token accuracy and seqeval reports for taggers; accuracy/P/R/F1 for classifiers.

For BIO-tagged tasks (NER, chunking) seqeval scores whole entities (strict IOB2). For tag sets
without BIO prefixes (POS), each token is scored as a one-token entity of its tag, which makes
seqeval's per-tag precision/recall/F1 the usual per-class token scores. seqeval (and through it
scikit-learn, about a second) is imported on first use, so predicting never pays for it.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

from lstm_nlp.errors import DataFormatError
from lstm_nlp.tags import TagScheme, check_scheme, to_spans


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


def _check_bio(sequences: Sequence[Sequence[str]], what: str) -> None:
    """seqeval raises a bare ``KeyError`` on a tag that is not ``O``, ``B-X`` or ``I-X``: name it instead."""
    for tag in {t for seq in sequences for t in seq}:
        if tag != "O" and not (len(tag) > 2 and tag[:2] in ("B-", "I-")):
            raise DataFormatError(f"{what} tag {tag!r} is not an IOB2 tag (O, B-TYPE or I-TYPE); "
                                  "span scores need IOB2 tags (use scheme 'none' for POS-like tags)")


def tagging_metrics(
    gold: Sequence[Sequence[str]], predicted: Sequence[Sequence[str]], *, scheme: TagScheme = "none"
) -> dict:
    """Scores predicted tag sequences against gold ones.

    Args:
        gold: Gold tags per sentence.
        predicted: Predicted tags per sentence (same lengths).
        scheme: ``"none"`` (POS-style tags: token accuracy, per-class token scores and their macro
            F1) or ``"iob2"`` (spans: seqeval ``mode="strict"``, ``scheme=IOB2``, micro
            precision/recall/F1 over spans). See :mod:`lstm_nlp.tags`.

    Returns:
        ``{"accuracy", "per_tag": {tag: {precision, recall, f1, support}}, "report": str,
        "confusion": {"labels", "matrix"}}`` plus ``"precision", "recall", "f1"`` (spans) for
        ``"iob2"`` or ``"macro_f1"`` for ``"none"`` (micro precision/recall/F1 over tokens would
        only repeat the accuracy). For ``"iob2"`` also ``"precision_conlleval"``,
        ``"recall_conlleval"``, ``"f1_conlleval"``: the spans as the CoNLL shared tasks' conlleval
        script reads them, where a stray ``I-X`` (after ``O`` or another type) opens a span. The
        strict figures (seqeval) count no span there. On well-formed sequences, e.g. from a CRF
        with constrained decoding, both are equal.

    Raises:
        DataFormatError: with ``"iob2"``, a tag that is not ``O``/``B-X``/``I-X``.
    """
    from seqeval.metrics import classification_report, f1_score, precision_score, recall_score  # ~1 s of imports
    from seqeval.scheme import IOB2

    _check_aligned(gold, predicted)
    scheme = check_scheme(scheme, allowed=("none", "iob2"))
    if scheme == "none":
        g, p = _as_single_token_entities(gold), _as_single_token_entities(predicted)
        kwargs = {}
    else:
        _check_bio(gold, "gold")
        _check_bio(predicted, "predicted")
        g, p = [list(s) for s in gold], [list(s) for s in predicted]
        kwargs = {"mode": "strict", "scheme": IOB2}
    with warnings.catch_warnings():  # numpy's "mean of empty slice" when there is no span at all
        warnings.simplefilter("ignore", RuntimeWarning)
        report_dict = classification_report(g, p, output_dict=True, zero_division=0, **kwargs)
    per_tag = {
        tag: {"precision": v["precision"], "recall": v["recall"], "f1": v["f1-score"], "support": int(v["support"])}
        for tag, v in report_dict.items() if not tag.endswith(" avg")
    }
    metrics = {"accuracy": token_accuracy(gold, predicted)}
    if scheme == "iob2":
        metrics.update(precision=precision_score(g, p, zero_division=0, **kwargs),
                       recall=recall_score(g, p, zero_division=0, **kwargs),
                       f1=f1_score(g, p, zero_division=0, **kwargs))
        metrics.update({f"{k}_conlleval": v for k, v in conlleval_scores(gold, predicted).items()})
    else:
        metrics["macro_f1"] = report_dict["macro avg"]["f1-score"] if "macro avg" in report_dict else 0.0
    # seqeval's text report fails (max() of an empty sequence) when no span exists on either side
    report = (classification_report(g, p, digits=4, zero_division=0, **kwargs) if per_tag
              else "no spans in the gold or the predicted tags (every tag is O): nothing to report per type\n")
    if scheme == "iob2":
        report += (f"\nspans, strict IOB2 (seqeval; a stray I-X is no span): F1 {100 * metrics['f1']:.2f}\n"
                   f"spans, as conlleval reads them (a stray I-X opens one):  F1 {100 * metrics['f1_conlleval']:.2f}\n")
    metrics.update(per_tag=per_tag, report=report,
                   confusion=confusion_counts([t for s in gold for t in s], [t for s in predicted for t in s]))
    return metrics


def conlleval_scores(gold: Sequence[Sequence[str]], predicted: Sequence[Sequence[str]]) -> dict[str, float]:
    """Micro precision/recall/F1 over spans read as conlleval reads IOB2 (see :func:`lstm_nlp.tags.to_spans`)."""
    gold_spans = {(i, *span) for i, tags in enumerate(gold) for span in to_spans(tags, "iob2")}
    predicted_spans = {(i, *span) for i, tags in enumerate(predicted) for span in to_spans(tags, "iob2")}
    correct = len(gold_spans & predicted_spans)
    precision = correct / len(predicted_spans) if predicted_spans else 0.0
    recall = correct / len(gold_spans) if gold_spans else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1}


def confusion_counts(gold: Sequence[str], predicted: Sequence[str]) -> dict:
    """Confusion matrix of flat label lists: ``{"labels": [...], "matrix": [[count]]}``, rows gold, columns predicted."""
    labels = sorted(set(gold) | set(predicted))
    position = {label: i for i, label in enumerate(labels)}
    matrix = [[0] * len(labels) for _ in labels]
    for g, p in zip(gold, predicted):
        matrix[position[g]][position[p]] += 1
    return {"labels": labels, "matrix": matrix}


def classification_metrics(gold: Sequence[str], predicted: Sequence[str], *, labels: Sequence[str],
                           positive_label: str | None = None) -> dict:
    """Accuracy, precision, recall and F1 of predicted classes.

    Args:
        gold: Gold class per example.
        predicted: Predicted class per example.
        labels: All classes (the report lists each, even without examples).
        positive_label: Binary tasks: the class whose precision/recall/F1 are reported. ``None``:
            macro averages over ``labels``.

    Returns:
        ``{"accuracy", "precision", "recall", "f1", "per_label": {label: {precision, recall, f1,
        support}}, "report": str, "confusion": {"labels", "matrix"}}`` (rows gold, columns predicted).
    """
    if len(gold) != len(predicted):
        raise ValueError(f"{len(gold)} gold labels but {len(predicted)} predicted")
    per_label = {}
    for label in labels:
        tp = sum(g == label and p == label for g, p in zip(gold, predicted))
        fp = sum(g != label and p == label for g, p in zip(gold, predicted))
        fn = sum(g == label and p != label for g, p in zip(gold, predicted))
        precision = tp / (tp + fp) if tp + fp else 0.0
        recall = tp / (tp + fn) if tp + fn else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        per_label[label] = {"precision": precision, "recall": recall, "f1": f1, "support": tp + fn}
    if positive_label is not None:
        summary = per_label[positive_label]
        averaged = {k: summary[k] for k in ("precision", "recall", "f1")}
        scope = f"binary, positive class {positive_label!r}"
    else:
        averaged = {k: sum(v[k] for v in per_label.values()) / len(per_label) for k in ("precision", "recall", "f1")}
        scope = "macro average"
    accuracy = sum(g == p for g, p in zip(gold, predicted)) / len(gold) if gold else 0.0
    width = max(12, *(len(label) for label in labels))
    lines = [f"{'':>{width}} {'precision':>10} {'recall':>10} {'f1':>10} {'support':>9}"]
    lines += [f"{label:>{width}} {v['precision']:>10.4f} {v['recall']:>10.4f} {v['f1']:>10.4f} {v['support']:>9d}"
              for label, v in per_label.items()]
    lines += ["", f"{'accuracy':>{width}} {accuracy:>10.4f} {'':>21} {len(gold):>9d}",
              f"{'reported':>{width}} {averaged['precision']:>10.4f} {averaged['recall']:>10.4f} "
              f"{averaged['f1']:>10.4f}   ({scope})"]
    return {"accuracy": accuracy, **averaged, "per_label": per_label, "report": "\n".join(lines),
            "confusion": confusion_counts(gold, predicted)}
