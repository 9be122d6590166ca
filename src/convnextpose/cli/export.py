"""``convnextpose export CHECKPOINT --format onnx|onnx-int8|torchscript|tflite|tflite-int8``."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..export.formats import FORMATS


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
    from ..export.formats import default_export_path, export_model
    from ..export.onnx_int8 import DEFAULT_FLOAT_LAYERS
    from ..inference import PoseEstimator
    from ..inference.person_boxes import box_finder
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
    result = export_model(
        model,
        args.format,
        Path(args.out) if args.out else default_export_path(name, args.format),
        opset=args.opset,
        dynamic_batch=not args.static_batch,
        with_confidence=not args.no_confidence,
        input_format=args.input,
        calibration=args.calibration,
        find_people=box_finder(PoseEstimator(model)) if args.calibration else None,
        calibration_count=args.calibration_count,
        calibration_method=args.calibration_method,
        float_layers=DEFAULT_FLOAT_LAYERS if args.float_layers is None else args.float_layers,
        reduce_range=args.reduce_range,
        equalize=not args.no_equalize,
    )
    print(result.summary())
    return 0
