"""Distributed helpers: torchrun environment, rank guards, gathering, seeding and RNG state capture.

A run is distributed when ``WORLD_SIZE`` > 1 is set in the environment, as ``torchrun`` does (on one
machine or several). Nothing here respawns the command line: for several GPUs of one machine
without torchrun, :func:`launch_local` starts one process per GPU with :mod:`torch.multiprocessing`,
sets the same variables torchrun would, and calls a function in each. :func:`launch` decides from
the configuration whether to do that or to run in this process; training and testing both use it.
"""

from __future__ import annotations

import logging
import os
import random
import socket
from collections.abc import Callable
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
import torch.distributed as torch_dist

if TYPE_CHECKING:
    from ..config import Config

logger = logging.getLogger(__name__)


def select_device(cfg: Config, local_rank: int = 0) -> torch.device:
    """The device of this process from ``run.device`` / ``run.gpus`` and the local rank."""
    wanted = cfg.run.device.lower()
    if wanted == "cpu" or (wanted == "auto" and not torch.cuda.is_available()):
        return torch.device("cpu")
    if not torch.cuda.is_available():
        raise RuntimeError(f"run.device={cfg.run.device!r} but CUDA is not available here; use run.device=cpu")
    if wanted.startswith("cuda:"):
        return torch.device(wanted)
    gpus = cfg.run.gpus
    index = gpus[local_rank] if local_rank < len(gpus) else local_rank
    return torch.device("cuda", index)


def is_distributed() -> bool:
    """True inside an initialised process group of more than one process."""
    return torch_dist.is_available() and torch_dist.is_initialized() and torch_dist.get_world_size() > 1


def get_rank() -> int:
    return torch_dist.get_rank() if is_distributed() else 0


def get_world_size() -> int:
    return torch_dist.get_world_size() if is_distributed() else 1


def is_main_process() -> bool:
    """Rank 0: the only process that logs, writes files and shows progress."""
    return get_rank() == 0


def env_world_size() -> int:
    """World size announced by torchrun (or :func:`launch_local`) in the environment; 1 when absent."""
    return int(os.environ.get("WORLD_SIZE", "1"))


def init_distributed(device_type: str) -> tuple[int, int, int]:
    """Join the process group described by torchrun's variables, once.

    Args:
        device_type: ``"cuda"`` (NCCL backend) or ``"cpu"`` (gloo).

    Returns:
        (rank, local_rank, world_size); (0, 0, 1) when not launched for distributed training.
    """
    world_size = env_world_size()
    if world_size <= 1:
        return 0, 0, 1
    rank = int(os.environ["RANK"])
    local_rank = int(os.environ.get("LOCAL_RANK", rank))
    if not torch_dist.is_initialized():
        backend = "nccl" if device_type == "cuda" else "gloo"
        torch_dist.init_process_group(backend=backend, timeout=timedelta(minutes=30))
        logger.debug("rank %d/%d joined the %s process group", rank, world_size, backend)
    return rank, local_rank, world_size


def cleanup_distributed() -> None:
    if torch_dist.is_available() and torch_dist.is_initialized():
        torch_dist.destroy_process_group()


def barrier() -> None:
    if is_distributed():
        torch_dist.barrier()


def all_gather_object(obj: Any) -> list[Any]:
    """Every rank's ``obj``, in rank order (a one-element list outside distributed runs)."""
    if not is_distributed():
        return [obj]
    gathered: list[Any] = [None] * get_world_size()
    torch_dist.all_gather_object(gathered, obj)
    return gathered


def broadcast_object(obj: Any, src: int = 0) -> Any:
    """Rank ``src``'s ``obj`` on every rank."""
    if not is_distributed():
        return obj
    box = [obj]
    torch_dist.broadcast_object_list(box, src=src)
    return box[0]


def all_reduce_mean(value: float) -> float:
    """Mean of a scalar over ranks (for logging)."""
    if not is_distributed():
        return float(value)
    tensor = torch.tensor([float(value)], dtype=torch.float64)
    if torch_dist.get_backend() == "nccl":
        tensor = tensor.cuda()
    torch_dist.all_reduce(tensor)
    return float(tensor.item()) / get_world_size()


def unwrap_model(model: torch.nn.Module) -> torch.nn.Module:
    """The network inside DistributedDataParallel / DataParallel wrappers."""
    while hasattr(model, "module") and isinstance(model.module, torch.nn.Module):
        model = model.module
    return model


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and torch (all devices) with the same value."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def capture_rng_state() -> dict[str, Any]:
    """This process's RNG states as tensors and plain containers, loadable with ``weights_only=True``."""
    version, internal, gauss = random.getstate()
    kind, keys, pos, has_gauss, cached = np.random.get_state()
    state: dict[str, Any] = {
        "python": {"version": int(version), "state": torch.tensor(internal, dtype=torch.int64), "gauss": gauss},
        "numpy": {
            "kind": str(kind),
            "keys": torch.from_numpy(np.asarray(keys, dtype=np.int64)),
            "pos": int(pos),
            "has_gauss": int(has_gauss),
            "cached_gaussian": float(cached),
        },
        "torch": torch.get_rng_state(),
    }
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def restore_rng_state(state: dict[str, Any]) -> None:
    """Inverse of :func:`capture_rng_state`."""
    py = state["python"]
    random.setstate((int(py["version"]), tuple(int(v) for v in py["state"].tolist()), py["gauss"]))
    npy = state["numpy"]
    keys = npy["keys"].numpy().astype(np.uint32)
    np.random.set_state((npy["kind"], keys, int(npy["pos"]), int(npy["has_gauss"]), float(npy["cached_gaussian"])))
    torch.set_rng_state(state["torch"].cpu())
    if "cuda" in state and torch.cuda.is_available():
        cuda_states = state["cuda"]
        if len(cuda_states) == torch.cuda.device_count():
            torch.cuda.set_rng_state_all([s.cpu() for s in cuda_states])


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free right now (for a one-machine rendezvous)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _local_worker(local_rank: int, fn: Callable, nprocs: int, port: int, devices: list[int] | None, args: tuple):
    os.environ.update(
        RANK=str(local_rank),
        LOCAL_RANK=str(local_rank),
        WORLD_SIZE=str(nprocs),
        LOCAL_WORLD_SIZE=str(nprocs),
        MASTER_ADDR="127.0.0.1",
        MASTER_PORT=str(port),
    )
    if devices is not None and torch.cuda.is_available():
        torch.cuda.set_device(devices[local_rank])
    fn(*args)


def launch_local(fn: Callable, nprocs: int, args: tuple = (), devices: list[int] | None = None) -> None:
    """Run ``fn(*args)`` in ``nprocs`` new processes on this machine, as torchrun would.

    Each process gets ``RANK``/``LOCAL_RANK``/``WORLD_SIZE``/``MASTER_ADDR``/``MASTER_PORT`` and,
    with ``devices``, its GPU (``devices[local_rank]``). ``fn`` and ``args`` must be picklable
    (module-level function, plain data). Blocks until all processes end; an exception in any
    process is raised here.
    """
    import torch.multiprocessing as mp

    if nprocs < 1:
        raise ValueError(f"nprocs must be >= 1, got {nprocs}")
    port = free_port()
    mp.start_processes(
        _local_worker, args=(fn, nprocs, port, devices, args), nprocs=nprocs, join=True, start_method="spawn"
    )


def local_processes(cfg: Config) -> int:
    """Processes :func:`launch` starts for ``cfg``: one per GPU of ``run.gpus`` when there are several, the
    device is not the CPU and torchrun has not started this process already; else 0 (run in this process)."""
    gpus = list(cfg.run.gpus)
    return len(gpus) if len(gpus) > 1 and env_world_size() == 1 and cfg.run.device.lower() != "cpu" else 0


def _run_configured(fn: Callable, cfg_dict: dict, args: tuple, log_level: int) -> None:
    from ..config import Config

    logging.basicConfig(level=log_level, format="%(message)s")
    try:
        fn(Config.from_dict(cfg_dict), *args)
    finally:
        cleanup_distributed()


def launch(fn: Callable, cfg: Config, *args: Any, processes: int | None = None, log_level: int = logging.INFO) -> Any:
    """Run ``fn(cfg, *args)`` where ``cfg`` says: the one DDP launch of training and testing.

    In this process (one device, or a process torchrun started), returning what ``fn`` returns; or in
    one new process per GPU of ``run.gpus`` (:func:`local_processes`), as torchrun would start them,
    returning None. The process group is left either way.

    Args:
        fn: a module-level function (it is pickled to the new processes) taking the config first.
        processes: start this many processes instead of what the config says (CPU runs use gloo),
            e.g. to test distributed code on a machine without GPUs.
        log_level: logging level of the new processes (what is logged comes from rank 0 only).

    Raises:
        RuntimeError: ``run.gpus`` names GPUs this machine does not have.
    """
    count = local_processes(cfg) if processes is None else int(processes)
    if count < 1:
        try:
            return fn(cfg, *args)
        finally:
            cleanup_distributed()
    devices = None
    if cfg.run.device.lower() != "cpu" and processes is None:
        devices = list(cfg.run.gpus)
        if torch.cuda.device_count() < max(devices) + 1:
            raise RuntimeError(f"run.gpus={devices}: this machine has {torch.cuda.device_count()} CUDA device(s)")
    logger.info("starting %d processes%s", count, f", one per GPU {devices}" if devices else "")
    launch_local(_run_configured, count, (fn, cfg.to_dict(), args, log_level), devices=devices)
    return None
