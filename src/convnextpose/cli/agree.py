"""``convnextpose agree CHECKPOINT --teacher TEACHER IMAGES...``: how closely one network follows another."""

from __future__ import annotations

import argparse


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "agree",
        help="agreement of a network with a reference (a distilled student with its teacher) on photos",
        description="For each single-person photo the TEACHER finds the person; CHECKPOINT is compared on the "
        "teacher's crop (same crop) and finding the person itself (end to end): 2D PCK at 0.05 and 0.1 of the "
        "person's size, mean 2D distance in that unit, root-relative 3D MPJPE (mm).",
    )
    parser.add_argument("checkpoint", help="the network under test: checkpoint path or shipped name")
    parser.add_argument("--teacher", required=True, help="the reference network: checkpoint path or shipped name")
    parser.add_argument("images", nargs="+", help="images of one person each, or folders of them")
    parser.add_argument("--json", default=None, metavar="FILE", help="also write the per-image results here")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..inference import PoseEstimator
    from ..inference.agreement import agreement_table, collect_images, measure_agreement
    from ..models.checkpoint import resolve_weights

    images = collect_images(args.images)
    result = measure_agreement(
        PoseEstimator(resolve_weights(args.checkpoint)), PoseEstimator(resolve_weights(args.teacher)), images
    )
    print(agreement_table(result))
    if args.json:
        from ..atomic import write_json_atomic

        print(f"written: {write_json_atomic(args.json, result)}")
    return 0
