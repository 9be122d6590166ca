"""The inference graph: crops -> (joints_hm, confidence) with one softmax shared by both outputs.

``ConvNeXtPose.forward_with_confidence`` computes the soft-argmax and the confidence separately
(two softmaxes over each joint's 32x32x32 volume, three passes for the marginals). Here both come
from one softmax and one (B, J, H, W) marginal; the numbers are the same function (tested), and
the ONNX graph and the PyTorch inference path both use this module.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

# Half-width, in heatmap cells, of the window around the 2D peak whose mass is the confidence
# (the same window as convnextpose.models.soft_argmax.heatmap_confidence).
CONFIDENCE_RADIUS = 1.5


def soft_argmax_with_confidence(
    heatmaps: torch.Tensor, num_joints: int, depth_dim: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """3D soft-argmax and per-joint confidence from one softmax.

    Args:
        heatmaps: (B, J*D, H, W) logits, channel ``j * D + d``.

    Returns:
        joints_hm (B, J, 3) in heatmap units (x, y cells, z bins) and confidence (B, J) in [0, 1]:
        the probability mass within 1.5 cells of the 2D expectation.
    """
    # -1 for the batch axis (not heatmaps.shape[0]): the exported graph then needs no Shape of the
    # heatmaps, which in an INT8 model would dequantise the whole (B, J*D, H, W) tensor only to read it.
    height, width = int(heatmaps.shape[2]), int(heatmaps.shape[3])
    probs = F.softmax(heatmaps.reshape(-1, num_joints, depth_dim * height * width), dim=2)
    probs = probs.reshape(-1, num_joints, depth_dim, height * width)
    plane = probs.sum(dim=2).reshape(-1, num_joints, height, width)  # (B, J, H, W)
    marginal_z = probs.sum(dim=3)  # (B, J, D)
    xs = torch.arange(width, dtype=probs.dtype, device=probs.device)
    ys = torch.arange(height, dtype=probs.dtype, device=probs.device)
    zs = torch.arange(depth_dim, dtype=probs.dtype, device=probs.device)
    x = (plane.sum(dim=2) * xs).sum(dim=2, keepdim=True)
    y = (plane.sum(dim=3) * ys).sum(dim=2, keepdim=True)
    z = (marginal_z * zs).sum(dim=2, keepdim=True)
    near_x = ((xs.view(1, 1, 1, width) - x.unsqueeze(-1)).abs() <= CONFIDENCE_RADIUS).to(probs.dtype)
    near_y = ((ys.view(1, 1, height, 1) - y.unsqueeze(-1)).abs() <= CONFIDENCE_RADIUS).to(probs.dtype)
    confidence = (plane * near_x * near_y).sum(dim=(2, 3)).clamp(0.0, 1.0)
    return torch.cat((x, y, z), dim=2), confidence


def sample_input(model: nn.Module, batch_size: int = 2, seed: int = 0) -> torch.Tensor:
    """A reproducible (B, 3, H, W) float32 input in the range of normalised crops, for tracing and checks."""
    generator = torch.Generator().manual_seed(seed)
    return torch.randn(batch_size, 3, *model.spec.input_size, generator=generator).clamp_(-2.1, 2.6)


def confidence_is_comparable(coords: Any, tolerance: float = 1e-3) -> np.ndarray:
    """(B, J) True where a joint's confidence does not hinge on float rounding.

    The confidence sums the cells within :data:`CONFIDENCE_RADIUS` of the 2D expectation. Where
    the expectation lies within ``tolerance`` cells of a window edge (``x - 1.5`` an integer),
    rounding decides whether a whole row or column of cells is inside, so two correct runtimes may
    differ by that row's mass: flat heatmaps (untrained heads) put every joint at the centre,
    exactly on an edge. Export checks compare the confidence of the other joints only.

    Args:
        coords: (B, J, 3) joints in heatmap units (the reference's).
    """
    xy = np.asarray(coords, dtype=np.float64)[..., :2] - CONFIDENCE_RADIUS
    return (np.abs(xy - np.round(xy)) >= tolerance).all(axis=-1)


class PoseGraph(nn.Module):
    """The deployed function: normalised crops (B, 3, H, W) -> joints_hm (B, J, 3) [, confidence (B, J)].

    Args:
        model: a ConvNeXtPose network (fused or not).
        with_confidence: also return the confidence.
    """

    def __init__(self, model: nn.Module, with_confidence: bool = True) -> None:
        super().__init__()
        self.model = model
        self.num_joints = int(model.spec.num_joints)
        self.depth_dim = int(model.spec.depth_dim)
        self.with_confidence = with_confidence

    def forward(self, images: torch.Tensor) -> Any:
        coords, confidence = soft_argmax_with_confidence(
            self.model.forward_heatmaps(images), self.num_joints, self.depth_dim
        )
        return (coords, confidence) if self.with_confidence else coords


class PixelGraph(nn.Module):
    """A :class:`PoseGraph` fed RGB pixels: uint8 (B, H, W, 3) -> joints_hm (B, J, 3) [, confidence (B, J)].

    The wrapped graph's network must take pixel values, i.e. have the input normalisation folded
    into its stem (:func:`~convnextpose.runtime.fuse.fold_input_normalization`); this module only
    reorders the axes and converts to float, so an app can hand the model its crop as it is.
    """

    def __init__(self, graph: PoseGraph) -> None:
        super().__init__()
        self.graph = graph

    def forward(self, pixels: torch.Tensor) -> Any:
        return self.graph(pixels.permute(0, 3, 1, 2).float())
