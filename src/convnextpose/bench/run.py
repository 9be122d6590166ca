"""One benchmark run: every (variant, runtime, batch) timed, the video pipeline, INT8's accuracy cost."""

from __future__ import annotations

import logging
import os
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..export import export_onnx
from ..export.calibration import calibration_crops, generated_calibration_images
from ..models import build_model
from .int8_accuracy import int8_accuracy
from .runtimes import RUNTIMES, build_runtimes, end_to_end_fps, speed_int8_model
from .timing import Timing, machine_info, steady_allocator, time_interleaved

logger = logging.getLogger(__name__)


@dataclass
class BenchResult:
    """Everything one benchmark run measured."""

    machine: dict[str, Any]
    models: dict[str, dict[str, float]] = field(default_factory=dict)
    timings: list[Timing] = field(default_factory=list)
    end_to_end: list[dict[str, Any]] = field(default_factory=list)
    int8_accuracy: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0

    def get(self, variant: str, runtime: str, batch: int) -> Timing | None:
        for t in self.timings:
            if (t.variant, t.runtime, t.batch) == (variant, runtime, batch):
                return t
        return None

    def to_dict(self) -> dict[str, Any]:
        return {
            "machine": self.machine,
            "models": self.models,
            "timings": [t.to_dict() for t in self.timings],
            "end_to_end": self.end_to_end,
            "int8_accuracy": self.int8_accuracy,
            "seconds": round(self.seconds, 1),
        }


def run_benchmark(
    variants: Sequence[str] = ("xs",),
    batches: Sequence[int] = (1, 16),
    runtimes: Sequence[str] = RUNTIMES,
    repeats: int = 20,
    threads: int = 2,
    end_to_end: bool = True,
    e2e_frames: int = 60,
    e2e_variant: str = "xs",
    accuracy_checkpoint: str | os.PathLike | None = None,
    accuracy_photos: Sequence[np.ndarray] = (),
    accuracy_boxes: Sequence[Sequence[float]] | None = None,
    progress: bool = True,
) -> BenchResult:
    """Measure every (variant, runtime, batch); see the module docstring.

    Fixes glibc's malloc thresholds for the rest of the process first (:func:`steady_allocator`).

    Args:
        variants: e.g. ``("xs", "s", "m")``.
        batches: batch sizes.
        runtimes: a subset of :data:`RUNTIMES`.
        repeats: timed calls per (variant, runtime) at batch 1; larger batches get a quarter (>= 6).
        threads: intra-op threads for PyTorch (``torch.set_num_threads``) and ONNX Runtime.
        end_to_end: also measure the video pipeline's frames per second.
        e2e_frames: frames for the end-to-end measurement (0 skips it, like ``end_to_end=False``).
        e2e_variant: the variant used end to end.
        accuracy_checkpoint: a trained checkpoint to measure INT8's accuracy cost on
            (:func:`int8_accuracy`); random-init weights give flat heatmaps that say nothing.
        accuracy_photos: RGB photos of one person each for that measurement.
        accuracy_boxes: a person box per photo (default: the FP32 estimator finds the person).
    """
    unknown = sorted(set(runtimes) - set(RUNTIMES))
    if unknown:
        raise ValueError(f"unknown runtimes {unknown}; choose from {list(RUNTIMES)}")
    if e2e_frames < 0:
        raise ValueError(f"e2e_frames must be >= 0 (0 skips the end-to-end measurement), got {e2e_frames}")
    started = time.perf_counter()
    torch.set_num_threads(threads)
    result = BenchResult(machine_info(threads))
    result.machine["steady_allocator"] = steady_allocator()
    with tempfile.TemporaryDirectory(prefix="convnextpose-bench-") as tmp:
        workdir = Path(tmp)
        for variant in variants:
            factories, size = build_runtimes(variant, workdir, threads, runtimes, result.models)
            for batch in batches:
                # Person-like crops, not noise: the INT8 model ran 0.3-0.4 ms slower on pixels made
                # from Gaussian noise than on photos, uniform noise or a gray image.
                data = calibration_crops(generated_calibration_images(batch, size, seed=2), size)
                runners = {name: factory(data) for name, factory in factories.items()}
                calls = repeats if batch == 1 else max(6, repeats // 4)
                if progress:
                    logger.info("timing %s batch %d: %s x %d calls", variant, batch, list(runners), calls)
                samples = time_interleaved(runners, calls, block=3 if batch == 1 else 2)
                for name in runtimes:
                    if name in samples:
                        result.timings.append(Timing(variant, name, batch, samples[name]))
        if end_to_end and e2e_variant and e2e_frames > 0:
            torch.manual_seed(0)
            model = build_model(e2e_variant).eval()
            fp32 = workdir / "e2e.onnx"
            export_onnx(model, fp32, verify=False)
            plan = [("onnx", fp32, "ort-fp32"), ("torch", model, "torch-opt")]
            if "ort-int8" in runtimes:
                int8 = speed_int8_model(model, workdir / "e2e.int8.onnx")
                plan.insert(1, ("onnx", int8, "ort-int8"))
            for backend, source, label in plan:
                if progress:
                    logger.info("end to end: %s %s, %d frames", e2e_variant, label, e2e_frames)
                row = end_to_end_fps(backend, source, e2e_frames, threads=threads)
                row.update(variant=e2e_variant, runtime=label)
                result.end_to_end.append(row)
        if accuracy_checkpoint is not None:
            result.int8_accuracy = int8_accuracy(accuracy_checkpoint, workdir, accuracy_photos, accuracy_boxes)
    result.machine["load_average_after"] = [round(v, 2) for v in os.getloadavg()] if hasattr(os, "getloadavg") else None
    result.seconds = time.perf_counter() - started
    return result
