"""One call for every export format: :func:`export_model` picks the exporter, the calibration data and the checks.

    >>> from convnextpose import export_model, load_model
    >>> result = export_model(load_model("snapshot_24.pth.tar"), "onnx-int8", "xs.int8.onnx")  # doctest: +SKIP
    >>> print(result.summary())  # doctest: +SKIP

What each format writes (``convnextpose export --format``):

- ``onnx``: FP32 ONNX, verified against PyTorch with onnxruntime.
- ``onnx-int8``: the FP32 model beside it (``m.int8.onnx`` -> ``m.onnx``), then the INT8 model
  calibrated on ``calibration`` images, and the INT8 cost: joint shifts against FP32 on 8 generated
  images not used for calibration.
- ``torchscript``: a traced module; ``tflite`` / ``tflite-int8``: a LiteRT flatbuffer (+ its spec).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from torch import nn

#: Export format -> the suffix of its default file name.
FORMATS = {
    "onnx": ".onnx",
    "onnx-int8": ".int8.onnx",
    "torchscript": ".torchscript.pt",
    "tflite": ".tflite",
    "tflite-int8": ".int8.tflite",
}
CALIBRATION_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".bmp"})
HELD_OUT_IMAGES = 8  # generated images (seed 1) the INT8 cost is measured on, never calibrated on


@dataclass
class ExportResult:
    """What :func:`export_model` wrote.

    Attributes:
        path: the requested file.
        reports: an ``ExportReport`` per file written, in order (for ``onnx-int8``: FP32, then INT8).
        int8_cost: ``onnx-int8`` only: :func:`~convnextpose.export.onnx_export.compare_onnx_models` of INT8
            against FP32 on held-out generated images (``mean_xy``, ``max_xy`` heatmap cells; ``mean_z`` bins).
    """

    path: Path
    reports: list[Any] = field(default_factory=list)
    int8_cost: dict[str, float] | None = None

    def summary(self) -> str:
        lines = [report.summary() for report in self.reports]
        if self.int8_cost is not None:
            cost = self.int8_cost
            lines.append(
                f"INT8 vs FP32 on {HELD_OUT_IMAGES} held-out generated images: mean 2D joint shift "
                f"{cost['mean_xy']:.3f} heatmap cells ({cost['mean_xy'] * 8:.2f} crop px), max {cost['max_xy']:.3f}; "
                f"mean depth shift {cost['mean_z']:.3f} bins"
            )
        return "\n".join(lines)


def default_export_path(name: str, format: str) -> Path:
    """``output/export/<name><suffix of the format>``."""
    return Path("output/export") / f"{name}{FORMATS[_check_format(format)]}"


def fp32_name(int8_name: str) -> str:
    """The FP32 model written beside an INT8 one: ``m.int8.onnx`` -> ``m.onnx``, ``m.onnx`` -> ``m.fp32.onnx``."""
    if int8_name.endswith(".int8.onnx"):
        return int8_name[: -len(".int8.onnx")] + ".onnx"
    return int8_name.removesuffix(".onnx") + ".fp32.onnx"


def calibration_images(
    folder: str | os.PathLike | None, count: int, input_size: tuple[int, int], seed: int = 0
) -> np.ndarray:
    """(N, H, W, 3) uint8 crops to calibrate INT8 on: the first ``count`` images of ``folder`` (sorted by name),
    or, without a folder, ``count`` generated ones.

    Raises:
        ValueError: the folder holds no .jpg/.png/.bmp image.
    """
    from ..image import read_image
    from .onnx_export import calibration_crops, generated_calibration_images

    if folder is None:
        return calibration_crops(generated_calibration_images(count, input_size, seed=seed), input_size)
    folder = Path(folder)
    files = sorted(p for p in folder.iterdir() if p.suffix.lower() in CALIBRATION_SUFFIXES)
    if not files:
        raise ValueError(f"{folder}: no .jpg/.png/.bmp images to calibrate on")
    return calibration_crops([read_image(p) for p in files[:count]], input_size)


def export_model(
    model: nn.Module,
    format: str,
    path: str | os.PathLike,
    *,
    opset: int = 17,
    dynamic_batch: bool = True,
    with_confidence: bool = True,
    input_format: str | None = None,
    calibration: str | os.PathLike | None = None,
    calibration_count: int = 32,
) -> ExportResult:
    """Export ``model`` to ``path`` in one of :data:`FORMATS`, checked against PyTorch.

    Args:
        model: a ConvNeXtPose network.
        format: ``onnx``, ``onnx-int8``, ``torchscript``, ``tflite`` or ``tflite-int8``.
        path: the output file.
        opset, dynamic_batch: ONNX opset and batch axis (a static batch is 1).
        with_confidence: also output per-joint confidence (else ``joints_hm`` only).
        input_format: ONNX only: ``"normalized"`` float (B, 3, H, W) crops or ``"pixels"`` uint8 (B, H, W, 3)
            with the normalisation inside the model; default pixels for ``onnx-int8``, normalized for ``onnx``.
        calibration: INT8: a folder of images of people (default: generated images).
        calibration_count: INT8: images used for calibration (TFLite uses at most 16).

    Raises:
        ValueError: an unknown format, or ``input_format`` with a format other than ONNX.
    """
    from ..image import as_normalized
    from .onnx_export import compare_onnx_models, export_onnx, export_onnx_int8, sample_input
    from .tflite_export import export_tflite
    from .torchscript_export import export_torchscript

    _check_format(format)
    if input_format is not None and format not in ("onnx", "onnx-int8"):
        raise ValueError(f"input_format (--input) applies to the onnx and onnx-int8 formats, not {format}")
    path = Path(path)
    size = tuple(model.spec.input_size)
    result = ExportResult(path)
    if format in ("onnx", "onnx-int8"):
        options = dict(
            opset=opset, dynamic_batch=dynamic_batch, with_confidence=with_confidence,
            input_format=input_format or ("pixels" if format == "onnx-int8" else "normalized"),
        )  # fmt: skip
        fp32_path = path if format == "onnx" else path.with_name(fp32_name(path.name))
        example = None if dynamic_batch else sample_input(model, 1)  # a static batch is the example's
        result.reports.append(export_onnx(model, fp32_path, example_input=example, **options))
        if format == "onnx-int8":
            crops = calibration_images(calibration, calibration_count, size, seed=0)
            result.reports.append(export_onnx_int8(model, path, crops, **options))
            held_out = calibration_images(None, HELD_OUT_IMAGES, size, seed=1)
            result.int8_cost = compare_onnx_models(fp32_path, path, held_out)
    elif format == "torchscript":
        result.reports.append(export_torchscript(model, path, with_confidence=with_confidence))
    else:
        int8 = format == "tflite-int8"
        crops = calibration_images(calibration, min(calibration_count, 16), size) if int8 else None
        result.reports.append(
            export_tflite(
                model,
                path,
                int8=int8,
                calibration=None if crops is None else as_normalized(crops),
                example_input=sample_input(model, 1),
            )
        )
    return result


def _check_format(format: str) -> str:
    if format not in FORMATS:
        raise ValueError(f"unknown export format {format!r}; choose one of {sorted(FORMATS)}")
    return format
