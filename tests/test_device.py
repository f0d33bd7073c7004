import pytest
import torch

from lstm_nlp.errors import ConfigError
from lstm_nlp.device import resolve_device


def test_cpu_and_auto():
    assert resolve_device("cpu") == torch.device("cpu")
    assert resolve_device("auto").type in ("cpu", "cuda", "mps")


def test_unavailable_or_unknown_devices_are_clear_errors():
    if not torch.cuda.is_available():
        with pytest.raises(ConfigError, match="CUDA is not available"):
            resolve_device("cuda:0")
    with pytest.raises(ConfigError, match="unknown device 'gpu'"):
        resolve_device("gpu")
