"""The ConvNeXtPose network: ConvNeXt-BN backbone, separable upsampling head, 3D soft-argmax.

The forward pass returns joint coordinates in heatmap units, exactly as the released network does;
decoding to pixels and millimetres lives in :mod:`convnextpose.codec`, outside the graph.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field

import torch
from torch import nn

from .backbone import ConvNeXtBN
from .head import HeadNet
from .soft_argmax import heatmap_confidence, soft_argmax_3d


@dataclass(frozen=True)
class ModelSpec:
    """Everything needed to rebuild a ConvNeXtPose network; stored in every checkpoint."""

    depths: tuple[int, ...] = (3, 3, 9, 3)
    dims: tuple[int, ...] = (48, 96, 192, 384)
    head_width: int = 128
    num_joints: int = 18
    depth_dim: int = 32
    input_size: tuple[int, int] = (256, 256)  # (height, width)
    drop_path_rate: float = 0.0
    joint_set: str = "human36m"
    # Head layers that upsample x2: 2 in the release (XS, S; stride 8), 3 in the paper's M and L (stride 4).
    # Checkpoints written before this field existed hold 2-layer heads, the default.
    upsample_layers: int = 2

    @property
    def heatmap_stride(self) -> int:
        """Input pixels per heatmap cell: 32 / 2**upsample_layers (8 for XS/S, 4 for M/L)."""
        return 32 >> self.upsample_layers

    @property
    def output_size(self) -> tuple[int, int]:
        """(height, width) of the heatmaps: the input divided by :attr:`heatmap_stride`."""
        return (self.input_size[0] // self.heatmap_stride, self.input_size[1] // self.heatmap_stride)

    def to_dict(self) -> dict:
        return {k: (list(v) if isinstance(v, tuple) else v) for k, v in asdict(self).items()}

    @classmethod
    def from_dict(cls, values: dict) -> ModelSpec:
        known = {f for f in cls.__dataclass_fields__}
        unknown = set(values) - known
        if unknown:
            raise ValueError(f"unknown model spec fields {sorted(unknown)}; expected some of {sorted(known)}")
        return cls(**{k: (tuple(v) if isinstance(v, list) else v) for k, v in values.items()})


class ConvNeXtPose(nn.Module):
    """Single-person 3D pose network on a person crop.

    Args:
        depths: blocks per backbone stage.
        dims: channels per backbone stage.
        head_width: channels of the separable head layers.
        num_joints: J, output joints.
        depth_dim: D, depth bins of the volumetric heatmap.
        input_size: (height, width) of the crop, each divisible by 32.
        drop_path_rate: stochastic depth for training.
        joint_set: name of the joint set in :mod:`convnextpose.joints` the J channels follow.
        upsample_layers: head layers that upsample x2 (2: heatmaps at input/8, 3: at input/4).
    """

    def __init__(
        self,
        depths: Sequence[int] = (3, 3, 9, 3),
        dims: Sequence[int] = (48, 96, 192, 384),
        head_width: int = 128,
        num_joints: int = 18,
        depth_dim: int = 32,
        input_size: Sequence[int] = (256, 256),
        drop_path_rate: float = 0.0,
        joint_set: str = "human36m",
        upsample_layers: int = 2,
    ) -> None:
        super().__init__()
        if len(input_size) != 2 or any(int(s) <= 0 or int(s) % 32 for s in input_size):
            raise ValueError(f"input_size must be (height, width), each a positive multiple of 32, got {input_size}")
        for name, value in (("head_width", head_width), ("num_joints", num_joints), ("depth_dim", depth_dim)):
            if int(value) <= 0:
                raise ValueError(f"{name} must be positive, got {value}")
        if not 0 <= int(upsample_layers) <= 3:
            raise ValueError(f"upsample_layers must be 0..3 (the head has three layers), got {upsample_layers}")
        self.spec = ModelSpec(
            depths=tuple(int(d) for d in depths),
            dims=tuple(int(d) for d in dims),
            head_width=int(head_width),
            num_joints=int(num_joints),
            depth_dim=int(depth_dim),
            input_size=(int(input_size[0]), int(input_size[1])),
            drop_path_rate=float(drop_path_rate),
            joint_set=joint_set,
            upsample_layers=int(upsample_layers),
        )
        self.backbone = ConvNeXtBN(3, depths, dims, drop_path_rate)
        self.head = HeadNet(self.backbone.out_channels, head_width, num_joints, depth_dim, int(upsample_layers))
        self._init_weights()

    @property
    def num_joints(self) -> int:
        return self.spec.num_joints

    @property
    def depth_dim(self) -> int:
        return self.spec.depth_dim

    @property
    def input_size(self) -> tuple[int, int]:
        return self.spec.input_size

    @property
    def output_size(self) -> tuple[int, int]:
        return self.spec.output_size

    def forward_heatmaps(self, images: torch.Tensor) -> torch.Tensor:
        """(B, 3, H, W) normalised RGB -> (B, J*D, H/s, W/s) heatmap logits, s = ``spec.heatmap_stride``."""
        return self.head(self.backbone(images))

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """(B, 3, H, W) normalised RGB crops -> (B, J, 3) in heatmap units (x, y cells, z bins)."""
        return soft_argmax_3d(self.forward_heatmaps(images), self.spec.num_joints, self.spec.depth_dim)

    def forward_with_confidence(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Coordinates (B, J, 3) in heatmap units and a per-joint confidence (B, J) in [0, 1]."""
        heatmaps = self.forward_heatmaps(images)
        coords = soft_argmax_3d(heatmaps, self.spec.num_joints, self.spec.depth_dim)
        return coords, heatmap_confidence(heatmaps, self.spec.num_joints, self.spec.depth_dim)

    def _init_weights(self) -> None:
        # As in the release: truncated normal (std 0.02) convolutions, unit batch norm.
        for module in self.modules():
            if isinstance(module, nn.Conv2d):
                nn.init.trunc_normal_(module.weight, std=0.02)
                nn.init.zeros_(module.bias)
            elif isinstance(module, nn.BatchNorm2d):
                nn.init.ones_(module.weight)
                nn.init.zeros_(module.bias)


@dataclass(frozen=True)
class Variant:
    """A named architecture: the paper's table (backbone depths and dims, head width, upsampling, depth bins)."""

    depths: tuple[int, ...]
    dims: tuple[int, ...]
    head_width: int
    upsample_layers: int = 2
    depth_dim: int = 32
    description: str = ""
    extra: dict = field(default_factory=dict)

    def matches(self, spec: ModelSpec) -> bool:
        """True when ``spec`` has this variant's backbone, head and output volume."""
        return (
            spec.depths == self.depths
            and spec.dims == self.dims
            and spec.head_width == self.head_width
            and spec.upsample_layers == self.upsample_layers
            and spec.depth_dim == self.depth_dim
        )


_PAPER_BACKBONE = ((3, 3, 9, 3), (48, 96, 192, 384))

#: The paper's four networks (IEEE Access 2023, Table of variants; DATA_FORMATS.md section 7) and a tiny test net.
VARIANTS: dict[str, Variant] = {
    "xs": Variant((2, 2, 6, 2), (40, 80, 160, 320), 128, 2, 32, "the release's default configuration"),
    "s": Variant(*_PAPER_BACKBONE, 256, 2, 32, "the paper's S"),
    "m": Variant(*_PAPER_BACKBONE, 256, 3, 64, "the paper's M: S with a third upsampling layer, 64 depth bins"),
    "l": Variant(*_PAPER_BACKBONE, 512, 3, 64, "the paper's L: M with a 512-wide head"),
    "test": Variant((1, 1, 1, 1), (8, 16, 32, 64), 16, 2, 32, "tiny network for tests", {"input_size": (64, 64)}),
}


def normalize_variant_name(variant: str) -> str:
    """'S', 's', 'convnextpose_s' -> 's'; raises ValueError listing the variants otherwise."""
    name = variant.lower().strip()
    if name.startswith("convnextpose_"):
        name = name[len("convnextpose_") :]
    if name not in VARIANTS:
        raise ValueError(f"unknown variant {variant!r}; choose one of {sorted(VARIANTS)}")
    return name


def variant_name(spec: ModelSpec) -> str | None:
    """The name of the registered variant ``spec`` is (``'xs'``, ``'s'``, ...), or None for a custom network."""
    return next((name for name, variant in VARIANTS.items() if variant.matches(spec)), None)


def build_model(variant: str = "S", num_joints: int = 18, depth_dim: int | None = None, **overrides) -> ConvNeXtPose:
    """Build a randomly initialised ConvNeXtPose network of a named variant.

    Args:
        variant: one of ``XS``, ``S``, ``M``, ``L`` (the paper's networks) or ``test`` (tiny, 64x64 input).
        num_joints: J, output joints (18 for Human3.6M, 21 for MuCo).
        depth_dim: D, depth bins; default the variant's (32 for XS/S, 64 for M/L).
        **overrides: any :class:`ConvNeXtPose` argument, e.g. ``input_size=(192, 192)``,
            ``drop_path_rate=0.1``, ``head_width=256``, ``upsample_layers=3``.

    Returns:
        The network in training mode.
    """
    spec = VARIANTS[normalize_variant_name(variant)]
    kwargs = dict(
        depths=spec.depths,
        dims=spec.dims,
        head_width=spec.head_width,
        upsample_layers=spec.upsample_layers,
        depth_dim=spec.depth_dim,
        **spec.extra,
    )
    kwargs["num_joints"] = num_joints
    if depth_dim is not None:
        kwargs["depth_dim"] = depth_dim
    kwargs.update(overrides)
    return ConvNeXtPose(**kwargs)


def list_models() -> list[str]:
    """Names of the registered variants."""
    return sorted(VARIANTS)
