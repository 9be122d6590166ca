"""INT8 ONNX models of a trained ConvNeXtPose that keep its accuracy, and the check that says so.

:func:`export_onnx_int8` does, in order (docs/inference.md, "INT8", has the measurements behind
each step on the release's trained XS):

1. calibration crops that look like what the network sees: person crops, generated people by
   default (:mod:`.calibration`), or the caller's own;
2. the backbone's residual streams rescaled per channel on those crops (:mod:`.equalize`, the same
   function), so one INT8 scale per tensor fits every channel;
3. an FP32 graph laid out for onnxruntime's INT8 kernels (uint8 pixel input, stage widths padded to
   multiples of 16), checked against PyTorch;
4. static QDQ quantisation (:func:`quantize_onnx`): per-channel 8-bit weights, uint8 activations
   with ranges at the 99.999th percentile, the stem and the first stage kept in float
   (:data:`DEFAULT_FLOAT_LAYERS`);
5. its own check: the joints of the INT8 model against the FP32 graph's on held-out crops the
   calibration did not see (:func:`int8_cost`), with a warning above :data:`MAX_SHIFT_CELLS`
   heatmap cells or :data:`MAX_DEPTH_SHIFT_BINS` depth bins.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import tempfile
import time
import warnings
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
from torch import nn

from ..atomic import write_bytes_atomic
from ..codec import DEFAULT_DEPTH_RANGE_MM
from ..image import as_normalized, as_pixels
from .layer_names import select_nodes
from .onnx_export import (
    ExportReport,
    _unwrap,
    compare_onnx_models,
    export_onnx,
    read_spec_metadata,
    require,
    sample_input,
    set_spec_metadata,
)
from .quantized_tail import drop_unused_tensors, rewrite_soft_argmax

logger = logging.getLogger(__name__)

#: Crops to calibrate on, and held-out crops the export checks on, when the caller gives none.
CALIBRATION_COUNT = 32
HELD_OUT_COUNT = 16
#: Layers left in float32 by default: on the release XS, quantising the stem and the first stage's two
#: blocks cost the most accuracy for the least time (docs/inference.md).
DEFAULT_FLOAT_LAYERS = ("stem", "stage0")
#: The export warns when the INT8 joints move further than this from the FP32 ones on held-out crops.
MAX_SHIFT_CELLS = 0.15
MAX_DEPTH_SHIFT_BINS = 0.15
CALIBRATION_METHODS = ("minmax", "percentile", "entropy")
#: Activation ranges: the 99.999th percentile of |value| over the calibration crops; on the release XS
#: the joints moved 12 % less than with min/max ranges, their depths 18 % less (docs/inference.md).
DEFAULT_METHOD = "percentile"
DEFAULT_PERCENTILE = 99.999


@dataclass(frozen=True)
class Int8Cost:
    """How far an INT8 model's joints are from its FP32 model's on some crops.

    Attributes:
        crops: number of crops compared.
        mean_xy, max_xy: 2D joint distance, heatmap cells.
        mean_z: depth difference, depth bins.
        stride: input pixels per heatmap cell (8 for XS).
        depth_mm_per_bin: millimetres per depth bin (2000 / D).
        mean_confidence: mean |difference| of the joint confidence, or None without that output.
    """

    crops: int
    mean_xy: float
    max_xy: float
    mean_z: float
    stride: int
    depth_mm_per_bin: float
    mean_confidence: float | None = None

    @property
    def mean_xy_px(self) -> float:
        """Mean 2D distance in crop pixels."""
        return self.mean_xy * self.stride

    @property
    def max_xy_px(self) -> float:
        return self.max_xy * self.stride

    @property
    def mean_z_mm(self) -> float:
        return self.mean_z * self.depth_mm_per_bin

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out.update(mean_xy_px=self.mean_xy_px, max_xy_px=self.max_xy_px, mean_z_mm=self.mean_z_mm)
        return out

    def summary(self) -> str:
        return (
            f"mean 2D joint shift {self.mean_xy:.3f} heatmap cells ({self.mean_xy_px:.2f} crop px), "
            f"max {self.max_xy:.2f} cells ({self.max_xy_px:.1f} px); mean depth shift {self.mean_z:.3f} bins "
            f"({self.mean_z_mm:.1f} mm), on {self.crops} crops"
        )

    def warnings(self, max_xy: float = MAX_SHIFT_CELLS, max_z: float = MAX_DEPTH_SHIFT_BINS) -> list[str]:
        """Lines saying which mean shift is above its threshold (empty when both are within)."""
        lines = []
        if self.mean_xy > max_xy:
            lines.append(f"INT8 moves the joints by {self.mean_xy:.3f} heatmap cells on average (> {max_xy})")
        if self.mean_z > max_z:
            lines.append(f"INT8 moves the joint depths by {self.mean_z:.3f} bins on average (> {max_z})")
        return lines


def int8_cost(fp32_path: str | os.PathLike, int8_path: str | os.PathLike, crops: np.ndarray) -> Int8Cost:
    """The INT8 model's joints against the FP32 model's on ``crops`` (either input format).

    The heatmap stride and depth bins come from the model spec stored in the FP32 file (the
    release's 8 px and 32 bins where there is none).
    """
    cost = compare_onnx_models(fp32_path, int8_path, crops)
    spec = read_spec_metadata(fp32_path) or {}
    stride = 32 >> int(spec.get("upsample_layers", 2))
    depth_bins = int(spec.get("depth_dim", 32))
    return Int8Cost(
        crops=len(crops), mean_xy=cost["mean_xy"], max_xy=cost["max_xy"], mean_z=cost["mean_z"], stride=stride,
        depth_mm_per_bin=DEFAULT_DEPTH_RANGE_MM / depth_bins, mean_confidence=cost.get("mean_confidence"),
    )  # fmt: skip


def quantize_onnx(
    fp32_path: str | os.PathLike,
    path: str | os.PathLike,
    calibration: np.ndarray | None = None,
    per_channel: bool = True,
    reduce_range: bool = False,
    method: str = DEFAULT_METHOD,
    percentile: float = DEFAULT_PERCENTILE,
    float_layers: Sequence[str] = (),
    exclude_final_layer: bool = False,
) -> ExportReport:
    """Static INT8 quantisation of an FP32 model exported by :func:`export_onnx`.

    Convolutions and the ReLUs after them are quantised (QDQ format, per-output-channel int8
    weights, uint8 activations). Quantising the ReLU lets the convolution before it write the ReLU's
    uint8 output directly: left in float, every ConvNeXt block dequantised and requantised its widest
    tensor (4x channels), a quarter of the INT8 model's time. onnxruntime fuses the residual
    additions into QLinearAdd itself. The soft-argmax stays float32; its softmax becomes one ``Exp``
    of the quantised logits (:func:`~convnextpose.export.quantized_tail.rewrite_soft_argmax`, the
    same function).

    Args:
        fp32_path: the FP32 ``.onnx`` file.
        path: where to write the INT8 model.
        calibration: crops in either input format, (N, H, W, 3) uint8 or (N, 3, H, W) float32
            normalised; default :data:`CALIBRATION_COUNT` generated people
            (:func:`~convnextpose.export.calibration.generated_people`).
        per_channel: per-output-channel weight scales (much better for depthwise convolutions).
        reduce_range: 7-bit weights, for x86 CPUs without VNNI (AVX2, AVX-512 before Cascade Lake):
            their uint8 x int8 kernels add pairs of products in 16 bits, which can saturate with
            8-bit weights. VNNI x86 CPUs and ARM add in 32 bits. On the release XS, 7-bit weights
            doubled the INT8 error (docs/inference.md).
        method: activation ranges from ``"percentile"`` (default), ``"minmax"`` or ``"entropy"``
            (onnxruntime's calibrators; its entropy one gave the min/max ranges on ConvNeXtPose).
        percentile: the percentile of |value| kept by ``method="percentile"``.
        float_layers: layer parts or kinds to keep in float32 (:mod:`.layer_names`: ``"stem"``,
            ``"stage0"`` .. ``"stage3"``, ``"head"``, ``"depthwise"``, ``"pointwise"``, ``"logits"`` ...).
        exclude_final_layer: keep the last 1x1 convolution (heatmap logits) in float32, the same as
            ``"logits"`` in ``float_layers``.

    A model exported with ``input_format="pixels"`` whose stem is quantised keeps its uint8 ``pixels``
    input as the quantised values (scale 1, zero point 0), so no quantise step runs.

    Returns:
        An :class:`ExportReport` (no parity check: INT8 is not expected to match to 1e-4; see
        :func:`int8_cost` for its accuracy cost).
    """
    onnx = require("onnx")
    require("onnxruntime")
    from onnxruntime import quantization as q

    from .calibration import generated_people

    if method not in CALIBRATION_METHODS:
        raise ValueError(f"method must be one of {CALIBRATION_METHODS}, got {method!r}")
    started = time.perf_counter()
    fp32_path = Path(fp32_path)
    spec = read_spec_metadata(fp32_path)
    model_input = onnx.load(str(fp32_path), load_external_data=False).graph.input[0]
    pixels = model_input.type.tensor_type.elem_type == onnx.TensorProto.UINT8
    input_size = tuple(spec["input_size"]) if spec else _input_hw(model_input, pixels)
    if calibration is None:
        calibration = generated_people(CALIBRATION_COUNT, input_size)
    calibration = as_pixels(calibration) if pixels else as_normalized(calibration)
    float_layers = tuple(float_layers) + (("logits",) if exclude_final_layer else ())

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
        graph = onnx.load(str(prepared)).graph
        exclude = select_nodes([n.name for n in graph.node], float_layers) if float_layers else []
        pixel_cast = _pixel_cast(graph) if pixels else None
        # Pixels are quantised values already: scale 1, zero point 0 (dropped from the graph below).
        overrides = (
            {pixel_cast.output[0]: [{"scale": np.array(1.0, np.float32), "zero_point": np.array(0, np.uint8)}]}
            if pixel_cast
            else {}
        )
        staged = Path(tmp) / "int8.onnx"
        previous = logging.root.manager.disable
        logging.disable(logging.INFO)  # onnxruntime.quantization logs every bias copy at INFO on the root logger
        try:  # it also prints its histogram calibrators' progress to stdout
            with contextlib.redirect_stdout(io.StringIO()):
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
                    calibrate_method=_calibration_method(q, method),
                    extra_options={"TensorQuantOverrides": overrides, "CalibPercentile": float(percentile)},
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
        method=method,
        calibration_images=len(calibration),
        float_layers=list(float_layers),
        float_nodes=len(exclude),
        soft_argmax_from_quantized_logits=softmax_rewritten,
    )
    logger.debug(report.summary())
    return report


def _calibration_method(q: Any, method: str) -> Any:
    names = {"minmax": "MinMax", "percentile": "Percentile", "entropy": "Entropy"}
    return getattr(q.CalibrationMethod, names[method])


def _input_hw(model_input: Any, pixels: bool) -> tuple[int, int]:
    """(height, width) of a graph input, (B, H, W, 3) for pixels, else (B, 3, H, W)."""
    dims = model_input.type.tensor_type.shape.dim
    first = 1 if pixels else 2
    return int(dims[first].dim_value), int(dims[first + 1].dim_value)


def export_onnx_int8(
    model: nn.Module,
    path: str | os.PathLike,
    calibration: np.ndarray | None = None,
    held_out: np.ndarray | None = None,
    input_format: str = "pixels",
    pad_channels: int | None = 16,
    with_confidence: bool = True,
    dynamic_batch: bool = True,
    opset: int = 17,
    equalize: bool = True,
    float_layers: Sequence[str] = DEFAULT_FLOAT_LAYERS,
    reduce_range: bool = False,
    method: str = DEFAULT_METHOD,
    percentile: float = DEFAULT_PERCENTILE,
    fp32_path: str | os.PathLike | None = None,
    max_shift: float = MAX_SHIFT_CELLS,
    max_depth_shift: float = MAX_DEPTH_SHIFT_BINS,
) -> ExportReport:
    """A trained network's INT8 ONNX model in one step, and its accuracy cost on held-out crops.

    See the module docstring for the steps. The stage widths are zero-padded to a multiple of
    ``pad_channels`` (stages kept in float are not padded) and the input is uint8 ``pixels`` by
    default: on XS at 256x256 the two took 0.3 ms (4 %) off a batch-1 call on a 2-core AVX2 CPU,
    the same function (zero channels, exactly folded normalisation). ``dynamic_batch=False``
    fixes the batch size to 1, as on a phone.

    Args:
        model: the network (not changed).
        path: the INT8 ``.onnx`` file to write.
        calibration: person crops to calibrate on, (N, H, W, 3) uint8 or (N, 3, H, W) normalised
            (e.g. from :func:`~convnextpose.export.calibration.folder_people`); default
            :data:`CALIBRATION_COUNT` generated people.
        held_out: crops the calibration did not see, for the check; default :data:`HELD_OUT_COUNT`
            generated people of another seed; an empty array skips the check.
        equalize: rescale the residual streams on the calibration crops first (same function).
        float_layers, reduce_range, method, percentile: see :func:`quantize_onnx`.
        fp32_path: also keep the FP32 graph that was quantised here (for
            :func:`~convnextpose.export.int8_errors.compare_activations`).
        max_shift, max_depth_shift: the check warns above these mean shifts (heatmap cells, depth bins).

    Returns:
        The INT8 model's :class:`ExportReport`; ``details["held_out"]`` is the :class:`Int8Cost`
        as a dict, ``details["warnings"]`` the lines of :meth:`Int8Cost.warnings` (also logged).
    """
    from .calibration import generated_people
    from .equalize import equalize_streams
    from .fuse import fuse_model, pad_stage_channels

    network = _unwrap(model)
    size = network.spec.input_size
    calibration = generated_people(CALIBRATION_COUNT, size) if calibration is None else np.asarray(calibration)
    held_out = generated_people(HELD_OUT_COUNT, size, seed=1) if held_out is None else np.asarray(held_out)
    prepared = equalize_streams(network, calibration)[0] if equalize else fuse_model(network)
    if pad_channels:
        float_stages = [k for k in range(4) if f"stage{k}" in float_layers]
        prepared = pad_stage_channels(prepared, int(pad_channels), skip=float_stages)
    with tempfile.TemporaryDirectory(prefix="convnextpose-int8-") as tmp:
        fp32 = Path(fp32_path) if fp32_path else Path(tmp) / "fp32.onnx"
        export_onnx(
            prepared, fp32, opset=opset, dynamic_batch=dynamic_batch, with_confidence=with_confidence,
            input_format=input_format, example_input=None if dynamic_batch else sample_input(network, 1),
        )  # fmt: skip
        report = quantize_onnx(
            fp32, path, calibration, reduce_range=reduce_range, method=method, percentile=percentile,
            float_layers=float_layers,
        )  # fmt: skip
        cost = int8_cost(fp32, path, held_out) if len(held_out) else None
    report.details.update(input_format=input_format, pad_channels=pad_channels, equalized=equalize)
    if cost is not None:
        report.details["held_out"] = cost.to_dict()
        report.details["warnings"] = cost.warnings(max_shift, max_depth_shift)
        for line in report.details["warnings"]:
            logger.warning("%s: %s on %d held-out crops", path, line, cost.crops)
    return report


def _pixel_cast(graph: Any) -> Any:
    """The Cast node that turns a pixel model's uint8 input into float."""
    source = graph.input[0].name
    for node in graph.node:
        if node.op_type == "Cast" and node.input[0] == source:
            return node
        if node.op_type in ("Transpose", "Reshape") and node.input[0] == source:
            source = node.output[0]  # axis reordering on the uint8 pixels comes first
    raise RuntimeError("the pixel model's uint8 input does not reach a Cast to float; was it made by export_onnx?")


def _read_pixels_directly(proto: Any, cast: Any) -> None:
    """Drop ``Cast -> QuantizeLinear`` after the uint8 input: its dequantisation reads the pixels as they are.

    Where the stem stays in float nothing quantises the pixels, and the graph is left as it is.
    """
    onnx = require("onnx")
    graph = proto.graph
    quantize = [n for n in graph.node if n.op_type == "QuantizeLinear" and n.input[0] == cast.output[0]]
    if not quantize:
        return
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
