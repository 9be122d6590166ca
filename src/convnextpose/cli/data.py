"""``convnextpose data synth|check``: make a synthetic dataset in a benchmark's format, or check a folder."""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

from ._args import parse_int_range

FORMATS = ("human36m", "muco", "mupots", "mpii", "coco")


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "data", help="generate synthetic datasets in the real formats, or check a dataset folder"
    )
    sub = parser.add_subparsers(dest="data_command", metavar="SUBCOMMAND")
    synth = sub.add_parser("synth", help="write a synthetic dataset folder in a benchmark's on-disk format")
    synth.add_argument("--out", required=True, help="the dataset folder to write (e.g. data/Human36M)")
    synth.add_argument("--format", required=True, choices=FORMATS)
    synth.add_argument("--seed", type=int, default=0)
    synth.add_argument("--subjects", help="Human3.6M subjects, e.g. 1,5-9,11")
    synth.add_argument("--actions", help="Human3.6M action indices 2..16, e.g. 2-4,14")
    synth.add_argument("--subactions", help="Human3.6M subaction indices, e.g. 1-2")
    synth.add_argument("--cameras", help="Human3.6M cameras 1..4")
    synth.add_argument("--frames", type=int, help="frames per sequence (Human3.6M, MuPoTS)")
    synth.add_argument("--frame-stride", type=int, help="Human3.6M frame_idx step (64 survives all subsampling)")
    synth.add_argument("--sequences", help="MuPoTS sequences, e.g. 1-5 or 1,7")
    synth.add_argument("--images", type=int, help="images (MuCo, MPII, COCO train)")
    synth.add_argument("--val-images", type=int, help="COCO val images")
    synth.add_argument("--image-size", type=int, nargs="+", metavar="PX", help="side (or width height for MPII/COCO)")
    synth.add_argument("--workers", type=int, default=min(4, os.cpu_count() or 1), help="rendering processes")
    synth.add_argument("--no-render", action="store_true", help="annotations only (no images)")
    synth.add_argument(
        "--bodies",
        choices=("capsule", "anny"),
        default="capsule",
        help="people: built-in capsule bodies, or realistic Anny bodies (pip install convnextpose[anny])",
    )
    synth.add_argument(
        "--recording",
        choices=("studio", "snapshots"),
        help="Human3.6M: one actor per subject moving in one room (studio), or a new person, pose and room in every "
        "image (snapshots); default: studio for capsule bodies, snapshots for Anny bodies",
    )
    synth.add_argument("--camera-presets", help="Human3.6M: presets of cameras 1..4, e.g. h36m,phone_tripod")
    synth.add_argument("--degradation", type=float, help="image degradation strength (default 1; 0 = clean)")
    synth.add_argument(
        "--backgrounds",
        metavar="DIR",
        help="folder of photos without people (.jpg/.png, recursive) to use as backdrops",
    )
    synth.set_defaults(func=run_synth)
    check = sub.add_parser("check", help="counts, joint statistics and problems of a dataset folder")
    check.add_argument("root", help="the dataset folder")
    check.add_argument("--format", choices=FORMATS, help="default: detected from the annotation files")
    check.add_argument("--images", type=int, default=20, help="images to decode per split (existence: all)")
    check.set_defaults(func=run_check)
    parser.set_defaults(func=lambda args: parser.print_help() or 2)


def synth_options(args: argparse.Namespace) -> dict:
    """Generator options from the flags that were given (the generator rejects ones its format lacks)."""
    options: dict = {"workers": args.workers}
    for flag in ("subjects", "actions", "subactions", "cameras", "sequences"):
        value = getattr(args, flag)
        if value is not None:
            options[flag] = tuple(parse_int_range(value, flag))
    for flag in ("frames", "frame_stride", "images", "val_images"):
        value = getattr(args, flag)
        if value is not None:
            options[flag] = value
    if args.image_size:
        if len(args.image_size) > 2:
            raise ValueError("--image-size takes one side or a width and a height")
        options["image_size"] = args.image_size[0] if len(args.image_size) == 1 else tuple(args.image_size)
    if args.no_render:
        options["render"] = False
    if args.bodies != "capsule":
        options["bodies"] = args.bodies
    if args.recording:
        options["recording"] = args.recording
    if args.camera_presets:
        options["camera_presets"] = tuple(p.strip() for p in args.camera_presets.split(",") if p.strip())
    if args.degradation is not None:
        options["degradation"] = args.degradation
    if args.backgrounds:
        options["backgrounds"] = args.backgrounds
    return options


def run_synth(args: argparse.Namespace) -> int:
    from ..synth import generate_dataset

    options = synth_options(args)
    start = time.perf_counter()
    try:
        out = generate_dataset(args.format, args.out, seed=args.seed, **options)
    except ImportError as exc:  # an optional extra is missing; the message says which
        raise SystemExit(f"convnextpose data synth: error: {exc}") from exc
    elapsed = time.perf_counter() - start
    images = sum(1 for _ in Path(out).rglob("*.jpg"))
    rate = f", {images / elapsed:.1f} images/s" if images else ""
    print(f"wrote a synthetic {args.format} dataset to {out}: {images} images in {elapsed:.1f} s{rate}")
    return 0


def run_check(args: argparse.Namespace) -> int:
    from ..data.check import check_dataset

    report = check_dataset(args.root, args.format, image_sample=args.images)
    print(report.to_markdown())
    return 0 if report.ok else 1
