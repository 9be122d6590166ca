"""``convnextpose demo INPUT``: 3D poses on an image, a folder of images or a video file."""

from __future__ import annotations

import argparse


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "demo",
        help="3D poses on an image, folder or video: overlays, 3D plots, HTML viewer, JSON",
        description="Writes NAME_2d.jpg, NAME_3d.png, NAME_3d.html and NAME.json per image (for a video: "
        "NAME_annotated.mp4, NAME.json, NAME_3d.html) and demo_summary.json under --out.",
    )
    parser.add_argument("input", help="an image, a folder of images, or a video file")
    parser.add_argument("--checkpoint", default=None, help="weights: checkpoint path, shipped name, or .onnx file")
    parser.add_argument("--out", default="output/demo", help="output folder (default: output/demo)")
    parser.add_argument("--backend", choices=("torch", "onnx", "tflite"), default=None, help="default: by file type")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--boxes", default=None, metavar="FILE", help="COCO-style detections JSON (bbox, score, ...)")
    parser.add_argument("--score-thr", type=float, default=0.0, help="ignore --boxes detections scoring lower")
    parser.add_argument(
        "--detector",
        choices=("auto", "hog", "frame"),
        default="auto",
        help="without --boxes: auto (HOG; one person or none: found from the whole image and HOG's box, "
        "re-cropped around the network's joints), hog (its boxes as they are), or frame (the whole image)",
    )
    parser.add_argument("--focal", type=float, nargs="+", default=None, metavar="F", help="f or fx fy px (1500)")
    parser.add_argument("--princpt", type=float, nargs=2, default=None, metavar=("CX", "CY"), help="default: centre")
    parser.add_argument("--flip-test", action="store_true", help="average with the mirrored crop (2x cost)")
    parser.add_argument("--frame", choices=("camera", "root"), default="camera", help="coordinates of the 3D plots")
    parser.add_argument("--no-smooth", action="store_true", help="video: no One Euro smoothing")
    parser.add_argument("--redetect-every", type=int, default=0, metavar="N", help="video: detect every N frames")
    parser.add_argument("--max-frames", type=int, default=None, metavar="N", help="video: stop after N frames")
    parser.add_argument("--no-html", action="store_true", help="skip the HTML 3D viewer")
    parser.add_argument("--no-plot", action="store_true", help="skip the matplotlib 3D plot")
    parser.add_argument("--threads", type=int, default=None, help="CPU threads for the network")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..inference import PoseEstimator
    from ..inference.backends import exported_format
    from ..inference.demo import run_demo
    from ..models.checkpoint import resolve_weights

    weights = resolve_weights(args.checkpoint)
    backend = args.backend or exported_format(weights) or "torch"
    estimator = PoseEstimator(
        weights,
        backend=backend,
        device=args.device,
        flip_test=args.flip_test,
        detector=args.detector,
        focal=args.focal,
        princpt=args.princpt,
        threads=args.threads,
    )
    results = run_demo(
        args.input,
        estimator,
        out_dir=args.out,
        boxes_file=args.boxes,
        score_threshold=args.score_thr,
        frame=args.frame,
        html=not args.no_html,
        plot_3d=not args.no_plot,
        smooth=not args.no_smooth,
        max_frames=args.max_frames,
        redetect_every=args.redetect_every,
        progress=not args.no_progress,
    )
    failed = 0
    for result in results:
        if result.error:
            failed += 1
            print(f"{result.input}: error: {result.error}")
            continue
        what = (
            f"{result.frames} frames, up to {result.people} people"
            if result.kind == "video"
            else f"{result.people} people"
        )
        print(f"{result.input}: {what}")
        for warning in result.warnings[:5]:
            print(f"  warning: {warning}")
        for name, path in result.outputs.items():
            print(f"  {name:8s} {path}")
    print(f"summary: {args.out}/demo_summary.json")
    return 1 if failed == len(results) else 0
