"""ONNX export with an onnxruntime parity check (INT8 quantisation: :mod:`.onnx_int8`).

The exported graph takes ``images`` (B, 3, H, W) float32 (normalised RGB crops) or, exported with
``input_format="pixels"``, ``pixels`` (B, H, W, 3) uint8 RGB crops, and returns ``joints_hm``
(B, J, 3) in heatmap units and, by default, ``confidence`` (B, J). Cropping and camera-dependent
decoding stay outside the graph (see :class:`~convnextpose.inference.PoseEstimator`).
The model's :class:`~convnextpose.models.ModelSpec` is stored in the file's metadata under
``convnextpose.spec``, so an ``.onnx`` file is self-describing.
"""

from __future__ import annotations

import copy
import io
import json
import logging
import os
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from ..atomic import write_bytes_atomic
from ..image import as_normalized, as_pixels
from ..models.convnextpose import ConvNeXtPose
from .graph import PoseGraph, confidence_is_comparable

logger = logging.getLogger(__name__)

SPEC_METADATA_KEY = "convnextpose.spec"
INPUT_NAME = "images"
PIXELS_INPUT_NAME = "pixels"
INPUT_FORMATS = ("normalized", "pixels")
OUTPUT_NAMES = ("joints_hm", "confidence")


def require(module: str, extra: str = "onnx") -> Any:
    """Import an optional dependency or raise ImportError with the install hint."""
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise ImportError(f"{module} is needed for this; install it with: pip install convnextpose[{extra}]") from exc


@dataclass
class ExportReport:
    """What an export produced and how closely it matches PyTorch.

    Attributes:
        path: the written file.
        format: ``onnx``, ``onnx-int8``, ``torchscript``, ``tflite`` or ``tflite-int8``.
        seconds: time the export took.
        size_bytes: file size.
        max_abs_diff: largest |exported - PyTorch| over the checked outputs (heatmap units for
            ``joints_hm``), or None where it was not checked.
        checked_outputs: names of the compared outputs.
        details: per-output differences and anything else worth logging.
    """

    path: Path
    format: str
    seconds: float
    size_bytes: int
    max_abs_diff: float | None = None
    checked_outputs: tuple[str, ...] = ()
    details: dict[str, Any] = field(default_factory=dict)

    def summary(self) -> str:
        diff = "not checked" if self.max_abs_diff is None else f"max |diff| vs PyTorch {self.max_abs_diff:.3g}"
        return f"{self.format}: {self.path} ({self.size_bytes / 1e6:.2f} MB, {self.seconds:.1f} s), {diff}"


def _unwrap(model: nn.Module) -> ConvNeXtPose:
    model = getattr(model, "module", model)
    if not hasattr(model, "spec") or not hasattr(model, "forward_with_confidence"):
        raise TypeError(f"expected a ConvNeXtPose network, got {type(model).__name__}")
    return model


def sample_input(model: ConvNeXtPose, batch_size: int = 2, seed: int = 0) -> torch.Tensor:
    """A reproducible (B, 3, H, W) float32 input in the range of normalised crops."""
    generator = torch.Generator().manual_seed(seed)
    return torch.randn(batch_size, 3, *model.spec.input_size, generator=generator).clamp_(-2.1, 2.6)


def takes_pixels(session: Any) -> bool:
    """Whether an onnxruntime session's model takes uint8 pixels (else normalised float crops)."""
    return session.get_inputs()[0].type == "tensor(uint8)"


def input_feed(session: Any, batch: Any) -> dict[str, np.ndarray]:
    """``session.run``'s input dict for a batch in either format, converted to what the model takes."""
    value = as_pixels(batch) if takes_pixels(session) else as_normalized(batch)
    return {session.get_inputs()[0].name: value}


def run_session(session: Any, batch: Any) -> list[np.ndarray]:
    """All outputs of an onnxruntime session on a batch in either format.

    A model exported with a fixed batch size of 1 is run one crop at a time.
    """
    batch = np.asarray(batch)
    fixed = session.get_inputs()[0].shape[0]
    if isinstance(fixed, int) and fixed != len(batch):
        parts = [session.run(None, input_feed(session, batch[i : i + 1])) for i in range(len(batch))]
        return [np.concatenate([part[k] for part in parts]) for k in range(len(parts[0]))]
    return session.run(None, input_feed(session, batch))


def export_onnx(
    model: nn.Module,
    path: str | os.PathLike,
    opset: int = 17,
    dynamic_batch: bool = True,
    with_confidence: bool = True,
    fuse: bool = True,
    verify: bool = True,
    atol: float = 1e-4,
    rtol: float = 1e-5,
    example_input: torch.Tensor | np.ndarray | None = None,
    dynamo: bool = False,
    input_format: str = "normalized",
    pad_channels: int | None = None,
) -> ExportReport:
    """Export a ConvNeXtPose network to ONNX and check it against PyTorch with onnxruntime.

    Args:
        model: the network (moved to CPU and eval mode in a copy; the original is untouched).
        path: output ``.onnx`` file (written atomically).
        opset: ONNX opset.
        dynamic_batch: make the batch axis dynamic (else fixed to the example's batch size).
        with_confidence: add the ``confidence`` (B, J) output.
        fuse: fold batch norms first (:func:`~convnextpose.export.fuse_model`); onnxruntime
            would fold most of them itself, this makes the file smaller and the graph simpler.
        verify: run onnxruntime on ``example_input`` and compare with PyTorch (unfused model).
        atol, rtol: tolerance of the check; a larger difference raises RuntimeError.
        example_input: input for tracing and checking, normalised (B, 3, H, W) float or uint8
            (B, H, W, 3) pixels; default a seeded random batch of 2.
        dynamo: use the ``torch.export``-based exporter instead of the TorchScript-based one.
        input_format: ``"normalized"``: input ``images``, (B, 3, H, W) float32 crops normalised as
            :func:`convnextpose.image.normalize_crops` does; ``"pixels"``: input ``pixels``,
            (B, H, W, 3) uint8 RGB crops, the normalisation folded into the stem convolution
            (exact; what an app has at hand, and the INT8 model then needs no input quantisation).
        pad_channels: pad backbone stage widths with zero channels to a multiple of this
            (:func:`~convnextpose.export.fuse.pad_stage_channels`; same function). 16 lets
            onnxruntime's INT8 depthwise kernels take their fast path on XS; no use for FP32.

    Returns:
        An :class:`ExportReport` with the largest difference found.

    Raises:
        ImportError: onnx / onnxruntime missing (with the install hint).
        RuntimeError: the exported model disagrees with PyTorch beyond the tolerance.
    """
    onnx = require("onnx")
    from .fuse import fold_input_normalization, fuse_model, pad_stage_channels
    from .graph import PixelGraph

    if input_format not in INPUT_FORMATS:
        raise ValueError(f"input_format must be one of {INPUT_FORMATS}, got {input_format!r}")
    started = time.perf_counter()
    reference_model = copy.deepcopy(_unwrap(model)).cpu().eval()
    export_model = fuse_model(reference_model) if fuse else reference_model
    if pad_channels:
        export_model = pad_stage_channels(export_model, int(pad_channels))
    example = sample_input(reference_model) if example_input is None else example_input
    if input_format == "pixels":
        graph = PixelGraph(PoseGraph(fold_input_normalization(export_model), with_confidence)).eval()
        example = torch.from_numpy(as_pixels(np.asarray(example)))
        input_name = PIXELS_INPUT_NAME
    else:
        graph = PoseGraph(export_model, with_confidence).eval()
        example = torch.from_numpy(as_normalized(np.asarray(example)))
        input_name = INPUT_NAME
    output_names = list(OUTPUT_NAMES if with_confidence else OUTPUT_NAMES[:1])
    buffer = io.BytesIO()
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")  # tracer and deprecation notices; the parity check below is what counts
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
    set_spec_metadata(proto, reference_model.spec.to_dict())
    onnx.checker.check_model(proto)
    path = write_bytes_atomic(path, proto.SerializeToString())
    report = ExportReport(path, "onnx", time.perf_counter() - started, path.stat().st_size)
    if verify:
        _check_against_torch(report, reference_model, example, with_confidence, atol, rtol)
    logger.debug(report.summary())
    return report


def set_spec_metadata(proto: Any, spec: dict[str, Any]) -> None:
    """Store the model spec as JSON in the ONNX model's metadata (replacing an older entry)."""
    for entry in list(proto.metadata_props):
        if entry.key == SPEC_METADATA_KEY:
            proto.metadata_props.remove(entry)
    entry = proto.metadata_props.add()
    entry.key, entry.value = SPEC_METADATA_KEY, json.dumps(spec)


def read_spec_metadata(session_or_path: Any) -> dict[str, Any] | None:
    """The model spec stored by :func:`export_onnx`, from an onnxruntime session or a file; None if absent."""
    if isinstance(session_or_path, (str, os.PathLike)):
        onnx = require("onnx")
        proto = onnx.load(str(session_or_path), load_external_data=False)
        values = {p.key: p.value for p in proto.metadata_props}
    else:
        values = session_or_path.get_modelmeta().custom_metadata_map
    text = values.get(SPEC_METADATA_KEY)
    return json.loads(text) if text else None


def make_session(path: str | os.PathLike, threads: int | None = None, providers: list[str] | None = None) -> Any:
    """An onnxruntime InferenceSession with full graph optimisation (and ``threads`` intra-op threads)."""
    ort = require("onnxruntime")
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    if threads:
        options.intra_op_num_threads = int(threads)
        options.inter_op_num_threads = 1
    return ort.InferenceSession(str(path), options, providers=providers or ["CPUExecutionProvider"])


def verify_onnx(
    path: str | os.PathLike,
    model: nn.Module,
    inputs: torch.Tensor | np.ndarray | None = None,
    atol: float = 1e-4,
    rtol: float = 1e-5,
) -> dict[str, float]:
    """Max |ONNX - PyTorch| per output on ``inputs`` (either input format); RuntimeError beyond ``atol + rtol * |PyTorch|``."""
    model = copy.deepcopy(_unwrap(model)).cpu().eval()
    inputs = sample_input(model) if inputs is None else inputs
    session = make_session(path)
    names = [o.name for o in session.get_outputs()]
    report = ExportReport(Path(path), "onnx", 0.0, Path(path).stat().st_size)
    _check_against_torch(report, model, inputs, "confidence" in names, atol, rtol, session=session)
    return report.details["max_abs_diff"]


def _check_against_torch(
    report: ExportReport,
    model: ConvNeXtPose,
    inputs: Any,
    with_confidence: bool,
    atol: float,
    rtol: float,
    session: Any = None,
) -> None:
    session = session or make_session(report.path)
    feed = input_feed(session, np.asarray(inputs))
    with torch.no_grad():  # PyTorch sees exactly what the ONNX model sees
        coords, confidence = model.forward_with_confidence(torch.from_numpy(as_normalized(next(iter(feed.values())))))
    expected = {"joints_hm": coords.numpy(), "confidence": confidence.numpy()}
    outputs = session.run(None, feed)
    names = [o.name for o in session.get_outputs()]
    diffs: dict[str, float] = {}
    worst_excess = 0.0
    for name, value in zip(names, outputs):
        if name not in expected:
            continue
        diff = np.abs(value.astype(np.float64) - expected[name])
        if name == "confidence":  # joints on a window edge have two right answers
            diff = np.where(confidence_is_comparable(expected["joints_hm"]), diff, 0.0)
        diffs[name] = float(diff.max())
        worst_excess = max(worst_excess, float((diff - (atol + rtol * np.abs(expected[name]))).max()))
    report.max_abs_diff = max(diffs.values())
    report.checked_outputs = tuple(diffs)
    report.details["max_abs_diff"] = diffs
    if worst_excess > 0:
        raise RuntimeError(
            f"{report.path}: onnxruntime output differs from PyTorch by {diffs} (max abs), "
            f"beyond atol={atol} + rtol={rtol} x |value|"
        )


def compare_onnx_models(
    reference_path: str | os.PathLike, candidate_path: str | os.PathLike, inputs: np.ndarray
) -> dict[str, float]:
    """How far a candidate (e.g. INT8) model's joints are from a reference's, on the same inputs.

    ``inputs`` are crops in either input format (uint8 pixels preferred); each model is fed the
    format it takes, so a pixel-input INT8 model compares with a normalised-input FP32 one.

    Returns:
        ``mean_xy`` and ``max_xy``: 2D joint distance in heatmap cells (x the heatmap stride, 8 for XS,
        for crop px);
        ``mean_z``: depth difference in bins (x 2000/D mm); ``mean_confidence``: |diff| of confidence.
    """
    reference, candidate = make_session(reference_path), make_session(candidate_path)
    ref, cand = run_session(reference, inputs), run_session(candidate, inputs)
    xy = np.linalg.norm(ref[0][..., :2] - cand[0][..., :2], axis=-1)
    out = {
        "mean_xy": float(xy.mean()),
        "max_xy": float(xy.max()),
        "mean_z": float(np.abs(ref[0][..., 2] - cand[0][..., 2]).mean()),
    }
    if len(ref) > 1 and len(cand) > 1:
        out["mean_confidence"] = float(np.abs(ref[1] - cand[1]).mean())
    return out
