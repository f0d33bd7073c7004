"""Multi-process data parallel training, detected from the environment ``torchrun`` sets.

``torchrun --nproc_per_node=N recipes/<recipe>.py ...`` starts N copies of a recipe with
``WORLD_SIZE``, ``RANK`` and ``LOCAL_RANK`` in their environment. The :class:`~lstm_nlp.training.Trainer`
calls :func:`setup_distributed`, which joins the process group (NCCL on CUDA, gloo on CPU) and
picks this rank's device; everything else here is a small helper around ``torch.distributed``
that also works (as a no-op) in an ordinary single process.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from typing import Any

import torch
import torch.distributed as dist

from lstm_nlp.device import resolve_device
from lstm_nlp.errors import ConfigError

logger = logging.getLogger("lstm_nlp")


def env_world_size() -> int:
    """``WORLD_SIZE`` from the environment (1 when not launched by ``torchrun``)."""
    return _env_int("WORLD_SIZE", 1)


def env_rank() -> int:
    """``RANK`` from the environment (0 when not launched by ``torchrun``)."""
    return _env_int("RANK", 0)


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    if value in (None, ""):
        return default
    try:
        return int(value)
    except ValueError:
        raise ConfigError(f"environment variable {name}={value!r} is not an integer") from None


def is_distributed() -> bool:
    """True inside an initialised process group with more than one rank."""
    return dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1


def get_rank() -> int:
    """This process's global rank (the process group's, else ``RANK``, else 0)."""
    if dist.is_available() and dist.is_initialized():
        return dist.get_rank()
    return env_rank()


def get_world_size() -> int:
    """Number of ranks (the process group's, else ``WORLD_SIZE``, else 1)."""
    if dist.is_available() and dist.is_initialized():
        return dist.get_world_size()
    return env_world_size()


def is_main_process() -> bool:
    """True on rank 0, the only rank that writes logs, checkpoints, plots, metrics and bundles.

    Works before the process group exists (it then reads ``RANK`` from the environment), so
    recipes can call it anywhere.
    """
    return get_rank() == 0


@dataclass
class DistributedContext:
    """Where this process stands in a (possibly single-process) run.

    Attributes:
        world_size: Number of ranks (1: no DDP).
        rank: Global rank.
        local_rank: Rank on this machine (selects the CUDA device).
        device: The device this rank trains on.
        created_group: True if :func:`setup_distributed` initialised the process group (and
            :meth:`close` should destroy it).
    """

    world_size: int = 1
    rank: int = 0
    local_rank: int = 0
    device: torch.device = torch.device("cpu")
    created_group: bool = False

    @property
    def enabled(self) -> bool:
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    def close(self) -> None:
        """Destroys the process group if this context created it."""
        if self.created_group and dist.is_initialized():
            dist.destroy_process_group()
            self.created_group = False


def setup_distributed(device_name: str = "auto") -> DistributedContext:
    """Joins the ``torchrun`` process group when ``WORLD_SIZE > 1`` and picks this rank's device.

    On CUDA each rank uses ``cuda:LOCAL_RANK`` and the NCCL backend (``--device cuda:N`` is
    overridden: under ``torchrun`` the local rank chooses the GPU); on CPU the gloo backend.
    In a single process this is just :func:`resolve_device`.

    Args:
        device_name: ``"auto" | "cpu" | "cuda" | "cuda:N" | "mps"``.
    """
    world_size = env_world_size()
    if world_size <= 1 and not (dist.is_available() and dist.is_initialized()):
        return DistributedContext(device=resolve_device(device_name))
    if not dist.is_available():
        raise ConfigError("WORLD_SIZE > 1 but this torch build has no torch.distributed support")
    device = resolve_device(device_name)
    local_rank = _env_int("LOCAL_RANK", 0)
    if device.type == "mps":
        raise ConfigError("distributed training on MPS is not supported; use --device cpu or cuda")
    if device.type == "cuda":
        if local_rank >= torch.cuda.device_count():
            raise ConfigError(f"LOCAL_RANK={local_rank} but only {torch.cuda.device_count()} CUDA device(s) "
                              "exist; lower --nproc_per_node")
        device = torch.device("cuda", local_rank)
        torch.cuda.set_device(device)
    created = False
    if not dist.is_initialized():
        dist.init_process_group(backend="nccl" if device.type == "cuda" else "gloo")
        created = True
    context = DistributedContext(world_size=dist.get_world_size(), rank=dist.get_rank(), local_rank=local_rank,
                                 device=device, created_group=created)
    if context.is_main:
        logger.info("distributed data parallel: %d ranks, backend %s, device %s", context.world_size,
                    dist.get_backend(), device.type)
    return context


def broadcast_object(value: Any, *, src: int = 0) -> Any:
    """Rank ``src``'s ``value`` on every rank (identity in a single process).

    Uses ``torch.distributed.broadcast_object_list``, i.e. pickling between the ranks of this
    run only; never call it with data read from untrusted files.
    """
    if not is_distributed():
        return value
    holder = [value]
    dist.broadcast_object_list(holder, src=src)
    return holder[0]


def all_gather_object(value: Any) -> list[Any]:
    """Every rank's ``value``, in rank order (``[value]`` in a single process)."""
    if not is_distributed():
        return [value]
    gathered: list[Any] = [None] * dist.get_world_size()
    dist.all_gather_object(gathered, value)
    return gathered


def any_across_ranks(flags: list[bool], device: torch.device) -> list[bool]:
    """Element-wise OR of boolean flags over all ranks (the flags themselves in a single process).

    Used once per batch so that every rank stops at the same step when any of them sees a
    non-finite loss or a termination signal; otherwise the others would hang in the next
    gradient all-reduce.
    """
    if not is_distributed():
        return list(flags)
    tensor = torch.tensor([float(f) for f in flags], device=device)
    dist.all_reduce(tensor, op=dist.ReduceOp.MAX)
    return [bool(v) for v in tensor.tolist()]


def barrier() -> None:
    """Waits for all ranks (no-op in a single process)."""
    if is_distributed():
        dist.barrier()
