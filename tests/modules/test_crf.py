"""The CRF against brute force over every tag sequence, with masks; BIO constraints."""

import itertools

import pytest
import torch

from lstm_nlp.errors import ConfigError
from lstm_nlp.modules.crf import ConditionalRandomField, CRFHead, allowed_transitions


def _random_crf(num_tags: int, constraints=None) -> ConditionalRandomField:
    crf = ConditionalRandomField(num_tags, constraints=constraints)
    with torch.no_grad():
        crf.start_transitions.normal_()
        crf.end_transitions.normal_()
        crf.transitions.normal_()
    return crf


def _brute_force_scores(crf, emissions, length, allowed=None):
    """{tag sequence: score} over all sequences of one row (optionally only allowed ones)."""
    k = crf.num_tags
    scores = {}
    for tags in itertools.product(range(k), repeat=length):
        if allowed is not None:
            pairs = [(k, tags[0])] + list(zip(tags, tags[1:])) + [(tags[-1], k + 1)]
            if not all(pair in allowed for pair in pairs):
                continue
        score = crf.start_transitions[tags[0]] + crf.end_transitions[tags[-1]]
        score = score + sum(emissions[t, tags[t]] for t in range(length))
        score = score + sum(crf.transitions[a, b] for a, b in zip(tags, tags[1:]))
        scores[tags] = score
    return scores


@pytest.fixture
def batch():
    torch.manual_seed(3)
    emissions = torch.randn(3, 4, 3)
    mask = torch.tensor([[True] * 4, [True, True, False, False], [True, False, False, False]])
    return emissions, mask


def test_log_partition_equals_brute_force_log_sum_exp(batch):
    emissions, mask = batch
    crf = _random_crf(3)
    log_z = crf.log_partition(emissions, mask=mask)
    for row, length in enumerate(mask.sum(1).tolist()):
        scores = torch.stack(list(_brute_force_scores(crf, emissions[row], length).values()))
        torch.testing.assert_close(log_z[row], torch.logsumexp(scores, 0))


def test_forward_is_mean_negative_log_likelihood_and_ignores_padding_labels(batch):
    emissions, mask = batch
    crf = _random_crf(3)
    tags = torch.randint(0, 3, (3, 4)).masked_fill(~mask, -100)
    expected = []
    for row, length in enumerate(mask.sum(1).tolist()):
        scores = _brute_force_scores(crf, emissions[row], length)
        gold = tuple(tags[row, :length].tolist())
        expected.append(torch.logsumexp(torch.stack(list(scores.values())), 0) - scores[gold])
    loss = crf(emissions, tags, mask=mask)
    torch.testing.assert_close(loss, torch.stack(expected).mean())
    loss.backward()
    assert crf.transitions.grad is not None and torch.isfinite(crf.transitions.grad).all()


def test_viterbi_equals_brute_force_argmax(batch):
    emissions, mask = batch
    for seed in range(5):
        torch.manual_seed(seed)
        crf = _random_crf(3)
        emissions = torch.randn(3, 4, 3)
        decoded = crf.viterbi_decode(emissions, mask=mask)
        for row, length in enumerate(mask.sum(1).tolist()):
            scores = _brute_force_scores(crf, emissions[row], length)
            best = max(scores, key=lambda seq: scores[seq].item())
            assert tuple(decoded[row]) == best


def test_allowed_transitions_follow_bio_rules():
    labels = ["B-LOC", "B-PER", "I-LOC", "I-PER", "O"]
    allowed = set(allowed_transitions(labels))
    start, end = 5, 6
    assert (start, 2) not in allowed and (start, 3) not in allowed  # no sentence opens with I-X
    assert (start, 0) in allowed and (start, 4) in allowed
    assert (4, 2) not in allowed  # O -> I-LOC
    assert (1, 2) not in allowed and (3, 2) not in allowed  # PER -> I-LOC
    assert (0, 2) in allowed and (2, 2) in allowed  # B-LOC / I-LOC -> I-LOC
    assert all((i, end) in allowed for i in range(5))
    assert not any(j == start for _, j in allowed)


def test_constrained_viterbi_equals_brute_force_over_allowed_and_never_emits_forbidden():
    labels = ["B-LOC", "I-LOC", "B-PER", "I-PER", "O"]
    allowed = set(allowed_transitions(labels))
    torch.manual_seed(0)
    mask = torch.tensor([[True] * 4, [True] * 3 + [False], [True, False, False, False]])
    for seed in range(4):
        torch.manual_seed(seed)
        crf = _random_crf(5, constraints=sorted(allowed))
        with torch.no_grad():  # make the forbidden moves attractive to the unconstrained model
            crf.transitions[4, 1] += 5.0
            crf.start_transitions[3] += 5.0
        emissions = 3 * torch.randn(3, 4, 5)
        decoded = crf.viterbi_decode(emissions, mask=mask)
        for row, length in enumerate(mask.sum(1).tolist()):
            tags = decoded[row]
            pairs = [(5, tags[0])] + list(zip(tags, tags[1:])) + [(tags[-1], 6)]
            assert all(pair in allowed for pair in pairs), tags
            scores = _brute_force_scores(crf, emissions[row], length, allowed=allowed)
            assert tuple(tags) == max(scores, key=lambda seq: scores[seq].item())


def test_constraints_are_a_buffer_saved_in_the_state_dict():
    crf = ConditionalRandomField(3, constraints=allowed_transitions(["B-X", "I-X", "O"]))
    restored = ConditionalRandomField(3)
    restored.load_state_dict(crf.state_dict())
    assert torch.equal(restored.allowed, crf.allowed) and not bool(restored.allowed.all())
    with pytest.raises(ConfigError, match="outside"):
        ConditionalRandomField(3, constraints=[(0, 9)])


def test_crf_head_loss_and_decode_shapes():
    head = CRFHead(6, 4)
    features = torch.randn(2, 5, 6)
    mask = torch.tensor([[True] * 5, [True, True, False, False, False]])
    labels = torch.tensor([[0, 1, 2, 3, 0], [1, 1, -100, -100, -100]])
    logits, loss = head(features, mask=mask, labels=labels)
    assert logits.shape == (2, 5, 4) and loss.dim() == 0 and loss.item() > 0
    assert [len(d) for d in head.decode(logits, mask)] == [5, 2]
    # padding must not change the loss of the short row
    alone, _ = head(features[1:, :2], mask=mask[1:, :2], labels=labels[1:, :2])
    _, loss_short = head(features[1:], mask=mask[1:], labels=labels[1:])
    torch.testing.assert_close(head.crf(alone, labels[1:, :2], mask=mask[1:, :2]), loss_short)


@pytest.mark.parametrize("constrained", [True, False])
def test_top_k_equals_brute_force_ranking(constrained):
    torch.manual_seed(5)
    labels = ["O", "B-A", "I-A"]
    crf = ConditionalRandomField(3, constraints=allowed_transitions(labels) if constrained else None)
    with torch.no_grad():
        crf.start_transitions.normal_()
        crf.end_transitions.normal_()
    emissions = torch.randn(4, 3)
    ranked = []
    for seq in itertools.product(range(3), repeat=4):
        names = [labels[i] for i in seq]
        if constrained and (names[0] == "I-A" or any(b == "I-A" and a == "O" for a, b in zip(names, names[1:]))):
            continue
        score = crf.sequence_score(emissions[None], torch.tensor([seq]), mask=torch.ones(1, 4, dtype=torch.bool))
        ranked.append((float(score.detach()), list(seq)))
    ranked.sort(reverse=True)
    top = crf.top_k(emissions, 6)
    assert [path for path, _ in top] == [path for _, path in ranked[:6]]
    assert [score for _, score in top] == pytest.approx([score for score, _ in ranked[:6]], abs=1e-5)
    assert top[0][0] == crf.viterbi_decode(emissions[None], mask=torch.ones(1, 4, dtype=torch.bool))[0]
    assert len(crf.top_k(emissions[:1], 10)) == (2 if constrained else 3)  # fewer sequences than k


# ---------------------------------------------------------------------- token-weighted NLL (class weights)
def _brute_force_token_weighted_nll(crf, emissions, tags, length, weights):
    """-sum_t w[y_t] log P(y_t | y_<t, x) of one row, from every sequence's probability."""
    scores = _brute_force_scores(crf, emissions, length)
    log_z = torch.logsumexp(torch.stack(list(scores.values())), 0)
    gold = tuple(tags[:length])

    def prefix_log_p(prefix):  # log P(sequence starts with prefix)
        return torch.logsumexp(torch.stack([s for seq, s in scores.items() if seq[:len(prefix)] == prefix]), 0) - log_z

    total = 0.0
    for t in range(length):
        conditional = prefix_log_p(gold[:t + 1]) - (prefix_log_p(gold[:t]) if t else 0.0)
        total = total - weights[gold[t]] * conditional
    return total


def test_token_weighted_nll_with_all_weights_one_is_the_plain_loss(batch):
    emissions, mask = batch
    crf = _random_crf(3)
    tags = torch.randint(0, 3, (3, 4)).masked_fill(~mask, -100).masked_fill(~mask, 0)
    plain = crf(emissions, tags, mask=mask)
    weighted = crf.token_weighted_nll(emissions, tags, mask=mask, weights=torch.ones(3))
    torch.testing.assert_close(weighted, plain, rtol=1e-6, atol=1e-6)


def test_token_weighted_nll_equals_brute_force_chain_rule_terms(batch):
    emissions, mask = batch
    crf = _random_crf(3)
    tags = torch.randint(0, 3, (3, 4)).masked_fill(~mask, 0)
    weights = torch.tensor([3.0, 0.5, 1.25])
    expected = torch.stack([_brute_force_token_weighted_nll(crf, emissions[row], tags[row].tolist(), length, weights)
                            for row, length in enumerate(mask.sum(1).tolist())]).mean()
    got = crf.token_weighted_nll(emissions, tags, mask=mask, weights=weights)
    torch.testing.assert_close(got, expected, rtol=1e-5, atol=1e-5)
    assert got.item() > 0  # a sum of conditional log-losses: bounded below by 0


def test_a_heavier_tag_pulls_harder_on_its_gold_emissions_and_decoding_is_unchanged(batch):
    emissions, mask = batch
    tags = torch.zeros(3, 4, dtype=torch.long)  # every gold tag is 0
    grads = []
    for weight in (1.0, 4.0):
        crf = _random_crf(3)
        torch.manual_seed(0)
        with torch.no_grad():
            for p in crf.parameters():
                p.copy_(torch.randn_like(p))
        scores = emissions.clone().requires_grad_(True)
        crf.token_weighted_nll(scores, tags, mask=mask, weights=torch.tensor([weight, 1.0, 1.0])).backward()
        grads.append(scores.grad[..., 0][mask])
    # d loss / d e[t, gold] <= 0 (raise the gold score) and 4x the weight pulls harder at every real token
    assert (grads[0] <= 0).all() and (grads[1] < grads[0] - 1e-6).all()


def test_crf_head_with_class_weights_uses_the_weighted_loss_and_keeps_them_out_of_the_state_dict():
    torch.manual_seed(0)
    head = CRFHead(4, 3, class_weights=[1.0, 1.0, 1.0])
    plain = CRFHead(4, 3)
    plain.load_state_dict(head.state_dict())
    features, mask = torch.randn(2, 3, 4), torch.tensor([[True, True, True], [True, True, False]])
    labels = torch.tensor([[0, 1, 2], [1, 2, -100]])
    weighted, unweighted = head(features, mask=mask, labels=labels)[1], plain(features, mask=mask, labels=labels)[1]
    torch.testing.assert_close(weighted, unweighted)
    assert "class_weights" not in head.state_dict() and head.class_weights.tolist() == [1.0, 1.0, 1.0]
    with pytest.raises(ConfigError, match="one weight per label"):
        CRFHead(4, 3, class_weights=[1.0, 2.0])
