"""The probabilities ``predict --probabilities`` gives a CRF tagger's decoded tags and spans, a batch at a time.

Everything is done on tensors for the whole batch: the decoded path is built once, the spans are read
off it by :func:`decoded_spans` (what :func:`lstm_nlp.tags.to_spans` reads from the tag strings), and
their exact probabilities come from one :meth:`~lstm_nlp.modules.crf.ConditionalRandomField.pattern_log_marginals`
call, with the span patterns (:func:`~lstm_nlp.modules.crf.span_pattern`) cached per label set.
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Sequence

import torch

from lstm_nlp.modules.crf import ConditionalRandomField, span_pattern
from lstm_nlp.tags import TagScheme, scheme_prefixes, split_tag

Span = tuple[int, int, str, float]  # start, end (exclusive), type, probability


def decoded_path(decoded: Sequence[Sequence[int]], mask: torch.Tensor) -> torch.Tensor:
    """``LongTensor[batch, seq]`` (on ``mask``'s device) of each row's tag ids, 0 at padding.

    Args:
        decoded: One list of tag ids per row, as long as its real tokens (what Viterbi gives).
        mask: ``BoolTensor[batch, seq]``, True at real tokens (a prefix of each row).
    """
    flat = torch.tensor(list(itertools.chain.from_iterable(decoded)), dtype=torch.long)
    path = torch.zeros(mask.shape, dtype=torch.long)
    path[mask.cpu()] = flat  # row-major order: the rows' tags one after the other
    return path.to(mask.device)


class _LabelSpans:
    """What :func:`decoded_spans` and :func:`span_probabilities` need to know of a label set, per scheme."""

    def __init__(self, labels: tuple[str, ...], scheme: TagScheme):
        _, inside, end, single = scheme_prefixes(scheme)
        parts = [split_tag(tag) for tag in labels]
        self.labels, self.scheme = labels, scheme
        self.kinds = sorted({kind for prefix, kind in parts if prefix != "O"})
        kind_ids = {kind: i for i, kind in enumerate(self.kinds)}
        self.kind = torch.tensor([kind_ids.get(kind, -1) for _, kind in parts], dtype=torch.long)
        self.outside = torch.tensor([prefix == "O" for prefix, _ in parts])
        # After such a tag a span is still open (to_spans closes one at O and after an end or single tag).
        self.opens = torch.tensor([prefix not in ("O", end, single) for prefix, _ in parts])
        self.continues = torch.tensor([prefix in (inside, end) for prefix, _ in parts])
        self._patterns: dict[tuple[int, int], tuple[list[int], list[int]]] = {}

    def pattern(self, size: int, kind: int) -> tuple[list[int], list[int]]:
        """:func:`span_pattern` of a span of ``size`` tokens and type ``self.kinds[kind]``, cached."""
        key = (size, kind)
        if key not in self._patterns:
            self._patterns[key] = span_pattern(self.labels, self.scheme, size, self.kinds[kind])
        return self._patterns[key]


@functools.lru_cache(maxsize=16)
def _label_spans(labels: tuple[str, ...], scheme: TagScheme) -> _LabelSpans:
    return _LabelSpans(labels, scheme)


def decoded_spans(path: torch.Tensor, mask: torch.Tensor, labels: Sequence[str],
                  scheme: TagScheme) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """The spans of every row of a tag-id batch, read as :func:`lstm_nlp.tags.to_spans` reads the tags.

    Args:
        path: ``LongTensor[batch, seq]`` tag ids (anything at padding).
        mask: ``BoolTensor[batch, seq]``, True at real tokens (a prefix of each row).
        labels: Tag strings in id order.
        scheme: The tags' span scheme (``"iob1"``, ``"iob2"``, ``"bioes"``, ``"bilou"``).

    Returns:
        ``(rows, starts, stops, kinds)``, ``LongTensor[spans]`` each, on the CPU, in row order and within a
        row in order (``stops`` exclusive; ``kinds`` index the sorted span types of ``labels``).
    """
    table = _label_spans(tuple(labels), scheme)
    path, mask = path.cpu(), mask.cpu()
    kind = table.kind[path]
    opens = table.opens[path] & mask
    continues = torch.zeros_like(mask)
    continues[:, 1:] = opens[:, :-1] & table.continues[path[:, 1:]] & (kind[:, 1:] == kind[:, :-1]) & mask[:, 1:]
    tagged = ~table.outside[path] & mask
    first = tagged & ~continues
    last = tagged.clone()
    last[:, :-1] &= ~continues[:, 1:]
    rows, starts = first.nonzero(as_tuple=True)
    _, ends = last.nonzero(as_tuple=True)
    return rows, starts, ends + 1, kind[rows, starts]


@torch.no_grad()
def span_probabilities(crf: ConditionalRandomField, emissions: torch.Tensor, mask: torch.Tensor,
                       path: torch.Tensor, labels: Sequence[str], scheme: TagScheme,
                       tables: tuple[torch.Tensor, torch.Tensor, torch.Tensor] | None = None) -> list[list[Span]]:
    """Each row's decoded spans with the exact probability that exactly that span is an entity.

    Args:
        crf: The tagger's CRF.
        emissions: ``FloatTensor[batch, seq, num_tags]``.
        mask: ``BoolTensor[batch, seq]``, True at real tokens (a prefix of each row, at least one).
        path: ``LongTensor[batch, seq]`` the decoded tag ids (:func:`decoded_path`).
        labels: Tag strings in id order.
        scheme: The labels' span scheme.
        tables: :meth:`~lstm_nlp.modules.crf.ConditionalRandomField.forward_backward`'s result, if computed.

    Returns:
        One list per row of ``(start, end exclusive, type, probability)``, as
        :meth:`~lstm_nlp.modules.crf.ConditionalRandomField.span_log_marginals` gives them for the spans of
        :func:`lstm_nlp.tags.to_spans` with the patterns of :func:`~lstm_nlp.modules.crf.span_pattern`.
    """
    table = _label_spans(tuple(labels), scheme)
    rows, starts, stops, kinds = decoded_spans(path, mask, labels, scheme)
    found: list[list[Span]] = [[] for _ in range(mask.shape[0])]
    if rows.numel() == 0:
        return found
    sizes = stops - starts
    keys, which = torch.unique(sizes * len(table.kinds) + kinds, return_inverse=True)
    patterns = [table.pattern(*divmod(key, len(table.kinds))) for key in keys.tolist()]
    width = max(len(pattern) for pattern, _ in patterns)
    excluded = torch.zeros(len(patterns), crf.num_tags, dtype=torch.bool)
    for index, (_, continuations) in enumerate(patterns):
        excluded[index, continuations] = True
    padded = torch.tensor([pattern + [0] * (width - len(pattern)) for pattern, _ in patterns], dtype=torch.long)
    values = crf.pattern_log_marginals(emissions, mask=mask, rows=rows, starts=starts, patterns=padded[which],
                                       sizes=sizes, excluded=excluded[which], tables=tables)
    for row, start, stop, kind, value in zip(rows.tolist(), starts.tolist(), stops.tolist(), kinds.tolist(),
                                             values.exp().cpu().tolist()):
        found[row].append((start, stop, table.kinds[kind], value))
    return found
