"""Speed benchmark of the network and the whole pipeline on this machine (``convnextpose bench``).

For each variant it measures parameters, MACs, and latency at batch 1 and 16 of:

- ``eager``: the release-equivalent network (our unfused module, NCHW, plain PyTorch);
- ``torch-fused``: batch norm folded and channels-last, still eager (a step of the way);
- ``torch-opt``: our PyTorch inference path, what :class:`PoseEstimator` runs: the fused,
  channels-last network with its convolutions run as oneDNN kernels, ReLU and residual add fused
  in, weights packed once (:func:`~convnextpose.export.onednn.onednn_model`);
- ``ort-fp32`` / ``ort-int8``: ONNX Runtime on the exported FP32 model and on the INT8 model as
  ``convnextpose export --format onnx-int8`` writes it (:func:`~convnextpose.export.export_onnx_int8`:
  uint8 pixel input, stage widths padded to multiples of 16).

All compute the same output, joint coordinates in heatmap units (the released network's
output; the confidence the estimator adds costs ~0.3 ms per crop more), on generated person-like
crops (:func:`~convnextpose.export.calibration.generated_calibration_images`). Runs are interleaved in
blocks: each round runs every runtime for a few calls, after a pause and an untimed call, so
background load drifts over all of them alike while one runtime's spinning thread pool (PyTorch's
OpenMP, onnxruntime's) does not steal the cores from the next; the report gives the median and
min-max over all timed calls. The end-to-end row runs the single-person video path on 640x480
JPEG frames: decode, crop from the previous frame's joints, network, decoding, One Euro smoothing
and drawing the overlay.
"""

from __future__ import annotations

import logging
import os
import platform
import statistics
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..export.calibration import calibration_crops, generated_calibration_images
from ..export.onnx_export import input_feed
from ..image import as_normalized

logger = logging.getLogger(__name__)

RUNTIMES = ("eager", "torch-fused", "torch-opt", "ort-fp32", "ort-int8")


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


def _torch_runner(module: torch.nn.Module, batch: np.ndarray, channels_last: bool) -> Callable[[], Any]:
    x = torch.from_numpy(as_normalized(batch))
    if channels_last:
        x = x.contiguous(memory_format=torch.channels_last)

    def run() -> Any:
        with torch.inference_mode():
            return module(x)

    return run


def _ort_runner(session: Any, batch: np.ndarray) -> Callable[[], Any]:
    feed = input_feed(session, batch)  # converted once, outside the timing
    return lambda: session.run(None, feed)


def build_runtimes(
    variant: str, workdir: Path, threads: int, runtimes: Sequence[str], result: BenchResult
) -> tuple[dict[str, Callable[[np.ndarray], Callable[[], Any]]], tuple[int, int]]:
    """For each runtime, a factory ``batch -> zero-argument callable`` running one forward pass; and the input size."""
    from ..export import export_onnx, optimize_model
    from ..export.graph import PoseGraph
    from ..models import build_model
    from ..models.profile import count_macs, count_parameters

    torch.manual_seed(0)
    model = build_model(variant).eval()
    result.models[variant] = {
        "parameters_M": round(count_parameters(model) / 1e6, 3),
        "GMACs": round(count_macs(model) / 1e9, 3),
    }
    factories: dict[str, Callable[[np.ndarray], Callable[[], Any]]] = {}
    if "eager" in runtimes:
        factories["eager"] = lambda b: _torch_runner(model, b, channels_last=False)
    fast = PoseGraph(optimize_model(model), with_confidence=False).eval()
    if "torch-fused" in runtimes:
        factories["torch-fused"] = lambda b: _torch_runner(fast, b, channels_last=True)
    if "torch-opt" in runtimes:
        from .backends import optimized_network

        opt = PoseGraph(optimized_network(model), with_confidence=False).eval()  # what TorchBackend runs
        factories["torch-opt"] = lambda b: _torch_runner(opt, b, channels_last=True)
    if "ort-fp32" in runtimes or "ort-int8" in runtimes:
        from ..export.onnx_export import make_session

        fp32 = workdir / f"{variant}.onnx"
        export_onnx(model, fp32, with_confidence=False, verify=False)
        if "ort-fp32" in runtimes:
            session = make_session(fp32, threads=threads)
            factories["ort-fp32"] = lambda b: _ort_runner(session, b)
        if "ort-int8" in runtimes:
            int8 = speed_int8_model(model, workdir / f"{variant}.int8.onnx", with_confidence=False)
            session8 = make_session(int8, threads=threads)
            factories["ort-int8"] = lambda b: _ort_runner(session8, b)
    return factories, model.spec.input_size


def speed_int8_model(model: torch.nn.Module, path: Path, **options: Any) -> Path:
    """The INT8 model ``export --format onnx-int8`` writes, for timing: the same layers in float, no check.

    Calibrated on 16 stick-figure crops (:func:`generated_calibration_images`, no rendering): the
    calibration sets the ranges, which do not change the speed; the layout does.
    """
    from ..export import export_onnx_int8

    size = model.spec.input_size
    calibration = calibration_crops(generated_calibration_images(16, size), size)
    export_onnx_int8(model, path, calibration, held_out=calibration[:0], **options)
    return path


def int8_accuracy(
    checkpoint: str | os.PathLike,
    workdir: Path,
    photos: Sequence[np.ndarray] = (),
    boxes: Sequence[Sequence[float]] | None = None,
    **int8_options: Any,
) -> dict[str, Any]:
    """How far the INT8 model ``convnextpose export --format onnx-int8`` writes moves a trained network's joints.

    Exports ``workdir/accuracy.onnx`` (FP32, checked against PyTorch) and ``workdir/accuracy.int8.onnx``
    (:func:`~convnextpose.export.export_onnx_int8` with ``int8_options``, by default generated people
    to calibrate on), and returns ``held_out``: the export's own check on generated people it did not
    calibrate on (:class:`~convnextpose.export.Int8Cost` as a dict), and with ``photos``, ``photos``:
    :func:`photo_agreement` of the two models on them.
    """
    from ..export import export_onnx, export_onnx_int8
    from ..models import load_model

    model = load_model(checkpoint)
    fp32, int8 = workdir / "accuracy.onnx", workdir / "accuracy.int8.onnx"
    export_onnx(model, fp32, input_format="pixels")
    report = export_onnx_int8(model, int8, **int8_options)
    out: dict[str, Any] = {"checkpoint": str(checkpoint), "input_size": list(model.spec.input_size)}
    out["float_layers"] = report.details["float_layers"]
    out["held_out"] = report.details.get("held_out")
    if len(photos):
        out["photos"] = photo_agreement(fp32, int8, photos, boxes)
    return out


def photo_agreement(
    reference_path: str | os.PathLike,
    candidate_path: str | os.PathLike,
    photos: Sequence[np.ndarray],
    boxes: Sequence[Sequence[float]] | None = None,
    threshold: float = 0.05,
) -> dict[str, Any]:
    """Joints of two ONNX models (e.g. FP32 and INT8) through :class:`PoseEstimator` on the same person crops.

    Args:
        reference_path, candidate_path: the two ``.onnx`` models.
        photos: RGB uint8 images of one person each.
        boxes: one [x, y, w, h] person box per photo (e.g. hand-labelled); None: the box the reference
            model's estimator finds (no boxes given: HOG, then re-cropping from its own joints). Both
            models get the same box, so only the network differs.
        threshold: PCK threshold as a fraction of the box's longer side.

    Returns:
        ``pck``: fraction of the candidate's 2D joints within ``threshold`` x box size of the
        reference's; ``mean_xy_px`` (image px) and ``mean_xy`` (heatmap cells) 2D distance;
        ``mean_z`` (bins) depth difference; ``mean_3d_mm``: distance of the root-relative 3D joints.
    """
    from .estimator import PoseEstimator

    reference = PoseEstimator(reference_path, backend="onnx")
    candidate = PoseEstimator(candidate_path, backend="onnx")
    rows = []
    for k, photo in enumerate(photos):
        box = np.asarray(boxes[k], dtype=np.float64) if boxes is not None else reference.predict(photo)[0].box
        a, b = reference.predict(photo, boxes=[box])[0], candidate.predict(photo, boxes=[box])[0]
        px = np.linalg.norm(a.joints_img - b.joints_img, axis=-1)
        rows.append(
            (
                np.mean(px <= threshold * max(box[2], box[3])),
                px.mean(),
                np.linalg.norm(a.joints_hm[:, :2] - b.joints_hm[:, :2], axis=-1).mean(),
                np.abs(a.joints_hm[:, 2] - b.joints_hm[:, 2]).mean(),
                np.linalg.norm(a.joints_rel - b.joints_rel, axis=-1).mean(),
            )
        )
    pck, px, cells, bins, mm = (float(v) for v in np.mean(rows, axis=0))
    return {
        "photos": len(rows), "threshold": threshold, "pck": pck, "mean_xy_px": px, "mean_xy": cells,
        "mean_z": bins, "mean_3d_mm": mm,
    }  # fmt: skip


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


def end_to_end_fps(
    backend: str, model_path: Any, frames: int = 60, size: tuple[int, int] = (480, 640), threads: int = 2
) -> dict[str, Any]:
    """Frames per second of the single-person video path on generated 640x480 JPEG frames.

    Each frame is JPEG-decoded, then :class:`PoseTracker` crops the person from the previous
    frame's joints (the whole frame at the start), runs the network, decodes, smooths, and the
    overlay is drawn. Frames show a moving stick figure, so crops change from frame to frame.
    """
    import cv2

    from ..image import decode_image_bytes
    from .estimator import PoseEstimator
    from .tracker import PoseTracker

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
            factories, size = build_runtimes(variant, workdir, threads, runtimes, result)
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
            from ..export import export_onnx
            from ..models import build_model

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


def markdown_report(result: BenchResult) -> str:
    """The result as Markdown tables (network latency, speed-ups, end to end, INT8 accuracy)."""
    m = result.machine
    lines = [
        f"Machine: {m['cpu']}, {m['cores']} cores, {m['threads']} threads; torch {m['torch']}, "
        f"onnxruntime {m.get('onnxruntime')}; load average before {m.get('load_average_before')}, "
        f"after {m.get('load_average_after')}; malloc thresholds fixed: {m.get('steady_allocator')}.",
        "",
        "| variant | params (M) | GMACs | runtime | batch | median ms | min-max ms | ms/image | images/s |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for t in result.timings:
        info = result.models.get(t.variant, {})
        lines.append(
            f"| {t.variant.upper()} | {info.get('parameters_M', '')} | {info.get('GMACs', '')} | {t.runtime} | "
            f"{t.batch} | {t.median_ms:.2f} | {min(t.samples_ms):.2f}-{max(t.samples_ms):.2f} | "
            f"{t.per_image_ms:.2f} | {t.throughput:.1f} |"
        )
    speedups = []
    for variant in result.models:
        for batch in sorted({t.batch for t in result.timings}):
            eager = result.get(variant, "eager", batch)
            if eager is None:
                continue
            parts = [
                f"{name} {eager.median_ms / other.median_ms:.2f}x"
                for name in RUNTIMES[1:]
                if (other := result.get(variant, name, batch)) is not None
            ]
            if parts:
                speedups.append(f"| {variant.upper()} | {batch} | " + ", ".join(parts) + " |")
    if speedups:
        lines += ["", "Speed-up over eager (same run, medians):", "", "| variant | batch | speed-up |", "|---|---|---|"]
        lines += speedups
    if result.end_to_end:
        lines += [
            "",
            "End to end, single person, 640x480 JPEG frames (decode, crop, network, decoding, smoothing, drawing):",
            "",
            "| variant | runtime | fps | ms/frame |",
            "|---|---|---|---|",
        ]
        for row in result.end_to_end:
            lines.append(
                f"| {row['variant'].upper()} | {row['runtime']} | {row['fps']:.1f} | {row['ms_per_frame']:.1f} |"
            )
    if result.int8_accuracy:
        lines += ["", int8_accuracy_lines(result.int8_accuracy)]
    lines += ["", f"Total benchmark time {result.seconds:.0f} s."]
    return "\n".join(lines) + "\n"


def int8_accuracy_lines(accuracy: dict[str, Any]) -> str:
    """:func:`int8_accuracy`'s result as Markdown lines."""
    lines = [f"INT8 vs FP32 (ONNX Runtime) for the trained checkpoint {accuracy['checkpoint']}:", ""]
    cost = accuracy.get("held_out")
    if cost:
        lines.append(
            f"- {cost['crops']} held-out generated people: mean 2D shift {cost['mean_xy']:.3f} heatmap cells "
            f"({cost['mean_xy_px']:.2f} crop px), max {cost['max_xy']:.2f} cells; mean depth shift "
            f"{cost['mean_z']:.3f} bins ({cost['mean_z_mm']:.1f} mm)"
        )
    photos = accuracy.get("photos")
    if photos:
        lines.append(
            f"- {photos['photos']} photos: PCK@{photos['threshold']} {100 * photos['pck']:.1f} % against the FP32 "
            f"joints; mean 2D shift {photos['mean_xy']:.3f} cells ({photos['mean_xy_px']:.2f} image px), depth "
            f"{photos['mean_z']:.3f} bins, root-relative 3D {photos['mean_3d_mm']:.1f} mm"
        )
    return "\n".join(lines)


def plot_report(result: BenchResult, path: str | os.PathLike) -> Path:
    """Bar chart of per-image latency (median, with min-max) per variant, runtime and batch."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    batches = sorted({t.batch for t in result.timings})
    variants = list(result.models)
    fig = Figure(figsize=(4.5 * len(batches), 4), dpi=100)
    FigureCanvasAgg(fig)
    width = 0.8 / len(RUNTIMES)
    for k, batch in enumerate(batches):
        ax = fig.add_subplot(1, len(batches), k + 1)
        for r, runtime in enumerate(RUNTIMES):
            xs, ys, lo, hi = [], [], [], []
            for v, variant in enumerate(variants):
                t = result.get(variant, runtime, batch)
                if t is None:
                    continue
                xs.append(v + (r - (len(RUNTIMES) - 1) / 2) * width)
                ys.append(t.per_image_ms)
                lo.append(t.per_image_ms - min(t.samples_ms) / batch)
                hi.append(max(t.samples_ms) / batch - t.per_image_ms)
            if xs:
                ax.bar(xs, ys, width, yerr=[lo, hi], capsize=2, label=runtime)
        ax.set_xticks(range(len(variants)), [v.upper() for v in variants])
        ax.set_ylabel("ms per image (median, min-max)")
        ax.set_title(f"batch {batch}, {result.machine['threads']} threads")
        ax.legend(fontsize=8)
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    return path


def write_report(result: BenchResult, out_dir: str | os.PathLike, name: str = "inference") -> dict[str, Path]:
    """Write ``<name>.md``, ``<name>.json`` and ``<name>.png`` under ``out_dir``."""
    from ..atomic import write_json_atomic

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {
        "markdown": out_dir / f"{name}.md",
        "json": write_json_atomic(out_dir / f"{name}.json", result.to_dict(), indent=1, allow_nan=False),
        "plot": plot_report(result, out_dir / f"{name}.png"),
    }
    paths["markdown"].write_text(markdown_report(result), encoding="utf-8")
    return paths


__all__ = [
    "RUNTIMES",
    "BenchResult",
    "Timing",
    "end_to_end_fps",
    "markdown_report",
    "run_benchmark",
    "write_report",
]
