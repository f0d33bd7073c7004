import pytest
import torch
from torch import nn

from lstm_nlp.modules.dropout import Dropout, dropout


def test_keeps_the_expected_share_and_scales_kept_values():
    torch.manual_seed(0)
    x = torch.ones(200, 500)
    out = dropout(x, 0.3, training=True)
    kept = out != 0
    assert kept.float().mean().item() == pytest.approx(0.7, abs=0.01)
    assert torch.allclose(out[kept], torch.full_like(out[kept], 1 / 0.7))
    assert out.mean().item() == pytest.approx(1.0, abs=0.02)  # unbiased, as nn.Dropout


def test_gradient_is_the_mask():
    torch.manual_seed(1)
    x = torch.randn(50, 40, requires_grad=True)
    out = dropout(x, 0.5, training=True)
    out.sum().backward()
    assert torch.equal(x.grad, (out != 0).float() * 2.0)


def test_identity_in_eval_and_at_p_zero_zeros_at_p_one():
    x = torch.randn(3, 4)
    assert dropout(x, 0.5, training=False) is x
    assert dropout(x, 0.0, training=True) is x
    assert torch.equal(dropout(x, 1.0, training=True), torch.zeros_like(x))


def test_module_is_an_nn_dropout_and_follows_train_eval():
    module = Dropout(0.4)
    assert isinstance(module, nn.Dropout) and module.p == 0.4
    x = torch.ones(1000)
    assert torch.equal(module.eval()(x), x)
    assert (module.train()(x) == 0).any()


def test_bf16_inputs_stay_bf16():
    x = torch.ones(100, 100, dtype=torch.bfloat16)
    out = dropout(x, 0.25, training=True)
    assert out.dtype == torch.bfloat16
    assert (out == 0).float().mean().item() == pytest.approx(0.25, abs=0.03)
