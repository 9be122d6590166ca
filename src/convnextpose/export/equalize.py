"""Per-channel rescaling of the backbone's residual streams before INT8 quantisation (same function).

A ConvNeXt stage carries one residual stream: the downsampling convolution writes it and every
block adds its branch to it. INT8 stores each of its tensors with one scale for all channels, so
a channel whose values stay small is quantised in a few coarse steps. On the release's XS the
widest channel of the first stage's stream spans 4x its median channel, and equalising the
streams halved the INT8 joint shift (docs/inference.md, "INT8 of a trained network").

Multiplying stream channel ``c`` by a gain ``g_c`` everywhere in the stage is an exact
reparametrisation: the writers (the downsampling convolution and each block's ``pwconv2``) scale
their output channel by ``g_c``, the readers (each block's depthwise convolution, the next
downsampling convolution, or ``backbone.norm`` after the last stage) divide their input channel
by it. The gains bring every channel's calibrated range towards the widest one's (cross-layer
equalisation, Nagel et al., ICCV 2019, applied to the activations), so a per-tensor INT8 scale
fits all channels. Depthwise and per-channel weights absorb the gains exactly; only the next
downsampling convolution's per-output-channel weight scale sees the gain spread.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torch import nn

from ..image import as_normalized
from .fuse import fuse_model

#: Largest gain given to a channel (near-dead and padding channels would otherwise get huge ones).
MAX_GAIN = 64.0


def _stream_writers(backbone: nn.Module, stage: int) -> list[nn.Module]:
    """Modules whose outputs are the stage's stream tensors: its downsampling layer, then each block."""
    return [backbone.downsample_layers[stage], *backbone.stages[stage]]


@torch.no_grad()
def stream_ranges(model: nn.Module, crops: np.ndarray, batch_size: int = 8) -> list[torch.Tensor]:
    """Per-channel largest |value| of each backbone stage's residual stream over ``crops``.

    Args:
        model: a (fused or not) ConvNeXtPose network.
        crops: (N, H, W, 3) uint8 RGB crops or (N, 3, H, W) float32 normalised crops.
        batch_size: crops per forward pass.

    Returns:
        One (C_i,) float64 tensor per stage: max over the stream's tensors, positions and crops.
    """
    backbone = model.backbone
    ranges = [torch.zeros(len(backbone.stages[i][0].dwconv.weight), dtype=torch.float64) for i in range(4)]
    hooks = []
    for stage in range(4):
        for module in _stream_writers(backbone, stage):

            def record(_module, _inputs, output, stage=stage):
                peak = output.detach().abs().amax(dim=(0, 2, 3)).double()
                ranges[stage] = torch.maximum(ranges[stage], peak)

            hooks.append(module.register_forward_hook(record))
    try:
        inputs = as_normalized(np.asarray(crops))
        for start in range(0, len(inputs), batch_size):
            model(torch.from_numpy(inputs[start : start + batch_size]))
    finally:
        for hook in hooks:
            hook.remove()
    return ranges


def stream_gains(ranges: torch.Tensor, strength: float = 1.0, max_gain: float = MAX_GAIN) -> torch.Tensor:
    """Gains ``(max(ranges) / ranges) ** strength``, clipped to [1, max_gain]; 1 for channels that never fire.

    Args:
        ranges: (C,) per-channel largest |value| of one stream.
        strength: 1 equalises fully (up to ``max_gain``), 0 leaves the stream as it is.
        max_gain: upper bound of a gain.
    """
    ranges = ranges.double()
    top = float(ranges.max()) if len(ranges) else 0.0
    if top <= 0:
        return torch.ones_like(ranges)
    gains = (top / ranges.clamp(min=top / max_gain)) ** float(strength)
    return torch.where(ranges > 0, gains.clamp(1.0, max_gain), torch.ones_like(gains))


def _scale_outputs(conv: nn.Conv2d, gains: torch.Tensor) -> None:
    conv.weight.data = (conv.weight.double() * gains.view(-1, 1, 1, 1)).to(conv.weight.dtype)
    if conv.bias is not None:
        conv.bias.data = (conv.bias.double() * gains).to(conv.bias.dtype)


def _divide_inputs(module: nn.Module, gains: torch.Tensor) -> None:
    if isinstance(module, nn.BatchNorm2d):  # gamma (x - mu) / sigma with x -> g x: gamma / g, mu * g
        module.weight.data = (module.weight.double() / gains).to(module.weight.dtype)
        module.running_mean.data = (module.running_mean.double() * gains).to(module.running_mean.dtype)
        return
    if module.groups == module.in_channels and module.weight.shape[1] == 1:  # depthwise: one input per filter
        module.weight.data = (module.weight.double() / gains.view(-1, 1, 1, 1)).to(module.weight.dtype)
    elif module.groups == 1:
        module.weight.data = (module.weight.double() / gains.view(1, -1, 1, 1)).to(module.weight.dtype)
    else:
        raise ValueError(f"cannot divide the input channels of a grouped convolution ({module.groups} groups)")


def apply_stream_gains(model: nn.Module, gains: Sequence[torch.Tensor]) -> None:
    """Multiply each stage's residual stream by per-channel ``gains`` (in place, on a fused model).

    Raises:
        ValueError: the model still has the batch norm after its stem (fuse it first), or a gain
            vector does not match its stage's width, or a gain is not positive and finite.
    """
    backbone = model.backbone
    for stage, g in enumerate(gains):
        width = len(backbone.stages[stage][0].dwconv.weight)
        g = torch.as_tensor(g, dtype=torch.float64)
        if g.shape != (width,) or not bool(torch.isfinite(g).all()) or bool((g <= 0).any()):
            raise ValueError(
                f"stage {stage}: gains must be {width} positive finite numbers, got shape {tuple(g.shape)}"
            )
        downsample = backbone.downsample_layers[stage]
        writer = downsample[0] if stage == 0 else downsample[1]
        if any(isinstance(m, nn.BatchNorm2d) for m in downsample):
            raise ValueError("fuse the model first (export.fuse_model): a downsampling batch norm is left")
        _scale_outputs(writer, g)
        for block in backbone.stages[stage]:
            _divide_inputs(block.dwconv, g)
            _scale_outputs(block.pwconv2, g)
        reader = backbone.downsample_layers[stage + 1][1] if stage < 3 else backbone.norm
        _divide_inputs(reader, g)


def equalize_streams(
    model: nn.Module, crops: np.ndarray, strength: float = 1.0, max_gain: float = MAX_GAIN
) -> tuple[nn.Module, list[torch.Tensor]]:
    """A fused copy of ``model`` with its residual streams equalised on ``crops``; and the gains.

    Args:
        model: a ConvNeXtPose network (not changed).
        crops: calibration crops, (N, H, W, 3) uint8 or (N, 3, H, W) float32 normalised.
        strength, max_gain: see :func:`stream_gains`.

    Returns:
        The equalised network (the same function to float32 rounding) and the gains per stage.
    """
    fused = fuse_model(model)
    gains = [stream_gains(r, strength, max_gain) for r in stream_ranges(fused, crops)]
    apply_stream_gains(fused, gains)
    return fused, gains
