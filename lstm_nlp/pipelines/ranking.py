"""Uncertainty ranking: which inputs a tagger or classifier is least sure of (what to annotate next).

Each input gets one score from the model's calibrated probabilities (the bundle's temperature):

* a tagger's per-token distribution is the CRF's exact marginal ``P(tag_t = j | sentence)``
  (forward-backward over the sequences the tag scheme allows) or the softmax head's distribution;
* a classifier's is its class probabilities.

A measure turns one distribution into a number, higher = less sure:

* ``entropy``: ``-sum_j p_j log p_j`` (nats);
* ``margin``: ``1 - (p_1 - p_2)``, the two most likely values' gap, turned round;
* ``least-confidence``: ``1 - p_1``.

A sentence's score aggregates its tokens' (``aggregate``): ``mean`` (the default) does not favour
long sentences, whose total would grow with their length and so buy more tokens to annotate than a
random pick of the same number of sentences; ``max`` ranks by the single least sure token; ``sum``
by the total (picks long sentences, the most tokens per sentence annotated).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import torch

from lstm_nlp.batch import model_inputs
from lstm_nlp.device import move_batch
from lstm_nlp.errors import ConfigError

#: The uncertainty measures of :func:`uncertainty_scores` (``lstm-nlp rank --by``).
MEASURES = ("entropy", "margin", "least-confidence")
#: How a sentence's token scores become one (``lstm-nlp rank --aggregate``).
AGGREGATES = ("mean", "max", "sum")


def measure(probabilities: torch.Tensor, by: str) -> torch.Tensor:
    """The uncertainty of each distribution, higher = less sure.

    Args:
        probabilities: ``FloatTensor[..., classes]``, each row summing to 1.
        by: One of :data:`MEASURES`.

    Returns:
        ``FloatTensor[...]`` (the last dimension reduced).
    """
    if by == "entropy":
        return -(probabilities * probabilities.clamp_min(1e-30).log()).sum(-1)
    top = probabilities.topk(min(2, probabilities.shape[-1]), dim=-1).values
    if by == "least-confidence":
        return 1 - top[..., 0]
    if by == "margin":
        second = top[..., 1] if top.shape[-1] > 1 else torch.zeros_like(top[..., 0])
        return 1 - (top[..., 0] - second)
    raise ConfigError(f"uncertainty measure must be one of {', '.join(MEASURES)}, got {by!r}")


def _aggregate(scores: torch.Tensor, how: str) -> float:
    if how == "mean":
        return float(scores.mean())
    if how == "max":
        return float(scores.max())
    if how == "sum":
        return float(scores.sum())
    raise ConfigError(f"aggregate must be one of {', '.join(AGGREGATES)}, got {how!r}")


def token_distributions(pipeline, sentences: Sequence[Sequence[str]], *,
                        batch_size: int = 256) -> list[torch.Tensor | None]:
    """Each sentence's per-token tag distributions at the pipeline's temperature.

    Args:
        pipeline: A :class:`~lstm_nlp.pipelines.tagging.TaggingPipeline`.
        sentences: Token lists.

    Returns:
        One ``FloatTensor[len(tokens), num_tags]`` per sentence (CRF: exact marginals; softmax head:
        the softmax of the scores / temperature), ``None`` for an empty sentence.
    """
    results: list[torch.Tensor | None] = [None] * len(sentences)
    for index, distribution in _distributions(pipeline, sentences, batch_size):
        results[index] = distribution
    return results


@torch.no_grad()
def _distributions(pipeline, sentences: Sequence[Sequence[str]], batch_size: int) -> Iterator[tuple[int, torch.Tensor]]:
    """``(index, FloatTensor[len(tokens), num_tags])`` of each non-empty sentence, a batch at a time (in batch
    order), so that a caller that only scores them holds one batch of distributions, not all."""
    pipeline.model.eval()
    crf = getattr(pipeline.model.head, "crf", None)
    examples = [{**pipeline.featurize(tokens), "index": i} for i, tokens in enumerate(sentences) if len(tokens)]
    for batch in pipeline.inference_batches(examples, batch_size=batch_size):
        indices, lengths = batch["index"].tolist(), batch["lengths"].tolist()
        logits = pipeline.model(**model_inputs(move_batch(batch, pipeline.device), with_labels=False)).logits
        if crf is None:
            probabilities = (logits.float() / pipeline.temperature).softmax(-1)
        else:
            mask = torch.arange(logits.shape[1], device=logits.device) < batch["lengths"].to(logits.device)[:, None]
            probabilities = crf.marginals(logits, mask=mask)
        probabilities = probabilities.float().cpu()  # [batch, seq, num_tags]
        for row, (index, length) in enumerate(zip(indices, lengths)):
            yield index, probabilities[row, :length]


def uncertainty_scores(pipeline, inputs: Sequence, *, by: str = "entropy", aggregate: str = "mean",
                       batch_size: int = 256) -> list[float]:
    """One uncertainty score per input, higher = less sure (see the module docstring).

    Args:
        pipeline: A tagging pipeline (``inputs``: token lists) or a classification pipeline
            (``inputs``: raw texts).
        by: One of :data:`MEASURES`.
        aggregate: One of :data:`AGGREGATES` (taggers; a classifier has one distribution per text).

    Returns:
        The scores in input order; an empty sentence scores 0 (nothing to annotate in it).

    Raises:
        ConfigError: an unknown measure or aggregate, or a pipeline that is neither a tagger nor a
            text classifier.
    """
    measure(torch.tensor([[1.0]]), by)  # an unknown measure fails before the model runs
    _aggregate(torch.zeros(1), aggregate)
    if hasattr(pipeline, "predict_tokens"):
        scores = [0.0] * len(inputs)
        for index, distribution in _distributions(pipeline, inputs, batch_size):
            scores[index] = _aggregate(measure(distribution, by), aggregate)
        return scores
    if hasattr(pipeline, "predict_examples"):
        probabilities = pipeline.predict_examples(pipeline.featurize(inputs), batch_size=batch_size)
        return measure(probabilities, by).tolist()
    raise ConfigError(f"ranking needs a tagger or a text classifier, not a {getattr(pipeline, 'task_name', 'model')}")


@dataclass(frozen=True)
class Ranked:
    """One input picked by :func:`rank`: its position in the input (0-based) and its score."""

    index: int
    score: float


def rank(pipeline, inputs: Sequence, *, by: str = "entropy", aggregate: str = "mean", top: int | None = None,
         batch_size: int = 256) -> list[Ranked]:
    """The ``top`` inputs the model is least sure of, least sure first (ties: input order).

    ``top=None`` or a ``top`` beyond the input ranks every input.
    """
    if top is not None and top < 1:
        raise ConfigError(f"top must be >= 1, got {top}")
    scores = uncertainty_scores(pipeline, inputs, by=by, aggregate=aggregate, batch_size=batch_size)
    order = sorted(range(len(scores)), key=lambda i: (-scores[i], i))
    return [Ranked(i, scores[i]) for i in order[:top]]


def annotation_tasks(pipeline, texts: Sequence[str], ranked: Sequence[Ranked], *, format: str,
                     offsets: Sequence[Sequence[tuple[int, int]]] | None = None, by: str = "entropy",
                     lines: Sequence[int] | None = None, model_version: str = "lstm_nlp", from_name: str = "label",
                     to_name: str = "text", batch_size: int = 256) -> list[dict]:
    """The ranked inputs as annotation tasks with the model's pre-annotations, least sure first.

    Args:
        pipeline: A span tagger (any scheme but ``"none"``) or a text classifier.
        texts: The inputs' texts.
        ranked: :func:`rank`'s result over them.
        format: ``"label-studio"`` or ``"doccano"`` (see :mod:`lstm_nlp.data.annotations`).
        offsets: Taggers: each text's token offsets (the tokens the tagger reads are ``text[start:end]``).
        lines: Each input's line number, kept in the task (``data.line``; doccano: ``line``); default
            its position + 1.

    Returns:
        One JSON-ready dict per ranked input. A tagger's spans carry their probability (CRF: the exact
        span marginal; softmax head: the mean of the span's token probabilities); the task's score is the
        mean probability of the chosen tags (tagger) or the chosen class's probability (classifier).
    """
    from lstm_nlp.data.annotations import doccano_record, label_studio_task
    from lstm_nlp.tags import to_spans

    if format not in ("label-studio", "doccano"):
        raise ConfigError(f"format must be 'label-studio' or 'doccano', got {format!r}")
    picked = [texts[r.index] for r in ranked]
    if hasattr(pipeline, "predict_tokens"):
        if offsets is None:
            raise ConfigError("a tagger's tasks need the token offsets of each text")
        sentences = [[texts[r.index][a:b] for a, b in offsets[r.index]] for r in ranked]
        if pipeline.model.config.head == "crf":
            tags, chosen, found = pipeline.predict_spans(sentences, batch_size=batch_size)
        else:
            tags, chosen = pipeline.predict_probabilities(sentences, batch_size=batch_size)
            found = [[(a, b, kind, sum(p[a:b]) / (b - a)) for a, b, kind in to_spans(seq, pipeline.label_scheme)]
                     for seq, p in zip(tags, chosen)]
        predictions = []
        for r, spans, probabilities in zip(ranked, found, chosen):
            where = offsets[r.index]  # token spans -> character spans
            located = [(where[a][0], where[b - 1][1], kind, p) for a, b, kind, p in spans]
            predictions.append({"spans": located, "score": sum(probabilities) / max(len(probabilities), 1)})
    else:
        probabilities = pipeline.predict_examples(pipeline.featurize(picked), batch_size=batch_size)
        predictions = [{"choice": pipeline.labels.itos[int(row.argmax())], "score": float(row.max())}
                       for row in probabilities]
    tasks = []
    for k, (r, text, prediction) in enumerate(zip(ranked, picked, predictions)):
        line = lines[r.index] if lines is not None else r.index + 1
        meta = {"line": line, "uncertainty": round(r.score, 6), "uncertainty_by": by}
        if format == "doccano":
            tasks.append(doccano_record(text, spans=prediction.get("spans", ()), choice=prediction.get("choice"),
                                        meta=meta))
        else:
            tasks.append(label_studio_task(text, spans=prediction.get("spans", ()), choice=prediction.get("choice"),
                                           score=prediction["score"], model_version=model_version, data=meta,
                                           from_name=from_name, to_name=to_name, task_id=k))
    return tasks
