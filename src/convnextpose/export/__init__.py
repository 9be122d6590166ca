"""Export and inference-speed rewrites: fused batch norm, ONNX (FP32 and INT8), TorchScript, TFLite.

Only :mod:`.fuse` is imported eagerly; the exporters import their optional dependencies
(onnx, onnxruntime, litert-torch) when called.
"""

from __future__ import annotations

from .fuse import count_batchnorms, fuse_model, optimize_model
from .onnx_export import ExportReport, export_onnx, quantize_onnx, verify_onnx
from .tflite_export import export_tflite
from .torchscript_export import export_torchscript

__all__ = [
    "ExportReport",
    "count_batchnorms",
    "export_onnx",
    "export_tflite",
    "export_torchscript",
    "fuse_model",
    "optimize_model",
    "quantize_onnx",
    "verify_onnx",
]
