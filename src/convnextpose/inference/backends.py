"""Runtimes that turn a batch of person crops into joints: PyTorch, ONNX Runtime and TFLite.

A backend is called with a batch of crops, either (N, 3, H, W) float32 normalised or (N, H, W, 3)
uint8 pixels (:mod:`convnextpose.image`), and returns ``joints_hm`` (N, J, 3) in heatmap units and
``confidence`` (N, J), both float32 NumPy arrays. ``takes_pixels`` says which format the model
reads as it is (the other is converted); ``spec`` tells the estimator the input size, joints,
depth bins and joint set.
"""

from __future__ import annotations

import copy
import logging
import os
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from ..image import as_normalized
from ..models.checkpoint import joint_set_for, load_model, resolve_weights
from ..models.convnextpose import ConvNeXtPose, ModelSpec

logger = logging.getLogger(__name__)


def exported_format(model: Any) -> str | None:
    """``"onnx"`` or ``"tflite"`` for a path with that extension, else None."""
    if isinstance(model, (str, os.PathLike)):
        suffix = Path(model).suffix.lower()
        return {".onnx": "onnx", ".tflite": "tflite"}.get(suffix)
    return None


def load_network(model: nn.Module | str | os.PathLike, device: str = "cpu") -> ConvNeXtPose:
    """A ConvNeXtPose module as given, or loaded from a checkpoint path or shipped-weights name."""
    if isinstance(model, nn.Module):
        return getattr(model, "module", model)
    if exported_format(model):
        raise ValueError(f"{model} is an exported model: use backend='{exported_format(model)}' to run it")
    if isinstance(model, (str, os.PathLike)):
        return load_model(resolve_weights(model), map_location=device)
    raise TypeError(f"model must be a ConvNeXtPose module, a checkpoint path or an .onnx path, got {type(model)}")


def optimized_network(network: nn.Module, device: str | torch.device = "cpu") -> nn.Module:
    """A copy of ``network`` on the optimised inference path, for inputs in channels-last format.

    On CPU with oneDNN: batch norms folded and convolutions run as oneDNN fused kernels
    (:func:`~convnextpose.export.onednn.onednn_model`); elsewhere batch norms folded, channels-last
    (:func:`~convnextpose.export.fuse.optimize_model`). The benchmark times exactly this.
    """
    from ..export.fuse import optimize_model
    from ..export.onednn import onednn_available, onednn_model

    if torch.device(device).type == "cpu" and onednn_available():
        return onednn_model(network)
    return optimize_model(network)


class TorchBackend:
    """PyTorch inference, by default on the optimised path.

    The optimised path folds batch norms into the convolutions, runs channels-last and shares one
    softmax between coordinates and confidence (:class:`~convnextpose.export.PoseGraph`); on CPU
    its convolutions run as oneDNN kernels with the ReLUs and residual additions fused in and the
    weights packed once (:func:`~convnextpose.export.onednn.onednn_model`). Outputs match the plain
    network to ~1e-4 heatmap units (float32 rounding of the softmax).

    Args:
        model: a ConvNeXtPose module (copied, never modified) or a checkpoint path.
        device: ``"cpu"``, ``"cuda"``, ``"cuda:1"``, ...
        optimize: use the optimised path; False runs the network exactly as built.
    """

    name = "torch"
    takes_pixels = False

    def __init__(self, model: nn.Module | str | os.PathLike, device: str = "cpu", optimize: bool = True) -> None:
        from ..export.graph import PoseGraph

        network = load_network(model, device)
        self.spec: ModelSpec = network.spec
        self.device = torch.device(device)
        self.channels_last = bool(optimize)
        network = optimized_network(network, self.device) if optimize else copy.deepcopy(network).eval()
        # One softmax for both outputs (export.graph); same numbers as forward_with_confidence.
        self.model = PoseGraph(network.to(self.device)).eval()

    @torch.inference_mode()
    def __call__(self, crops: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        images = torch.from_numpy(as_normalized(crops)).to(self.device)
        if self.channels_last:
            images = images.contiguous(memory_format=torch.channels_last)
        coords, confidence = self.model(images)
        return coords.float().cpu().numpy(), confidence.float().cpu().numpy()


class OnnxBackend:
    """ONNX Runtime inference of a file written by :func:`convnextpose.export.export_onnx`.

    Args:
        model: an ``.onnx`` path; or a ConvNeXtPose module / checkpoint, exported to a temporary file.
        device: ``"cpu"`` or ``"cuda"`` (needs onnxruntime-gpu).
        threads: intra-op threads (default: onnxruntime's choice).
    """

    name = "onnx"

    def __init__(self, model: Any, device: str = "cpu", threads: int | None = None) -> None:
        from ..export.onnx_export import export_onnx, make_session, read_spec_metadata, require, takes_pixels

        require("onnxruntime")
        self._tmpdir = None
        if exported_format(model) == "onnx":
            path = Path(model)
            if not path.is_file():
                raise FileNotFoundError(f"ONNX model not found: {path}")
        else:
            network = load_network(model, "cpu")
            self._tmpdir = tempfile.TemporaryDirectory(prefix="convnextpose-onnx-")
            path = Path(self._tmpdir.name) / "model.onnx"
            export_onnx(network, path)
        providers = ["CUDAExecutionProvider", "CPUExecutionProvider"] if device.startswith("cuda") else None
        self.session = make_session(path, threads=threads, providers=providers)
        self.path = path
        self.output_names = [o.name for o in self.session.get_outputs()]
        shape = self.session.get_inputs()[0].shape
        # uint8 (N, H, W, 3) pixels (export_onnx(input_format="pixels")) or float (N, 3, H, W).
        self.takes_pixels = takes_pixels(self.session)
        height, width = (shape[1], shape[2]) if self.takes_pixels else (shape[2], shape[3])
        values = read_spec_metadata(self.session)
        if values is not None:
            self.spec = ModelSpec.from_dict(values)
        else:
            joints = int(self.session.get_outputs()[0].shape[1])
            self.spec = release_layout_spec(path, joints, (int(height), int(width)))

    def __call__(self, crops: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        from ..export.onnx_export import run_session

        outputs = run_session(self.session, crops)
        coords = outputs[0].astype(np.float32)
        if "confidence" in self.output_names:
            confidence = outputs[self.output_names.index("confidence")].astype(np.float32)
        else:
            confidence = np.full(coords.shape[:2], np.nan, dtype=np.float32)
        return coords, confidence


def release_layout_spec(path: Any, num_joints: int, input_size: tuple[int, int]) -> ModelSpec:
    """The spec of an exported file that records none: its joints and input size, and the release's XS/S head
    (32 depth bins, heatmaps at input/8), with a warning, as the coordinates alone cannot tell M or L apart."""
    logger.warning(
        "%s records no model spec: assuming the release's 2-upsampling head with 32 depth bins "
        "(re-export it with this package to decode M or L networks correctly)",
        path,
    )
    return ModelSpec(num_joints=num_joints, input_size=input_size, joint_set=joint_set_for(num_joints, str(path)))


class TFLiteBackend:
    """TFLite inference (ai-edge-litert) of a file from :func:`convnextpose.export.export_tflite`.

    TFLite files carry no model spec: it is read from the ``<file>.json`` written beside it at export;
    without one, see :func:`release_layout_spec`.
    """

    name = "tflite"
    takes_pixels = False

    def __init__(self, model: str | os.PathLike, threads: int | None = None) -> None:
        from ..export.tflite_export import TFLiteRunner, read_spec_sidecar

        if exported_format(model) != "tflite":
            raise ValueError(f"backend='tflite' needs a .tflite file, got {model!r}")
        self.runner = TFLiteRunner(model, threads=threads)
        values = read_spec_sidecar(model)
        if values is not None:
            self.spec = ModelSpec.from_dict(values)
        else:
            self.spec = release_layout_spec(model, self.runner.num_joints, self.runner.input_size)

    def __call__(self, crops: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return self.runner(as_normalized(crops))


def make_backend(model: Any, backend: str = "torch", device: str = "cpu", **kwargs: Any) -> Any:
    """Build a backend by name: ``"torch"``, ``"onnx"`` or ``"tflite"``."""
    if backend == "torch":
        return TorchBackend(model, device, optimize=kwargs.get("optimize", True))
    if backend == "onnx":
        return OnnxBackend(model, device, threads=kwargs.get("threads"))
    if backend == "tflite":
        return TFLiteBackend(model, threads=kwargs.get("threads"))
    raise ValueError(f"unknown backend {backend!r}; choose 'torch', 'onnx' or 'tflite'")
