"""What the speed benchmark runs (``convnextpose bench``): each runtime of a variant, and the video pipeline.

For each variant it measures parameters, MACs, and latency at batch 1 and 16 of:

- ``eager``: the release-equivalent network (our unfused module, NCHW, plain PyTorch);
- ``torch-fused``: batch norm folded and channels-last, still eager (a step of the way);
- ``torch-opt``: our PyTorch inference path, what :class:`PoseEstimator` runs: the fused,
  channels-last network with its convolutions run as oneDNN kernels, ReLU and residual add fused
  in, weights packed once (:func:`~convnextpose.runtime.onednn_model`);
- ``ort-fp32`` / ``ort-int8``: ONNX Runtime on the exported FP32 model and on the INT8 model as
  ``convnextpose export --format onnx-int8`` writes it (:func:`~convnextpose.export.export_onnx_int8`:
  uint8 pixel input, stage widths padded to multiples of 16).

All compute the same output, joint coordinates in heatmap units (the released network's
output; the confidence the estimator adds costs ~0.3 ms per crop more), on generated person-like
crops (:func:`~convnextpose.export.calibration.generated_calibration_images`), timed interleaved
(:func:`~convnextpose.bench.timing.time_interleaved`); the report gives the median and min-max over
all timed calls. The end-to-end row runs the single-person video path on 640x480
JPEG frames: decode, crop from the previous frame's joints, network, decoding, One Euro smoothing
and drawing the overlay.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..export import export_onnx, export_onnx_int8
from ..export.calibration import calibration_crops, generated_calibration_images
from ..image import decode_image_bytes
from ..inference.estimator import PoseEstimator
from ..inference.tracker import PoseTracker
from ..models import build_model
from ..models.profile import count_macs, count_parameters
from ..runtime import PoseGraph, make_session, optimize_model, optimized_network
from .timing import ort_runner, torch_runner

RUNTIMES = ("eager", "torch-fused", "torch-opt", "ort-fp32", "ort-int8")


def build_runtimes(
    variant: str, workdir: Path, threads: int, runtimes: Sequence[str], models: dict[str, dict[str, float]]
) -> tuple[dict[str, Callable[[np.ndarray], Callable[[], Any]]], tuple[int, int]]:
    """For each runtime, a factory ``batch -> zero-argument callable`` running one forward pass; and the input size.

    The variant's parameters and MACs go to ``models[variant]``.
    """
    torch.manual_seed(0)
    model = build_model(variant).eval()
    models[variant] = {
        "parameters_M": round(count_parameters(model) / 1e6, 3),
        "GMACs": round(count_macs(model) / 1e9, 3),
    }
    factories: dict[str, Callable[[np.ndarray], Callable[[], Any]]] = {}
    if "eager" in runtimes:
        factories["eager"] = lambda b: torch_runner(model, b, channels_last=False)
    fast = PoseGraph(optimize_model(model), with_confidence=False).eval()
    if "torch-fused" in runtimes:
        factories["torch-fused"] = lambda b: torch_runner(fast, b, channels_last=True)
    if "torch-opt" in runtimes:
        opt = PoseGraph(optimized_network(model), with_confidence=False).eval()  # what TorchBackend runs
        factories["torch-opt"] = lambda b: torch_runner(opt, b, channels_last=True)
    if "ort-fp32" in runtimes or "ort-int8" in runtimes:
        fp32 = workdir / f"{variant}.onnx"
        export_onnx(model, fp32, with_confidence=False, verify=False)
        if "ort-fp32" in runtimes:
            session = make_session(fp32, threads=threads)
            factories["ort-fp32"] = lambda b: ort_runner(session, b)
        if "ort-int8" in runtimes:
            int8 = speed_int8_model(model, workdir / f"{variant}.int8.onnx", with_confidence=False)
            session8 = make_session(int8, threads=threads)
            factories["ort-int8"] = lambda b: ort_runner(session8, b)
    return factories, model.spec.input_size


def speed_int8_model(model: torch.nn.Module, path: Path, **options: Any) -> Path:
    """The INT8 model ``export --format onnx-int8`` writes, for timing: the same layers in float, no check.

    Calibrated on 16 stick-figure crops (:func:`generated_calibration_images`, no rendering): the
    calibration sets the ranges, which do not change the speed; the layout does.
    """
    size = model.spec.input_size
    calibration = calibration_crops(generated_calibration_images(16, size), size)
    export_onnx_int8(model, path, calibration, held_out=calibration[:0], **options)
    return path


def end_to_end_fps(
    backend: str, model_path: Any, frames: int = 60, size: tuple[int, int] = (480, 640), threads: int = 2
) -> dict[str, Any]:
    """Frames per second of the single-person video path on generated 640x480 JPEG frames.

    Each frame is JPEG-decoded, then :class:`PoseTracker` crops the person from the previous
    frame's joints (the whole frame at the start), runs the network, decodes, smooths, and the
    overlay is drawn. Frames show a moving stick figure, so crops change from frame to frame.
    """
    import cv2

    estimator = PoseEstimator(model_path, backend=backend, detector="frame", threads=threads)
    height, width = size
    encoded = []
    for i in range(frames):
        frame = np.full((height, width, 3), 200, np.uint8)
        cx, cy = int(width * (0.4 + 0.2 * np.sin(i / 10))), height // 2
        cv2.circle(frame, (cx, cy - 150), 30, (40, 40, 40), -1)
        cv2.line(frame, (cx, cy - 120), (cx, cy + 40), (40, 40, 40), 30)
        for dx in (-40, 40):
            cv2.line(frame, (cx, cy + 40), (cx + dx, cy + 200), (40, 40, 40), 20)
            cv2.line(frame, (cx, cy - 100), (cx + dx * 2, cy - 20 + int(20 * np.cos(i / 5))), (40, 40, 40), 14)
        ok, data = cv2.imencode(".jpg", frame)
        encoded.append(data.tobytes())
    tracker = PoseTracker(estimator)
    for data in encoded[:3]:  # warm-up
        tracker.update(decode_image_bytes(data))
    tracker.reset()
    started = time.perf_counter()
    people = 0
    for data in encoded:
        rgb = decode_image_bytes(data)
        poses = tracker.update(rgb)
        poses.plot(rgb)
        people += len(poses)
    elapsed = time.perf_counter() - started
    return {
        "backend": backend,
        "frames": frames,
        "frame_size": f"{width}x{height}",
        "fps": round(frames / elapsed, 2),
        "ms_per_frame": round(1000 * elapsed / frames, 2),
        "people_per_frame": round(people / frames, 2),
    }
