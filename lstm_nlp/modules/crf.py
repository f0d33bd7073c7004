"""Linear-chain conditional random field: batched forward algorithm, Viterbi decoding, BIO constraints.

Transition layout: ``transitions[i, j]`` is the score of tag ``i`` (*from*) followed by tag ``j``
(*to*); ``start_transitions[j]`` scores a sentence starting with ``j`` and ``end_transitions[i]``
one ending with ``i``. A tag sequence ``y`` of length ``n`` with emissions ``e`` scores::

    start[y_0] + sum_t e[t, y_t] + sum_{t>0} transitions[y_{t-1}, y_t] + end[y_{n-1}]

Constraints (e.g. from :func:`allowed_transitions`) only restrict decoding, as in AllenNLP: the
likelihood is over all tag sequences, and forbidden transitions, never seen in gold data, get
low learned scores anyway.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from lstm_nlp.batch import IGNORE_INDEX
from lstm_nlp.errors import ConfigError
from lstm_nlp.modules.dropout import Dropout
from lstm_nlp.modules.fixed_order import FixedOrderLinear
from lstm_nlp.modules.heads import check_class_weights, register_class_weights
from lstm_nlp.tags import TagScheme, from_spans, split_tag, transition_allowed


def allowed_transitions(labels: Sequence[str], scheme: TagScheme = "iob2") -> list[tuple[int, int]]:
    """The transitions a well-formed tag sequence of ``scheme`` may take (see :func:`lstm_nlp.tags.transition_allowed`).

    IOB2: ``I-X`` may only follow ``B-X`` or ``I-X``, and a sentence cannot start with ``I-X``.
    BIOES/BILOU: also ``B-X``/``I-X`` must be followed by ``I-X`` or ``E-X`` (``L-X``), so a span
    is always closed. Tags without a span prefix count as outside.

    Args:
        labels: Tag strings in id order (e.g. ``Vocab.itos`` of the label vocabulary).
        scheme: The labels' span scheme: ``"iob2"`` (default), ``"bioes"`` or ``"bilou"``.

    Returns:
        Allowed ``(from, to)`` id pairs, where id ``len(labels)`` stands for START (only as *from*)
        and ``len(labels) + 1`` for END (only as *to*). Pass it to :class:`ConditionalRandomField`.

    Example:
        >>> allowed_transitions(["B-PER", "I-PER", "O"])[:3]
        [(0, 0), (0, 1), (0, 2)]
    """
    num_tags = len(labels)
    sources = [*labels, None]  # None: START
    targets = [*labels, None]  # None: END
    return [(i, j if j < num_tags else num_tags + 1)
            for i, previous in enumerate(sources) for j, tag in enumerate(targets)
            if not (previous is None and tag is None) and transition_allowed(scheme, previous, tag)]


class ConditionalRandomField(nn.Module):
    """A linear-chain CRF over ``num_tags`` tags (layout: see the module docstring).

    Args:
        num_tags: Number of tags.
        constraints: Allowed ``(from, to)`` pairs for decoding, with START = ``num_tags`` and
            END = ``num_tags + 1`` (see :func:`allowed_transitions`); ``None`` allows everything.
            Stored as the buffer ``allowed`` (``BoolTensor[num_tags + 2, num_tags + 2]``, rows
            *from*, columns *to*), so it is saved and loaded with the weights.

    Attributes:
        temperature: The probabilities (:meth:`forward_backward`, :meth:`marginals`,
            :meth:`span_log_marginals`, :meth:`sequence_log_probability`) are those of the CRF with every
            score (emissions and transitions) divided by it (see :mod:`lstm_nlp.calibration`). Decoding and
            the training loss ignore it: for ``T > 0`` the best sequences are the same. Not a weight: the
            tagging pipeline keeps it in the bundle's settings (default 1).
    """

    def __init__(self, num_tags: int, *, constraints: Sequence[tuple[int, int]] | None = None):
        super().__init__()
        if num_tags < 1:
            raise ConfigError(f"num_tags must be >= 1, got {num_tags}")
        self.num_tags = num_tags
        self.transitions = nn.Parameter(torch.empty(num_tags, num_tags))  # [from, to]
        self.start_transitions = nn.Parameter(torch.zeros(num_tags))
        self.end_transitions = nn.Parameter(torch.zeros(num_tags))
        nn.init.xavier_normal_(self.transitions)
        allowed = torch.ones(num_tags + 2, num_tags + 2, dtype=torch.bool)
        if constraints is not None:
            allowed.zero_()
            for i, j in constraints:
                if not (0 <= i <= num_tags + 1 and 0 <= j <= num_tags + 1):
                    raise ConfigError(f"constraint ({i}, {j}) is outside [0, {num_tags + 1}] "
                                      f"(tags 0..{num_tags - 1}, START {num_tags}, END {num_tags + 1})")
                allowed[i, j] = True
        self.register_buffer("allowed", allowed)
        self.temperature = 1.0

    # ------------------------------------------------------------------ scores
    def log_partition(self, emissions: torch.Tensor, *, mask: torch.Tensor) -> torch.Tensor:
        """Log of the sum of ``exp(score)`` over all tag sequences (the forward algorithm).

        Args:
            emissions: ``FloatTensor[batch, seq, num_tags]``.
            mask: ``BoolTensor[batch, seq]``, True at real tokens (a prefix of each row, at least one).

        Returns:
            ``FloatTensor[batch]``.
        """
        emissions = emissions.float()
        alpha = self.start_transitions + emissions[:, 0]  # [batch, tags]
        transitions = self.transitions.unsqueeze(0)  # [1, from, to]
        for t in range(1, emissions.shape[1]):
            # [batch, from, 1] + [1, from, to] + [batch, 1, to] -> logsumexp over from -> [batch, to]
            step = torch.logsumexp(alpha.unsqueeze(2) + transitions + emissions[:, t].unsqueeze(1), dim=1)
            alpha = torch.where(mask[:, t].unsqueeze(1), step, alpha)
        return torch.logsumexp(alpha + self.end_transitions, dim=1)

    def sequence_score(self, emissions: torch.Tensor, tags: torch.Tensor, *, mask: torch.Tensor) -> torch.Tensor:
        """Unnormalised score of given tag sequences.

        Args:
            emissions: ``FloatTensor[batch, seq, num_tags]``.
            tags: ``LongTensor[batch, seq]``; values at padding are ignored (may be ``-100``).
            mask: ``BoolTensor[batch, seq]``, True at real tokens (a prefix of each row, at least one).

        Returns:
            ``FloatTensor[batch]``.
        """
        emissions = emissions.float()
        tags = tags.masked_fill(~mask, 0)
        weights = mask.to(emissions.dtype)
        emitted = emissions.gather(2, tags.unsqueeze(2)).squeeze(2)  # [batch, seq]
        transitions = self.transitions[tags[:, :-1], tags[:, 1:]]  # [batch, seq - 1]
        last = tags.gather(1, (mask.sum(1) - 1).unsqueeze(1)).squeeze(1)  # [batch]
        return (self.start_transitions[tags[:, 0]] + (emitted * weights).sum(1)
                + (transitions * weights[:, 1:]).sum(1) + self.end_transitions[last])

    def forward(self, emissions: torch.Tensor, tags: torch.Tensor, *, mask: torch.Tensor) -> torch.Tensor:
        """Negative log-likelihood of the gold tags, averaged over the sentences of the batch.

        Args:
            emissions: ``FloatTensor[batch, seq, num_tags]``.
            tags: ``LongTensor[batch, seq]`` gold tag ids (anything at padding, e.g. ``-100``).
            mask: ``BoolTensor[batch, seq]``, True at real tokens (a prefix of each row, at least one).

        Returns:
            Scalar: ``mean_b(log Z_b - score_b(tags_b))``, each sentence's NLL summed over its tokens.
        """
        _check_mask(mask, emissions)
        return (self.log_partition(emissions, mask=mask) - self.sequence_score(emissions, tags, mask=mask)).mean()

    def backward_scores(self, emissions: torch.Tensor, *, mask: torch.Tensor) -> torch.Tensor:
        """The backward table of the training loss (all sequences, differentiable, float32).

        Args:
            emissions: ``FloatTensor[batch, seq, num_tags]``.
            mask: ``BoolTensor[batch, seq]``, True at real tokens (a prefix of each row, at least one).

        Returns:
            ``FloatTensor[batch, seq, num_tags]``: ``beta[b, t, y]``, the log sum over the rest of the
            sentence after tag ``y`` at ``t`` (the end transition included; ``end[y]`` at its last
            token). Values at padding are meaningless.
        """
        return _backward_table(emissions.float(), self.transitions, self.end_transitions, mask)

    def token_weighted_nll(self, emissions: torch.Tensor, tags: torch.Tensor, *, mask: torch.Tensor,
                           weights: torch.Tensor) -> torch.Tensor:
        """The negative log-likelihood with a weight per gold tag, averaged over the sentences.

        The sentence's NLL is a sum of per-token terms by the chain rule, ``-log P(y|x) = -sum_t
        log P(y_t | y_{t-1}, x)``, each a proper conditional log-loss computed from the backward
        table: ``P(y_t | y_{t-1}, x) = exp(trans[y_{t-1}, y_t] + e[t, y_t] + beta[t, y_t] -
        beta[t-1, y_{t-1}])`` (``start`` and ``log Z`` at ``t = 0``). Here each term is scaled by the
        weight of its gold tag: ``loss_b = -sum_t w[y_t] * log P(y_t | y_{t-1}, x)``. With all weights 1
        it is :meth:`forward`'s loss; each term is >= 0, so the loss stays bounded below (scaling
        only the gold path's emissions in the score would not be: its gradient ``P - w`` never
        vanishes for ``w > 1``).

        Args:
            emissions: ``FloatTensor[batch, seq, num_tags]``.
            tags: ``LongTensor[batch, seq]`` gold tag ids (anything at padding).
            mask: ``BoolTensor[batch, seq]``, True at real tokens (a prefix of each row, at least one).
            weights: ``FloatTensor[num_tags]``, the weight of each tag.

        Returns:
            Scalar: ``mean_b(loss_b)``.
        """
        _check_mask(mask, emissions)
        emissions = emissions.float()
        tags = tags.masked_fill(~mask, 0)
        beta = self.backward_scores(emissions, mask=mask)
        log_z = torch.logsumexp(self.start_transitions + emissions[:, 0] + beta[:, 0], dim=1)  # [batch]
        gold = (emissions + beta).gather(2, tags.unsqueeze(2)).squeeze(2)  # e[t, y_t] + beta[t, y_t]: [batch, seq]
        gold_beta = beta.gather(2, tags.unsqueeze(2)).squeeze(2)  # [batch, seq]
        first = self.start_transitions[tags[:, 0]] + gold[:, 0] - log_z  # log P(y_0 | x)
        rest = self.transitions[tags[:, :-1], tags[:, 1:]] + gold[:, 1:] - gold_beta[:, :-1]  # [batch, seq - 1]
        log_p = torch.cat([first.unsqueeze(1), rest], dim=1)  # [batch, seq]
        token_weights = weights.to(log_p.dtype)[tags] * mask.to(log_p.dtype)
        return -(token_weights * log_p).sum(1).mean()

    # ------------------------------------------------------------------ decoding
    @torch.no_grad()
    def viterbi_decode(self, emissions: torch.Tensor, *, mask: torch.Tensor) -> list[list[int]]:
        """Best tag sequence of each row under the constraints.

        Args:
            emissions: ``FloatTensor[batch, seq, num_tags]``.
            mask: ``BoolTensor[batch, seq]``, True at real tokens (a prefix of each row, at least one).

        Returns:
            One list of tag ids per row, as long as its real tokens. If the constraints leave no
            allowed sequence at all, the result is some (forbidden) sequence.
        """
        _check_mask(mask, emissions)
        emissions = emissions.float()
        k = self.num_tags
        forbidden = ~self.allowed
        neg_inf = torch.tensor(float("-inf"), device=emissions.device)
        transitions = self.transitions.masked_fill(forbidden[:k, :k], neg_inf)
        start = self.start_transitions.masked_fill(forbidden[k, :k], neg_inf)
        end = self.end_transitions.masked_fill(forbidden[:k, k + 1], neg_inf)
        score = start + emissions[:, 0]  # [batch, tags]
        backpointers = []
        for t in range(1, emissions.shape[1]):
            best, previous = (score.unsqueeze(2) + transitions.unsqueeze(0)).max(dim=1)  # over from: [batch, to]
            score = torch.where(mask[:, t].unsqueeze(1), best + emissions[:, t], score)
            backpointers.append(previous)
        current = (score + end).argmax(dim=1)  # each row's last tag
        lengths = mask.sum(1)
        path = torch.zeros_like(mask, dtype=torch.long)
        for t in range(emissions.shape[1] - 1, 0, -1):
            inside = t < lengths  # rows whose position t is real
            path[:, t] = current
            current = torch.where(inside, backpointers[t - 1].gather(1, current.unsqueeze(1)).squeeze(1), current)
        path[:, 0] = current
        path, lengths = path.cpu(), lengths.cpu().tolist()
        return [path[row, :n].tolist() for row, n in enumerate(lengths)]


    @torch.no_grad()
    def top_k(self, emissions: torch.Tensor, k: int) -> list[tuple[list[int], float]]:
        """The ``k`` best allowed tag sequences of one sentence (k-best Viterbi), best first.

        Args:
            emissions: ``FloatTensor[seq, num_tags]`` of the sentence's real tokens (``seq >= 1``).
            k: How many sequences (fewer when fewer allowed sequences exist).

        Returns:
            ``[(tag ids, score), ...]``; the first is :meth:`viterbi_decode`'s answer and each score is
            :meth:`sequence_score` of its sequence.
        """
        if k < 1:
            raise ConfigError(f"k must be >= 1, got {k}")
        emissions = emissions.double()
        n = self.num_tags
        forbidden = ~self.allowed
        transitions = self.transitions.double().masked_fill(forbidden[:n, :n], float("-inf"))
        start = self.start_transitions.double().masked_fill(forbidden[n, :n], float("-inf"))
        end = self.end_transitions.double().masked_fill(forbidden[:n, n + 1], float("-inf"))
        scores = (start + emissions[0]).unsqueeze(1)  # [tags, ranks]: the best partial scores ending in each tag
        ranks = [1]  # ranks kept per tag at each step
        backpointers = []  # per step: [tags, ranks] indices into the previous step's flattened (tag, rank)
        for t in range(1, emissions.shape[0]):
            candidates = (scores.unsqueeze(2) + transitions.unsqueeze(1)).reshape(-1, n)  # [(from, rank), to]
            best = candidates.topk(min(k, candidates.shape[0]), dim=0)
            scores = best.values.T + emissions[t].unsqueeze(1)
            backpointers.append(best.indices.T)
            ranks.append(scores.shape[1])
        final = (scores + end.unsqueeze(1)).reshape(-1)
        best = final.topk(min(k, final.numel()))
        results = []
        for score, flat in zip(best.values.tolist(), best.indices.tolist()):
            if score == float("-inf"):  # fewer allowed sequences than k
                break
            tag, rank = divmod(flat, ranks[-1])
            path = [tag]
            for step in range(len(backpointers) - 1, -1, -1):
                tag, rank = divmod(int(backpointers[step][tag, rank]), ranks[step])
                path.append(tag)
            results.append((path[::-1], score))
        return results


    # ------------------------------------------------------------------ marginals
    def _constrained(self, dtype: torch.dtype) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """``(start, transitions, end)`` in ``dtype``, divided by :attr:`temperature`, forbidden ones at ``-inf``."""
        k, forbidden, t = self.num_tags, ~self.allowed, self.temperature
        return (self.start_transitions.to(dtype).div(t).masked_fill(forbidden[k, :k], float("-inf")),
                self.transitions.to(dtype).div(t).masked_fill(forbidden[:k, :k], float("-inf")),
                self.end_transitions.to(dtype).div(t).masked_fill(forbidden[:k, k + 1], float("-inf")))

    @torch.no_grad()
    def forward_backward(self, emissions: torch.Tensor, *,
                         mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Log-space forward and backward tables over the *allowed* tag sequences.

        Marginals are taken over the sequences the constraints allow (those decoding can return),
        so spans are well formed; without constraints that is every sequence. Each step is one scaled
        matrix product in probability space (see :func:`_scaled_tables`); scores too far apart for that
        take the ``logsumexp`` recursions instead.

        Args:
            emissions: ``FloatTensor[batch, seq, num_tags]``; the tables are float64, as a long
                sentence's log scores grow past float32's precision (``alpha + beta - log_z`` would err).
            mask: ``BoolTensor[batch, seq]``, True at real tokens (a prefix of each row, at least one).

        Returns:
            ``(alpha, beta, log_z)``: ``alpha[b, t, y]`` is the log sum over prefixes ending in ``y``
            at ``t`` (its emission included), ``beta[b, t, y]`` the log sum over the rest of the
            sentence after ``y`` at ``t`` (the end transition included), both ``[batch, seq,
            num_tags]``; ``log_z`` is ``[batch]``. Values at padding are meaningless.
        """
        _check_mask(mask, emissions)
        emissions = emissions.double() / self.temperature
        start, transitions, end = self._constrained(emissions.dtype)
        tables = _scaled_tables(emissions, start, transitions, end, mask)
        if tables is None:  # a sum fell below float64's range: the log-space recursions
            length = emissions.shape[1]
            alphas = [start + emissions[:, 0]]
            for t in range(1, length):
                step = torch.logsumexp(alphas[-1].unsqueeze(2) + transitions + emissions[:, t].unsqueeze(1), dim=1)
                alphas.append(torch.where(mask[:, t].unsqueeze(1), step, alphas[-1]))
            alpha, beta = torch.stack(alphas, 1), _backward_table(emissions, transitions, end, mask)
            tables = alpha, beta, torch.logsumexp(alphas[-1] + end, dim=1)
        return tables

    @torch.no_grad()
    def marginals(self, emissions: torch.Tensor, *, mask: torch.Tensor,
                  tables: tuple[torch.Tensor, torch.Tensor, torch.Tensor] | None = None) -> torch.Tensor:
        """Token marginals ``P(tag_t = j | sentence)`` over the allowed sequences (forward-backward).

        Args:
            emissions: ``FloatTensor[batch, seq, num_tags]``.
            mask: ``BoolTensor[batch, seq]``, True at real tokens (a prefix of each row, at least one).
            tables: :meth:`forward_backward`'s result for these inputs, if already computed.

        Returns:
            ``FloatTensor[batch, seq, num_tags]``: each real token's row sums to 1; 0 at padding.
        """
        alpha, beta, log_z = tables or self.forward_backward(emissions, mask=mask)
        return (alpha + beta - log_z[:, None, None]).exp() * mask.unsqueeze(2)

    @torch.no_grad()
    def tag_marginals(self, emissions: torch.Tensor, tags: torch.Tensor, *, mask: torch.Tensor,
                      tables: tuple[torch.Tensor, torch.Tensor, torch.Tensor] | None = None) -> torch.Tensor:
        """:meth:`marginals` of given tags only: ``P(tag_t = tags[b, t] | sentence)`` (e.g. of the decoded ones).

        Args:
            emissions: ``FloatTensor[batch, seq, num_tags]``.
            tags: ``LongTensor[batch, seq]`` tag ids (anything in ``[0, num_tags)`` at padding).
            mask: ``BoolTensor[batch, seq]``, True at real tokens (a prefix of each row, at least one).
            tables: :meth:`forward_backward`'s result for these inputs, if already computed.

        Returns:
            ``FloatTensor[batch, seq]``, the same values as ``marginals(...).gather(2, tags[..., None])``; 0 at padding.
        """
        alpha, beta, log_z = tables or self.forward_backward(emissions, mask=mask)
        index = tags.to(alpha.device).unsqueeze(2)
        chosen = alpha.gather(2, index).squeeze(2) + beta.gather(2, index).squeeze(2)
        return (chosen - log_z[:, None]).exp() * mask

    @torch.no_grad()
    def sequence_log_probability(self, emissions: torch.Tensor, tags: torch.Tensor, *,
                                 mask: torch.Tensor) -> torch.Tensor:
        """``log P(tags | sentence) = score - log Z`` over the allowed sequences, ``FloatTensor[batch]``
        (``-inf`` for a forbidden sequence). Shapes as in :meth:`sequence_score`."""
        emissions = emissions.double()
        _, _, log_z = self.forward_backward(emissions, mask=mask)
        tags = tags.masked_fill(~mask, 0)
        k, lengths = self.num_tags, mask.sum(1)
        steps = self.allowed[tags[:, :-1], tags[:, 1:]] | ~mask[:, 1:]
        last = tags.gather(1, (lengths - 1).unsqueeze(1)).squeeze(1)
        ok = steps.all(1) & self.allowed[k, tags[:, 0]] & self.allowed[last, k + 1]
        score = self.sequence_score(emissions, tags, mask=mask).to(log_z.dtype) / self.temperature
        return torch.where(ok, score - log_z, torch.full_like(log_z, float("-inf")))

    @torch.no_grad()
    def span_log_marginals(self, emissions: torch.Tensor, *, mask: torch.Tensor,
                           spans: Sequence[tuple[int, int, Sequence[int], Sequence[int]]],
                           tables: tuple[torch.Tensor, torch.Tensor, torch.Tensor] | None = None) -> torch.Tensor:
        """Exact log probabilities that given tag patterns occur where given (a span's marginal).

        Each span is ``(row, start, pattern, excluded)``: the probability, over the allowed
        sequences of row ``row``, that the tags at ``start .. start + len(pattern) - 1`` are
        ``pattern`` and the tag just after (if any) is not in ``excluded``. With the pattern and
        continuation tags of :func:`span_pattern`, that is the probability that exactly this span
        is an entity. Computed from the forward-backward tables, in log space.

        Args:
            emissions: ``FloatTensor[batch, seq, num_tags]``.
            mask: ``BoolTensor[batch, seq]``, True at real tokens (a prefix of each row, at least one).
            spans: The spans to score; patterns must lie inside their row's real tokens.
            tables: :meth:`forward_backward`'s result for these inputs, if already computed.

        Returns:
            ``FloatTensor[len(spans)]`` of log probabilities.
        """
        if not spans:
            *_, log_z = tables or self.forward_backward(emissions, mask=mask)
            return log_z.new_zeros(0)
        width = max(len(pattern) for _, _, pattern, _ in spans)
        rows = torch.tensor([row for row, *_ in spans])
        starts = torch.tensor([start for _, start, *_ in spans])
        patterns = torch.tensor([list(pattern) + [0] * (width - len(pattern)) for _, _, pattern, _ in spans])
        sizes = torch.tensor([len(pattern) for _, _, pattern, _ in spans])
        excluded = torch.zeros(len(spans), self.num_tags, dtype=torch.bool)
        blocked = [(index, tag) for index, (*_, tags) in enumerate(spans) for tag in tags]
        if blocked:
            excluded[tuple(torch.tensor(blocked).T)] = True
        return self.pattern_log_marginals(emissions, mask=mask, rows=rows, starts=starts, patterns=patterns,
                                          sizes=sizes, excluded=excluded, tables=tables)

    @torch.no_grad()
    def pattern_log_marginals(self, emissions: torch.Tensor, *, mask: torch.Tensor, rows: torch.Tensor,
                              starts: torch.Tensor, patterns: torch.Tensor, sizes: torch.Tensor,
                              excluded: torch.Tensor,
                              tables: tuple[torch.Tensor, torch.Tensor, torch.Tensor] | None = None) -> torch.Tensor:
        """:meth:`span_log_marginals` with the spans given as tensors, one entry per span (no Python loop).

        Args:
            emissions: ``FloatTensor[batch, seq, num_tags]``.
            mask: ``BoolTensor[batch, seq]``, True at real tokens (a prefix of each row, at least one).
            rows: ``LongTensor[spans]``, each span's row.
            starts: ``LongTensor[spans]``, each span's first position.
            patterns: ``LongTensor[spans, width]``, each span's tags (``width`` >= every size; anything past
                the span's size, e.g. 0).
            sizes: ``LongTensor[spans]``, each span's length (>= 1); patterns must lie inside their row.
            excluded: ``BoolTensor[spans, num_tags]``, the tags that may not follow each span.
            tables: :meth:`forward_backward`'s result for these inputs, if already computed.

        Returns:
            ``FloatTensor[spans]`` of log probabilities.
        """
        alpha, beta, log_z = tables or self.forward_backward(emissions, mask=mask)
        if rows.numel() == 0:
            return log_z.new_zeros(0)
        device, width = alpha.device, patterns.shape[1]
        rows, starts, patterns, sizes, excluded = (t.to(device) for t in (rows, starts, patterns, sizes, excluded))
        _, transitions, end = self._constrained(alpha.dtype)
        inside = torch.arange(width, device=device) < sizes.unsqueeze(1)  # [spans, width]
        positions = (starts.unsqueeze(1) + torch.arange(width, device=device)).clamp(max=alpha.shape[1] - 1)
        head = alpha[rows, starts, patterns[:, 0]]
        emitted = emissions[rows.unsqueeze(1), positions[:, 1:], patterns[:, 1:]].to(alpha.dtype) / self.temperature
        steps = transitions[patterns[:, :-1], patterns[:, 1:]] + emitted
        body = torch.where(inside[:, 1:], steps, torch.zeros_like(steps)).sum(1)
        last = patterns.gather(1, (sizes - 1).unsqueeze(1)).squeeze(1)
        after = (starts + sizes).clamp(max=alpha.shape[1] - 1)
        following = transitions[last] + emissions[rows, after].to(alpha.dtype) / self.temperature + beta[rows, after]
        following = torch.logsumexp(following.masked_fill(excluded, float("-inf")), dim=1)
        at_end = starts + sizes >= mask.sum(1)[rows]
        return head + body + torch.where(at_end, end[last], following) - log_z[rows]


def span_pattern(labels: Sequence[str], scheme: TagScheme, size: int,
                 kind: str) -> tuple[list[int], list[int]]:
    """The tag ids that spell exactly one span of ``size`` tokens and type ``kind``, and the tags that
    would continue it, for :meth:`ConditionalRandomField.span_log_marginals`.

    Args:
        labels: Tag strings in id order.
        scheme: The labels' span scheme (IOB1 is read as IOB2, as the CRF's constraints read it).
        size: Span length in tokens (>= 1).
        kind: Span type (``"PER"``).

    Returns:
        ``(pattern, continuations)``: e.g. IOB2 ``[B-PER, I-PER]`` and ``[I-PER]``.

    Raises:
        ConfigError: a tag the pattern needs is not among ``labels``.
    """
    scheme = "iob2" if scheme == "iob1" else scheme
    ids = {tag: i for i, tag in enumerate(labels)}
    tags = from_spans([(0, size, kind)], size, scheme)
    missing = [tag for tag in tags if tag not in ids]
    if missing:
        raise ConfigError(f"no tag {missing[0]!r} among the labels, so no {kind} span of {size} tokens")
    continuations = [i for i, tag in enumerate(labels)
                     if split_tag(tag)[1] == kind and not transition_allowed(scheme, None, tag)]
    return [ids[tag] for tag in tags], continuations


class CRFHead(nn.Module):
    """Linear projection to tag scores, then a :class:`ConditionalRandomField`.

    Same interface as :class:`~lstm_nlp.modules.heads.TokenClassificationHead`.

    Args:
        input_dim: Feature size per token.
        num_labels: Number of tags.
        dropout: Dropout on the features before the projection.
        constraints: Allowed transitions for decoding (see :func:`allowed_transitions`).
        class_weights: Optional weight per tag (``num_labels`` values) of the training loss: the
            NLL becomes :meth:`ConditionalRandomField.token_weighted_nll`. Decoding does not change.
    """

    def __init__(self, input_dim: int, num_labels: int, *, dropout: float = 0.0,
                 constraints: Sequence[tuple[int, int]] | None = None,
                 class_weights: Sequence[float] | None = None):
        super().__init__()
        self.dropout = Dropout(dropout)
        self.projection = FixedOrderLinear(input_dim, num_labels)
        self.crf = ConditionalRandomField(num_labels, constraints=constraints)
        register_class_weights(self, check_class_weights(class_weights, num_labels, where="class_weights"))

    def forward(
        self, features: torch.Tensor, *, mask: torch.Tensor, labels: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Scores every token.

        Args:
            features: ``FloatTensor[batch, seq, input_dim]``.
            mask: ``BoolTensor[batch, seq]``, True at real tokens.
            labels: Optional ``LongTensor[batch, seq]`` gold tag ids (``-100`` at padding).

        Returns:
            ``(emissions, loss)``: ``FloatTensor[batch, seq, num_labels]`` and, when ``labels`` is
            given, the CRF negative log-likelihood averaged over sentences (token-weighted with
            ``class_weights``; a scalar), else ``None``.
        """
        emissions = self.projection(self.dropout(features))
        loss = None
        if labels is not None:
            gold = labels.masked_fill(labels == IGNORE_INDEX, 0)
            if self.class_weights is None:
                loss = self.crf(emissions, gold, mask=mask)
            else:
                loss = self.crf.token_weighted_nll(emissions, gold, mask=mask, weights=self.class_weights)
        return emissions, loss

    def decode(self, logits: torch.Tensor, mask: torch.Tensor) -> list[list[int]]:
        """Viterbi tag ids per real token: ``logits [batch, seq, labels]`` -> one list per row."""
        return self.crf.viterbi_decode(logits, mask=mask)


def _backward_table(emissions: torch.Tensor, transitions: torch.Tensor, end: torch.Tensor,
                    mask: torch.Tensor) -> torch.Tensor:
    """``beta [batch, seq, num_tags]``: the log sum over the rest of each sentence after each tag (the
    ``end`` transition included, ``end`` itself at the last token), from ``transitions [from, to]``."""
    betas = [end.expand_as(emissions[:, 0])]
    for t in range(emissions.shape[1] - 1, 0, -1):
        # [1, from, to] + [batch, 1, to] -> logsumexp over to -> [batch, from]
        step = torch.logsumexp(transitions + (emissions[:, t] + betas[-1]).unsqueeze(1), dim=2)
        betas.append(torch.where(mask[:, t].unsqueeze(1), step, end))
    return torch.stack(betas[::-1], 1)


#: A scaled sum below this may have lost precision to float64's subnormals (or be an underflow to 0).
_SCALED_SUM_FLOOR = 1e-280


def _scaled_tables(emissions: torch.Tensor, start: torch.Tensor, transitions: torch.Tensor, end: torch.Tensor,
                   mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor] | None:
    """:meth:`ConditionalRandomField.forward_backward`'s ``(alpha, beta, log_z)`` (float64, ``-inf`` at the
    forbidden ``start`` / ``transitions`` / ``end``) by the scaled recursions: each step is one matrix
    product in probability space, ``log(exp(alpha - max) @ exp(transitions - column max)) + max + column max``,
    instead of a ``logsumexp`` over ``[batch, from, to]``: a tenth of the ``exp`` calls, the same values to
    float64's precision. ``None`` when any sum that should be positive came out below
    :data:`_SCALED_SUM_FLOOR` (scores hundreds of nats apart): the caller then takes the log-space recursions.
    """
    finite = torch.isfinite(transitions)
    allowed = finite.to(emissions.dtype)
    column = transitions.amax(0).masked_fill(~finite.any(0), 0.0)  # per *to* tag
    row = transitions.amax(1).masked_fill(~finite.any(1), 0.0)  # per *from* tag
    forward_matrix = (transitions - column).exp()  # [from, to], each column's largest entry 1
    backward_matrix = (transitions - row.unsqueeze(1)).exp().T.contiguous()  # [to, from]
    shifted = emissions + column
    length, steps = emissions.shape[1], mask.unsqueeze(2)
    alpha = start + emissions[:, 0]
    if not bool(torch.isfinite(alpha).any(1).all()):
        return None
    alphas, forward_sums = [alpha], []
    for t in range(1, length):
        top = alpha.amax(1, keepdim=True)
        total = (alpha - top).exp() @ forward_matrix
        forward_sums.append(total)
        alpha = torch.where(steps[:, t], total.log() + top + shifted[:, t], alpha)
        alphas.append(alpha)
    log_z = torch.logsumexp(alpha + end, dim=1)
    beta = end.expand_as(emissions[:, 0])
    betas, backward_sums = [beta], []
    for t in range(length - 1, 0, -1):
        after = emissions[:, t] + beta
        top = after.amax(1, keepdim=True)
        total = (after - top).exp() @ backward_matrix
        backward_sums.append(total)
        beta = torch.where(steps[:, t], total.log() + top + row, end)
        betas.append(beta)
    alpha, beta = torch.stack(alphas, 1), torch.stack(betas[::-1], 1)
    if length > 1:
        # A sum is positive exactly when some allowed neighbour has a finite table entry.
        forward_reach = (torch.isfinite(alpha[:, :-1]).to(allowed.dtype) @ allowed) > 0
        backward_reach = (torch.isfinite(emissions[:, 1:] + beta[:, 1:]).to(allowed.dtype) @ allowed.T) > 0
        low = ((torch.stack(forward_sums, 1) < _SCALED_SUM_FLOOR) & forward_reach
               | (torch.stack(backward_sums[::-1], 1) < _SCALED_SUM_FLOOR) & backward_reach)
        if bool((low & steps[:, 1:]).any()):
            return None
    if not bool(torch.isfinite(log_z).all()):
        return None
    return alpha, beta, log_z


def _check_mask(mask: torch.Tensor, emissions: torch.Tensor) -> None:
    if emissions.dim() != 3 or mask.shape != emissions.shape[:2]:
        raise ValueError(f"emissions must be [batch, seq, tags] and mask [batch, seq]; got "
                         f"{tuple(emissions.shape)} and {tuple(mask.shape)}")
    if emissions.shape[1] == 0 or not bool(mask[:, 0].all()):
        raise ValueError("every row needs at least one token, and the first position must be real")
