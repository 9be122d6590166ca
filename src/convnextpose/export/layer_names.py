"""Which part of ConvNeXtPose an ONNX node or tensor belongs to, from the names the exporter gives it.

:func:`~convnextpose.export.export_onnx` (TorchScript-based exporter) names every node after the
module that made it, e.g. ``/graph/backbone/stages.0/stages.0.1/dwconv/Conv``, and every tensor
after its node (``..._output_0``); the INT8 soft-argmax nodes are ``softargmax_*``. From these,
:func:`layer_of` gives a part (``stem``, ``stage0``..``stage3``, ``head``, ``tail``) and a kind
(``depthwise``, ``pointwise``, ``relu``, ``residual``, ...), the vocabulary of the INT8 options
(``float_layers``) and of the per-layer report (:mod:`.int8_errors`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

PARTS = ("stem", "stage0", "stage1", "stage2", "stage3", "head", "tail")
KINDS = ("conv", "downsample", "depthwise", "pointwise", "relu", "residual", "norm", "upsample", "logits", "softmax")

_BLOCK = re.compile(r"backbone/stages\.(\d)/stages\.\d\.(\d+)/(?:(dwconv|pwconv1|act|pwconv2)/)?(\w+)")
_DOWNSAMPLE = re.compile(r"backbone/downsample_layers\.(\d)/")
_HEAD = re.compile(r"head/deconv_layers_(\d)/(?:(dwconv|pwconv|act)/)?(\w+)")
_BLOCK_KINDS = {"dwconv": "depthwise", "pwconv1": "pointwise", "act": "relu", "pwconv2": "pointwise"}


@dataclass(frozen=True)
class LayerName:
    """Where a node or tensor sits: ``part`` (e.g. ``stage1``), ``kind`` (e.g. ``depthwise``) and a short label."""

    part: str
    kind: str
    label: str

    def matches(self, wanted: Iterable[str]) -> bool:
        """True if any of ``wanted`` is this layer's part or kind (``"stem"``, ``"stage0"``, ``"depthwise"`` ...)."""
        return any(w in (self.part, self.kind) for w in wanted)


def layer_of(name: str) -> LayerName | None:
    """The layer a node or tensor name belongs to, or None for anything else (input casts, shapes, outputs)."""
    if "softargmax_" in name or name.startswith("/graph/Softmax") or name.startswith("/graph/Reshape"):
        return LayerName("tail", "softmax", "soft-argmax")
    if "backbone/downsample_layers.0/" in name:
        return LayerName("stem", "conv", "stem 4x4 conv")
    found = _DOWNSAMPLE.search(name)
    if found:
        stage = int(found.group(1))
        return LayerName(f"stage{stage}", "downsample", f"stage {stage} downsampling 2x2 conv")
    found = _BLOCK.search(name)
    if found:
        stage, block, module, op = found.groups()
        kind = _BLOCK_KINDS[module] if module else "residual"
        label = f"stage {stage} block {block} {module or op}"
        return LayerName(f"stage{stage}", kind, label)
    if "backbone/norm/" in name:
        return LayerName("stage3", "norm", "backbone norm (BN)")
    found = _HEAD.search(name)
    if found:
        layer, module, op = found.groups()
        kind = {"dwconv": "depthwise", "pwconv": "pointwise", "act": "relu"}.get(module or "", "upsample")
        return LayerName("head", kind, f"head layer {layer} {module or op}")
    if "head/final_layer/" in name:
        return LayerName("head", "logits", "heatmap logits 1x1 conv")
    return None


def select_nodes(node_names: Sequence[str], wanted: Sequence[str]) -> list[str]:
    """The node names whose layer part or kind is in ``wanted``.

    Raises:
        ValueError: an entry of ``wanted`` is neither a part nor a kind, or names no node here.
    """
    unknown = sorted(set(wanted) - set(PARTS) - set(KINDS))
    if unknown:
        raise ValueError(f"unknown layer names {unknown}; choose parts {list(PARTS)} or kinds {list(KINDS)}")
    layers = {name: layer_of(name) for name in node_names}
    missing = [w for w in wanted if not any(layer is not None and layer.matches([w]) for layer in layers.values())]
    if missing:
        raise ValueError(f"no node of {missing} in this graph (was it exported by export_onnx?)")
    return [name for name, layer in layers.items() if layer is not None and layer.matches(wanted)]
