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
        help="INT8: images of people to calibrate on (default: generated)",
    )
    parser.add_argument("--calibration-count", type=int, default=32, help="INT8: images used for calibration")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..export.formats import default_export_path, export_model
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
        calibration_count=args.calibration_count,
    )
    print(result.summary())
    return 0
