"""Export and inference-speed rewrites: fused batch norm, ONNX (FP32 and INT8), TorchScript, TFLite.

The exporters import their optional dependencies (onnx, onnxruntime, litert-torch) when called,
with an install hint if they are missing.
"""

from __future__ import annotations

from .formats import ExportResult, export_model
from .fuse import count_batchnorms, fold_input_normalization, fuse_model, optimize_model, pad_stage_channels
from .graph import PixelGraph, PoseGraph, soft_argmax_with_confidence
from .onnx_export import ExportReport, compare_onnx_models, export_onnx, verify_onnx
from .onnx_int8 import Int8Cost, export_onnx_int8, int8_cost, quantize_onnx
from .tflite_export import TFLiteRunner, export_tflite
from .torchscript_export import export_torchscript

__all__ = [
    "ExportReport",
    "ExportResult",
    "Int8Cost",
    "PixelGraph",
    "PoseGraph",
    "TFLiteRunner",
    "compare_onnx_models",
    "count_batchnorms",
    "export_onnx",
    "export_model",
    "export_onnx_int8",
    "export_tflite",
    "export_torchscript",
    "fold_input_normalization",
    "fuse_model",
    "int8_cost",
    "optimize_model",
    "pad_stage_channels",
    "quantize_onnx",
    "soft_argmax_with_confidence",
    "verify_onnx",
]
