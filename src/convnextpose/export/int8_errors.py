"""Where an INT8 model's error comes from: its activations against the FP32 model's, layer by layer.

Two views, both on the same crops:

- :func:`compare_activations`: every tensor the INT8 model stores in uint8 (the outputs of the
  stem, the depthwise and pointwise convolutions, the ReLUs, the residual sums, the head and the
  heatmap logits), dequantised, against the same tensor of the FP32 graph it was quantised from;
  the error a tensor shows is everything quantised up to it. Last, the quantised soft-argmax tail
  against a float soft-argmax of the INT8 model's own logits: the error the tail adds by itself.
- :func:`isolated_costs`: the joint shift when only one part (or kind) of the network is quantised
  and the rest stays float: how much each part costs by itself.

The FP32 graph must be the one the INT8 model was quantised from (``export_onnx_int8(...,
fp32_path=...)`` keeps it): its tensors have the same names and, after stream equalisation, the same
per-channel scaling.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from .layer_names import KINDS, PARTS, LayerName, layer_of
from .onnx_export import input_feed, make_session, read_spec_metadata, require
from .onnx_int8 import Int8Cost, int8_cost, quantize_onnx


@dataclass(frozen=True)
class ActivationError:
    """One quantised tensor of an INT8 model against the FP32 model's.

    Attributes:
        tensor: the FP32 graph's tensor name.
        layer: where it sits (:func:`~convnextpose.export.layer_names.layer_of`).
        relative_error: RMS(INT8 - FP32) / RMS(FP32) over the crops: everything quantised up to here.
        scale: the tensor's INT8 step (its units per uint8 level).
        clipped: fraction of FP32 values outside the INT8 range (calibration range too narrow).
    """

    tensor: str
    layer: LayerName
    relative_error: float
    scale: float
    clipped: float


def _quantized_tensors(fp32: Any, int8: Any) -> list[tuple[str, str, float, int]]:
    """(FP32 tensor, its uint8 tensor in the INT8 graph, scale, zero point) for every quantised activation."""
    from onnx import numpy_helper

    names = {out for node in fp32.graph.node for out in node.output}
    constants = {i.name: numpy_helper.to_array(i) for i in int8.graph.initializer}
    found = []
    for node in int8.graph.node:
        if node.op_type == "QuantizeLinear" and node.input[0] in names and layer_of(node.input[0]) is not None:
            scale, zero_point = constants[node.input[1]], constants[node.input[2]]
            found.append((node.input[0], node.output[0], float(scale), int(zero_point)))
    return found


def _with_outputs(proto: Any, names: Sequence[str], elem_type: int) -> Any:
    from onnx import helper

    present = {o.name for o in proto.graph.output}
    proto.graph.output.extend(helper.make_tensor_value_info(n, elem_type, None) for n in names if n not in present)
    return proto


def compare_activations(
    fp32_path: str | os.PathLike, int8_path: str | os.PathLike, inputs: np.ndarray, batch_size: int = 4
) -> tuple[list[ActivationError], dict[str, float]]:
    """Every quantised tensor of an INT8 model against its FP32 model, and the soft-argmax tail's own error.

    Args:
        fp32_path: the FP32 graph the INT8 model was quantised from.
        int8_path: the INT8 model.
        inputs: crops in either input format.
        batch_size: crops per run (all tensors are kept for a batch).

    Returns:
        The tensors in graph order, and ``tail``: ``mean_xy`` / ``max_xy`` (heatmap cells) and ``mean_z``
        (bins) between the INT8 model's joints and a float soft-argmax of its own dequantised logits.
    """
    onnx = require("onnx")
    from ..models.soft_argmax import soft_argmax_3d

    fp32, int8 = onnx.load(str(fp32_path)), onnx.load(str(int8_path))
    targets = _quantized_tensors(fp32, int8)
    if not targets:
        raise ValueError(f"{int8_path}: no quantised activation of {fp32_path} found; was it quantised from it?")
    spec = read_spec_metadata(fp32_path) or {"num_joints": 18, "depth_dim": 32}
    logits = next((t for t in reversed(targets) if layer_of(t[0]).kind == "logits"), None)
    sums = np.zeros((len(targets), 3))  # squared error, squared reference, clipped count
    counts = np.zeros(len(targets))
    tail = []
    with tempfile.TemporaryDirectory() as tmp:
        paths = Path(tmp) / "fp32.onnx", Path(tmp) / "int8.onnx"
        onnx.save(_with_outputs(fp32, [t[0] for t in targets], onnx.TensorProto.FLOAT), str(paths[0]))
        onnx.save(_with_outputs(int8, [t[1] for t in targets], onnx.TensorProto.UINT8), str(paths[1]))
        sessions = make_session(paths[0]), make_session(paths[1])
        for start in range(0, len(inputs), batch_size):
            batch = np.asarray(inputs[start : start + batch_size])
            ref, got = (
                {o.name: v for o, v in zip(s.get_outputs(), s.run(None, input_feed(s, batch)))} for s in sessions
            )
            for k, (name, quantized, scale, zero_point) in enumerate(targets):
                reference = ref[name].astype(np.float64)
                value = (got[quantized].astype(np.float64) - zero_point) * scale
                low, high = (0 - zero_point - 0.5) * scale, (255 - zero_point + 0.5) * scale
                sums[k] += (
                    ((value - reference) ** 2).sum(),
                    (reference**2).sum(),
                    ((reference < low) | (reference > high)).sum(),
                )
                counts[k] += reference.size
            if logits is not None:
                heatmaps = torch.from_numpy((got[logits[1]].astype(np.float32) - logits[3]) * np.float32(logits[2]))
                exact = soft_argmax_3d(heatmaps, int(spec["num_joints"]), int(spec["depth_dim"])).numpy()
                tail.append(got["joints_hm"] - exact)
    rows = [
        ActivationError(name, layer_of(name), float(np.sqrt(s[0] / max(s[1], 1e-30))), scale, float(s[2] / n))
        for (name, _, scale, _), s, n in zip(targets, sums, counts)
    ]
    tail_error: dict[str, float] = {}
    if tail:
        diff = np.concatenate(tail)
        xy = np.linalg.norm(diff[..., :2], axis=-1)
        tail_error = {
            "mean_xy": float(xy.mean()),
            "max_xy": float(xy.max()),
            "mean_z": float(np.abs(diff[..., 2]).mean()),
        }
    return rows, tail_error


def errors_by_part(rows: Sequence[ActivationError]) -> dict[str, dict[str, float]]:
    """Per network part: the relative error of its last quantised tensor and its largest one."""
    out: dict[str, dict[str, float]] = {}
    for row in rows:
        entry = out.setdefault(row.layer.part, {"last": 0.0, "largest": 0.0, "tensors": 0})
        entry["last"] = row.relative_error
        entry["largest"] = max(entry["largest"], row.relative_error)
        entry["tensors"] += 1
    return out


def isolated_costs(
    fp32_path: str | os.PathLike,
    calibration: np.ndarray,
    held_out: np.ndarray,
    layers: Sequence[str] = PARTS[:-1],
    **quantize_options: Any,
) -> dict[str, Int8Cost]:
    """The joint shift on ``held_out`` when only one part (or kind) of the network is quantised.

    Args:
        fp32_path: an FP32 graph from :func:`~convnextpose.export.export_onnx`.
        calibration: calibration crops (either input format).
        held_out: crops to measure on.
        layers: parts (``"stem"``, ``"stage0"`` ...) or kinds (``"depthwise"`` ...) to quantise one at a time.
        **quantize_options: passed to :func:`~convnextpose.export.onnx_int8.quantize_onnx`.

    Returns:
        ``{layer: Int8Cost}``.
    """
    onnx = require("onnx")
    node_names = [n.name for n in onnx.load(str(fp32_path), load_external_data=False).graph.node]
    present = {layer_of(n).part for n in node_names if layer_of(n)} | {
        layer_of(n).kind for n in node_names if layer_of(n)
    }
    out = {}
    with tempfile.TemporaryDirectory() as tmp:
        for layer in layers:
            vocabulary = PARTS if layer in PARTS else KINDS
            others = [name for name in vocabulary if name != layer and name in present]
            int8 = Path(tmp) / f"{layer}.onnx"
            quantize_onnx(fp32_path, int8, calibration, float_layers=others, **quantize_options)
            out[layer] = int8_cost(fp32_path, int8, held_out)
    return out
