"""The batch helpers behind a CRF tagger's ``--probabilities``: the same answers as the per-sentence reading."""

import random

import pytest
import torch

from lstm_nlp.modules.crf import ConditionalRandomField, allowed_transitions, span_pattern
from lstm_nlp.pipelines.span_probabilities import decoded_path, decoded_spans, span_probabilities
from lstm_nlp.tags import to_spans

LABELS = {
    "iob2": ["B-LOC", "I-LOC", "B-PER", "I-PER", "O"],
    "iob1": ["B-LOC", "I-LOC", "B-PER", "I-PER", "O"],
    "bioes": ["B-LOC", "I-LOC", "E-LOC", "S-LOC", "B-PER", "I-PER", "E-PER", "S-PER", "O"],
    "bilou": ["B-LOC", "I-LOC", "L-LOC", "U-LOC", "B-PER", "I-PER", "L-PER", "U-PER", "O"],
}


def _batch(num_tags: int, lengths, seed: int):
    generator = random.Random(seed)
    decoded = [[generator.randrange(num_tags) for _ in range(n)] for n in lengths]
    mask = torch.arange(max(lengths)) < torch.tensor(lengths).unsqueeze(1)
    return decoded, mask


def test_decoded_path_pads_each_row_with_zeros():
    decoded, mask = _batch(5, (4, 1, 3), seed=0)
    path = decoded_path(decoded, mask)
    assert path.dtype == torch.long and path.shape == mask.shape
    for row, ids in enumerate(decoded):
        assert path[row, :len(ids)].tolist() == ids
        assert (path[row, len(ids):] == 0).all()


@pytest.mark.parametrize("scheme", sorted(LABELS))
def test_decoded_spans_read_every_sequence_as_to_spans_does(scheme):
    labels = LABELS[scheme] + ["E-LOC", "MISC"]  # tags the scheme does not use, and one without a prefix
    for seed in range(20):
        decoded, mask = _batch(len(labels), (9, 1, 5, 12), seed)
        rows, starts, stops, kinds = decoded_spans(decoded_path(decoded, mask), mask, labels, scheme)
        kind_names = sorted({tag[2:] for tag in labels if tag[1:2] == "-"})
        got = [[] for _ in decoded]
        for row, start, stop, kind in zip(rows.tolist(), starts.tolist(), stops.tolist(), kinds.tolist()):
            got[row].append((start, stop, kind_names[kind]))
        assert got == [to_spans([labels[i] for i in ids], scheme) for ids in decoded]


@pytest.mark.parametrize("scheme", ["iob2", "bioes", "bilou"])
def test_span_probabilities_are_the_span_log_marginals_of_the_decoded_spans(scheme):
    labels = LABELS[scheme]
    torch.manual_seed(1)
    crf = ConditionalRandomField(len(labels), constraints=allowed_transitions(labels, scheme))
    with torch.no_grad():
        for parameter in crf.parameters():
            parameter.normal_()
    crf.temperature = 1.5
    lengths = (8, 3, 1, 6)
    mask = torch.arange(max(lengths)) < torch.tensor(lengths).unsqueeze(1)
    emissions = torch.randn(len(lengths), max(lengths), len(labels)) * 3
    decoded = crf.viterbi_decode(emissions, mask=mask)
    found = span_probabilities(crf, emissions, mask, decoded_path(decoded, mask), labels, scheme)
    queries, expected = [], []
    for row, ids in enumerate(decoded):
        for start, stop, kind in to_spans([labels[i] for i in ids], scheme):
            queries.append((row, start, *span_pattern(labels, scheme, stop - start, kind)))
            expected.append((row, start, stop, kind))
    assert queries  # the case has spans to score
    values = crf.span_log_marginals(emissions, mask=mask, spans=queries).exp().tolist()
    want = [[] for _ in decoded]
    for (row, start, stop, kind), value in zip(expected, values):
        want[row].append((start, stop, kind, value))
    assert found == want


def test_span_probabilities_of_a_batch_without_spans():
    labels = LABELS["iob2"]
    crf = ConditionalRandomField(len(labels), constraints=allowed_transitions(labels, "iob2"))
    mask = torch.ones(2, 3, dtype=torch.bool)
    path = torch.full((2, 3), labels.index("O"))
    assert span_probabilities(crf, torch.zeros(2, 3, len(labels)), mask, path, labels, "iob2") == [[], []]
