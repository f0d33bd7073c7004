import pytest
import torch

from lstm_nlp.device import free_cpu_threads, resolve_device, set_cpu_threads
from lstm_nlp.errors import ConfigError


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


def _governor(monkeypatch, others: float, **kwargs):
    from lstm_nlp.device import ThreadGovernor

    governor = ThreadGovernor(interval=0.0, cpus=2, **kwargs)
    monkeypatch.setattr(governor, "others_busy", lambda: others)
    return governor


@pytest.mark.parametrize("others, expected", [(0.0, 2), (0.2, 2), (0.3, 1), (1.0, 1), (1.9, 1), (5.0, 1)])
def test_the_governor_counts_a_core_that_is_at_least_three_quarters_free(monkeypatch, others, expected):
    assert _governor(monkeypatch, others).target(others) == expected


def test_the_governor_lowers_and_raises_the_threads_in_place_and_logs_it(monkeypatch, caplog):
    pytest.importorskip("lstm_nlp.device").ThreadGovernor.supported() or pytest.skip("needs /proc/stat")
    before = torch.get_num_threads()
    try:
        torch.set_num_threads(2)
        busy = _governor(monkeypatch, 1.0)
        with caplog.at_level("INFO", logger="lstm_nlp"):
            assert busy.poll() == 1
        assert torch.get_num_threads() == 1
        assert "CPU threads 2 -> 1: other processes keep 1.0 of 2 cores busy" in caplog.text
        assert busy.poll() is None  # unchanged: nothing to do, nothing logged
        assert _governor(monkeypatch, 0.0).poll() == 2 and torch.get_num_threads() == 2
        assert _governor(monkeypatch, 0.0, max_threads=1).poll() == 1  # never above the count asked for
    finally:
        torch.set_num_threads(before)


def test_the_governor_waits_for_its_interval(monkeypatch):
    from lstm_nlp.device import ThreadGovernor

    if not ThreadGovernor.supported():
        pytest.skip("needs /proc/stat")
    governor = ThreadGovernor(interval=3600.0, cpus=2)
    monkeypatch.setattr(governor, "others_busy", lambda: pytest.fail("measured before its interval"))
    assert governor.poll() is None


def test_the_first_check_comes_after_first_interval_and_the_next_after_interval(monkeypatch):
    from lstm_nlp.device import ThreadGovernor

    if not ThreadGovernor.supported():
        pytest.skip("needs /proc/stat")
    governor = ThreadGovernor(interval=3600.0, first_interval=0.0, cpus=2)
    checks = []
    monkeypatch.setattr(governor, "others_busy", lambda: checks.append(1) or 0.0)
    before = torch.get_num_threads()
    try:
        governor.poll()
        governor.poll()
    finally:
        torch.set_num_threads(before)
    assert checks == [1]


def test_the_governor_sees_another_process_keep_a_core_busy():
    import subprocess
    import sys
    import time

    from lstm_nlp.device import ThreadGovernor

    if not ThreadGovernor.supported():
        pytest.skip("needs /proc/stat")
    spin = "import time\nend = time.time() + 1.5\nwhile time.time() < end: pass"
    spinner = subprocess.Popen([sys.executable, "-c", spin])
    try:
        time.sleep(0.3)  # past the child's start-up
        governor = ThreadGovernor(cpus=2)
        time.sleep(1.0)
        assert governor.others_busy() > 0.6  # the spinner's core (at least; the machine may be busier)
    finally:
        spinner.kill()
        spinner.wait()


def test_only_the_automatic_choice_adapts(monkeypatch):
    import lstm_nlp.device as device

    before = torch.get_num_threads()
    try:
        monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
        set_cpu_threads(None)
        assert (device._governor is not None) == device.ThreadGovernor.supported()
        set_cpu_threads(1)
        assert device._governor is None and device.adapt_cpu_threads() is None
        set_cpu_threads(None)
        monkeypatch.setenv("OMP_NUM_THREADS", "1")
        set_cpu_threads(None)
        assert device._governor is None
    finally:
        device._governor = None
        torch.set_num_threads(before)


def test_busy_time_is_counted_on_this_process_cores_only():
    import os

    from lstm_nlp.device import ThreadGovernor, _busy_jiffies

    if not ThreadGovernor.supported() or not hasattr(os, "sched_getaffinity"):
        pytest.skip("needs /proc/stat and CPU affinity")
    every = frozenset(range(os.cpu_count() or 1))
    total, per_core = _busy_jiffies(count_nice=True), _busy_jiffies(count_nice=True, cores=every)
    assert abs(total - per_core) <= 10 * len(every)  # the same time, summed per core (a few ticks apart)
    first = _busy_jiffies(count_nice=True, cores=frozenset({min(os.sched_getaffinity(0))}))
    assert 0 < first <= per_core
