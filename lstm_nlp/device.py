"""Device selection, and how many CPU threads to use."""

from __future__ import annotations

import os

import torch

from lstm_nlp.errors import ConfigError


def resolve_device(name: str = "auto") -> torch.device:
    """Turns ``"auto" | "cpu" | "cuda" | "cuda:N" | "mps"`` into a ``torch.device``.

    ``"auto"`` picks CUDA, then MPS, then CPU. Asking for a device that is not present raises
    :class:`ConfigError` rather than failing later inside a kernel.
    """
    name = (name or "auto").strip().lower()
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    try:
        device = torch.device(name)
    except RuntimeError:
        raise ConfigError(f"unknown device {name!r}; use auto, cpu, cuda, cuda:N or mps") from None
    if device.type == "cuda":
        if not torch.cuda.is_available():
            raise ConfigError(f"device {name!r} requested but CUDA is not available")
        if device.index is not None and device.index >= torch.cuda.device_count():
            raise ConfigError(f"device {name!r} requested but only {torch.cuda.device_count()} CUDA device(s) exist")
    elif device.type == "mps" and not (getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()):
        raise ConfigError("device 'mps' requested but MPS is not available")
    elif device.type not in ("cpu", "cuda", "mps"):
        raise ConfigError(f"unsupported device {name!r}; use auto, cpu, cuda, cuda:N or mps")
    return device


def move_batch(batch: dict[str, torch.Tensor], device: torch.device) -> dict[str, torch.Tensor]:
    """Moves every tensor of a batch to ``device`` (non-blocking from pinned memory); ``lengths`` stays on CPU."""
    return {k: (v if k == "lengths" else v.to(device, non_blocking=True)) for k, v in batch.items()}


def free_cpu_threads(*, cpus: int | None = None, load: float | None = None) -> int:
    """CPU threads worth using now: the cores minus the 1-minute load average, at least 1.

    An OpenMP thread waits at every operator's barrier for the slowest thread; when another process
    holds a core, that wait dominates. On this project's 2-core benchmark machine, with other
    processes running, ``lstm-nlp predict`` on EWT dev took 78 s with 2 threads and 7.6 s with 1.
    On an idle machine this is every core.

    Args:
        cpus: Cores available (default: this process's CPU affinity).
        load: The load average to subtract (default: ``os.getloadavg()[0]``).
    """
    if cpus is None:
        cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    if load is None:
        load = os.getloadavg()[0] if hasattr(os, "getloadavg") else 0.0
    return max(1, min(cpus, cpus - int(load + 0.5)))


def set_cpu_threads(threads: int | None) -> int:
    """Sets torch's intra-op CPU threads: ``threads``, or :func:`free_cpu_threads` when ``None`` and
    ``OMP_NUM_THREADS`` is unset (an explicit environment setting wins). Returns the count in use."""
    if threads is None and not os.environ.get("OMP_NUM_THREADS"):
        threads = free_cpu_threads()
    if threads is not None:
        torch.set_num_threads(threads)
    return torch.get_num_threads()
