"""3D soft-argmax (integral regression) over per-joint volumetric heatmaps, and a per-joint confidence.

One implementation for training, evaluation, the PyTorch inference path and the exported graphs
(:class:`~convnextpose.runtime.PoseGraph`): the coordinates and the confidence come from one
softmax over each joint's volume and one (B, J, H, W) marginal.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

# Half-width, in heatmap cells, of the window around the 2D expectation whose mass is the confidence.
CONFIDENCE_RADIUS = 1.5


def _marginals(heatmaps: torch.Tensor, num_joints: int, depth_dim: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Each joint's probability over the image plane (B, J, H, W) and over depth (B, J, D)."""
    channels, height, width = int(heatmaps.shape[1]), int(heatmaps.shape[2]), int(heatmaps.shape[3])
    if channels != num_joints * depth_dim:
        raise ValueError(f"heatmaps have {channels} channels, expected num_joints*depth_dim = {num_joints}*{depth_dim}")
    # -1 for the batch axis (not heatmaps.shape[0]): the exported graph then needs no Shape of the
    # heatmaps, which in an INT8 model would dequantise the whole (B, J*D, H, W) tensor only to read it.
    probs = F.softmax(heatmaps.reshape(-1, num_joints, depth_dim * height * width), dim=2)
    probs = probs.reshape(-1, num_joints, depth_dim, height * width)
    return probs.sum(dim=2).reshape(-1, num_joints, height, width), probs.sum(dim=3)


def _expectation(plane: torch.Tensor, marginal_z: torch.Tensor) -> tuple[torch.Tensor, ...]:
    """Expected x, y (cells) and z (bins) of the marginals, each (B, J, 1); and the x, y cell indices."""
    height, width, depth_dim = int(plane.shape[2]), int(plane.shape[3]), int(marginal_z.shape[2])
    xs = torch.arange(width, dtype=plane.dtype, device=plane.device)
    ys = torch.arange(height, dtype=plane.dtype, device=plane.device)
    zs = torch.arange(depth_dim, dtype=plane.dtype, device=plane.device)
    x = (plane.sum(dim=2) * xs).sum(dim=2, keepdim=True)
    y = (plane.sum(dim=3) * ys).sum(dim=2, keepdim=True)
    z = (marginal_z * zs).sum(dim=2, keepdim=True)
    return x, y, z, xs, ys


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
    x, y, z, _, _ = _expectation(*_marginals(heatmaps, num_joints, depth_dim))
    return torch.cat((x, y, z), dim=2)


def soft_argmax_with_confidence(
    heatmaps: torch.Tensor, num_joints: int, depth_dim: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """:func:`soft_argmax_3d` and the per-joint confidence, from one softmax.

    The confidence is the probability mass within :data:`CONFIDENCE_RADIUS` (1.5) cells of the 2D
    expectation: a sharp, unimodal heatmap gives a value near 1, a flat or multi-modal one a value
    near 0. Used for ``PersonPose.confidence``; not part of the released network's output.

    Args:
        heatmaps: (B, J*D, H, W) logits, channel ``j * D + d``.

    Returns:
        joints_hm (B, J, 3) in heatmap units (x, y cells, z bins) and confidence (B, J) in [0, 1].
    """
    plane, marginal_z = _marginals(heatmaps, num_joints, depth_dim)
    x, y, z, xs, ys = _expectation(plane, marginal_z)
    height, width = int(plane.shape[2]), int(plane.shape[3])
    near_x = ((xs.view(1, 1, 1, width) - x.unsqueeze(-1)).abs() <= CONFIDENCE_RADIUS).to(plane.dtype)
    near_y = ((ys.view(1, 1, height, 1) - y.unsqueeze(-1)).abs() <= CONFIDENCE_RADIUS).to(plane.dtype)
    confidence = (plane * near_x * near_y).sum(dim=(2, 3)).clamp(0.0, 1.0)
    return torch.cat((x, y, z), dim=2), confidence


def heatmap_confidence(heatmaps: torch.Tensor, num_joints: int, depth_dim: int) -> torch.Tensor:
    """(B, J) confidence in [0, 1] alone (see :func:`soft_argmax_with_confidence`)."""
    return soft_argmax_with_confidence(heatmaps, num_joints, depth_dim)[1]
