"""One call for every export format: :func:`export_model` picks the exporter, the calibration data and the checks.

    >>> from convnextpose import export_model, load_model
    >>> result = export_model(load_model("snapshot_24.pth.tar"), "onnx-int8", "xs.int8.onnx")  # doctest: +SKIP
    >>> print(result.summary())  # doctest: +SKIP

What each format writes (``convnextpose export --format``):

- ``onnx``: FP32 ONNX, verified against PyTorch with onnxruntime.
- ``onnx-int8``: the FP32 model beside it (``m.int8.onnx`` -> ``m.onnx``), then the INT8 model
  calibrated on person crops (generated people, or the people in a ``calibration`` folder of photos),
  and the INT8 cost: joint shifts against FP32 on held-out crops not used for calibration.
- ``torchscript``: a traced module; ``tflite`` / ``tflite-int8``: a LiteRT flatbuffer (+ its spec).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from torch import nn

from .onnx_int8 import DEFAULT_FLOAT_LAYERS, DEFAULT_METHOD, HELD_OUT_COUNT, export_onnx_int8

#: Export format -> the suffix of its default file name.
FORMATS = {
    "onnx": ".onnx",
    "onnx-int8": ".int8.onnx",
    "torchscript": ".torchscript.pt",
    "tflite": ".tflite",
    "tflite-int8": ".int8.tflite",
}


@dataclass
class ExportResult:
    """What :func:`export_model` wrote.

    Attributes:
        path: the requested file.
        reports: an ``ExportReport`` per file written, in order (for ``onnx-int8``: FP32, then INT8).
        int8_cost: ``onnx-int8`` only: the INT8 model's joints against the FP32 model's on held-out crops
            (:meth:`~convnextpose.export.onnx_int8.Int8Cost.to_dict`), and ``int8_warnings`` the lines
            saying which mean shift is above its threshold.
        calibration_source: what INT8 was calibrated on (``"generated people"`` or ``"your photos (FOLDER)"``).
    """

    path: Path
    reports: list[Any] = field(default_factory=list)
    int8_cost: dict[str, float] | None = None
    int8_warnings: list[str] = field(default_factory=list)
    calibration_source: str = "generated people"

    def summary(self) -> str:
        lines = [report.summary() for report in self.reports]
        if self.int8_cost is not None:
            cost = self.int8_cost
            lines.append(
                f"INT8 vs FP32 on {cost['crops']} held-out crops of {self.calibration_source} (not used for "
                f"calibration): mean 2D joint shift {cost['mean_xy']:.3f} heatmap cells ({cost['mean_xy_px']:.2f} crop "
                f"px), max {cost['max_xy']:.2f} cells; mean depth shift {cost['mean_z']:.3f} bins ({cost['mean_z_mm']:.1f} mm)"
            )
        lines += [f"warning: {line}; try a calibration folder of photos like yours, or more float layers"
                  for line in self.int8_warnings]  # fmt: skip
        return "\n".join(lines)


def default_export_path(name: str, format: str) -> Path:
    """``output/export/<name><suffix of the format>``."""
    return Path("output/export") / f"{name}{FORMATS[_check_format(format)]}"


def fp32_name(int8_name: str) -> str:
    """The FP32 model written beside an INT8 one: ``m.int8.onnx`` -> ``m.onnx``, ``m.onnx`` -> ``m.fp32.onnx``."""
    if int8_name.endswith(".int8.onnx"):
        return int8_name[: -len(".int8.onnx")] + ".onnx"
    return int8_name.removesuffix(".onnx") + ".fp32.onnx"


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
    find_people: Callable[[np.ndarray], np.ndarray] | None = None,
    calibration_count: int = 32,
    calibration_method: str = DEFAULT_METHOD,
    float_layers: Sequence[str] = DEFAULT_FLOAT_LAYERS,
    reduce_range: bool = False,
    equalize: bool = True,
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
        calibration: INT8: a folder of photos of people; each person is found by ``find_people`` and
            cropped as the estimator does; a quarter of the crops (at most 16) are held out for the check.
            Default: generated people.
        find_people: with ``calibration``: image (H, W, 3) uint8 RGB -> (N, 4) person boxes [x, y, w, h]
            (the CLI passes :func:`convnextpose.inference.person_finder.box_finder` of the model).
        calibration_count: INT8: crops calibrated on (TFLite uses at most 16).
        calibration_method, float_layers, reduce_range, equalize: ``onnx-int8``, see
            :func:`~convnextpose.export.onnx_int8.export_onnx_int8`.

    Raises:
        ValueError: an unknown format, ``input_format`` with a format other than ONNX, a calibration folder
            without ``find_people``, or fewer than 2 people found in it.
    """
    from ..image import as_normalized
    from ..runtime.graph import sample_input
    from .onnx_export import export_onnx
    from .tflite_export import export_tflite
    from .torchscript_export import export_torchscript

    _check_format(format)
    if input_format is not None and format not in ("onnx", "onnx-int8"):
        raise ValueError(f"input_format (--input) applies to the onnx and onnx-int8 formats, not {format}")
    path = Path(path)
    result = ExportResult(path)
    calibration_crops, held_out = (None, None)
    if format.endswith("int8"):
        calibration_crops, held_out = _calibration(model, calibration, find_people, calibration_count)
        result.calibration_source = f"your photos ({calibration})" if calibration is not None else "generated people"
    if format in ("onnx", "onnx-int8"):
        options = dict(
            opset=opset, dynamic_batch=dynamic_batch, with_confidence=with_confidence,
            input_format=input_format or ("pixels" if format == "onnx-int8" else "normalized"),
        )  # fmt: skip
        fp32_path = path if format == "onnx" else path.with_name(fp32_name(path.name))
        example = None if dynamic_batch else sample_input(model, 1)  # a static batch is the example's
        result.reports.append(export_onnx(model, fp32_path, example_input=example, **options))
        if format == "onnx-int8":
            report = export_onnx_int8(
                model, path, calibration_crops, held_out, method=calibration_method, reduce_range=reduce_range,
                equalize=equalize, float_layers=tuple(float_layers), **options,
            )  # fmt: skip
            result.reports.append(report)
            result.int8_cost = report.details.get("held_out")
            result.int8_warnings = list(report.details.get("warnings", []))
    elif format == "torchscript":
        result.reports.append(export_torchscript(model, path, with_confidence=with_confidence))
    else:
        int8 = format == "tflite-int8"
        result.reports.append(
            export_tflite(
                model,
                path,
                int8=int8,
                calibration=as_normalized(calibration_crops[:16]) if int8 else None,
                example_input=sample_input(model, 1),
            )
        )
    return result


def _calibration(
    model: nn.Module,
    folder: str | os.PathLike | None,
    find_people: Callable[[np.ndarray], np.ndarray] | None,
    count: int,
) -> tuple[np.ndarray, np.ndarray | None]:
    """(calibration, held-out) person crops of ``folder``, or ``count`` generated people and None (the default)."""
    from .calibration import folder_people, generated_people, split_held_out

    size = tuple(model.spec.input_size)
    if folder is None:
        return generated_people(count, size), None
    if find_people is None:
        raise ValueError(f"calibration folder {folder}: pass find_people, which boxes the people in an image")
    crops = folder_people(folder, find_people, size, count + HELD_OUT_COUNT)
    if len(crops) < 2:
        raise ValueError(f"{folder}: found {len(crops)} person crop; need at least 2 (to calibrate and to check)")
    return split_held_out(crops, min(HELD_OUT_COUNT, max(1, len(crops) // 4)))


def _check_format(format: str) -> str:
    if format not in FORMATS:
        raise ValueError(f"unknown export format {format!r}; choose one of {sorted(FORMATS)}")
    return format
