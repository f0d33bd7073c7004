"""Evaluation metrics for taggers (token accuracy, per-tag scores, seqeval span reports) and classifiers.

For BIO-tagged tasks (NER, chunking) seqeval scores whole entities (strict IOB2). For tag sets
without BIO prefixes (POS) the per-tag precision/recall/F1 are the usual per-class token scores,
counted from the confusion matrix (what seqeval gives when each token is a one-token entity, about
10x faster, and without importing seqeval and scikit-learn, about a second). seqeval is imported on
first use, so predicting never pays for it.
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
    _check_aligned(gold, predicted)
    scheme = check_scheme(scheme, allowed=("none", "iob2"))
    confusion = confusion_counts([t for s in gold for t in s], [t for s in predicted for t in s])
    if scheme == "none":
        return _token_metrics(gold, predicted, confusion)
    return _span_metrics(gold, predicted, confusion)


def _token_metrics(gold: Sequence[Sequence[str]], predicted: Sequence[Sequence[str]], confusion: dict) -> dict:
    """:func:`tagging_metrics` for ``scheme="none"``: accuracy, per-tag token scores and their macro F1."""
    per_tag = token_class_scores(confusion)
    accuracy = token_accuracy(gold, predicted)
    averages = _macro_and_weighted(per_tag)
    report = score_table(per_tag, averages, accuracy=(accuracy, averages["macro avg"]["support"]))
    return {"accuracy": accuracy, "macro_f1": averages["macro avg"]["f1"], "per_tag": per_tag,
            "report": report, "confusion": confusion}


def _seqeval_rows(gold: Sequence[Sequence[str]], predicted: Sequence[Sequence[str]]) -> dict[str, dict]:
    """seqeval's strict IOB2 report: ``{type or "... avg": {precision, recall, f1, support}}``."""
    from seqeval.metrics import classification_report  # ~1 s of imports
    from seqeval.scheme import IOB2

    g, p = [list(s) for s in gold], [list(s) for s in predicted]
    # One seqeval pass: its report's micro average is precision_score/recall_score/f1_score (each of
    # which would extract every span again; strict IOB2 extraction is most of the time).
    with warnings.catch_warnings():  # numpy's "mean of empty slice" when there is no span at all
        warnings.simplefilter("ignore", RuntimeWarning)
        report_dict = classification_report(g, p, output_dict=True, zero_division=0, mode="strict", scheme=IOB2)
    return {name: {"precision": v["precision"], "recall": v["recall"], "f1": v["f1-score"],
                   "support": int(v["support"])}
            for name, v in report_dict.items()}


def _span_metrics(gold: Sequence[Sequence[str]], predicted: Sequence[Sequence[str]], confusion: dict) -> dict:
    """:func:`tagging_metrics` for ``scheme="iob2"``: span scores, strict (seqeval) and as conlleval reads them."""
    _check_bio(gold, "gold")
    _check_bio(predicted, "predicted")
    rows = _seqeval_rows(gold, predicted)
    per_tag = {name: v for name, v in rows.items() if not name.endswith(" avg")}
    averages = {name: v for name, v in rows.items() if name.endswith(" avg")}
    micro = averages.get("micro avg", {"precision": 0.0, "recall": 0.0, "f1": 0.0})
    metrics = {"accuracy": token_accuracy(gold, predicted),
               "precision": micro["precision"], "recall": micro["recall"], "f1": micro["f1"]}
    metrics.update({f"{k}_conlleval": v for k, v in conlleval_scores(gold, predicted).items()})
    report = (score_table(per_tag, averages) if per_tag
              else "no spans in the gold or the predicted tags (every tag is O): nothing to report per type\n")
    report += (f"\nspans, strict IOB2 (seqeval; a stray I-X is no span): F1 {100 * metrics['f1']:.2f}\n"
               f"spans, as conlleval reads them (a stray I-X opens one):  F1 {100 * metrics['f1_conlleval']:.2f}\n")
    metrics.update(per_tag=per_tag, report=report, confusion=confusion)
    return metrics


def token_class_scores(confusion: dict) -> dict[str, dict]:
    """Per-class precision/recall/F1/support (tokens or examples) from :func:`confusion_counts` (0 if undefined)."""
    labels, matrix = confusion["labels"], confusion["matrix"]
    predicted_totals = [sum(column) for column in zip(*matrix)] if matrix else []
    scores = {}
    for i, label in enumerate(labels):
        correct, support = matrix[i][i], sum(matrix[i])
        precision = correct / predicted_totals[i] if predicted_totals[i] else 0.0
        recall = correct / support if support else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        scores[label] = {"precision": precision, "recall": recall, "f1": f1, "support": support}
    return scores


def score_table(rows: dict[str, dict], averages: dict[str, dict], *, accuracy: tuple[float, int] | None = None) -> str:
    """A classification report: one line per tag, then an accuracy line (if given) and the averages.

    Args:
        rows: ``{tag: {precision, recall, f1, support}}``.
        averages: ``{"macro avg": {...}, ...}``, the same keys.
        accuracy: ``(accuracy, tokens)`` for token scores.
    """
    width = max(12, *(len(name) for name in [*rows, *averages]))
    lines = [f"{'':>{width}} {'precision':>9} {'recall':>9} {'f1-score':>9} {'support':>9}", ""]
    lines += [f"{name:>{width}} {v['precision']:>9.4f} {v['recall']:>9.4f} {v['f1']:>9.4f} {v['support']:>9d}"
              for name, v in rows.items()]
    lines.append("")
    if accuracy is not None:
        lines.append(f"{'accuracy':>{width}} {'':>9} {'':>9} {accuracy[0]:>9.4f} {accuracy[1]:>9d}")
    lines += [f"{name:>{width}} {v['precision']:>9.4f} {v['recall']:>9.4f} {v['f1']:>9.4f} {v['support']:>9d}"
              for name, v in averages.items()]
    return "\n".join(lines) + "\n"


def _macro_and_weighted(per_tag: dict[str, dict]) -> dict[str, dict]:
    """``{"macro avg", "weighted avg"}`` (by support) of per-tag scores; support: all tokens; 0 with no tags."""
    total = sum(v["support"] for v in per_tag.values())
    averages = {}
    supports = [v["support"] for v in per_tag.values()]
    for name, weights in (("macro avg", [1] * len(per_tag)), ("weighted avg", supports)):
        norm = sum(weights)
        averages[name] = {key: sum(w * v[key] for w, v in zip(weights, per_tag.values())) / norm if norm else 0.0
                          for key in ("precision", "recall", "f1")}
        averages[name]["support"] = total
    return averages


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
    """Confusion matrix of two label lists: ``{"labels": [...], "matrix": [[count]]}``, rows gold, columns predicted."""
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
    confusion = confusion_counts(gold, predicted)
    scores = token_class_scores(confusion)
    absent = {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 0}  # a label with no example either side
    per_label = {label: scores.get(label, dict(absent)) for label in labels}
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
            "confusion": confusion}
