"""Pure 3D pose metrics on root-relative joints in millimetres (NumPy, no state).

All functions take ``pred`` and ``gt`` of shape (N, J, 3) (or (J, 3) for one pose), float, mm,
camera frame, already root-relative, and an optional ``mask`` (N, J) (or (J,)) of bool/0-1 that
excludes joints where it is false. They return the mean over every included joint of every sample
as a Python float: errors in mm, PCK and AUC as fractions in [0, 1] (tables show them x100).

Definitions:

- ``mpjpe``: mean Euclidean distance between predicted and true joints.
- ``pa_mpjpe``: MPJPE after aligning each predicted pose to its ground truth by Procrustes. With
  ``scale=True`` the alignment is a similarity transform (rotation, translation and scale) as most
  of the field reports it (e.g. MMPose's P-MPJPE); with ``scale=False`` it is rigid (rotation and
  translation), which is what the ConvNeXtPose / 3DMPPE release uses for Human3.6M protocol 1. The
  fit uses only the included joints.
- ``pck3d``: fraction of joints whose error is at most ``threshold`` mm (``error <= threshold``).
- ``auc``: mean of ``pck3d`` over the thresholds 0, 5, 10, ..., 150 mm (31 values, the MuPoTS
  toolkit's ``0:5:150``), so a perfect prediction scores exactly 1.
"""

from __future__ import annotations

import numpy as np

from ..geometry.alignment import align

#: Thresholds (mm) of the AUC: 0:5:150 as in the MuPoTS-3D toolkit, 31 values.
AUC_THRESHOLDS_MM = np.arange(0.0, 150.0 + 1e-9, 5.0)


def _as_batch(pred: np.ndarray, gt: np.ndarray, mask: np.ndarray | None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    pred = np.asarray(pred, dtype=np.float64)
    gt = np.asarray(gt, dtype=np.float64)
    if pred.shape != gt.shape:
        raise ValueError(f"pred and gt must have the same shape, got {pred.shape} and {gt.shape}")
    if pred.ndim not in (2, 3) or pred.shape[-1] != 3:
        raise ValueError(f"expected poses of shape (N, J, 3) or (J, 3), got {pred.shape}")
    if pred.ndim == 2:
        pred, gt = pred[None], gt[None]
        mask = None if mask is None else np.asarray(mask)[None]
    if mask is None:
        mask = np.ones(pred.shape[:2], dtype=bool)
    else:
        mask = np.asarray(mask)
        if mask.shape != pred.shape[:2]:
            raise ValueError(f"mask must have shape {pred.shape[:2]} (N, J), got {mask.shape}")
        mask = mask.astype(bool)
    return pred, gt, mask


def joint_errors(pred: np.ndarray, gt: np.ndarray) -> np.ndarray:
    """Per-joint Euclidean distance, (..., J, 3) -> (..., J), in the inputs' unit."""
    return np.linalg.norm(np.asarray(pred, dtype=np.float64) - np.asarray(gt, dtype=np.float64), axis=-1)


def aligned_joint_errors(
    pred: np.ndarray, gt: np.ndarray, scale: bool = True, mask: np.ndarray | None = None
) -> np.ndarray:
    """Per-joint errors (N, J) after Procrustes-aligning each prediction to its ground truth.

    Args:
        pred, gt: (N, J, 3) mm.
        scale: similarity alignment (True) or rigid (False, the release's protocol 1).
        mask: (N, J); only included joints are used to fit the alignment.
    """
    pred, gt, mask = _as_batch(pred, gt, mask)
    return joint_errors(align(pred, gt, scale=scale, mask=mask), gt)


def _masked_mean(values: np.ndarray, mask: np.ndarray) -> float:
    if not mask.any():
        raise ValueError("the mask excludes every joint: nothing to average")
    return float(values[mask].mean())


def mpjpe(pred: np.ndarray, gt: np.ndarray, mask: np.ndarray | None = None) -> float:
    """Mean per-joint position error (mm).

    Args:
        pred, gt: (N, J, 3) or (J, 3) mm, root-relative, camera frame.
        mask: optional (N, J) bool; joints where it is false are left out.

    Returns:
        The mean distance over all included joints of all samples.
    """
    pred, gt, mask = _as_batch(pred, gt, mask)
    return _masked_mean(joint_errors(pred, gt), mask)


def pa_mpjpe(pred: np.ndarray, gt: np.ndarray, scale: bool = True, mask: np.ndarray | None = None) -> float:
    """MPJPE after per-sample Procrustes alignment of ``pred`` onto ``gt`` (mm).

    Args:
        pred, gt: (N, J, 3) or (J, 3) mm.
        scale: True: similarity alignment (rotation, translation, scale) as most papers report;
            False: rigid alignment (rotation, translation), the release's Human3.6M protocol 1.
        mask: optional (N, J) bool; excluded joints neither enter the fit nor the mean.
    """
    pred, gt, mask = _as_batch(pred, gt, mask)
    return _masked_mean(aligned_joint_errors(pred, gt, scale=scale, mask=mask), mask)


def pck3d(pred: np.ndarray, gt: np.ndarray, threshold: float = 150.0, mask: np.ndarray | None = None) -> float:
    """3D percentage of correct keypoints, as a fraction in [0, 1]: ``mean(error <= threshold)``.

    Args:
        pred, gt: (N, J, 3) or (J, 3) mm.
        threshold: mm (150 for MuPoTS-3D / MPI-INF-3DHP).
        mask: optional (N, J) bool.
    """
    pred, gt, mask = _as_batch(pred, gt, mask)
    return _masked_mean((joint_errors(pred, gt) <= threshold).astype(np.float64), mask)


def auc(pred: np.ndarray, gt: np.ndarray, mask: np.ndarray | None = None) -> float:
    """Area under the 3D PCK curve, as a fraction in [0, 1]: the mean PCK over 0, 5, ..., 150 mm."""
    pred, gt, mask = _as_batch(pred, gt, mask)
    return float(np.mean(pck_curve_from_errors(joint_errors(pred, gt)[mask])))


def pck_curve_from_errors(errors: np.ndarray, thresholds: np.ndarray = AUC_THRESHOLDS_MM) -> np.ndarray:
    """PCK (fractions) at each threshold for a flat array of per-joint errors (mm); inf counts as missed.

    Returns:
        (len(thresholds),) float64.
    """
    errors = np.asarray(errors, dtype=np.float64).reshape(-1)
    if errors.size == 0:
        raise ValueError("no joint errors to evaluate")
    return (errors[None, :] <= np.asarray(thresholds, dtype=np.float64)[:, None]).mean(axis=1)
