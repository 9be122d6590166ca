"""Training losses: the release's L1 (DATA_FORMATS section 6) and a mirror-tolerant variant, as pure functions."""

from __future__ import annotations

import torch


def _check_shapes(pred_hm: torch.Tensor, target_hm: torch.Tensor) -> None:
    if pred_hm.shape != target_hm.shape or pred_hm.ndim != 3 or pred_hm.shape[-1] != 3:
        raise ValueError(
            f"pred and target must both be (B, J, 3), got {tuple(pred_hm.shape)} and {tuple(target_hm.shape)}"
        )


def _per_sample_l1(
    pred_hm: torch.Tensor, target_hm: torch.Tensor, target_vis: torch.Tensor, has_depth: torch.Tensor
) -> torch.Tensor:
    """(B,) mean over joints of ``(|dx| + |dy| + |dz| * has_depth) / 3 * visible``."""
    pred_hm = pred_hm.float()
    target_hm = target_hm.float()
    vis = target_vis.float().reshape(pred_hm.shape[:2])
    depth = has_depth.float().reshape(-1, 1)
    error = (pred_hm - target_hm).abs()
    per_joint = (error[..., 0] + error[..., 1] + error[..., 2] * depth) / 3.0
    return (per_joint * vis).mean(dim=1)


def pose_l1_loss(
    pred_hm: torch.Tensor, target_hm: torch.Tensor, target_vis: torch.Tensor, has_depth: torch.Tensor
) -> torch.Tensor:
    """L1 between predicted and target joints in heatmap units, masked as the release masks it.

    Per joint: ``(|dx| + |dy| + |dz| * has_depth) / 3 * visible``, then the mean over all joints of
    all samples (invisible joints count as zeros in that mean, as in the release).

    Args:
        pred_hm: (B, J, 3) x, y cells and z bins.
        target_hm: (B, J, 3) same units.
        target_vis: (B, J) or (B, J, 1) 0/1 visibility.
        has_depth: (B,) 1 for 3D datasets, 0 for 2D-only ones (MPII, COCO).

    Returns:
        Scalar float32 tensor.
    """
    _check_shapes(pred_hm, target_hm)
    return _per_sample_l1(pred_hm, target_hm, target_vis, has_depth).mean()


def mirror_tolerant_l1_loss(
    pred_hm: torch.Tensor,
    target_hm: torch.Tensor,
    target_vis: torch.Tensor,
    has_depth: torch.Tensor,
    flip_permutation: torch.Tensor,
    tolerance: float,
) -> torch.Tensor:
    """The release's L1, partly forgiving a prediction that has every left and right joint swapped.

    Per sample: ``(1 - tolerance) * L(labels) + tolerance * min(L(labels), L(swapped labels))``.
    Why: while a network cannot yet tell whether a person faces the camera, L1 is smallest with
    each left/right pair on the body's midline, and training from little data stalls there (the
    collapse measured in docs/training.md). Forgiving the swap lets joints settle on the limbs
    first; the remaining ``1 - tolerance`` of the release loss still rewards the right side once the
    network can tell it.
    ``tolerance=0`` is exactly :func:`pose_l1_loss`.

    Args:
        pred_hm, target_hm, target_vis, has_depth: as in :func:`pose_l1_loss`.
        flip_permutation: (J,) long tensor swapping each left joint with its right twin
            (:attr:`convnextpose.joints.JointSet.flip_permutation`).
        tolerance: in [0, 1].

    Returns:
        Scalar float32 tensor.
    """
    _check_shapes(pred_hm, target_hm)
    if not 0.0 <= tolerance <= 1.0:
        raise ValueError(f"tolerance must be in [0, 1], got {tolerance}")
    if flip_permutation.shape != (pred_hm.shape[1],):
        raise ValueError(f"flip_permutation must be ({pred_hm.shape[1]},), got {tuple(flip_permutation.shape)}")
    vis = target_vis.reshape(pred_hm.shape[:2])
    strict = _per_sample_l1(pred_hm, target_hm, vis, has_depth)
    if tolerance == 0.0:
        return strict.mean()
    perm = flip_permutation.to(target_hm.device)
    swapped = _per_sample_l1(pred_hm, target_hm[:, perm], vis[:, perm], has_depth)
    return ((1.0 - tolerance) * strict + tolerance * torch.minimum(strict, swapped)).mean()
