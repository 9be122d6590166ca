"""TFLite export for phones through litert-torch, FP32 or INT8 (optional extra ``tflite``).

FP32: the inference graph (:class:`~convnextpose.export.graph.PoseGraph`, batch norms folded)
converted as is; it matches PyTorch to float rounding and takes/returns float32 like the ONNX model.

INT8: post-training static quantisation with PT2E (torchao) and litert-torch's quantiser:
per-channel symmetric int8 weights, int8 activations calibrated on crops, for convolutions,
additions and ReLUs; the soft-argmax stays float. The converter makes the model's *input* int8:
quantise normalised crops with the input tensor's (scale, zero point), as :class:`TFLiteRunner` does.

Install with ``pip install convnextpose[tflite]`` (about 1.2 GB with its dependencies).
"""

from __future__ import annotations

import copy
import json
import os
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from ..atomic import atomic_open, atomic_path
from .calibration import calibration_batch, generated_calibration_images
from .fuse import fuse_model
from .graph import PoseGraph, confidence_is_comparable
from .onnx_export import ExportReport, _unwrap, require


def spec_sidecar(path: str | os.PathLike) -> Path:
    """Where :func:`export_tflite` stores the model spec of ``path`` (TFLite files carry none): ``<file>.json``."""
    path = Path(path)
    return path.with_name(path.name + ".json")


def read_spec_sidecar(path: str | os.PathLike) -> dict[str, Any] | None:
    """The model spec written beside a ``.tflite`` file, or None when there is none."""
    sidecar = spec_sidecar(path)
    if not sidecar.is_file():
        return None
    try:
        values = json.loads(sidecar.read_text())
    except (OSError, ValueError) as exc:
        raise ValueError(f"{sidecar}: not a readable model-spec JSON ({exc})") from None
    if not isinstance(values, dict):
        raise ValueError(f"{sidecar}: expected a JSON object of model-spec fields, got {type(values).__name__}")
    return values


class TFLiteRunner:
    """Run a ``.tflite`` pose model: float32 crops (N, 3, H, W) -> joints_hm (N, J, 3), confidence (N, J).

    Handles int8 inputs (quantised with the model's own scale and zero point) and runs one crop
    at a time (the models are exported for batch 1, as on a phone).
    """

    def __init__(self, path: str | os.PathLike, threads: int | None = None) -> None:
        interpreter_module = require("ai_edge_litert.interpreter", extra="tflite")
        self.path = Path(path)
        if not self.path.is_file():
            raise FileNotFoundError(f"TFLite model not found: {self.path}")
        self.interpreter = interpreter_module.Interpreter(model_path=str(self.path), num_threads=threads)
        self.interpreter.allocate_tensors()
        self.input = self.interpreter.get_input_details()[0]
        outputs = self.interpreter.get_output_details()
        by_rank = sorted(outputs, key=lambda d: -len(d["shape"]))  # (1, J, 3) first, then (1, J)
        self.coords_output, self.confidence_output = by_rank[0], (by_rank[1] if len(by_rank) > 1 else None)
        self.input_size = (int(self.input["shape"][2]), int(self.input["shape"][3]))
        self.num_joints = int(self.coords_output["shape"][1])

    def _read(self, detail: dict[str, Any]) -> np.ndarray:
        value = self.interpreter.get_tensor(detail["index"]).astype(np.float32)
        scale, zero = detail["quantization"]
        return (value - zero) * scale if scale else value

    def __call__(self, crops: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        crops = np.asarray(crops, dtype=np.float32)
        coords = np.zeros((len(crops), self.num_joints, 3), np.float32)
        confidence = np.full((len(crops), self.num_joints), np.nan, np.float32)
        scale, zero = self.input["quantization"]
        for i, crop in enumerate(crops):
            value = crop[None]
            if self.input["dtype"] != np.float32:
                info = np.iinfo(self.input["dtype"])
                value = np.clip(np.round(value / scale + zero), info.min, info.max).astype(self.input["dtype"])
            self.interpreter.set_tensor(self.input["index"], value)
            self.interpreter.invoke()
            coords[i] = self._read(self.coords_output)[0]
            if self.confidence_output is not None:
                confidence[i] = self._read(self.confidence_output)[0]
        return coords, confidence


def export_tflite(
    model: nn.Module,
    path: str | os.PathLike,
    int8: bool = False,
    calibration: np.ndarray | None = None,
    verify: bool = True,
    atol: float = 1e-4,
    rtol: float = 1e-5,
    example_input: torch.Tensor | np.ndarray | None = None,
) -> ExportReport:
    """Convert the network to a ``.tflite`` flatbuffer with litert-torch (batch 1).

    Args:
        model: a ConvNeXtPose network (a copy is fused and converted).
        path: output file, written atomically; the model spec (joints, depth bins, heatmap stride) goes to
            ``<path>.json`` beside it (:func:`spec_sidecar`), as TFLite files carry none.
        int8: static INT8 quantisation (see the module docstring); else FP32.
        calibration: (N, 3, H, W) normalised crops for INT8; default 16 generated images.
        verify: run the converted model (ai-edge-litert) on ``example_input`` and compare with
            PyTorch; FP32 must agree to ``atol + rtol * |value|`` (else RuntimeError); for INT8
            the mean 2D joint shift is reported in ``details`` (no bound).
        example_input: (1, 3, H, W) input; default a seeded random crop.

    Raises:
        ImportError: litert-torch / ai-edge-litert missing (``pip install convnextpose[tflite]``).
    """
    litert_torch = require("litert_torch", extra="tflite")
    started = time.perf_counter()
    reference = copy.deepcopy(_unwrap(model)).cpu().eval()
    graph = PoseGraph(fuse_model(reference)).eval()
    size = reference.spec.input_size
    if example_input is None:
        generator = torch.Generator().manual_seed(0)
        example_input = torch.randn(1, 3, *size, generator=generator).clamp_(-2.1, 2.6)
    example = torch.as_tensor(example_input, dtype=torch.float32)[:1]
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")
        if int8:
            edge_model = _convert_int8(litert_torch, graph, example, calibration, size)
        else:
            edge_model = litert_torch.convert(graph, (example,))
        with atomic_path(path) as tmp:
            edge_model.export(str(tmp))
    path = Path(path)
    with atomic_open(spec_sidecar(path)) as handle:
        json.dump(reference.spec.to_dict(), handle, indent=1)
    report = ExportReport(path, "tflite-int8" if int8 else "tflite", time.perf_counter() - started, path.stat().st_size)
    if verify:
        coords, confidence = TFLiteRunner(path)(example.numpy())
        with torch.no_grad():
            want_coords, want_conf = (t.numpy() for t in graph(example))
        # Joints on a confidence window's edge have two right answers.
        confidence = np.where(confidence_is_comparable(want_coords), confidence, want_conf)
        diffs = {
            "joints_hm": float(np.abs(coords - want_coords).max()),
            "confidence": float(np.abs(confidence - want_conf).max()),
        }
        report.max_abs_diff = max(diffs.values())
        report.checked_outputs = tuple(diffs)
        report.details["max_abs_diff"] = diffs
        report.details["mean_xy_shift"] = float(np.linalg.norm(coords[..., :2] - want_coords[..., :2], axis=-1).mean())
        if not int8 and not (
            np.allclose(coords, want_coords, rtol=rtol, atol=atol)
            and np.allclose(confidence, want_conf, rtol=rtol, atol=atol)
        ):
            raise RuntimeError(f"{path}: TFLite output differs from PyTorch by {diffs} (max abs)")
    return report


def _convert_int8(
    litert_torch: Any, graph: nn.Module, example: torch.Tensor, calibration: np.ndarray | None, size: tuple[int, int]
) -> Any:
    from litert_torch.quantize.pt2e_quantizer import PT2EQuantizer, get_symmetric_quantization_config
    from litert_torch.quantize.quant_config import QuantConfig
    from torchao.quantization.pt2e.quantize_pt2e import convert_pt2e, prepare_pt2e

    if calibration is None:
        calibration = calibration_batch(generated_calibration_images(16, size), size)
    quantizer = PT2EQuantizer().set_global(get_symmetric_quantization_config(is_per_channel=True, is_dynamic=False))
    module = torch.export.export(graph, (example,)).module()
    module = prepare_pt2e(module, quantizer)
    for crop in np.asarray(calibration, dtype=np.float32):
        module(torch.from_numpy(crop[None]))
    module = convert_pt2e(module, fold_quantize=False)
    return litert_torch.convert(module, (example,), quant_config=QuantConfig(pt2e_quantizer=quantizer))
