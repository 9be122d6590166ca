"""3D soft-argmax (integral regression) over per-joint volumetric heatmaps."""

from __future__ import annotations

import torch
import torch.nn.functional as F


def soft_argmax_3d(heatmaps: torch.Tensor, num_joints: int, depth_dim: int) -> torch.Tensor:
    """Expected voxel coordinates of each joint's volumetric heatmap.

    The channel axis is joint-major (channel ``j * depth_dim + d``), as in the release, and the
    softmax runs over each joint's whole ``depth_dim x H x W`` volume.

    Args:
        heatmaps: (B, J*D, H, W) float logits.
        num_joints: J.
        depth_dim: D, the number of depth bins.

    Returns:
        (B, J, 3) float in heatmap units: x and y in cells (0..W-1, 0..H-1), z in bins (0..D-1).
    """
    batch, channels, height, width = heatmaps.shape
    if channels != num_joints * depth_dim:
        raise ValueError(f"heatmaps have {channels} channels, expected num_joints*depth_dim = {num_joints}*{depth_dim}")
    probs = F.softmax(heatmaps.reshape(batch, num_joints, depth_dim * height * width), dim=2)
    probs = probs.reshape(batch, num_joints, depth_dim, height, width)
    marginal_x = probs.sum(dim=(2, 3))
    marginal_y = probs.sum(dim=(2, 4))
    marginal_z = probs.sum(dim=(3, 4))
    x = (marginal_x * torch.arange(width, dtype=probs.dtype, device=probs.device)).sum(dim=2, keepdim=True)
    y = (marginal_y * torch.arange(height, dtype=probs.dtype, device=probs.device)).sum(dim=2, keepdim=True)
    z = (marginal_z * torch.arange(depth_dim, dtype=probs.dtype, device=probs.device)).sum(dim=2, keepdim=True)
    return torch.cat((x, y, z), dim=2)


def heatmap_confidence(heatmaps: torch.Tensor, num_joints: int, depth_dim: int) -> torch.Tensor:
    """Per-joint confidence: the probability mass within one cell of the 2D soft-argmax peak.

    A sharp, unimodal heatmap gives a value near 1; a flat or multi-modal one a value near 0.
    Used for ``PersonPose.confidence``; not part of the released network's output.

    Args:
        heatmaps: (B, J*D, H, W) logits.

    Returns:
        (B, J) float in [0, 1].
    """
    batch, _, height, width = heatmaps.shape
    probs = F.softmax(heatmaps.reshape(batch, num_joints, -1), dim=2)
    probs_2d = probs.reshape(batch, num_joints, depth_dim, height, width).sum(dim=2)
    coords = soft_argmax_3d(heatmaps, num_joints, depth_dim)
    ys = torch.arange(height, dtype=probs.dtype, device=probs.device).view(1, 1, height, 1)
    xs = torch.arange(width, dtype=probs.dtype, device=probs.device).view(1, 1, 1, width)
    near = ((xs - coords[..., 0, None, None]).abs() <= 1.5) & ((ys - coords[..., 1, None, None]).abs() <= 1.5)
    return (probs_2d * near).sum(dim=(2, 3)).clamp(0.0, 1.0)
