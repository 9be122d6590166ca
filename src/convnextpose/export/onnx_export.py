"""ONNX export with an onnxruntime parity check, and INT8 static quantisation.

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
import tempfile
import time
import warnings
from collections.abc import Iterable
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
from .quantized_tail import drop_unused_tensors, rewrite_soft_argmax

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


def generated_calibration_images(
    count: int = 32, size: tuple[int, int] = (256, 256), seed: int = 0
) -> Iterable[np.ndarray]:
    """RGB uint8 images for INT8 calibration, generated here (no data set needed).

    Each is a smooth colour gradient with noise and a crude stick figure (thick limbs, a head)
    drawn across the middle, so activations see both flat regions and person-like edges.
    """
    import cv2

    rng = np.random.default_rng(seed)
    height, width = size
    yy, xx = np.mgrid[0:height, 0:width] / max(height, width)
    for _ in range(count):
        base = rng.uniform(0, 255, 3)
        slope = rng.uniform(-120, 120, (2, 3))
        image = base + xx[..., None] * slope[0] + yy[..., None] * slope[1] + rng.normal(0, 12, (height, width, 3))
        image = np.clip(image, 0, 255).astype(np.uint8)
        colour = tuple(int(c) for c in rng.uniform(0, 255, 3))
        cx, cy, scale = width * rng.uniform(0.4, 0.6), height * rng.uniform(0.45, 0.55), height * rng.uniform(0.3, 0.4)
        joints = {
            "head": (0, -1.0), "neck": (0, -0.7), "pelvis": (0, 0.0), "l_hand": (-0.6, -0.2), "r_hand": (0.6, -0.3),
            "l_foot": (-0.3, 0.9), "r_foot": (0.35, 0.9), "l_elbow": (-0.35, -0.45), "r_elbow": (0.35, -0.5),
            "l_knee": (-0.2, 0.45), "r_knee": (0.25, 0.45),
        }  # fmt: skip
        pts = {k: (int(cx + (x + rng.normal(0, 0.08)) * scale), int(cy + (y + rng.normal(0, 0.05)) * scale))
               for k, (x, y) in joints.items()}  # fmt: skip
        thickness = max(2, int(scale * 0.12))
        for a, b in (("neck", "pelvis"), ("neck", "l_elbow"), ("l_elbow", "l_hand"), ("neck", "r_elbow"),
                     ("r_elbow", "r_hand"), ("pelvis", "l_knee"), ("l_knee", "l_foot"), ("pelvis", "r_knee"),
                     ("r_knee", "r_foot")):  # fmt: skip
            cv2.line(image, pts[a], pts[b], colour, thickness, cv2.LINE_AA)
        cv2.circle(image, pts["head"], int(scale * 0.15), colour, -1, cv2.LINE_AA)
        yield image


def calibration_crops(images: Iterable[np.ndarray], input_size: tuple[int, int]) -> np.ndarray:
    """Resize RGB uint8 images to the input size: (N, H, W, 3) uint8 crops (the ``pixels`` format)."""
    import cv2

    return np.stack(
        [cv2.resize(np.asarray(im), (input_size[1], input_size[0]), interpolation=cv2.INTER_LINEAR) for im in images]
    )


def calibration_batch(images: Iterable[np.ndarray], input_size: tuple[int, int]) -> np.ndarray:
    """Resize RGB uint8 images to the input size and normalise: (N, 3, H, W) float32."""
    return as_normalized(calibration_crops(images, input_size))


def quantize_onnx(
    fp32_path: str | os.PathLike,
    path: str | os.PathLike,
    calibration: np.ndarray | None = None,
    per_channel: bool = True,
    reduce_range: bool = True,
    exclude_final_layer: bool = False,
) -> ExportReport:
    """Static INT8 quantisation of an FP32 model exported by :func:`export_onnx`.

    Convolutions and the ReLUs after them are quantised (QDQ format, per-channel weights,
    activations calibrated with min/max over ``calibration``). Quantising the ReLU lets the
    convolution before it write the ReLU's uint8 output directly: left in float, every ConvNeXt
    block dequantised and requantised its widest tensor (4x channels), a quarter of the INT8
    model's time. onnxruntime fuses the residual additions into QLinearAdd itself. The
    soft-argmax and everything after it stay in float32, as quantising a softmax over 32k voxels
    costs far more accuracy than it saves time; the softmax itself becomes one ``Exp`` of the
    dequantised logits (:func:`~convnextpose.export.quantized_tail.rewrite_soft_argmax`, the same
    function).

    Args:
        fp32_path: the FP32 ``.onnx`` file.
        path: where to write the INT8 model.
        calibration: crops in either input format, (N, H, W, 3) uint8 or (N, 3, H, W) float32
            normalised; default 32 generated images (:func:`generated_calibration_images`). Real
            crops of your domain calibrate better.
        per_channel: per-output-channel weight scales (much better for depthwise convolutions).
        reduce_range: 7-bit weights. On x86 CPUs without VNNI (AVX2, most AVX-512) onnxruntime's
            uint8 x int8 kernels add pairs of products in 16 bits, which can saturate with full
            8-bit weights; on a synthetic-trained XS this cut the INT8-vs-FP32 joint shift from
            0.042 to 0.016 heatmap cells at the same speed. Turn off for ARM or VNNI CPUs.
        exclude_final_layer: keep the last 1x1 convolution (heatmap logits) in float32.

    A model exported with ``input_format="pixels"`` keeps its uint8 ``pixels`` input: the pixel
    values are the quantised values themselves (scale 1, zero point 0), so no quantise step runs.

    Returns:
        An :class:`ExportReport` (no parity check: INT8 is not expected to match to 1e-4; see
        :func:`compare_onnx_models` for its accuracy cost).
    """
    onnx = require("onnx")
    require("onnxruntime")
    from onnxruntime import quantization as q

    started = time.perf_counter()
    fp32_path = Path(fp32_path)
    spec = read_spec_metadata(fp32_path)
    model_input = onnx.load(str(fp32_path), load_external_data=False).graph.input[0]
    pixels = model_input.type.tensor_type.elem_type == onnx.TensorProto.UINT8
    input_size = tuple(spec["input_size"]) if spec else _input_hw(model_input, pixels)
    if calibration is None:
        calibration = calibration_crops(generated_calibration_images(32, input_size), input_size)
    calibration = as_pixels(calibration) if pixels else as_normalized(calibration)

    class _Reader(q.CalibrationDataReader):
        def __init__(self) -> None:
            self._items = iter([{model_input.name: calibration[i : i + 1]} for i in range(len(calibration))])

        def get_next(self) -> dict[str, np.ndarray] | None:
            return next(self._items, None)

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        prepared = Path(tmp) / "prepared.onnx"
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            q.shape_inference.quant_pre_process(str(fp32_path), str(prepared), skip_symbolic_shape=True)
        exclude = _final_conv_nodes(prepared) if exclude_final_layer else []
        pixel_cast = _pixel_cast(onnx.load(str(prepared))) if pixels else None
        # Pixels are quantised values already: scale 1, zero point 0 (dropped from the graph below).
        overrides = (
            {pixel_cast.output[0]: [{"scale": np.array(1.0, np.float32), "zero_point": np.array(0, np.uint8)}]}
            if pixel_cast
            else {}
        )
        staged = Path(tmp) / "int8.onnx"
        previous = logging.root.manager.disable
        logging.disable(logging.INFO)  # onnxruntime.quantization logs every bias copy at INFO on the root logger
        try:
            q.quantize_static(
                str(prepared),
                str(staged),
                _Reader(),
                quant_format=q.QuantFormat.QDQ,
                op_types_to_quantize=["Conv", "Relu"],
                per_channel=per_channel,
                reduce_range=reduce_range,
                activation_type=q.QuantType.QUInt8,
                weight_type=q.QuantType.QInt8,
                nodes_to_exclude=exclude,
                calibrate_method=q.CalibrationMethod.MinMax,
                extra_options={"TensorQuantOverrides": overrides},
            )
        finally:
            logging.disable(previous)
        proto = onnx.load(str(staged))
        if pixel_cast is not None:
            _read_pixels_directly(proto, pixel_cast)
        softmax_rewritten = rewrite_soft_argmax(proto)
        if spec:
            set_spec_metadata(proto, spec)
        write_bytes_atomic(path, proto.SerializeToString())
    report = ExportReport(path, "onnx-int8", time.perf_counter() - started, path.stat().st_size)
    report.details.update(
        per_channel=per_channel,
        reduce_range=reduce_range,
        calibration_images=len(calibration),
        soft_argmax_from_quantized_logits=softmax_rewritten,
    )
    logger.debug(report.summary())
    return report


def _input_hw(model_input: Any, pixels: bool) -> tuple[int, int]:
    """(height, width) of a graph input, (B, H, W, 3) for pixels, else (B, 3, H, W)."""
    dims = model_input.type.tensor_type.shape.dim
    first = 1 if pixels else 2
    return int(dims[first].dim_value), int(dims[first + 1].dim_value)


def export_onnx_int8(
    model: nn.Module,
    path: str | os.PathLike,
    calibration: np.ndarray | None = None,
    input_format: str = "pixels",
    pad_channels: int | None = 16,
    with_confidence: bool = True,
    dynamic_batch: bool = True,
    opset: int = 17,
) -> ExportReport:
    """A network's INT8 ONNX model in one step, laid out for onnxruntime's INT8 kernels.

    Exports an FP32 graph (verified against PyTorch) with the stage widths zero-padded to a
    multiple of ``pad_channels`` and, by default, uint8 ``pixels`` input, then quantises it with
    :func:`quantize_onnx`. On XS at 256x256 the two layout choices together took 0.3 ms (4 %)
    off a batch-1 call on a 2-core AVX2 CPU; the function is unchanged (zero channels, exactly
    folded normalisation). ``calibration`` as for :func:`quantize_onnx`; ``dynamic_batch=False``
    fixes the batch size to 1, as on a phone.
    """
    with tempfile.TemporaryDirectory(prefix="convnextpose-int8-") as tmp:
        fp32 = Path(tmp) / "fp32.onnx"
        export_onnx(
            model, fp32, opset=opset, dynamic_batch=dynamic_batch, with_confidence=with_confidence,
            input_format=input_format, pad_channels=pad_channels,
            example_input=None if dynamic_batch else sample_input(_unwrap(model), 1),  # static: batch 1
        )  # fmt: skip
        report = quantize_onnx(fp32, path, calibration)
    report.details.update(input_format=input_format, pad_channels=pad_channels)
    return report


def _pixel_cast(proto: Any) -> Any:
    """The Cast node that turns a pixel model's uint8 input into float."""
    source = proto.graph.input[0].name
    for node in proto.graph.node:
        if node.op_type == "Cast" and node.input[0] == source:
            return node
        if node.op_type in ("Transpose", "Reshape") and node.input[0] == source:
            source = node.output[0]  # axis reordering on the uint8 pixels comes first
    raise RuntimeError("the pixel model's uint8 input does not reach a Cast to float; was it made by export_onnx?")


def _read_pixels_directly(proto: Any, cast: Any) -> None:
    """Drop ``Cast -> QuantizeLinear`` after the uint8 input: its dequantisation reads the pixels as they are."""
    onnx = require("onnx")
    graph = proto.graph
    quantize = [n for n in graph.node if n.op_type == "QuantizeLinear" and n.input[0] == cast.output[0]]
    consumers = [n for n in graph.node if cast.output[0] in n.input and n.op_type != "QuantizeLinear"]
    if len(quantize) != 1 or consumers:
        raise RuntimeError("unexpected graph after quantisation: the pixel input should feed one QuantizeLinear")
    initializers = {i.name: onnx.numpy_helper.to_array(i) for i in graph.initializer}
    scale, zero_point = (initializers.get(name) for name in quantize[0].input[1:3])
    if scale is None or zero_point is None or float(scale) != 1.0 or int(zero_point) != 0:
        raise RuntimeError(f"the pixel input was quantised with scale {scale} and zero point {zero_point}, not 1 and 0")
    for node in graph.node:
        for k, name in enumerate(node.input):
            if name == quantize[0].output[0]:
                node.input[k] = cast.input[0]
    graph.node.remove(quantize[0])
    graph.node.remove(next(n for n in graph.node if n.output[0] == cast.output[0]))
    drop_unused_tensors(graph)
    onnx.checker.check_model(proto)


def _final_conv_nodes(path: Path) -> list[str]:
    """Name of the last Conv node of the graph (the heatmap logits)."""
    onnx = require("onnx")
    convs = [n.name for n in onnx.load(str(path)).graph.node if n.op_type == "Conv"]
    return convs[-1:]


def compare_onnx_models(
    reference_path: str | os.PathLike, candidate_path: str | os.PathLike, inputs: np.ndarray
) -> dict[str, float]:
    """How far a candidate (e.g. INT8) model's joints are from a reference's, on the same inputs.

    ``inputs`` are crops in either input format (uint8 pixels preferred); each model is fed the
    format it takes, so a pixel-input INT8 model compares with a normalised-input FP32 one.

    Returns:
        ``mean_xy`` and ``max_xy``: 2D joint distance in heatmap cells (x8 for crop px);
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
