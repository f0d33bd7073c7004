import torch

from lstm_nlp.modules import TokenClassificationHead


def test_loss_ignores_padding_and_decode_trims_to_length():
    head = TokenClassificationHead(4, 3)
    features = torch.randn(2, 3, 4)
    mask = torch.tensor([[True, True, True], [True, False, False]])
    labels = torch.tensor([[0, 1, 2], [1, 2, 0]])  # the padding labels must not count
    logits, loss = head(features, mask=mask, labels=labels)
    expected = torch.nn.functional.cross_entropy(logits[mask], labels[mask])
    torch.testing.assert_close(loss, expected)
    decoded = head.decode(logits, mask)
    assert [len(d) for d in decoded] == [3, 1]
    assert decoded[0] == logits[0].argmax(-1).tolist()


def test_class_weights_give_the_weighted_mean_cross_entropy_over_real_tokens():
    import pytest

    from lstm_nlp.errors import ConfigError

    torch.manual_seed(0)
    weights = [2.0, 0.5, 1.0]
    head, plain = TokenClassificationHead(4, 3, class_weights=weights), TokenClassificationHead(4, 3)
    plain.load_state_dict(head.state_dict())  # the weights are not in the state dict
    features = torch.randn(2, 3, 4)
    mask = torch.tensor([[True, True, True], [True, False, False]])
    labels = torch.tensor([[0, 1, 2], [0, 2, 0]])
    logits, loss = head(features, mask=mask, labels=labels)
    per_token = torch.nn.functional.cross_entropy(logits[mask], labels[mask], reduction="none")
    w = torch.tensor(weights)[labels[mask]]
    torch.testing.assert_close(loss, (w * per_token).sum() / w.sum())
    ones = TokenClassificationHead(4, 3, class_weights=[1.0, 1.0, 1.0])
    ones.load_state_dict(plain.state_dict())
    torch.testing.assert_close(ones(features, mask=mask, labels=labels)[1],
                               plain(features, mask=mask, labels=labels)[1])
    assert head.decode(logits, mask) == plain.decode(plain(features, mask=mask)[0], mask)  # predictions unchanged
    for bad in ([1.0, 0.0, 1.0], [1.0, float("nan"), 1.0], [-1.0, 1.0, 1.0], [1.0, float("inf"), 1.0]):
        with pytest.raises(ConfigError, match="finite number > 0"):
            TokenClassificationHead(4, 3, class_weights=bad)
