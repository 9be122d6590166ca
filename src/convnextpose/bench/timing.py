"""Timing on a shared machine: interleaved blocks, a steady allocator, what the machine was.

Runs are interleaved in blocks (:func:`time_interleaved`): each round runs every runtime for a few
calls, after a pause and an untimed call, so background load drifts over all of them alike while
one runtime's spinning thread pool (PyTorch's OpenMP, onnxruntime's) does not steal the cores from
the next.
"""

from __future__ import annotations

import os
import platform
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..image import as_normalized
from ..runtime.onnx_session import input_feed


@dataclass
class Timing:
    """Latencies (ms) of one runtime on one variant at one batch size."""

    variant: str
    runtime: str
    batch: int
    samples_ms: list[float] = field(default_factory=list)

    @property
    def median_ms(self) -> float:
        return statistics.median(self.samples_ms)

    @property
    def per_image_ms(self) -> float:
        return self.median_ms / self.batch

    @property
    def throughput(self) -> float:
        """Images per second at the median latency."""
        return 1000.0 * self.batch / self.median_ms

    def to_dict(self) -> dict[str, Any]:
        return {
            "variant": self.variant,
            "runtime": self.runtime,
            "batch": self.batch,
            "median_ms": round(self.median_ms, 3),
            "min_ms": round(min(self.samples_ms), 3),
            "max_ms": round(max(self.samples_ms), 3),
            "per_image_ms": round(self.per_image_ms, 3),
            "images_per_s": round(self.throughput, 2),
            "samples": len(self.samples_ms),
        }


def machine_info(threads: int) -> dict[str, Any]:
    """CPU model, cores, threads used, load average and library versions."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    info: dict[str, Any] = {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "threads": threads,
        "torch": torch.__version__,
        "load_average_before": [round(v, 2) for v in os.getloadavg()] if hasattr(os, "getloadavg") else None,
    }
    try:
        import onnxruntime

        info["onnxruntime"] = onnxruntime.__version__
    except ImportError:
        info["onnxruntime"] = None
    return info


def steady_allocator(mmap_threshold: int = 64 << 20) -> bool:
    """Make glibc's malloc serve large tensors from the heap for the rest of the process.

    By default glibc maps every allocation above a threshold (128 kB at start, raised as mapped
    blocks are freed) straight from the kernel, and hands freed heap memory back: then every
    call of a network that allocates its activations anew page-faults on them. How often that
    happens depends on what the process did before (an ONNX export raises the threshold), so
    the same eager M network timed 38 ms in one run and 57-63 ms in another. Fixing the
    thresholds gives every runtime the same, steady allocator. Returns False where this is not
    glibc (nothing changes).
    """
    import ctypes
    import ctypes.util

    name = ctypes.util.find_library("c")
    if platform.system() != "Linux" or not name:
        return False
    try:
        libc = ctypes.CDLL(name)
        m_trim_threshold, m_mmap_threshold = -1, -3  # from glibc's malloc.h
        return bool(libc.mallopt(m_mmap_threshold, mmap_threshold)) and bool(
            libc.mallopt(m_trim_threshold, 4 * mmap_threshold)
        )
    except (OSError, AttributeError):
        return False


def torch_runner(module: torch.nn.Module, batch: np.ndarray, channels_last: bool) -> Callable[[], Any]:
    x = torch.from_numpy(as_normalized(batch))
    if channels_last:
        x = x.contiguous(memory_format=torch.channels_last)

    def run() -> Any:
        with torch.inference_mode():
            return module(x)

    return run


def ort_runner(session: Any, batch: np.ndarray) -> Callable[[], Any]:
    feed = input_feed(session, batch)  # converted once, outside the timing
    return lambda: session.run(None, feed)


def time_interleaved(
    runners: dict[str, Callable[[], Any]], repeats: int, block: int = 3, pause_s: float = 0.2
) -> dict[str, list[float]]:
    """Time each callable ``repeats`` times (ms per call), interleaved in blocks.

    Each round gives every runner, in turn, a pause of ``pause_s`` (so the previous runner's
    spinning worker threads go to sleep), one untimed call, then ``block`` timed calls.
    """
    samples: dict[str, list[float]] = {name: [] for name in runners}
    while min(len(v) for v in samples.values()) < repeats:
        for name, run in runners.items():
            time.sleep(pause_s)
            run()
            for _ in range(min(block, repeats - len(samples[name]))):
                started = time.perf_counter()
                run()
                samples[name].append((time.perf_counter() - started) * 1000.0)
    return samples
