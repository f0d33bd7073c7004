"""Tag schemes: how a tag sequence encodes spans. One name for readers, metrics and bundles.

* ``"none"``: every tag is a class of its own token (POS tags); scored per token.
* ``"iob2"``: ``B-X`` starts every span of type ``X``, ``I-X`` continues it, ``O`` is outside
  (CoNLL-2003 as distributed today, CoNLL-2000); scored per span (seqeval, strict).
* ``"iob1"``: like IOB2, but ``B-X`` only where a span follows another of the same type; readers
  convert it to IOB2, so models and metrics only ever see ``"none"`` or ``"iob2"``.
"""

from __future__ import annotations

from typing import Literal

from lstm_nlp.errors import ConfigError

TagScheme = Literal["none", "iob1", "iob2"]
TAG_SCHEMES: tuple[str, ...] = ("none", "iob1", "iob2")
_ALIASES = {"token": "none"}  # the name bundles written before 0.2 used for "none"


def check_scheme(scheme: str, *, allowed: tuple[str, ...] = TAG_SCHEMES) -> TagScheme:
    """``scheme`` as a :data:`TagScheme` (legacy ``"token"`` -> ``"none"``); anything else is a ConfigError."""
    scheme = _ALIASES.get(scheme, scheme) if isinstance(scheme, str) else scheme
    if scheme not in allowed:
        raise ConfigError(f"tag scheme must be one of {', '.join(map(repr, allowed))}, got {scheme!r}")
    return scheme
