"""How the network runs: the fused / oneDNN PyTorch path, ONNX Runtime sessions, the TFLite runner.

Below both :mod:`convnextpose.inference` (which runs models) and :mod:`convnextpose.export` (which
writes model files and checks them with these runtimes); it imports neither.

- :mod:`.fuse`: batch norms folded into convolutions, channels-last, input normalisation folded
  into the stem, stage widths padded; each keeps the function.
- :mod:`.onednn`: CPU convolutions as oneDNN fused kernels; :func:`optimized_network` is the
  PyTorch inference path.
- :mod:`.graph`: the deployed function, crops -> (joints_hm, confidence) with one softmax.
- :mod:`.onnx_graph`, :mod:`.onnx_session`: that graph as an ONNX model, onnxruntime sessions,
  the model spec in the file's metadata.
- :mod:`.tflite_runner`: a ``.tflite`` model and the spec written beside it.

The optional dependencies (onnx, onnxruntime, ai-edge-litert) are imported when needed.
"""

from __future__ import annotations

from .fuse import count_batchnorms, fold_input_normalization, fuse_model, optimize_model, pad_stage_channels
from .graph import PixelGraph, PoseGraph, confidence_is_comparable, sample_input
from .onednn import onednn_available, onednn_model, optimized_network
from .onnx_graph import onnx_model
from .onnx_session import input_feed, make_session, read_spec_metadata, run_session, takes_pixels
from .tflite_runner import TFLiteRunner, read_spec_sidecar

__all__ = [
    "PixelGraph",
    "PoseGraph",
    "TFLiteRunner",
    "confidence_is_comparable",
    "count_batchnorms",
    "fold_input_normalization",
    "fuse_model",
    "input_feed",
    "make_session",
    "onednn_available",
    "onednn_model",
    "onnx_model",
    "optimize_model",
    "optimized_network",
    "pad_stage_channels",
    "read_spec_metadata",
    "read_spec_sidecar",
    "run_session",
    "sample_input",
    "takes_pixels",
]
