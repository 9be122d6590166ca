"""A benchmark run as Markdown tables, a JSON file and a bar chart."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from ..atomic import write_json_atomic
from .run import BenchResult
from .runtimes import RUNTIMES


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
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {
        "markdown": out_dir / f"{name}.md",
        "json": write_json_atomic(out_dir / f"{name}.json", result.to_dict(), indent=1, allow_nan=False),
        "plot": plot_report(result, out_dir / f"{name}.png"),
    }
    paths["markdown"].write_text(markdown_report(result), encoding="utf-8")
    return paths
