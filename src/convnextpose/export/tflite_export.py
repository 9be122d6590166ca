"""TFLite export for phones, through litert-torch (optional extra ``tflite``)."""

from __future__ import annotations

import os

from torch import nn

from .onnx_export import ExportReport, require


def export_tflite(model: nn.Module, path: str | os.PathLike, int8: bool = False, **kwargs) -> ExportReport:
    """Convert the network to a ``.tflite`` flatbuffer (FP32, or INT8 with ``int8=True``)."""
    require("litert_torch", extra="tflite")
    raise NotImplementedError
