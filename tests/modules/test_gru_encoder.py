"""GRUEncoder: registered by name, an ``nn.GRU`` underneath, and nothing else in the package names it.

The encoder contract (padding leaks nothing, dense == packed, length groups, CUDA) runs for every
registered encoder, this one included, in ``test_encoder.py``.
"""

import ast
from pathlib import Path

import pytest
import torch

import lstm_nlp
from lstm_nlp.modules import GRUEncoder
from lstm_nlp.modules.encoder import ENCODERS, build_encoder


def test_impl_contract_time_major_layout_and_nn_gru_weights():
    encoder = GRUEncoder(4, 3, num_layers=2, batch_first=False)
    assert encoder.resolve_impl(torch.device("cpu")) == "dense" and encoder.output_dim == 6
    reference = torch.nn.GRU(4, 3, num_layers=2, bidirectional=True)
    reference.load_state_dict({k.removeprefix("gru."): v for k, v in encoder.state_dict().items()})
    inputs = torch.randn(5, 2, 4)  # [seq, batch, feature], no padding
    out = encoder(inputs, mask=torch.ones(2, 5, dtype=torch.bool))
    expected, h_n = reference(inputs)
    torch.testing.assert_close(out.outputs, expected)
    torch.testing.assert_close(out.h_n, h_n)
    with pytest.raises(ValueError, match="impl must be"):
        GRUEncoder(4, 3, impl="fast")


def test_gru_is_registered_by_name():
    assert ENCODERS["gru"] is GRUEncoder and GRUEncoder.name == "gru"
    encoder = build_encoder("gru", 6, 5, num_layers=2, dropout=0.1, bidirectional=False, impl="packed")
    assert isinstance(encoder, GRUEncoder) and encoder.rnn is encoder.gru and encoder.rnn.mode == "GRU"
    assert (encoder.input_dim, encoder.output_dim, encoder.impl) == (6, 5, "packed")


def test_the_gru_was_added_through_the_registry_alone():
    """Outside its module and its registration, no code names the GRU: no ``GRUEncoder``, no ``"gru"`` switch."""
    package = Path(lstm_nlp.__file__).parent
    allowed = {package / "modules" / "gru_encoder.py", package / "modules" / "__init__.py"}
    found = []
    for path in sorted(package.rglob("*.py")):
        if path in allowed:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = {getattr(node, "id", None), getattr(node, "attr", None), getattr(node, "name", None)}
            if "GRUEncoder" in names or "GRU" in names or "gru" in names:
                found.append(f"{path.relative_to(package)}:{node.lineno} names the GRU")
            elif isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value.lower() == "gru":
                found.append(f"{path.relative_to(package)}:{node.lineno} compares with {node.value!r}")
    assert not found
