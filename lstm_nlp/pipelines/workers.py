"""Prediction in worker processes: chunks of input go to forked copies of a pipeline, outputs come back in order.

One process with N threads does not use N cores well on these models: a small LSTM's time steps are too short
to split across threads (two threads give ~1.3x one). Worker processes each take whole chunks with one thread
or a few, so they scale with the cores, and they also split the Python work (tokenization, formatting) that a
thread pool cannot. The workers are forked after the model is loaded, so they start at once and share its
weights copy-on-write.
"""

from __future__ import annotations

import ctypes
import multiprocessing
import os
import signal
import sys
import warnings
from collections import deque
from collections.abc import Iterable, Iterator
from typing import Any

import torch

from lstm_nlp.device import set_cpu_threads
from lstm_nlp.errors import ConfigError

_PR_SET_PDEATHSIG = 1  # <sys/prctl.h>

#: The pipeline the forked workers run; set in the parent just before the fork, so no worker unpickles a model.
_PIPELINE: Any = None


def check_workers(pipeline: Any, workers: int) -> None:
    """Raises :class:`ConfigError` when ``workers`` processes cannot run ``pipeline`` here."""
    if workers < 1:
        raise ConfigError(f"workers must be >= 1, got {workers}")
    if workers == 1:
        return
    if pipeline.device.type != "cpu":
        raise ConfigError(f"workers apply to CPU prediction; this model is on {pipeline.device} (one process "
                          "keeps a GPU busy)")
    if "fork" not in multiprocessing.get_all_start_methods():
        raise ConfigError("workers need the 'fork' start method, which this platform does not have")


def _start_worker(threads: int, parent: int) -> None:
    # Ctrl-C reaches the whole process group; the parent handles it. SIGINT was blocked before the fork (see
    # map_in_workers), so one that came while this worker started is dropped here, not raised mid-start.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
    _die_with_parent()
    if os.getppid() != parent:  # the parent died before the line above
        os._exit(1)
    set_cpu_threads(threads)  # fixed: the workers share the parent's threads, not each the free cores


def _die_with_parent() -> None:
    """Linux: the kernel kills this worker when the parent dies (SIGTERM, SIGKILL), instead of it finishing a chunk
    nobody will read. Elsewhere a worker ends when it next finds the parent's pipe closed."""
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
        except (OSError, AttributeError):  # no prctl in this libc: the pipe rule above still applies
            pass


def _run(method: str, args: tuple) -> Any:
    return getattr(_PIPELINE, method)(*args)


def map_in_workers(pipeline: Any, method: str, jobs: Iterable[tuple], workers: int) -> Iterator[Any]:
    """Yields ``pipeline.<method>(*args)`` for each ``args`` tuple of ``jobs``, in order.

    ``workers`` forked processes share the parent's torch threads (at least one each). At most two jobs per
    worker are in flight, so memory stays bounded on endless input. An error while reading ``jobs`` is raised
    after the outputs of the jobs before it, as the serial loop would; an error in a job is raised in its turn.
    """
    check_workers(pipeline, workers)
    global _PIPELINE
    threads = max(1, torch.get_num_threads() // workers)
    _PIPELINE = pipeline
    blocked = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})  # the parent gets it after the fork
    try:
        with warnings.catch_warnings():
            # Python >= 3.12 warns on fork from a process with threads (torch's idle OpenMP pool here); the
            # workers set their own thread count and take no lock of the parent's, as DataLoader workers do.
            warnings.filterwarnings("ignore", message=".*use of fork\\(\\) may lead to deadlocks",
                                    category=DeprecationWarning)
            pool = multiprocessing.get_context("fork").Pool(workers, initializer=_start_worker,
                                                            initargs=(threads, os.getpid()))
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, blocked)
    pending: deque = deque()
    try:
        failure: BaseException | None = None
        iterator = iter(jobs)
        while True:
            try:
                job = next(iterator, None)
            except Exception as err:  # e.g. a line too long: first give the outputs of the chunks before it
                failure = err
                job = None
            if job is None:
                break
            pending.append(pool.apply_async(_run, (method, job)))
            if len(pending) >= 2 * workers:
                yield pending.popleft().get()
        while pending:
            yield pending.popleft().get()
        if failure is not None:
            raise failure
    finally:
        pool.terminate()  # also on an error or Ctrl-C in the parent: no worker outlives the command
        pool.join()
        _PIPELINE = None
