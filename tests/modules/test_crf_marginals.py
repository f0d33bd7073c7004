"""CRF marginals against brute-force enumeration of every allowed tag sequence, for every scheme."""

import itertools
import math

import pytest
import torch

from lstm_nlp.modules.crf import ConditionalRandomField, allowed_transitions, span_pattern
from lstm_nlp.tags import to_spans

LABELS = {  # at most 6 tags per scheme
    "iob2": ["B-A", "I-A", "B-B", "I-B", "O"],
    "iob1": ["B-A", "I-A", "B-B", "I-B", "O"],
    "bioes": ["B-A", "I-A", "E-A", "S-A", "S-B", "O"],
    "bilou": ["B-A", "I-A", "L-A", "U-A", "U-B", "O"],
    "none": ["N", "V", "D", "J", "P", "X"],
}


def _case(scheme: str, lengths=(7, 4, 1), seed: int = 0):
    torch.manual_seed(seed)
    labels = LABELS[scheme]
    constraints = None if scheme == "none" else allowed_transitions(labels, scheme)
    crf = ConditionalRandomField(len(labels), constraints=constraints)
    with torch.no_grad():
        for parameter in crf.parameters():
            parameter.normal_()
    emissions = torch.randn(len(lengths), max(lengths), len(labels), dtype=torch.float64) * 2
    mask = torch.arange(max(lengths)) < torch.tensor(lengths).unsqueeze(1)
    return labels, crf, emissions, mask


def _enumerate(crf, emissions, length):
    """Every allowed sequence of one row with its probability (float64 tensors)."""
    k = crf.num_tags
    paths = torch.tensor(list(itertools.product(range(k), repeat=length)))
    allowed = crf.allowed[k, paths[:, 0]] & crf.allowed[paths[:, -1], k + 1]
    allowed &= crf.allowed[paths[:, :-1], paths[:, 1:]].all(1)
    paths = paths[allowed]
    t = crf.transitions.double()
    scores = (crf.start_transitions.double()[paths[:, 0]] + crf.end_transitions.double()[paths[:, -1]]
              + emissions[:length].gather(1, paths.T).sum(0) + t[paths[:, :-1], paths[:, 1:]].sum(1))
    return paths, (scores - scores.logsumexp(0)).exp()


@pytest.mark.parametrize("scheme", ["iob2", "iob1", "bioes", "bilou", "none"])
def test_token_marginals_match_brute_force_and_sum_to_one(scheme):
    lengths = (6, 3, 1) if scheme == "none" else (7, 4, 1)
    labels, crf, emissions, mask = _case(scheme, lengths)
    marginals = crf.marginals(emissions, mask=mask)
    for row, length in enumerate(lengths):
        paths, probability = _enumerate(crf, emissions[row], length)
        expected = torch.zeros(length, len(labels), dtype=torch.float64)
        for t in range(length):
            expected[t].index_add_(0, paths[:, t], probability)
        assert torch.allclose(marginals[row, :length], expected, atol=1e-6)
        assert torch.allclose(marginals[row, :length].sum(1), torch.ones(length, dtype=torch.float64), atol=1e-9)
        assert marginals[row, length:].abs().sum() == 0


@pytest.mark.parametrize("scheme", ["iob2", "iob1", "bioes", "bilou"])
def test_span_marginals_match_brute_force_for_every_span(scheme):
    lengths = (7, 4, 1)
    labels, crf, emissions, mask = _case(scheme, lengths, seed=1)
    spans, expected = [], []
    for row, length in enumerate(lengths):
        paths, probability = _enumerate(crf, emissions[row], length)
        totals: dict = {}
        for path, p in zip(paths.tolist(), probability.tolist()):
            for span in to_spans([labels[i] for i in path], "iob2" if scheme == "iob1" else scheme):
                totals[span] = totals.get(span, 0.0) + p
        for start in range(length):
            for stop in range(start + 1, length + 1):
                for kind in ("A", "B"):
                    if kind == "B" and scheme != "iob2" and scheme != "iob1" and stop - start > 1:
                        continue  # the BIOES/BILOU label sets here have only one-token B spans
                    spans.append((row, start, *span_pattern(labels, scheme, stop - start, kind)))
                    expected.append(totals.get((start, stop, kind), 0.0))
    got = crf.span_log_marginals(emissions, mask=mask, spans=spans).exp()
    assert torch.allclose(got, torch.tensor(expected, dtype=torch.float64), atol=1e-6)
    assert max(expected) > 0.05  # the cases are not all trivially zero


@pytest.mark.parametrize("scheme", ["iob2", "bioes", "none"])
def test_decoded_sequence_probability_is_exp_score_minus_log_z(scheme):
    lengths = (6, 3, 1) if scheme == "none" else (7, 4, 1)
    labels, crf, emissions, mask = _case(scheme, lengths, seed=2)
    decoded = crf.viterbi_decode(emissions, mask=mask)
    tags = torch.zeros(mask.shape, dtype=torch.long)
    for row, path in enumerate(decoded):
        tags[row, :len(path)] = torch.tensor(path)
    log_p = crf.sequence_log_probability(emissions, tags, mask=mask)
    _, _, log_z = crf.forward_backward(emissions, mask=mask)
    score = crf.sequence_score(emissions, tags, mask=mask).double()
    assert torch.allclose(log_p, score - log_z, atol=1e-9)
    for row, length in enumerate(lengths):
        paths, probability = _enumerate(crf, emissions[row], length)
        index = (paths == torch.tensor(decoded[row])).all(1).nonzero().item()
        assert math.isclose(log_p[row].exp().item(), probability[index].item(), abs_tol=1e-6)
        assert index == probability.argmax().item()


def test_forbidden_sequence_has_probability_zero():
    labels, crf, emissions, mask = _case("iob2", (3,))
    tags = torch.tensor([[labels.index("O"), labels.index("I-A"), labels.index("O")]])
    assert crf.sequence_log_probability(emissions, tags, mask=mask).item() == float("-inf")


def test_long_sentences_do_not_underflow():
    labels, crf, _, _ = _case("bioes")
    torch.manual_seed(5)
    emissions = torch.randn(2, 3000, len(labels)) * 20  # float32, scores far beyond exp's range
    mask = torch.ones(2, 3000, dtype=torch.bool)
    mask[1, 1500:] = False
    marginals = crf.marginals(emissions, mask=mask)
    assert torch.isfinite(marginals).all()
    assert torch.allclose(marginals[0].sum(1), torch.ones(3000, dtype=torch.float64), atol=1e-9)
    assert torch.allclose(marginals[1, :1500].sum(1), torch.ones(1500, dtype=torch.float64), atol=1e-9)
    spans = [(0, 10, *span_pattern(labels, "bioes", 1, "A"))]
    assert torch.isfinite(crf.span_log_marginals(emissions, mask=mask, spans=spans)).all()


def test_span_pattern_names_a_missing_tag():
    from lstm_nlp.errors import ConfigError
    with pytest.raises(ConfigError, match="no tag 'B-B'"):
        span_pattern(LABELS["bioes"], "bioes", 2, "B")


@pytest.mark.parametrize("scheme", ["iob2", "bioes", "none"])
@pytest.mark.parametrize("temperature", [0.5, 2.0])
def test_a_temperature_gives_the_probabilities_of_every_score_divided_by_it(scheme, temperature):
    lengths = (6, 3, 1) if scheme == "none" else (7, 4, 1)
    labels, crf, emissions, mask = _case(scheme, lengths, seed=3)
    tags = crf.viterbi_decode(emissions.float(), mask=mask)
    crf.temperature = temperature
    for row, length in enumerate(lengths):
        scaled = ConditionalRandomField(len(labels), constraints=None)
        scaled.allowed.copy_(crf.allowed)
        with torch.no_grad():
            for mine, theirs in zip(scaled.parameters(), crf.parameters()):
                mine.copy_(theirs / temperature)
        with torch.no_grad():
            paths, probability = _enumerate(scaled, emissions[row] / temperature, length)
        expected = torch.zeros(length, len(labels), dtype=torch.float64)
        for t in range(length):
            expected[t].index_add_(0, paths[:, t], probability)
        assert torch.allclose(crf.marginals(emissions, mask=mask)[row, :length], expected, atol=1e-6)
        decoded = torch.tensor(tags[row])
        best = (paths == decoded).all(1)
        log_p = crf.sequence_log_probability(emissions[row:row + 1, :length], decoded[None],
                                             mask=mask[row:row + 1, :length]).detach()
        # the sequence score is summed in float32 (as in training): 1e-5 relative, not 1e-6
        assert float(log_p.exp()) == pytest.approx(float(probability[best].sum()), rel=1e-5)
    assert crf.viterbi_decode(emissions.float(), mask=mask) == tags  # decoding ignores the temperature


@pytest.mark.parametrize("scheme", ["iob2", "bioes", "none"])
def test_tag_marginals_are_the_marginals_of_the_given_tags(scheme):
    labels, crf, emissions, mask = _case(scheme, seed=6)
    crf.temperature = 0.7
    tags = torch.randint(len(labels), mask.shape)
    tables = crf.forward_backward(emissions, mask=mask)
    expected = crf.marginals(emissions, mask=mask, tables=tables).gather(2, tags.unsqueeze(2)).squeeze(2)
    assert torch.equal(crf.tag_marginals(emissions, tags, mask=mask, tables=tables), expected)
    assert torch.equal(crf.tag_marginals(emissions, tags, mask=mask), expected)
    assert (expected[~mask] == 0).all()


def test_pattern_log_marginals_of_no_span_is_empty():
    labels, crf, emissions, mask = _case("iob2")
    empty = torch.zeros(0, dtype=torch.long)
    got = crf.pattern_log_marginals(emissions, mask=mask, rows=empty, starts=empty, patterns=empty.view(0, 1),
                                    sizes=empty, excluded=torch.zeros(0, len(labels), dtype=torch.bool))
    assert got.shape == (0,)


def _log_space_tables(crf, emissions, mask, monkeypatch):
    from lstm_nlp.modules import crf as crf_module
    with monkeypatch.context() as patch:
        patch.setattr(crf_module, "_scaled_tables", lambda *args: None)
        return crf.forward_backward(emissions, mask=mask)


@pytest.mark.parametrize("scheme", ["iob2", "bioes", "none"])
def test_the_scaled_recursions_give_the_log_space_tables(scheme, monkeypatch):
    _, crf, emissions, mask = _case(scheme, lengths=(9, 5, 1, 9), seed=7)
    crf.temperature = 0.3
    for got, want in zip(crf.forward_backward(emissions, mask=mask),
                         _log_space_tables(crf, emissions, mask, monkeypatch)):
        assert torch.equal(torch.isfinite(got), torch.isfinite(want))
        assert torch.allclose(got[torch.isfinite(got)], want[torch.isfinite(want)], rtol=0, atol=1e-10)


def test_scores_too_far_apart_for_the_scaled_sums_take_the_log_space_recursions(monkeypatch):
    from lstm_nlp.modules.crf import _scaled_tables
    labels = ["B-A", "I-A", "O"]
    crf = ConditionalRandomField(3, constraints=allowed_transitions(labels, "iob2"))
    # O leads by 1000 nats at token 0, but O -> I-A is forbidden and I-A leads by 2000 at token 1:
    # in probability space the only way into I-A underflows, yet it carries nearly all the mass.
    emissions = torch.tensor([[[0.0, 0.0, 1000.0], [0.0, 2000.0, 0.0]]])
    mask = torch.ones(1, 2, dtype=torch.bool)
    start, transitions, end = crf._constrained(torch.float64)
    assert _scaled_tables(emissions.double(), start, transitions, end, mask) is None
    marginals = crf.marginals(emissions, mask=mask)
    assert torch.allclose(marginals[0], torch.tensor([[1.0, 0, 0], [0, 1.0, 0]], dtype=torch.float64))
    for got, want in zip(crf.forward_backward(emissions, mask=mask),
                         _log_space_tables(crf, emissions, mask, monkeypatch)):
        assert torch.equal(got, want)
