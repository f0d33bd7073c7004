"""Tag schemes: how a tag sequence encodes spans. One name for readers, metrics, CRFs and bundles.

* ``"none"``: every tag is a class of its own token (POS tags); scored per token.
* ``"iob2"``: ``B-X`` starts every span of type ``X``, ``I-X`` continues it, ``O`` is outside
  (CoNLL-2003 as distributed today, CoNLL-2000).
* ``"iob1"``: like IOB2, but ``B-X`` only where a span follows another of the same type (the
  original CoNLL-2003 files).
* ``"bioes"``: IOB2 plus ``E-X`` (last token of a span) and ``S-X`` (a one-token span);
  ``"bilou"`` is the same with ``L-``/``U-`` for ``E-``/``S-``.

Files may come in any of them; readers convert IOB1 to IOB2, a model may be trained on IOB2 or
BIOES/BILOU labels (:func:`convert_tags`), and span metrics always score IOB2.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Literal

from lstm_nlp.errors import ConfigError

TagScheme = Literal["none", "iob1", "iob2", "bioes", "bilou"]
TAG_SCHEMES: tuple[str, ...] = ("none", "iob1", "iob2", "bioes", "bilou")
#: Schemes whose tags mark spans (everything but ``"none"``).
SPAN_SCHEMES: tuple[str, ...] = TAG_SCHEMES[1:]
#: Schemes a CoNLL column file may be read in (IOB1 is converted to IOB2 on reading).
FILE_SCHEMES: tuple[str, ...] = ("iob1", "iob2")
#: Span label schemes the BIO-tagger recipes offer a model (``--tag-scheme``); IOB2 comes first (the default).
RECIPE_LABEL_SCHEMES: tuple[str, ...] = ("iob2", "bioes", "bilou")
_ALIASES = {"token": "none", "bio": "iob2", "iobes": "bioes"}  # "token": bundles written before 0.2
# The prefixes of each span scheme: (begin, inside, end, single); IOB schemes have no end/single.
_PREFIXES = {"iob1": ("B", "I", None, None), "iob2": ("B", "I", None, None), "bioes": ("B", "I", "E", "S"),
             "bilou": ("B", "I", "L", "U")}

Span = tuple[int, int, str]  # (start, end exclusive, type)


def check_scheme(scheme: str, *, allowed: tuple[str, ...] = TAG_SCHEMES) -> TagScheme:
    """``scheme`` as a :data:`TagScheme` (``"token"`` -> ``"none"``, ``"bio"`` -> ``"iob2"``,
    ``"iobes"`` -> ``"bioes"``); anything else is a :class:`~lstm_nlp.errors.ConfigError`."""
    scheme = _ALIASES.get(scheme, scheme) if isinstance(scheme, str) else scheme
    if scheme not in allowed:
        raise ConfigError(f"tag scheme must be one of {', '.join(map(repr, allowed))}, got {scheme!r}")
    return scheme


def scheme_prefixes(scheme: str) -> tuple[str, str, str | None, str | None]:
    """``(begin, inside, end, single)`` prefixes of a span scheme (``end``/``single`` are None for IOB)."""
    return _PREFIXES[check_scheme(scheme, allowed=SPAN_SCHEMES)]


def bundle_label_scheme(meta: Mapping) -> str:
    """A tagger bundle's label scheme: its ``meta`` key ``label_scheme``, else ``scheme`` (the name older
    bundles store), else ``"none"``."""
    return meta.get("label_scheme", meta.get("scheme", "none"))


def split_tag(tag: str) -> tuple[str, str]:
    """``"B-PER"`` -> ``("B", "PER")``; a tag without a one-letter prefix (``O``, ``NOUN``) -> ``("O", "")``."""
    if len(tag) > 2 and tag[1] == "-" and tag[0] in "BIESLU":
        return tag[0], tag[2:]
    return "O", ""


def to_spans(tags: Sequence[str], scheme: TagScheme) -> list[Span]:
    """The spans a tag sequence encodes, read leniently as conlleval reads it.

    A span starts at a begin/single tag, at an inside/end tag that does not continue a span of its
    type (an ``I-X`` after ``O``: the repair conlleval makes), and ends before a tag that does not
    continue it, or after an end/single tag.
    """
    begin, inside, end, single = scheme_prefixes(scheme)
    spans: list[Span] = []
    start, kind = None, ""
    for i, tag in enumerate(tags):
        prefix, label = split_tag(tag)
        continues = start is not None and label == kind and prefix in (inside, end)
        if start is not None and not continues:
            spans.append((start, i, kind))
            start = None
        if prefix == "O":
            continue
        if start is None:
            start, kind = i, label
        if prefix in (end, single) and start is not None:
            spans.append((start, i + 1, kind))
            start = None
    if start is not None:
        spans.append((start, len(tags), kind))
    return spans


def from_spans(spans: Sequence[Span], length: int, scheme: TagScheme) -> list[str]:
    """Tags of ``length`` tokens in ``scheme`` for non-overlapping ``spans``."""
    begin, inside, end, single = scheme_prefixes(scheme)
    tags = ["O"] * length
    previous_end, previous_kind = -1, ""
    for start, stop, kind in sorted(spans):
        if scheme == "iob1":
            first = begin if (start == previous_end and kind == previous_kind) else inside
        else:
            first = single if (single and stop - start == 1) else begin
        tags[start] = f"{first}-{kind}"
        for i in range(start + 1, stop):
            tags[i] = f"{inside}-{kind}"
        if end and stop - start > 1:
            tags[stop - 1] = f"{end}-{kind}"
        previous_end, previous_kind = stop, kind
    return tags


def convert_tags(tags: Sequence[str], source: TagScheme, target: TagScheme) -> list[str]:
    """Rewrites a tag sequence from one span scheme to another (through its spans).

    Example:
        >>> convert_tags(["B-PER", "I-PER", "O", "B-LOC"], "iob2", "bioes")
        ['B-PER', 'E-PER', 'O', 'S-LOC']
    """
    if source == target:
        return list(tags)
    return from_spans(to_spans(tags, source), len(tags), target)


def is_valid(tags: Sequence[str], scheme: TagScheme) -> bool:
    """Whether ``tags`` is a well-formed sequence of ``scheme`` (what :func:`to_spans` repairs, it is not)."""
    return list(tags) == from_spans(to_spans(tags, scheme), len(tags), scheme)


def transition_allowed(scheme: TagScheme, previous: str | None, tag: str | None) -> bool:
    """Whether ``tag`` may follow ``previous`` in a well-formed ``scheme`` sequence.

    ``previous=None`` is the start of the sentence, ``tag=None`` its end. Tags without a span
    prefix count as ``O``. IOB1 is treated like IOB2 here (models never train on IOB1).
    """
    begin, inside, end, single = scheme_prefixes(scheme)
    from_prefix, from_kind = split_tag(previous) if previous is not None else ("START", "")
    to_prefix, to_kind = split_tag(tag) if tag is not None else ("END", "")
    open_span = end is not None and from_prefix in (begin, inside)  # BIOES/BILOU: B and I need an I or E next
    if to_prefix in (inside, end):
        return from_prefix in (begin, inside) and from_kind == to_kind
    return not open_span  # O, B, S or END may not follow an unclosed BIOES span
