"""Character word encoders: shapes, padding words, per-unique-word computation equals per-word computation."""

import pytest
import torch

from lstm_nlp.errors import ConfigError
from lstm_nlp.modules.char_encoders import CharCNNEncoder, CharLSTMEncoder


def _char_batch():
    # 2 sentences x 3 words x up to 4 chars; word "2 3" repeats; row 1 ends with a padding word.
    return torch.tensor([
        [[2, 3, 0, 0], [4, 5, 6, 7], [2, 3, 0, 0]],
        [[5, 0, 0, 0], [2, 3, 0, 0], [0, 0, 0, 0]],
    ])


@pytest.mark.parametrize("encoder", [
    lambda: CharCNNEncoder(8, embedding_dim=5, num_filters=6, kernel_size=3),
    lambda: CharLSTMEncoder(8, embedding_dim=5, hidden_size=3),
], ids=["cnn", "lstm"])
def test_encoders_give_one_vector_per_word_and_zeros_for_padding_words(encoder):
    module = encoder().eval()
    chars = _char_batch()
    out = module(chars)
    assert out.shape == (2, 3, module.output_dim)
    assert torch.count_nonzero(out[1, 2]) == 0
    torch.testing.assert_close(out[0, 0], out[0, 2])
    torch.testing.assert_close(out[0, 0], out[1, 1])
    # each word encoded on its own (no batch, no extra padding columns) gives the same vector
    for row, col in [(0, 1), (1, 0)]:
        length = int((chars[row, col] != 0).sum())
        alone = module(chars[row, col, :length].view(1, 1, length))
        torch.testing.assert_close(alone[0, 0], out[row, col], atol=1e-6, rtol=1e-5)


def test_gradients_reach_every_occurrence_and_the_char_embedding():
    module = CharCNNEncoder(8, embedding_dim=4, num_filters=5)
    module(_char_batch()).sum().backward()
    grad = module.embedding.weight.grad
    assert torch.count_nonzero(grad[0]) == 0  # padding row stays untouched
    assert torch.count_nonzero(grad[2:8].abs().sum(1)) == 6


@pytest.mark.parametrize("encoder", [
    lambda: CharCNNEncoder(40, embedding_dim=8, num_filters=64),
    lambda: CharLSTMEncoder(40, embedding_dim=8, hidden_size=32),
], ids=["cnn", "lstm"])
def test_gradients_are_the_same_bits_on_every_run_with_two_threads(encoder):
    """Words repeat in a batch; their gradients must add up in a fixed order, also across threads (the indexing
    used before added them with parallel atomic adds: a same-seed training run drifted after a few epochs)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        torch.manual_seed(0)
        module = encoder()
        chars = torch.randint(1, 40, (64, 50, 6))
        chars[:, :, 4:] = 0
        chars[torch.rand(64, 50) < 0.3] = chars[0, 0].clone()  # many repeats of one word: the case that raced
        upstream = torch.randn(64, 50, module.output_dim)
        first = None
        for _ in range(20):
            grads = torch.autograd.grad((module(chars) * upstream).sum(), list(module.parameters()))
            first = first or grads
            assert all(torch.equal(a, b) for a, b in zip(first, grads))
    finally:
        torch.set_num_threads(threads)


def test_char_lstm_output_is_final_forward_and_backward_states():
    torch.manual_seed(0)
    module = CharLSTMEncoder(8, embedding_dim=4, hidden_size=3).eval()
    word = torch.tensor([[[2, 4, 6]]])
    out = module(word)[0, 0]
    outputs = module.lstm.lstm(module.embedding(word[0]))[0][0]  # [3, 6] plain nn.LSTM
    torch.testing.assert_close(out[:3], outputs[-1, :3])
    torch.testing.assert_close(out[3:], outputs[0, 3:])


def test_all_padding_batch_and_bad_config():
    out = CharCNNEncoder(8, num_filters=4)(torch.zeros(1, 2, 3, dtype=torch.long))
    assert out.shape == (1, 2, 4) and torch.count_nonzero(out) == 0
    with pytest.raises(ConfigError, match="odd"):
        CharCNNEncoder(8, kernel_size=4)
    with pytest.raises(ConfigError):
        CharLSTMEncoder(1)


@pytest.mark.parametrize("collide", [False, True])
def test_unique_rows_matches_torch_unique_even_when_hashes_collide(monkeypatch, collide):
    from lstm_nlp.modules import char_encoders

    if collide:  # every row hashes to 0: the check must catch it and fall back
        monkeypatch.setattr(char_encoders, "_hash_multipliers",
                            lambda width, device: torch.zeros(width, dtype=torch.long))
    rows = torch.randint(0, 4, (300, 5))
    rows[::7] = 0  # padding rows
    words, inverse = char_encoders._unique_rows(rows)
    expected = torch.unique(rows, dim=0)
    assert words.shape == expected.shape
    assert torch.equal(words[inverse], rows)
    assert {tuple(r) for r in words.tolist()} == {tuple(r) for r in expected.tolist()}
