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
from lstm_nlp.tags import TagScheme, transition_allowed
from lstm_nlp.modules.fixed_order import FixedOrderLinear


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


class CRFHead(nn.Module):
    """Linear projection to tag scores, then a :class:`ConditionalRandomField`.

    Same interface as :class:`~lstm_nlp.modules.heads.TokenClassificationHead`.

    Args:
        input_dim: Feature size per token.
        num_labels: Number of tags.
        dropout: Dropout on the features before the projection.
        constraints: Allowed transitions for decoding (see :func:`allowed_transitions`).
    """

    def __init__(self, input_dim: int, num_labels: int, *, dropout: float = 0.0,
                 constraints: Sequence[tuple[int, int]] | None = None):
        super().__init__()
        self.dropout = Dropout(dropout)
        self.projection = FixedOrderLinear(input_dim, num_labels)
        self.crf = ConditionalRandomField(num_labels, constraints=constraints)

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
            given, the CRF negative log-likelihood averaged over sentences (a scalar), else ``None``.
        """
        emissions = self.projection(self.dropout(features))
        loss = None
        if labels is not None:
            loss = self.crf(emissions, labels.masked_fill(labels == IGNORE_INDEX, 0), mask=mask)
        return emissions, loss

    def decode(self, logits: torch.Tensor, mask: torch.Tensor) -> list[list[int]]:
        """Viterbi tag ids per real token: ``logits [batch, seq, labels]`` -> one list per row."""
        return self.crf.viterbi_decode(logits, mask=mask)


def _check_mask(mask: torch.Tensor, emissions: torch.Tensor) -> None:
    if emissions.dim() != 3 or mask.shape != emissions.shape[:2]:
        raise ValueError(f"emissions must be [batch, seq, tags] and mask [batch, seq]; got "
                         f"{tuple(emissions.shape)} and {tuple(mask.shape)}")
    if emissions.shape[1] == 0 or not bool(mask[:, 0].all()):
        raise ValueError("every row needs at least one token, and the first position must be real")
