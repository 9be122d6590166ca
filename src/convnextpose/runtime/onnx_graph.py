"""The pose graph as an ONNX model, built in memory (files: :func:`convnextpose.export.export_onnx`).

The graph takes ``images`` (B, 3, H, W) float32 (normalised RGB crops) or, built with
``input_format="pixels"``, ``pixels`` (B, H, W, 3) uint8 RGB crops, and returns ``joints_hm``
(B, J, 3) in heatmap units and, by default, ``confidence`` (B, J). Cropping and camera-dependent
decoding stay outside the graph (see :class:`~convnextpose.inference.PoseEstimator`). The model's
:class:`~convnextpose.models.ModelSpec` is stored in the metadata under ``convnextpose.spec``, so
an ``.onnx`` file is self-describing.
"""

from __future__ import annotations

import io
import json
import warnings
from typing import Any

import numpy as np
import torch
from torch import nn

from ..image import as_normalized, as_pixels
from .fuse import fold_input_normalization
from .graph import PixelGraph, PoseGraph
from .onnx_session import SPEC_METADATA_KEY
from .optional import require

INPUT_NAME = "images"
PIXELS_INPUT_NAME = "pixels"
INPUT_FORMATS = ("normalized", "pixels")
OUTPUT_NAMES = ("joints_hm", "confidence")


def onnx_model(
    network: nn.Module,
    example: torch.Tensor | np.ndarray,
    input_format: str = "normalized",
    with_confidence: bool = True,
    dynamic_batch: bool = True,
    opset: int = 17,
    dynamo: bool = False,
    spec: dict[str, Any] | None = None,
) -> Any:
    """The pose graph of ``network`` as a checked ONNX ``ModelProto`` with the model spec in its metadata.

    Args:
        network: a ConvNeXtPose network in eval mode on CPU, as it should run (fuse or pad it first).
        example: input for tracing, normalised (B, 3, H, W) float or uint8 (B, H, W, 3) pixels;
            with ``dynamic_batch=False`` its batch size is the model's.
        input_format: ``"normalized"``: input ``images``, (B, 3, H, W) float32 crops normalised as
            :func:`convnextpose.image.normalize_crops` does; ``"pixels"``: input ``pixels``,
            (B, H, W, 3) uint8 RGB crops, the normalisation folded into the stem convolution.
        with_confidence: add the ``confidence`` (B, J) output.
        dynamic_batch: make the batch axis dynamic.
        opset: ONNX opset.
        dynamo: use the ``torch.export``-based exporter instead of the TorchScript-based one.
        spec: the spec to store (default ``network.spec``; e.g. the unpadded network's).
    """
    onnx = require("onnx")
    if input_format not in INPUT_FORMATS:
        raise ValueError(f"input_format must be one of {INPUT_FORMATS}, got {input_format!r}")
    if input_format == "pixels":
        graph = PixelGraph(PoseGraph(fold_input_normalization(network), with_confidence)).eval()
        example = torch.from_numpy(as_pixels(np.asarray(example)))
        input_name = PIXELS_INPUT_NAME
    else:
        graph = PoseGraph(network, with_confidence).eval()
        example = torch.from_numpy(as_normalized(np.asarray(example)))
        input_name = INPUT_NAME
    output_names = list(OUTPUT_NAMES if with_confidence else OUTPUT_NAMES[:1])
    buffer = io.BytesIO()
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")  # tracer and deprecation notices; parity checks are the callers'
        if dynamo:
            dims = ({0: torch.export.Dim("batch", min=1, max=1024)},) if dynamic_batch else None
            program = torch.onnx.export(
                graph, (example,), None, input_names=[input_name], output_names=output_names,
                opset_version=opset, dynamo=True, dynamic_shapes=dims, verbose=False,
            )  # fmt: skip
            proto = program.model_proto
        else:
            axes = {name: {0: "batch"} for name in [input_name, *output_names]} if dynamic_batch else None
            torch.onnx.export(
                graph, (example,), buffer, input_names=[input_name], output_names=output_names,
                opset_version=opset, dynamo=False, dynamic_axes=axes, do_constant_folding=True,
            )  # fmt: skip
            proto = onnx.load_from_string(buffer.getvalue())
    set_spec_metadata(proto, spec if spec is not None else network.spec.to_dict())
    onnx.checker.check_model(proto)
    return proto


def set_spec_metadata(proto: Any, spec: dict[str, Any]) -> None:
    """Store the model spec as JSON in the ONNX model's metadata (replacing an older entry)."""
    for entry in list(proto.metadata_props):
        if entry.key == SPEC_METADATA_KEY:
            proto.metadata_props.remove(entry)
    entry = proto.metadata_props.add()
    entry.key, entry.value = SPEC_METADATA_KEY, json.dumps(spec)
