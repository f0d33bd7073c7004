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
