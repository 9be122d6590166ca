"""``convnextpose info VARIANT|CHECKPOINT``: size, cost and interface of a network."""

from __future__ import annotations

import argparse
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("info", help="parameters, MACs, shapes and joint set of a variant or checkpoint")
    parser.add_argument("model", help="a variant name (xs, s, m, l, test) or a checkpoint path")
    parser.add_argument("--joints", type=int, default=None, help="joints, for a variant (default 18)")
    parser.add_argument("--depth-dim", type=int, default=None, help="depth bins (default: the variant's)")
    parser.add_argument("--input-size", type=int, nargs=2, metavar=("H", "W"), default=None)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..models import build_model, load_model
    from ..models.checkpoint import PRETRAINED
    from ..models.convnextpose import variant_name
    from ..models.profile import count_macs, count_parameters

    if Path(args.model).exists() or args.model in PRETRAINED:
        model = load_model(args.model, num_joints=args.joints, depth_dim=args.depth_dim, input_size=args.input_size)
        source = f"checkpoint {args.model}"
    else:
        overrides = {"input_size": tuple(args.input_size)} if args.input_size else {}
        model = build_model(args.model, num_joints=args.joints or 18, depth_dim=args.depth_dim, **overrides)
        source = f"variant {args.model}"
    spec = model.spec
    height, width = spec.input_size
    out_h, out_w = spec.output_size
    named = variant_name(spec)
    rows = [
        ("model", source),
        ("variant", named.upper() if named else "custom (no registered variant has this shape)"),
        ("backbone", f"ConvNeXt-BN depths {list(spec.depths)} dims {list(spec.dims)}"),
        ("head", f"width {spec.head_width}, {spec.upsample_layers} upsampling layers (stride {spec.heatmap_stride})"),
        ("parameters", f"{count_parameters(model) / 1e6:.2f} M ({count_parameters(model):,})"),
        ("MACs", f"{count_macs(model) / 1e9:.3f} G at {height}x{width}"),
        ("input", f"(B, 3, {height}, {width}) RGB, ImageNet-normalised"),
        (
            "output",
            f"(B, {spec.num_joints}, 3) heatmap units: x in 0..{out_w - 1}, y in 0..{out_h - 1}, "
            f"z in 0..{spec.depth_dim - 1} (volume {spec.depth_dim}x{out_h}x{out_w})",
        ),
        ("joint set", f"{spec.joint_set} ({spec.num_joints} joints, {spec.depth_dim} depth bins)"),
    ]
    width_col = max(len(k) for k, _ in rows)
    for key, value in rows:
        print(f"{key:<{width_col}}  {value}")
    return 0
