"""``convnextpose data synth|check|convert-h36m``: synthetic datasets in the real formats, checks, raw conversion."""

from __future__ import annotations

import argparse
import inspect
import os
import time
from pathlib import Path

from ..config_values import parse_int_range

FORMATS = ("human36m", "muco", "mupots", "mpii", "coco")
RAW_FORMATS = ("human36m-raw",)  # the raw download of a dataset, for the converters


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "data", help="generate synthetic datasets in the real formats, or check a dataset folder"
    )
    sub = parser.add_subparsers(dest="data_command", metavar="SUBCOMMAND")
    synth = sub.add_parser("synth", help="write a synthetic dataset folder in a benchmark's on-disk format")
    synth.add_argument("--out", required=True, help="the dataset folder to write (e.g. data/Human36M)")
    synth.add_argument(
        "--format", required=True, choices=FORMATS + RAW_FORMATS, help="human36m-raw: videos, CDF poses, metadata.xml"
    )
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
    boxes = sub.add_parser(
        "boxes", help="person boxes for a folder of photos (COCO-style detections JSON), e.g. for distillation"
    )
    boxes.add_argument("folder", help="photos (searched recursively)")
    boxes.add_argument("--out", required=True, help="the JSON file to write (e.g. FOLDER/boxes.json)")
    boxes.add_argument("--checkpoint", default=None, help="pose network that refines the boxes (default: shipped)")
    boxes.add_argument("--detector", choices=("auto", "hog", "frame"), default="auto", help="where boxes start")
    boxes.add_argument("--no-refine", action="store_true", help="keep the detector's boxes as they are")
    boxes.add_argument("--min-confidence", type=float, default=0.0, help="drop people the network is less sure of")
    boxes.set_defaults(func=run_boxes)
    convert = sub.add_parser(
        "convert-h36m", help="raw Human3.6M (videos, CDF poses, metadata.xml) to the release's layout"
    )
    convert.add_argument("raw_dir", help="the folder holding S1, S5, ... as extracted from the dataset's archives")
    convert.add_argument("--out", required=True, help="the dataset folder to write (e.g. data/Human36M)")
    convert.add_argument("--subjects", help="release subjects, e.g. 1,5-9,11 (default: all seven)")
    convert.add_argument("--actions", help="actions 2..16 (default: all)")
    convert.add_argument("--subactions", help="subactions 1..2 (default: both)")
    convert.add_argument("--cameras", help="cameras 1..4 (default: all)")
    convert.add_argument("--stride", type=int, default=1, help="keep every Nth frame (frame_idx %% N == 0)")
    convert.add_argument("--workers", type=int, default=min(2, os.cpu_count() or 1), help="processes")
    convert.add_argument("--metadata", help="the toolkit's metadata.xml (default: RAW_DIR/metadata.xml)")
    convert.add_argument("--jpeg-quality", type=int, default=90)
    convert.add_argument("--no-progress", action="store_true", help="no progress bar")
    convert.set_defaults(func=run_convert_h36m)
    parser.set_defaults(func=lambda args: parser.print_help() or 2)


def int_range_options(args: argparse.Namespace, *flags: str) -> dict[str, tuple[int, ...]]:
    """The given ``1,5-9,11`` flags as tuples of ints."""
    return {f: tuple(parse_int_range(getattr(args, f), f)) for f in flags if getattr(args, f) is not None}


def synth_options(args: argparse.Namespace) -> dict:
    """Generator options from the flags that were given (the generator rejects ones its format lacks)."""
    options: dict = {"workers": args.workers}
    options.update(int_range_options(args, "subjects", "actions", "subactions", "cameras", "sequences"))
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
    if args.format in RAW_FORMATS:
        return run_synth_raw(args, options)
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


def run_synth_raw(args: argparse.Namespace, options: dict) -> int:
    from ..data import generate_human36m_raw

    allowed = set(inspect.signature(generate_human36m_raw).parameters) - {"out_dir", "seed"}
    if unknown := sorted(set(options) - allowed):
        raise SystemExit(f"--format {args.format} takes {sorted(allowed)}, not {unknown}")
    start = time.perf_counter()
    try:
        out = generate_human36m_raw(args.out, seed=args.seed, **options)
    except ImportError as exc:  # an optional extra is missing; the message says which
        raise SystemExit(f"convnextpose data synth: error: {exc}") from exc
    videos = sum(1 for _ in Path(out).rglob("*.mp4"))
    print(f"wrote a synthetic raw Human3.6M folder to {out}: {videos} videos in {time.perf_counter() - start:.1f} s")
    return 0


def run_convert_h36m(args: argparse.Namespace) -> int:
    from ..data import convert_h36m

    options = int_range_options(args, "subjects", "actions", "subactions", "cameras")
    start = time.perf_counter()
    result = convert_h36m(
        args.raw_dir, args.out, stride=args.stride, workers=args.workers, metadata=args.metadata,
        jpeg_quality=args.jpeg_quality, progress=not args.no_progress, **options,
    )  # fmt: skip
    elapsed = time.perf_counter() - start
    print(
        f"wrote Human3.6M subjects {list(result.subjects)} to {result.out_dir}: {result.images} images of "
        f"{result.videos} videos ({result.videos_converted} converted now) in {elapsed:.1f} s"
    )
    return 0


def run_check(args: argparse.Namespace) -> int:
    from ..data.check import check_dataset

    report = check_dataset(args.root, args.format, image_sample=args.images)
    print(report.to_markdown())
    return 0 if report.ok else 1


def run_boxes(args: argparse.Namespace) -> int:
    from ..inference import PoseEstimator
    from ..inference.person_boxes import find_person_boxes, write_person_boxes
    from ..models.checkpoint import resolve_weights

    estimator = PoseEstimator(resolve_weights(args.checkpoint), detector=args.detector)
    detections = find_person_boxes(
        args.folder, estimator, refine=not args.no_refine, min_confidence=args.min_confidence
    )
    path = write_person_boxes(detections, args.out)
    images = len({d["file_name"] for d in detections})
    print(f"{len(detections)} people in {images} images -> {path}")
    return 0
