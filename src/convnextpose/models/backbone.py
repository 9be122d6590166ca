"""ConvNeXt backbone with batch norm, as in the ConvNeXtPose release.

Differences from the ImageNet ConvNeXt: BatchNorm2d instead of LayerNorm, ReLU instead of GELU,
1x1 convolutions instead of Linear layers for the pointwise pair, and no layer scale. Module names
follow the release (``downsample_layers``, ``stages``, ``norm``) so its checkpoints load unchanged.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn


class DropPath(nn.Module):
    """Stochastic depth: drop the whole residual branch per sample while training."""

    def __init__(self, drop_prob: float = 0.0) -> None:
        super().__init__()
        self.drop_prob = float(drop_prob)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.drop_prob == 0.0 or not self.training:
            return x
        keep = 1.0 - self.drop_prob
        mask = x.new_empty((x.shape[0],) + (1,) * (x.ndim - 1)).bernoulli_(keep)
        return x * mask / keep

    def extra_repr(self) -> str:
        return f"drop_prob={self.drop_prob}"


class Block(nn.Module):
    """ConvNeXt-BN residual block: dw 7x7, BN, 1x1 (x4), ReLU, 1x1, plus the input.

    Args:
        dim: channels in and out.
        drop_path: stochastic-depth probability of the residual branch.
    """

    def __init__(self, dim: int, drop_path: float = 0.0) -> None:
        super().__init__()
        self.dwconv = nn.Conv2d(dim, dim, kernel_size=7, padding=3, groups=dim)
        self.norm = nn.BatchNorm2d(dim)
        self.pwconv1 = nn.Conv2d(dim, 4 * dim, kernel_size=1)
        self.act = nn.ReLU(inplace=True)
        self.pwconv2 = nn.Conv2d(4 * dim, dim, kernel_size=1)
        self.drop_path = DropPath(drop_path) if drop_path > 0 else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        branch = self.pwconv2(self.act(self.pwconv1(self.norm(self.dwconv(x)))))
        return x + self.drop_path(branch)


class ConvNeXtBN(nn.Module):
    """Four-stage ConvNeXt-BN feature extractor with output stride 32.

    Args:
        in_chans: input channels (3 for RGB).
        depths: blocks per stage.
        dims: channels per stage.
        drop_path_rate: stochastic depth, rising linearly from 0 to this over all blocks.
    """

    def __init__(
        self,
        in_chans: int = 3,
        depths: Sequence[int] = (3, 3, 9, 3),
        dims: Sequence[int] = (48, 96, 192, 384),
        drop_path_rate: float = 0.0,
    ) -> None:
        super().__init__()
        if len(depths) != 4 or len(dims) != 4:
            raise ValueError(f"depths and dims need 4 stages each, got depths={depths}, dims={dims}")
        self.depths = tuple(int(d) for d in depths)
        self.dims = tuple(int(d) for d in dims)
        stem = nn.Sequential(nn.Conv2d(in_chans, dims[0], kernel_size=4, stride=4), nn.BatchNorm2d(dims[0]))
        self.downsample_layers = nn.ModuleList([stem])
        for i in range(3):
            self.downsample_layers.append(
                nn.Sequential(nn.BatchNorm2d(dims[i]), nn.Conv2d(dims[i], dims[i + 1], kernel_size=2, stride=2))
            )
        rates = torch.linspace(0, drop_path_rate, sum(depths)).tolist()
        self.stages = nn.ModuleList()
        start = 0
        for i, depth in enumerate(depths):
            self.stages.append(nn.Sequential(*[Block(dims[i], rates[start + j]) for j in range(depth)]))
            start += depth
        self.norm = nn.BatchNorm2d(dims[-1])

    @property
    def out_channels(self) -> int:
        return self.dims[-1]

    def forward_stage(self, index: int, x: torch.Tensor) -> torch.Tensor:
        """Stage ``index`` alone on its input (the image for stage 0, else the previous stage's output):
        its downsampling, its blocks and, for the last stage, the final norm."""
        x = self.stages[index](self.downsample_layers[index](x))
        return self.norm(x) if index == len(self.stages) - 1 else x

    def forward_stages(self, x: torch.Tensor) -> list[torch.Tensor]:
        """Feature maps after each stage, strides 4, 8, 16 and 32, for reuse as a feature extractor."""
        features = []
        for index in range(len(self.stages)):
            x = self.forward_stage(index, x)
            features.append(x)
        return features

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, 3, H, W) image -> (B, dims[-1], H/32, W/32) features."""
        for downsample, stage in zip(self.downsample_layers, self.stages):
            x = stage(downsample(x))
        return self.norm(x)
