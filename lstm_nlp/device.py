"""Device selection, and how many CPU threads to use."""

from __future__ import annotations

import logging
import math
import os
import time

import torch

from lstm_nlp.errors import ConfigError

logger = logging.getLogger("lstm_nlp")


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
    ``OMP_NUM_THREADS`` is unset (an explicit environment setting wins). Returns the count in use.

    In the automatic case the count is not fixed for the run: :func:`adapt_cpu_threads`, which the
    trainer calls every step and the pipelines every inference batch, follows the cores that other
    processes leave free (see :class:`ThreadGovernor`). An explicit ``threads`` or ``OMP_NUM_THREADS``
    stops that.
    """
    global _governor
    automatic = threads is None and not os.environ.get("OMP_NUM_THREADS")
    if automatic:
        threads = free_cpu_threads()
    if threads is not None:
        torch.set_num_threads(threads)
    _governor = ThreadGovernor() if automatic and ThreadGovernor.supported() else None
    return torch.get_num_threads()


def adapt_cpu_threads() -> int | None:
    """Moves torch's CPU threads to the cores free now, when :func:`set_cpu_threads` chose them
    automatically; a no-op (two clock reads) between checks. Returns the new count when it changed."""
    return _governor.poll() if _governor is not None else None


_governor: ThreadGovernor | None = None


def _busy_jiffies(*, count_nice: bool, cores: frozenset[int] | None = None) -> int:
    """CPU time spent busy since boot on ``cores`` (default: all), in clock ticks (``/proc/stat``).

    Only this process's cores count: in a container pinned to 2 of a host's 64 cores, the host's other
    work is no neighbour of ours.
    """
    total = 0
    with open("/proc/stat", "rb") as stat:
        for line in stat:
            name, *values = line.split()
            if not name.startswith(b"cpu"):
                break
            wanted = name == b"cpu" if cores is None else name != b"cpu" and int(name[3:]) in cores
            if wanted:
                user, nice, system, _idle, _iowait, irq, softirq, steal = (int(v) for v in values[:8])
                total += user + system + irq + softirq + steal + (nice if count_nice else 0)
    return total


class ThreadGovernor:
    """Keeps torch's intra-op threads at the cores other processes leave free, re-checked as a run goes.

    Every ``interval`` seconds (the first time after ``first_interval``) it measures how much CPU the rest of
    the machine used meanwhile on this process's cores (their busy time in ``/proc/stat`` minus this process's
    own), and sets the threads to the cores left, rounded so that a core at least 3/4 free counts (at least 1,
    at most ``max_threads``). The measurement reacts within one interval, where the load average takes about
    a minute.

    Why: every parallel operator ends at a barrier, so a thread whose core another process holds makes
    all of them wait, spinning: one of two 2-thread trainings on 2 cores fell to 13% of its solo speed.
    Two governed runs each see the other's core busy and drop to one thread. Processes running at a lower
    priority (``nice``) are not counted: they yield their core to this one. Linux only (elsewhere the
    start-time choice stays).

    Changing the count between steps does not change a tagger's training: it gives the same bits at 1
    and 2 threads (tested; see :class:`lstm_nlp.modules.fixed_order.FixedOrderLinear`).
    """

    def __init__(self, *, max_threads: int | None = None, interval: float = 5.0, first_interval: float = 1.0,
                 cpus: int | None = None) -> None:
        self.cpus = cpus or (len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1)
        self.max_threads = max_threads or self.cpus
        self.interval = interval
        # The start-time count comes from the load average, which counts niced processes and lags a
        # minute: the first check comes sooner, so a wrong start costs about a second.
        self._next_interval = min(first_interval, interval)
        self._count_nice = os.getpriority(os.PRIO_PROCESS, 0) > 0  # a niced run's own time is counted as nice
        self._cores = frozenset(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None
        self._tick = os.sysconf("SC_CLK_TCK")
        self._start()

    @staticmethod
    def supported() -> bool:
        """Whether the measurement works here (Linux's ``/proc/stat``)."""
        try:
            _busy_jiffies(count_nice=False)
        except (OSError, ValueError):
            return False
        return hasattr(os, "getpriority")

    def _start(self) -> None:
        times = os.times()
        self._wall, self._own, self._busy = time.monotonic(), times.user + times.system, \
            _busy_jiffies(count_nice=self._count_nice, cores=self._cores)

    def others_busy(self) -> float:
        """Cores the other processes kept busy since the last check, on average."""
        times = os.times()
        wall = time.monotonic() - self._wall
        own = times.user + times.system - self._own
        busy = (_busy_jiffies(count_nice=self._count_nice, cores=self._cores) - self._busy) / self._tick
        return max(0.0, (busy - own) / wall) if wall > 0 else 0.0

    def target(self, others: float) -> int:
        """The thread count for ``others`` busy cores."""
        return max(1, min(self.max_threads, math.floor(self.cpus - others + 0.25)))

    def poll(self) -> int | None:
        """Re-checks when ``interval`` has passed; returns the new thread count when it changed."""
        if time.monotonic() - self._wall < self._next_interval:
            return None
        self._next_interval = self.interval
        others = self.others_busy()
        self._start()
        threads, current = self.target(others), torch.get_num_threads()
        if threads == current:
            return None
        torch.set_num_threads(threads)
        logger.info("CPU threads %d -> %d: other processes keep %.1f of %d cores busy", current, threads, others,
                    self.cpus)
        return threads
