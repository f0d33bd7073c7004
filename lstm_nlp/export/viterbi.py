"""Viterbi decoding in numpy, for exported taggers (the same result as ``ConditionalRandomField.viterbi_decode``).

Needs nothing but numpy: an application that runs an exported graph decodes its CRF scores with
the transition scores stored beside the graph.
"""

from __future__ import annotations

import numpy as np


def viterbi_decode(emissions: np.ndarray, *, transitions: np.ndarray, start: np.ndarray, end: np.ndarray,
                   allowed: np.ndarray | None = None) -> list[int]:
    """The best tag sequence of one sentence.

    Args:
        emissions: ``[seq, tags]`` tag scores of the real tokens (``seq >= 1``).
        transitions: ``[tags, tags]`` scores of moving from one tag (row) to the next (column).
        start: ``[tags]`` scores of starting with each tag.
        end: ``[tags]`` scores of ending with each tag.
        allowed: ``[tags + 2, tags + 2]`` booleans of the allowed moves, START at index ``tags``
            (a row) and END at ``tags + 1`` (a column), as ``ConditionalRandomField.allowed``;
            ``None``: every move is allowed.

    Returns:
        Tag ids, one per token.
    """
    emissions = np.asarray(emissions, dtype=np.float64)
    k = emissions.shape[1]
    transitions, start, end = (np.asarray(a, dtype=np.float64) for a in (transitions, start, end))
    if allowed is not None:
        allowed = np.asarray(allowed, dtype=bool)
        transitions = np.where(allowed[:k, :k], transitions, -np.inf)
        start = np.where(allowed[k, :k], start, -np.inf)
        end = np.where(allowed[:k, k + 1], end, -np.inf)
    score = start + emissions[0]
    backpointers: list[np.ndarray] = []
    for t in range(1, len(emissions)):
        candidates = score[:, None] + transitions  # [from, to]
        backpointers.append(candidates.argmax(axis=0))
        score = candidates.max(axis=0) + emissions[t]
    best = [int((score + end).argmax())]
    for pointers in reversed(backpointers):
        best.append(int(pointers[best[-1]]))
    return best[::-1]

