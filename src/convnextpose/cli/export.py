"""``convnextpose export CHECKPOINT --format onnx|onnx-int8|torchscript|tflite|tflite-int8``."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import numpy as np

FORMATS = {
    "onnx": ".onnx",
    "onnx-int8": ".int8.onnx",
    "torchscript": ".torchscript.pt",
    "tflite": ".tflite",
    "tflite-int8": ".int8.tflite",
}


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "export",
        help="export a network to ONNX (FP32/INT8), TorchScript or TFLite, checked against PyTorch",
        description="CHECKPOINT is a checkpoint file, a shipped-weights name, or a variant name (xs, s, m) for "
        "random weights (for speed tests only).",
    )
    parser.add_argument("checkpoint", help="checkpoint path, shipped-weights name, or variant (random weights)")
    parser.add_argument("--format", choices=sorted(FORMATS), default="onnx")
    parser.add_argument("--out", default=None, help="output file (default: output/export/<name><suffix>)")
    parser.add_argument("--opset", type=int, default=17)
    parser.add_argument("--static-batch", action="store_true", help="fix the batch size to 1 (ONNX)")
    parser.add_argument("--no-confidence", action="store_true", help="export joints_hm only")
    parser.add_argument(
        "--input",
        choices=("normalized", "pixels"),
        default=None,
        help="ONNX input: float (B, 3, H, W) normalised crops, or uint8 (B, H, W, 3) RGB pixels with the "
        "normalisation inside the model (default: pixels for onnx-int8, normalized for onnx)",
    )
    parser.add_argument(
        "--calibration",
        default=None,
        metavar="FOLDER",
        help="INT8: photos of people to calibrate on, each person found and cropped as the estimator does; "
        "a quarter of the crops (at most 16) are held out for the accuracy check (default: generated people)",
    )
    parser.add_argument("--calibration-count", type=int, default=32, help="INT8: crops to calibrate on (default 32)")
    parser.add_argument(
        "--calibration-method",
        choices=("percentile", "minmax", "entropy"),
        default="percentile",
        help="onnx-int8: how activation ranges are set from the calibration crops (default: the 99.999th "
        "percentile of |value|)",
    )
    parser.add_argument(
        "--float-layers",
        nargs="*",
        default=None,
        metavar="LAYER",
        help="onnx-int8: parts (stem, stage0..stage3, head) or kinds (depthwise, pointwise, ...) kept in float "
        "(default: stem stage0; give none to quantise everything)",
    )
    parser.add_argument(
        "--reduce-range",
        action="store_true",
        help="onnx-int8: 7-bit weights, for x86 CPUs without VNNI (their 16-bit sums can saturate); less accurate",
    )
    parser.add_argument(
        "--no-equalize", action="store_true", help="onnx-int8: do not rescale the residual streams before quantising"
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..export import export_onnx, export_onnx_int8, export_tflite, export_torchscript
    from ..export.onnx_export import sample_input
    from ..export.onnx_int8 import DEFAULT_FLOAT_LAYERS
    from ..models import build_model, load_model
    from ..models.checkpoint import PRETRAINED
    from ..models.convnextpose import VARIANTS

    source = args.checkpoint
    if Path(source).exists() or source in PRETRAINED:
        model = load_model(source)
        name = Path(source).name.split(".")[0] if Path(source).exists() else source
    elif source.lower().removeprefix("convnextpose_") in VARIANTS:
        model = build_model(source).eval()
        name = f"convnextpose_{source.lower().removeprefix('convnextpose_')}_random"
        print(f"note: {source} is a variant name: exporting RANDOM weights (for speed tests only)")
    else:
        raise FileNotFoundError(f"checkpoint not found: {source} (nor a shipped name {sorted(PRETRAINED)} or variant)")
    if args.input and args.format not in ("onnx", "onnx-int8"):
        raise ValueError(f"--input applies to the onnx and onnx-int8 formats, not {args.format}")
    out = Path(args.out) if args.out else Path("output/export") / f"{name}{FORMATS[args.format]}"
    with_confidence = not args.no_confidence
    calibration, held_out = _calibration(args, model) if args.format.endswith("int8") else (None, None)

    if args.format in ("onnx", "onnx-int8"):
        input_format = args.input or ("pixels" if args.format == "onnx-int8" else "normalized")
        fp32_path = out if args.format == "onnx" else out.with_name(_fp32_name(out.name))
        options = dict(
            opset=args.opset, dynamic_batch=not args.static_batch, with_confidence=with_confidence,
            input_format=input_format,
        )  # fmt: skip
        example = sample_input(model, 1) if args.static_batch else None  # a static batch is the example's
        report = export_onnx(model, fp32_path, example_input=example, **options)
        print(report.summary())
        if args.format == "onnx-int8":
            report = export_onnx_int8(
                model, out, calibration, held_out, method=args.calibration_method, reduce_range=args.reduce_range,
                equalize=not args.no_equalize,
                float_layers=DEFAULT_FLOAT_LAYERS if args.float_layers is None else args.float_layers, **options,
            )  # fmt: skip
            print(report.summary())
            _print_int8_check(report, "your photos" if args.calibration else "generated people")
    elif args.format == "torchscript":
        print(export_torchscript(model, out, with_confidence=with_confidence).summary())
    else:
        int8 = args.format == "tflite-int8"
        report = export_tflite(
            model,
            out,
            int8=int8,
            calibration=_tflite_calibration(calibration, min(args.calibration_count, 16)) if int8 else None,
            example_input=sample_input(model, 1),
        )
        print(report.summary())
    return 0


def _calibration(args: argparse.Namespace, model: Any) -> tuple[np.ndarray | None, np.ndarray | None]:
    """(calibration, held-out) person crops of ``--calibration FOLDER``, or generated people and None (the default)."""
    from ..export.calibration import folder_people, generated_people, split_held_out

    if not args.calibration:
        return generated_people(args.calibration_count, model.spec.input_size), None
    from ..export.onnx_int8 import HELD_OUT_COUNT
    from ..inference import PoseEstimator

    estimator = PoseEstimator(model)  # finds each person as at inference; its crops are what INT8 will see

    def find_people(image: np.ndarray) -> np.ndarray:
        return np.array([person.box for person in estimator.predict(image)], dtype=np.float64).reshape(-1, 4)

    crops = folder_people(args.calibration, find_people, model.spec.input_size, args.calibration_count + HELD_OUT_COUNT)
    if len(crops) < 2:
        raise ValueError(f"{args.calibration}: found {len(crops)} person crop; need at least 2 (to calibrate and to check)")
    return split_held_out(crops, min(HELD_OUT_COUNT, max(1, len(crops) // 4)))


def _tflite_calibration(crops: np.ndarray, count: int) -> np.ndarray:
    from ..image import as_normalized

    return as_normalized(crops[:count])


def _print_int8_check(report: Any, source: str) -> None:
    cost = report.details.get("held_out")
    if cost is None:
        return
    print(
        f"INT8 vs FP32 on {cost['crops']} held-out crops of {source} (not used for calibration): mean 2D joint shift "
        f"{cost['mean_xy']:.3f} heatmap cells ({cost['mean_xy_px']:.2f} crop px), max {cost['max_xy']:.2f} cells; "
        f"mean depth shift {cost['mean_z']:.3f} bins ({cost['mean_z_mm']:.1f} mm)"
    )
    for line in report.details.get("warnings", []):
        print(f"warning: {line}; try --calibration with photos like yours, or more --float-layers")


def _fp32_name(int8_name: str) -> str:
    """The FP32 model written beside an INT8 one: ``m.int8.onnx`` -> ``m.onnx``, ``m.onnx`` -> ``m.fp32.onnx``."""
    if int8_name.endswith(".int8.onnx"):
        return int8_name[: -len(".int8.onnx")] + ".onnx"
    return int8_name.removesuffix(".onnx") + ".fp32.onnx"
