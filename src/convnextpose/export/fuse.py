"""Inference-time rewrites of a ConvNeXtPose network that keep its output (up to float rounding).

Batch norm in eval mode is a per-channel affine map ``s * x + t``, so it folds into a neighbouring
convolution: into the one before it (scale the output channels), or into the one after it when
that convolution has no zero padding (padding would see ``t`` where the original saw 0). In
ConvNeXtPose every batch norm folds except ``backbone.norm``, which sits after a residual sum and
before a padded convolution; it stays as a cheap affine map.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence

import torch
from torch import nn

from ..image import IMAGENET_MEAN, IMAGENET_STD
from ..models.backbone import Block
from ..models.head import SeparableUpLayer


def _bn_affine(bn: nn.BatchNorm2d) -> tuple[torch.Tensor, torch.Tensor]:
    """(scale, shift) of an eval-mode batch norm, float64: ``bn(x) = scale * x + shift`` per channel."""
    var = bn.running_var.double()
    mean = bn.running_mean.double()
    weight = bn.weight.double() if bn.weight is not None else torch.ones_like(var)
    bias = bn.bias.double() if bn.bias is not None else torch.zeros_like(var)
    scale = weight / torch.sqrt(var + bn.eps)
    return scale, bias - mean * scale


def _set_conv(conv: nn.Conv2d, weight: torch.Tensor, bias: torch.Tensor) -> None:
    conv.weight.data = weight.to(conv.weight.dtype).contiguous()
    if conv.bias is None:
        conv.bias = nn.Parameter(bias.to(conv.weight.dtype))
    else:
        conv.bias.data = bias.to(conv.weight.dtype)


def fold_bn_after_conv(conv: nn.Conv2d, bn: nn.BatchNorm2d) -> None:
    """Make ``conv`` compute ``bn(conv(x))`` (in place)."""
    scale, shift = _bn_affine(bn)
    weight = conv.weight.double() * scale.view(-1, 1, 1, 1)
    bias = (conv.bias.double() if conv.bias is not None else torch.zeros_like(scale)) * scale + shift
    _set_conv(conv, weight, bias)


def _unpadded(conv: nn.Conv2d) -> bool:
    """True where the convolution reads no padding (``padding`` is 0 or ``"valid"``)."""
    return conv.padding == "valid" or (isinstance(conv.padding, tuple) and all(p == 0 for p in conv.padding))


def fold_bn_before_conv(bn: nn.BatchNorm2d, conv: nn.Conv2d) -> None:
    """Make ``conv`` compute ``conv(bn(x))`` (in place); ``conv`` must have no padding."""
    if not _unpadded(conv):
        raise ValueError("cannot fold a batch norm into a following convolution with zero padding")
    _fold_affine_before_conv(*_bn_affine(bn), conv)


def _fold_affine_before_conv(scale: torch.Tensor, shift: torch.Tensor, conv: nn.Conv2d) -> None:
    """Make ``conv`` compute ``conv(scale * x + shift)`` per input channel (in place; ``conv`` unpadded)."""
    groups = conv.groups
    out_ch, in_per_group = conv.weight.shape[:2]
    weight = conv.weight.double()
    # Input channel of weight[o, i]: (o // (out_ch / groups)) * in_per_group + i.
    group_of_out = torch.arange(out_ch) // (out_ch // groups)
    in_index = group_of_out[:, None] * in_per_group + torch.arange(in_per_group)[None]
    new_weight = weight * scale[in_index][:, :, None, None]
    bias = conv.bias.double() if conv.bias is not None else torch.zeros(out_ch, dtype=torch.float64)
    bias = bias + (weight * shift[in_index][:, :, None, None]).sum(dim=(1, 2, 3))
    _set_conv(conv, new_weight, bias)


@torch.no_grad()
def fuse_model(model: nn.Module) -> nn.Module:
    """A copy of ``model`` in eval mode with every foldable batch norm folded into a convolution.

    Folds ``conv -> bn`` and ``bn -> conv`` (unpadded) pairs inside ``nn.Sequential`` containers,
    and the ``dwconv -> norm`` pair of every ConvNeXt block and head layer. The result computes the
    same function (to float32 rounding, ~1e-6 relative) with fewer layers. The original is untouched.
    """
    fused = copy.deepcopy(model).eval()
    for module in fused.modules():
        if isinstance(module, (Block, SeparableUpLayer)) and isinstance(module.norm, nn.BatchNorm2d):
            fold_bn_after_conv(module.dwconv, module.norm)
            module.norm = nn.Identity()
        elif isinstance(module, nn.Sequential):
            children = list(module)
            for i in range(len(children) - 1):
                a, b = children[i], children[i + 1]
                if isinstance(a, nn.Conv2d) and isinstance(b, nn.BatchNorm2d):
                    fold_bn_after_conv(a, b)
                    module[i + 1] = children[i + 1] = nn.Identity()
                elif isinstance(a, nn.BatchNorm2d) and isinstance(b, nn.Conv2d) and _unpadded(b):
                    fold_bn_before_conv(a, b)
                    module[i] = children[i] = nn.Identity()
    return fused


def count_batchnorms(model: nn.Module) -> int:
    """Number of ``BatchNorm2d`` layers left in a module."""
    return sum(isinstance(m, nn.BatchNorm2d) for m in model.modules())


def optimize_model(model: nn.Module, fuse: bool = True, channels_last: bool = True) -> nn.Module:
    """The inference path: a fused copy (:func:`fuse_model`) in channels-last memory format, in eval mode.

    Feed it inputs converted with ``x.contiguous(memory_format=torch.channels_last)`` for the full
    effect (:class:`~convnextpose.inference.PoseEstimator` does). The output is numerically the
    same function; on x86 CPUs channels-last lets oneDNN run the 7x7 depthwise convolutions
    without layout reorders (see docs/inference.md for measured speed-ups).
    """
    out = fuse_model(model) if fuse else copy.deepcopy(model).eval()
    if channels_last:
        out = out.to(memory_format=torch.channels_last)
    return out


@torch.no_grad()
def fold_input_normalization(model: nn.Module) -> nn.Module:
    """A copy of ``model`` whose stem takes RGB pixel values (0-255) instead of normalised crops.

    The release normalises crops as ``(x / 255 - mean) / std`` per channel; that affine map folds
    exactly into the stem convolution, which reads no padding. A model that takes pixels needs no
    normalisation outside it, and its INT8 version reads uint8 pixels without a quantise step.
    """
    out = copy.deepcopy(model).eval()
    stem = out.backbone.downsample_layers[0][0]
    if not isinstance(stem, nn.Conv2d) or not _unpadded(stem):
        raise ValueError("the normalisation folds only into an unpadded stem convolution")
    std = torch.as_tensor(IMAGENET_STD, dtype=torch.float64)
    mean = torch.as_tensor(IMAGENET_MEAN, dtype=torch.float64)
    _fold_affine_before_conv(1.0 / (255.0 * std), -mean / std, stem)
    return out


def _grow_conv(conv: nn.Conv2d, axis: int, size: int) -> None:
    """Append zero output (axis 0) or input (axis 1) channels to ``conv`` until it has ``size`` (in place)."""
    weight = conv.weight.data
    extra = list(weight.shape)
    extra[axis] = size - weight.shape[axis]
    conv.weight = nn.Parameter(torch.cat([weight, weight.new_zeros(extra)], axis))
    if axis == 0:
        conv.out_channels = size
        if conv.bias is not None:
            conv.bias = nn.Parameter(torch.cat([conv.bias.data, conv.bias.new_zeros(size - len(conv.bias))]))
    else:
        conv.in_channels = size


@torch.no_grad()
def pad_stage_channels(model: nn.Module, multiple: int = 16, skip: Sequence[int] = ()) -> nn.Module:
    """A fused copy of ``model`` whose backbone stages carry zero channels up to a multiple of ``multiple``.

    onnxruntime's fast INT8 depthwise kernels (x86) need a multiple of 16 channels; the XS
    network's first stage has 40, whose 7x7 depthwise convolutions then take a generic path about
    1.3x slower. The added channels have zero weights and biases everywhere, stay zero through
    ReLU and the residual sums, and are ignored by the next downsampling convolution, so the
    function is exactly the same. The last stage is left as it is (its width feeds the head), and
    so are the stages in ``skip`` (e.g. those an INT8 model keeps in float, where padding only costs).
    """
    if int(multiple) < 1:
        raise ValueError(f"multiple must be a positive number of channels, got {multiple}")
    out = fuse_model(model)
    backbone = out.backbone
    for i, stage in enumerate(backbone.stages[:-1]):
        if i in skip:
            continue
        width = backbone.dims[i]
        padded = -(-width // multiple) * multiple
        if padded == width:
            continue
        producer = backbone.downsample_layers[i][0 if i == 0 else 1]
        consumer = backbone.downsample_layers[i + 1][1]
        _grow_conv(producer, 0, padded)
        for block in stage:
            _grow_conv(block.dwconv, 0, padded)
            block.dwconv.in_channels = block.dwconv.groups = padded
            _grow_conv(block.pwconv1, 1, padded)
            _grow_conv(block.pwconv2, 0, padded)
        _grow_conv(consumer, 1, padded)
    return out
