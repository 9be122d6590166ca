"""CPU inference with oneDNN's fused convolutions: ReLU and residual add run inside the convolution.

The PyTorch inference path (:class:`~convnextpose.inference.backends.TorchBackend`) runs the
batch-norm-folded network (:func:`~convnextpose.runtime.fuse.fuse_model`) channels-last. On x86 CPUs
most of what is left besides the convolutions is memory traffic: a separate pass for each ReLU
and each residual addition, and weights reordered into oneDNN's blocked layout on every call.
:func:`onednn_model` swaps the convolutions for :class:`OneDNNConv2d`, which calls the fused
convolution kernels PyTorch ships for its own compiler (``torch.ops.mkldnn._convolution_pointwise``)
with the weight packed once: each ConvNeXt block becomes three calls (depthwise; pointwise with
ReLU; pointwise with the residual added as it writes its output), each head layer two.

It computes the same function to float32 rounding (tested). It replaces TorchScript freezing
(``torch.jit.optimize_for_inference``), which left every ReLU and addition as its own pass and
converted tensors to and from oneDNN's layout around each upsampling: batch 1, 256x256, 2 threads,
the M model took 28-36 ms frozen and 27-29 ms here in the same processes (eager 36-44 ms); see
docs/inference.md.
CPU and float32 only; elsewhere use :func:`~convnextpose.runtime.fuse.optimize_model`
(:func:`optimized_network` picks).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ..models.backbone import Block
from ..models.head import SeparableUpLayer
from .fuse import fuse_model, optimize_model


def onednn_available() -> bool:
    """True where this PyTorch build has oneDNN and its fused convolution operators."""
    if not torch.backends.mkldnn.is_available():
        return False
    try:
        ops = torch.ops.mkldnn
        return all(
            hasattr(op, "binary") for op in (ops._convolution_pointwise, ops._convolution_pointwise_)
        ) and hasattr(torch._C._nn, "mkldnn_reorder_conv2d_weight")
    except (AttributeError, RuntimeError):
        return False


def _fusable(conv: nn.Conv2d) -> bool:
    """A 2D convolution oneDNN's fused operator takes as it is: zero padding given as numbers."""
    return isinstance(conv, nn.Conv2d) and conv.padding_mode == "zeros" and not isinstance(conv.padding, str)


class OneDNNConv2d(nn.Module):
    """An ``nn.Conv2d`` run by oneDNN, optionally with the ReLU after it fused in.

    The weight is packed into oneDNN's layout on first use, once for single images and once for
    batches (oneDNN picks different layouts for the two, and a weight packed for one runs the other
    about 3x slower), per input size; at most :attr:`MAX_PACKED` packings are kept.

    Args:
        conv: the convolution to run (copied; zero padding given as numbers).
        relu: apply ReLU to the output inside the same kernel.
    """

    MAX_PACKED = 4

    def __init__(self, conv: nn.Conv2d, relu: bool = False) -> None:
        super().__init__()
        if not _fusable(conv):
            raise ValueError(f"oneDNN fused convolution needs numeric zero padding, got {conv}")
        self.padding = [int(p) for p in conv.padding]
        self.stride = [int(s) for s in conv.stride]
        self.dilation = [int(d) for d in conv.dilation]
        self.groups = int(conv.groups)
        self.relu = bool(relu)
        self.register_buffer("weight", conv.weight.detach().float().contiguous().clone())
        self.register_buffer("bias", None if conv.bias is None else conv.bias.detach().float().clone())
        self._packed: dict[tuple[int, ...], torch.Tensor] = {}

    def _weight(self, x: torch.Tensor) -> torch.Tensor:
        key = (min(int(x.shape[0]), 2), *x.shape[1:])
        packed = self._packed.get(key)
        if packed is None:
            if len(self._packed) >= self.MAX_PACKED:
                self._packed.pop(next(iter(self._packed)))
            shape = [key[0], *x.shape[1:]]
            packed = torch._C._nn.mkldnn_reorder_conv2d_weight(
                self.weight.contiguous().to_mkldnn(), self.padding, self.stride, self.dilation, self.groups, shape
            )
            self._packed[key] = packed
        return packed

    def _apply(self, fn, recurse=True):  # noqa: ANN001, ANN202 (nn.Module's signature)
        self._packed = {}  # .to(), .float(), ... change the weight: pack it again
        return super()._apply(fn, recurse)

    def __getstate__(self) -> dict:
        state = super().__getstate__()  # copies and pickles pack again on first use
        return {**state, "_packed": {}}

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """conv(x), then ReLU if ``relu``."""
        return torch.ops.mkldnn._convolution_pointwise(
            x,
            self._weight(x),
            self.bias,
            self.padding,
            self.stride,
            self.dilation,
            self.groups,
            "relu" if self.relu else "none",
            [],
            "",
        )

    def forward_add(self, x: torch.Tensor, residual: torch.Tensor) -> torch.Tensor:
        """conv(x) + residual in one kernel (then ReLU if ``relu``); ``residual`` is not modified."""
        return torch.ops.mkldnn._convolution_pointwise.binary(
            x,
            residual,
            self._weight(x),
            self.bias,
            self.padding,
            self.stride,
            self.dilation,
            self.groups,
            "add",
            1.0,
            "relu" if self.relu else None,
            [],
            None,
        )

    def extra_repr(self) -> str:
        out_ch, in_per_group, kh, kw = self.weight.shape
        return (
            f"{in_per_group * self.groups}, {out_ch}, kernel_size=({kh}, {kw}), stride={tuple(self.stride)}, "
            f"padding={tuple(self.padding)}, groups={self.groups}, relu={self.relu}"
        )


def _require_folded(module: nn.Module) -> None:
    if not isinstance(module.norm, nn.Identity):
        raise ValueError(f"fold the batch norms first (convnextpose.runtime.fuse_model): {type(module).__name__}.norm")


class OneDNNBlock(nn.Module):
    """A fused ConvNeXt block (batch norm folded): dw 7x7, then 1x1 with ReLU, then 1x1 plus the input."""

    def __init__(self, block: Block) -> None:
        super().__init__()
        _require_folded(block)
        self.dwconv = OneDNNConv2d(block.dwconv)
        self.pwconv1 = OneDNNConv2d(block.pwconv1, relu=True)
        self.pwconv2 = OneDNNConv2d(block.pwconv2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.pwconv2.forward_add(self.pwconv1(self.dwconv(x)), x)


class OneDNNUpLayer(nn.Module):
    """A fused head layer (batch norm folded): dw 3x3, then 1x1 with ReLU, then x2 bilinear upsampling."""

    def __init__(self, layer: SeparableUpLayer) -> None:
        super().__init__()
        _require_folded(layer)
        self.dwconv = OneDNNConv2d(layer.dwconv)
        self.pwconv = OneDNNConv2d(layer.pwconv, relu=True)
        self.upsample = layer.upsample

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.pwconv(self.dwconv(x))
        if self.upsample:
            x = F.interpolate(x, scale_factor=2.0, mode="bilinear", align_corners=True)
        return x


def _replace_children(module: nn.Module) -> None:
    for name, child in module.named_children():
        if isinstance(child, Block):
            setattr(module, name, OneDNNBlock(child))
        elif isinstance(child, SeparableUpLayer):
            setattr(module, name, OneDNNUpLayer(child))
        elif _fusable(child):
            setattr(module, name, OneDNNConv2d(child))
        else:
            _replace_children(child)


@torch.no_grad()
def onednn_model(model: nn.Module) -> nn.Module:
    """A copy of a ConvNeXtPose network for CPU inference: batch norms folded, channels-last, oneDNN fused convolutions.

    Feed it float32 CPU inputs in channels-last memory format
    (``x.contiguous(memory_format=torch.channels_last)``). The original is untouched.

    Raises:
        RuntimeError: this PyTorch build lacks oneDNN's fused operators (:func:`onednn_available`).
    """
    if not onednn_available():
        raise RuntimeError("this PyTorch build has no oneDNN fused convolutions; use runtime.optimize_model")
    out = fuse_model(model).cpu().float()
    _replace_children(out)
    return out.to(memory_format=torch.channels_last).eval()


def count_onednn_convs(model: nn.Module) -> int:
    """Number of convolutions a module runs through :class:`OneDNNConv2d`."""
    return sum(isinstance(m, OneDNNConv2d) for m in model.modules())


def optimized_network(network: nn.Module, device: str | torch.device = "cpu") -> nn.Module:
    """A copy of ``network`` on the optimised inference path, for inputs in channels-last format.

    On CPU with oneDNN: batch norms folded and convolutions run as oneDNN fused kernels
    (:func:`onednn_model`); elsewhere batch norms folded, channels-last
    (:func:`~convnextpose.runtime.fuse.optimize_model`). The benchmark times exactly this.
    """
    if torch.device(device).type == "cpu" and onednn_available():
        return onednn_model(network)
    return optimize_model(network)


__all__ = [
    "OneDNNBlock",
    "OneDNNConv2d",
    "OneDNNUpLayer",
    "count_onednn_convs",
    "onednn_available",
    "onednn_model",
    "optimized_network",
]
