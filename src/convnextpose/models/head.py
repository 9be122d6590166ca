"""Depthwise-separable upsampling head of the release: stride-32 features to stride-8 (or stride-4) heatmaps."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class SeparableUpLayer(nn.Module):
    """dw 3x3, BN, pw 1x1, ReLU, then (optionally) x2 bilinear upsampling with aligned corners."""

    def __init__(self, in_channels: int, out_channels: int, upsample: bool) -> None:
        super().__init__()
        self.dwconv = nn.Conv2d(in_channels, in_channels, kernel_size=3, padding=1, groups=in_channels)
        self.norm = nn.BatchNorm2d(in_channels)
        self.pwconv = nn.Conv2d(in_channels, out_channels, kernel_size=1)
        self.act = nn.ReLU(inplace=True)
        self.upsample = upsample

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.act(self.pwconv(self.norm(self.dwconv(x))))
        if self.upsample:
            x = F.interpolate(x, scale_factor=2.0, mode="bilinear", align_corners=True)
        return x


class HeadNet(nn.Module):
    """Three separable layers, the first ``upsample_layers`` of them upsampling x2, then a 1x1 conv to J*D channels.

    The release builds two upsampling layers (stride-8 heatmaps, XS and S); the paper's M and L ("3UP")
    upsample in the third layer too (stride 4). The parameters are the same either way.

    Args:
        in_channels: backbone output channels.
        width: channels of the three separable layers ("head width").
        num_joints: J.
        depth_dim: D, depth bins per joint.
        upsample_layers: how many of the three layers upsample x2 (0..3).
    """

    def __init__(self, in_channels: int, width: int, num_joints: int, depth_dim: int, upsample_layers: int = 2) -> None:
        super().__init__()
        if not 0 <= upsample_layers <= 3:
            raise ValueError(f"upsample_layers must be 0..3 (the head has three layers), got {upsample_layers}")
        self.deconv_layers_1 = SeparableUpLayer(in_channels, width, upsample=upsample_layers >= 1)
        self.deconv_layers_2 = SeparableUpLayer(width, width, upsample=upsample_layers >= 2)
        self.deconv_layers_3 = SeparableUpLayer(width, width, upsample=upsample_layers >= 3)
        self.final_layer = nn.Conv2d(width, num_joints * depth_dim, kernel_size=1)

    @property
    def layers(self) -> tuple[SeparableUpLayer, SeparableUpLayer, SeparableUpLayer]:
        """The three separable layers in order (the final 1x1 convolution follows them)."""
        return (self.deconv_layers_1, self.deconv_layers_2, self.deconv_layers_3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, C, h, w) -> (B, J*D, h * 2**u, w * 2**u) heatmap logits, u = ``upsample_layers``."""
        return self.final_layer(self.deconv_layers_3(self.deconv_layers_2(self.deconv_layers_1(x))))
