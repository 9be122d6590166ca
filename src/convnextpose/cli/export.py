"""``convnextpose export CHECKPOINT --format onnx|onnx-int8|torchscript|tflite|tflite-int8``."""

from __future__ import annotations

import argparse
from pathlib import Path

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
        help="INT8: images of people to calibrate on (default: generated)",
    )
    parser.add_argument("--calibration-count", type=int, default=32, help="INT8: images used for calibration")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import numpy as np

    from ..export import export_onnx, export_onnx_int8, export_tflite, export_torchscript
    from ..export.onnx_export import calibration_crops, compare_onnx_models, generated_calibration_images, sample_input
    from ..image import as_normalized
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
    size = model.spec.input_size

    def calibration(count: int, seed: int) -> np.ndarray:
        if args.calibration:
            from ..image import read_image

            folder = Path(args.calibration)
            files = sorted(p for p in folder.iterdir() if p.suffix.lower() in {".jpg", ".jpeg", ".png", ".bmp"})
            if not files:
                raise ValueError(f"{folder}: no .jpg/.png/.bmp images to calibrate on")
            return calibration_crops([read_image(p) for p in files[:count]], size)
        return calibration_crops(generated_calibration_images(count, size, seed=seed), size)

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
            report = export_onnx_int8(model, out, calibration(args.calibration_count, seed=0), **options)
            # Accuracy cost on inputs not used for calibration.
            held_out = calibration_crops(generated_calibration_images(8, size, seed=1), size)
            cost = compare_onnx_models(fp32_path, out, held_out)
            print(report.summary())
            print(
                f"INT8 vs FP32 on 8 held-out generated images: mean 2D joint shift {cost['mean_xy']:.3f} heatmap cells "
                f"({cost['mean_xy'] * 8:.2f} crop px), max {cost['max_xy']:.3f}; mean depth shift "
                f"{cost['mean_z']:.3f} bins"
            )
    elif args.format == "torchscript":
        print(export_torchscript(model, out, with_confidence=with_confidence).summary())
    else:
        int8 = args.format == "tflite-int8"
        report = export_tflite(
            model,
            out,
            int8=int8,
            calibration=as_normalized(calibration(min(args.calibration_count, 16), 0)) if int8 else None,
            example_input=sample_input(model, 1),
        )
        print(report.summary())
    return 0


def _fp32_name(int8_name: str) -> str:
    """The FP32 model written beside an INT8 one: ``m.int8.onnx`` -> ``m.onnx``, ``m.onnx`` -> ``m.fp32.onnx``."""
    if int8_name.endswith(".int8.onnx"):
        return int8_name[: -len(".int8.onnx")] + ".onnx"
    return int8_name.removesuffix(".onnx") + ".fp32.onnx"
