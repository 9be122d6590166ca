"""The inference graph: crops -> (joints_hm, confidence), as the PyTorch path runs it and the files hold it.

The soft-argmax and the confidence are :func:`convnextpose.models.soft_argmax.soft_argmax_with_confidence`
(one softmax for both outputs), the function ``ConvNeXtPose.forward_with_confidence`` computes.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import nn

from ..models.soft_argmax import CONFIDENCE_RADIUS, soft_argmax_with_confidence


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
