"""The tensor operations of distillation: mapping teacher cells onto the student's grid, per-axis
log-marginals of a softmax volume, channel standardisation of features, BatchNorm recalibration.
"""

from __future__ import annotations

from collections.abc import Iterable

import torch
import torch.nn.functional as F
from torch import nn

from ..models.convnextpose import ConvNeXtPose


def axis_map(teacher_cells: int, teacher_pixels: int, student_cells: int, student_pixels: int) -> tuple[float, float]:
    """``(a, b)`` with student cell ``= a * teacher cell + b`` along one image axis.

    A cell is ``pixels / cells`` crop pixels (the release's encoding), and a resize between the
    crops maps pixel centres: ``(p_s + 0.5) = (p_t + 0.5) * student_pixels / teacher_pixels``.
    """
    stride_t, stride_s = teacher_pixels / teacher_cells, student_pixels / student_cells
    ratio = student_pixels / teacher_pixels
    return stride_t * ratio / stride_s, (0.5 * ratio - 0.5) / stride_s


def splat_matrix(source_cells: int, target_cells: int, a: float, b: float) -> torch.Tensor:
    """(source, target) weights moving a distribution over source cells onto target cells.

    Source cell ``k`` sits at ``a * k + b`` in target units and is shared linearly between its two
    neighbouring target cells (clamped to the grid), so the expectation is kept wherever the
    mass stays inside the grid. The identity when ``a = 1, b = 0`` and the sizes agree.
    """
    position = (a * torch.arange(source_cells, dtype=torch.float64) + b).clamp(0, target_cells - 1)
    cells = torch.arange(target_cells, dtype=torch.float64)
    return (1.0 - (position[:, None] - cells[None, :]).abs()).clamp(min=0.0).float()


def log_marginals(heatmaps: torch.Tensor, num_joints: int, depth_dim: int, temperature: float) -> list[torch.Tensor]:
    """Log of each joint's x, y and z marginals of ``softmax(heatmaps / T)`` over its volume.

    Args:
        heatmaps: (B, J*D, H, W) logits.

    Returns:
        [(B, J, W), (B, J, H), (B, J, D)] float32 log-probabilities.
    """
    batch, _, height, width = heatmaps.shape
    flat = heatmaps.float().reshape(batch, num_joints, -1) / temperature
    volume = F.log_softmax(flat, dim=2).reshape(batch, num_joints, depth_dim, height, width)
    return [volume.logsumexp(dim=(2, 3)), volume.logsumexp(dim=(2, 4)), volume.logsumexp(dim=(3, 4))]


def standardise_channels(features: torch.Tensor, eps: float = 1e-5) -> torch.Tensor:
    """Each channel of ``(N, C, H, W)`` features shifted and scaled to zero mean, unit variance over H x W."""
    mean = features.mean(dim=(-2, -1), keepdim=True)
    std = features.std(dim=(-2, -1), keepdim=True, unbiased=False)
    return (features - mean) / (std + eps)


def batch_standardise(features: torch.Tensor, eps: float = 1e-6) -> torch.Tensor:
    """Each channel of ``(N, C, H, W)`` features to zero mean, unit variance over batch and map (as BatchNorm)."""
    mean = features.mean(dim=(0, 2, 3), keepdim=True)
    std = features.std(dim=(0, 2, 3), keepdim=True, unbiased=False)
    return (features - mean) / (std + eps * features.abs().mean().clamp(min=1e-12))


@torch.no_grad()
def recalibrate_batchnorm(model: ConvNeXtPose, batches: Iterable[torch.Tensor], device: torch.device) -> int:
    """Recompute every BatchNorm's running mean and variance from ``model``'s own end-to-end features.

    After teacher forcing each block has only seen the teacher's features, whose per-channel scale and
    shift the student's need not share (the stage terms ignore them); its BatchNorms' running
    statistics must describe the student's own features before it runs alone. The statistics become
    the plain average over the batches (momentum None); the weights are not touched.

    Returns:
        The number of batches used.
    """
    norms = [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    momenta = [m.momentum for m in norms]
    was_training = model.training
    for norm in norms:
        norm.reset_running_stats()
        norm.momentum = None
    model.train()
    count = 0
    try:
        for images in batches:
            images = images.to(device)
            if device.type == "cpu":
                images = images.contiguous(memory_format=torch.channels_last)
            model.forward_heatmaps(images)
            count += 1
    finally:
        for norm, momentum in zip(norms, momenta):
            norm.momentum = momentum
        model.train(was_training)
    return count
