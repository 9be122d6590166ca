"""What INT8 costs a trained network: the export's held-out check and the agreement on photos."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..export import export_onnx, export_onnx_int8
from ..inference.estimator import PoseEstimator
from ..models import load_model


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
