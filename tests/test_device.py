import pytest
import torch

from lstm_nlp.errors import ConfigError
from lstm_nlp.device import free_cpu_threads, resolve_device, set_cpu_threads


def test_cpu_and_auto():
    assert resolve_device("cpu") == torch.device("cpu")
    assert resolve_device("auto").type in ("cpu", "cuda", "mps")


def test_unavailable_or_unknown_devices_are_clear_errors():
    if not torch.cuda.is_available():
        with pytest.raises(ConfigError, match="CUDA is not available"):
            resolve_device("cuda:0")
    with pytest.raises(ConfigError, match="unknown device 'gpu'"):
        resolve_device("gpu")


@pytest.mark.parametrize("cpus, load, expected", [(2, 2.0, 1), (2, 0.3, 2), (8, 0.2, 8), (8, 3.4, 5), (4, 9.0, 1)])
def test_free_cpu_threads_leaves_busy_cores_alone(cpus, load, expected):
    assert free_cpu_threads(cpus=cpus, load=load) == expected


def test_set_cpu_threads_takes_a_count_and_respects_omp_num_threads(monkeypatch):
    before = torch.get_num_threads()
    try:
        assert set_cpu_threads(1) == 1
        monkeypatch.setenv("OMP_NUM_THREADS", "1")
        torch.set_num_threads(2)
        assert set_cpu_threads(None) == 2  # an explicit environment setting is left to torch
    finally:
        torch.set_num_threads(before)
