"""Training loss of the release (DATA_FORMATS section 6), as a pure function."""

from __future__ import annotations

import torch


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
    if pred_hm.shape != target_hm.shape or pred_hm.ndim != 3 or pred_hm.shape[-1] != 3:
        raise ValueError(
            f"pred and target must both be (B, J, 3), got {tuple(pred_hm.shape)} and {tuple(target_hm.shape)}"
        )
    pred_hm = pred_hm.float()
    target_hm = target_hm.float()
    vis = target_vis.float().reshape(pred_hm.shape[:2])
    depth = has_depth.float().reshape(-1, 1)
    error = (pred_hm - target_hm).abs()
    per_joint = (error[..., 0] + error[..., 1] + error[..., 2] * depth) / 3.0
    return (per_joint * vis).mean()
