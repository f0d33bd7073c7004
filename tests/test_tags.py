"""Tag schemes: spans survive every conversion, the lenient reading repairs as conlleval does, CRF moves agree."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lstm_nlp.errors import ConfigError
from lstm_nlp.modules.crf import allowed_transitions
from lstm_nlp.tags import SPAN_SCHEMES, check_scheme, convert_tags, from_spans, is_valid, to_spans, transition_allowed


@st.composite
def spans_and_length(draw):
    """Non-overlapping spans of types A/B over up to 12 tokens."""
    length = draw(st.integers(0, 12))
    cuts = sorted(draw(st.sets(st.integers(0, length), max_size=8)))
    spans = []
    for start, stop in zip(cuts[::2], cuts[1::2]):
        if stop > start:
            spans.append((start, stop, draw(st.sampled_from("AB"))))
    return spans, length


@given(spans_and_length(), st.sampled_from(SPAN_SCHEMES), st.sampled_from(SPAN_SCHEMES))
def test_spans_survive_writing_reading_and_converting(case, source, target):
    spans, length = case
    tags = from_spans(spans, length, source)
    assert to_spans(tags, source) == spans and is_valid(tags, source)
    assert to_spans(convert_tags(tags, source, target), target) == spans


@given(spans_and_length(), st.sampled_from(["iob2", "bioes", "bilou"]))
def test_every_move_of_a_well_formed_sequence_is_an_allowed_transition(case, scheme):
    spans, length = case
    tags = from_spans(spans, length, scheme)
    path = [None, *tags, None]
    assert all(transition_allowed(scheme, a, b) for a, b in zip(path, path[1:]) if (a, b) != (None, None))


@pytest.mark.parametrize("tags, scheme, spans", [
    (["B-PER", "I-PER", "O", "B-LOC"], "iob2", [(0, 2, "PER"), (3, 4, "LOC")]),
    (["O", "I-PER", "I-PER"], "iob2", [(1, 3, "PER")]),                       # a stray I- opens a span
    (["B-PER", "I-LOC"], "iob2", [(0, 1, "PER"), (1, 2, "LOC")]),             # another type: a new span
    (["I-PER", "I-PER", "B-PER"], "iob1", [(0, 2, "PER"), (2, 3, "PER")]),
    (["B-PER", "E-PER", "S-LOC", "I-LOC", "E-LOC"], "bioes", [(0, 2, "PER"), (2, 3, "LOC"), (3, 5, "LOC")]),
    (["B-PER", "O"], "bioes", [(0, 1, "PER")]),                               # unclosed: ends before O
    (["U-PER", "B-LOC", "L-LOC"], "bilou", [(0, 1, "PER"), (1, 3, "LOC")]),
])
def test_lenient_reading(tags, scheme, spans):
    assert to_spans(tags, scheme) == spans


def test_conversions_by_example():
    assert convert_tags(["B-PER", "I-PER", "O", "B-LOC"], "iob2", "bioes") == ["B-PER", "E-PER", "O", "S-LOC"]
    assert convert_tags(["B-A", "B-A", "O"], "iob2", "iob1") == ["I-A", "B-A", "O"]
    assert convert_tags(["I-A", "B-A", "O"], "iob1", "iob2") == ["B-A", "B-A", "O"]
    assert convert_tags(["S-A", "B-B", "E-B"], "bioes", "bilou") == ["U-A", "B-B", "L-B"]


def test_bioes_crf_constraints_close_every_span():
    labels = ["B-A", "I-A", "E-A", "S-A", "O"]
    allowed = set(allowed_transitions(labels, "bioes"))
    start, end = len(labels), len(labels) + 1
    ids = {label: i for i, label in enumerate(labels)}
    assert (ids["B-A"], ids["E-A"]) in allowed and (ids["B-A"], ids["O"]) not in allowed
    assert (ids["I-A"], end) not in allowed and (ids["E-A"], end) in allowed
    assert (start, ids["I-A"]) not in allowed and (start, ids["S-A"]) in allowed


def test_scheme_names():
    assert (check_scheme("token"), check_scheme("bio"), check_scheme("iobes")) == ("none", "iob2", "bioes")
    with pytest.raises(ConfigError, match="tag scheme must be one of"):
        check_scheme("bilu")


def test_bio_tagger_recipes_offer_every_recipe_label_scheme():
    """``--tag-scheme`` choices are read from :data:`RECIPE_LABEL_SCHEMES` (BILOU among them)."""
    import argparse

    from lstm_nlp.recipe_kit.tagging import add_bio_tagger_options
    from lstm_nlp.tags import RECIPE_LABEL_SCHEMES

    parser = argparse.ArgumentParser()
    add_bio_tagger_options(parser, tag_column=-1)
    assert "bilou" in RECIPE_LABEL_SCHEMES
    for scheme in RECIPE_LABEL_SCHEMES:
        assert parser.parse_args(["--tag-scheme", scheme]).tag_scheme == scheme
