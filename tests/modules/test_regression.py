"""Regression heads: masked losses, the per-step RegLSTM, final states and the forecast head."""

import pytest
import torch

from lstm_nlp.errors import ConfigError
from lstm_nlp.modules import ForecastHead, LSTMEncoder, RegLSTM, SequenceRegressionHead, final_states, regression_loss


def test_regression_loss_counts_real_positions_only():
    predictions = torch.tensor([[[1.0], [2.0], [9.0]]])
    targets = torch.tensor([[[0.0], [4.0], [0.0]]])
    mask = torch.tensor([[True, True, False]])
    assert regression_loss(predictions, targets, mask=mask, kind="l1").item() == pytest.approx(1.5)
    assert regression_loss(predictions, targets, mask=mask, kind="mse").item() == pytest.approx(2.5)
    assert regression_loss(predictions, targets, kind="l1").item() == pytest.approx(4.0)
    with pytest.raises(ValueError, match="shape"):
        regression_loss(predictions, targets[..., 0])


def test_sequence_head_predicts_every_step():
    head = SequenceRegressionHead(5, 2, loss="l1")
    features = torch.randn(3, 4, 5)
    mask = torch.tensor([[1, 1, 1, 1], [1, 1, 0, 0], [1, 0, 0, 0]], dtype=torch.bool)
    predictions, loss = head(features, mask=mask, targets=torch.zeros(3, 4, 2))
    assert predictions.shape == (3, 4, 2)
    assert loss.item() == pytest.approx(predictions[mask].abs().mean().item())
    assert head(features, mask=mask)[1] is None
    with pytest.raises(ConfigError):
        SequenceRegressionHead(5, loss="huber")


def test_reg_lstm_ignores_padding():
    model = RegLSTM(2, 8, impl="packed").eval()
    x = torch.randn(2, 5, 2)
    mask = torch.tensor([[1, 1, 1, 1, 1], [1, 1, 1, 0, 0]], dtype=torch.bool)
    noisy = x.clone()
    noisy[1, 3:] = 100.0  # changing padding must not change anything at real positions
    out, out_noisy = model(x, mask=mask), model(noisy, mask=mask)
    assert torch.allclose(out.predictions[mask], out_noisy.predictions[mask])


def test_reg_lstm_learns_a_one_step_delay():
    torch.manual_seed(0)
    x = torch.randn(16, 10, 1)
    targets = torch.cat([torch.zeros(16, 1, 1), x[:, :-1]], dim=1)  # y_t = x_{t-1}: needs memory
    mask = torch.ones(16, 10, dtype=torch.bool)
    model = RegLSTM(1, 16, loss="mse")
    optimizer = torch.optim.Adam(model.parameters(), lr=0.03)
    first = None
    for _ in range(80):
        loss = model(x, mask=mask, targets=targets).loss
        first = first if first is not None else loss.item()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    assert loss.item() < 0.02 * first


@pytest.mark.parametrize("num_layers,bidirectional", [(1, False), (2, False), (1, True), (3, True)])
def test_final_states_are_each_directions_last_real_output(num_layers, bidirectional):
    encoder = LSTMEncoder(3, 4, num_layers=num_layers, bidirectional=bidirectional, impl="packed")
    lengths = torch.tensor([5, 2, 4])
    mask = torch.arange(5)[None, :] < lengths[:, None]
    encoded = encoder(torch.randn(3, 5, 3), mask=mask)
    summary = final_states(encoded.h_n, num_directions=encoder.num_directions)
    assert summary.shape == (3, encoder.output_dim)
    forward = encoded.outputs[torch.arange(3), lengths - 1, :4]
    assert torch.allclose(summary[:, :4], forward, atol=1e-6)
    if bidirectional:
        assert torch.allclose(summary[:, 4:], encoded.outputs[:, 0, 4:], atol=1e-6)


def test_forecast_head_shapes_and_loss():
    head = ForecastHead(6, 3, loss="l1")
    predictions, loss = head(torch.randn(4, 6), targets=torch.zeros(4, 3))
    assert predictions.shape == (4, 3)
    assert loss.item() == pytest.approx(predictions.abs().mean().item())
    with pytest.raises(ConfigError):
        ForecastHead(6, 0)
