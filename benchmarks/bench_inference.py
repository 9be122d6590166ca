"""Inference speed (XS, S, M on eager / optimised PyTorch / ONNX Runtime FP32 and INT8), end-to-end fps,
INT8 accuracy on a trained checkpoint, and the built-in HOG detector's quality on the sample photos.

    python -m benchmarks inference                       # full run, ~10 min on 2 cores
    python -m benchmarks inference -- --variants xs --repeats 10 --frames 30   # quick

Writes output/benchmarks/inference.{md,json,png} and output/benchmarks/detector.md.
"""

from __future__ import annotations

import argparse
import logging
import time
from pathlib import Path

import numpy as np

SHARED = Path(__file__).resolve().parents[1].parent / "shared"

# The release demo's boxes for multi_person_skiers.jpg (../shared/images/NOTICE.md), and for the
# single-person photos the person's extent marked by hand on a 25 px grid (approximate, +-5 px).
REFERENCE_BOXES = {
    "multi_person_skiers.jpg": [
        [139.41, 102.25, 222.39, 241.57],
        [287.17, 61.52, 74.88, 165.61],
        [540.04, 48.81, 99.96, 223.36],
        [372.58, 170.84, 266.63, 217.19],
        [0.5, 43.74, 90.1, 220.09],
    ],
    "single_person_1.png": [[50, 18, 165, 227]],
    "single_person_2.png": [[35, 25, 190, 210]],
    "single_person_3.png": [[80, 20, 83, 236]],
    "single_person_4.png": [[63, 37, 129, 178]],
}


def evaluate_detector(upscale: float = 1.0) -> tuple[str, dict]:
    """HOG people detector vs the reference boxes: recall at IoU 0.5, false positives, time per image."""
    from convnextpose.image import read_image
    from convnextpose.inference import HOGPersonDetector, box_iou

    detector = HOGPersonDetector(upscale=upscale)
    rows, totals = [], {"people": 0, "found": 0, "detections": 0, "false_positives": 0}
    for name, reference in REFERENCE_BOXES.items():
        image = read_image(SHARED / "images" / name)
        started = time.perf_counter()
        boxes, scores = detector(image)
        elapsed = (time.perf_counter() - started) * 1000
        iou = box_iou(np.array(reference), boxes) if len(boxes) else np.zeros((len(reference), 0))
        matched = set()
        found = 0
        for r in range(len(reference)):
            if iou.shape[1] and iou[r].max() >= 0.5 and int(iou[r].argmax()) not in matched:
                matched.add(int(iou[r].argmax()))
                found += 1
        best = [round(float(iou[r].max()), 2) if iou.shape[1] else 0.0 for r in range(len(reference))]
        false_positives = sum(1 for d in range(len(boxes)) if not iou.shape[1] or iou[:, d].max() < 0.5)
        rows.append(
            f"| {name} | {image.shape[1]}x{image.shape[0]} | {len(reference)} | {len(boxes)} | {found} | "
            f"{false_positives} | {best} | {elapsed:.0f} |"
        )
        totals["people"] += len(reference)
        totals["found"] += found
        totals["detections"] += len(boxes)
        totals["false_positives"] += false_positives
    header = [
        f"HOG people detector (OpenCV default, upscale {upscale}, pad 32 px, score >= 0.3):",
        "",
        "| photo | size | people | detections | found (IoU >= 0.5) | false positives | best IoU per person | ms |",
        "|---|---|---|---|---|---|---|---|",
    ]
    summary = (
        f"Recall {totals['found']}/{totals['people']}, {totals['false_positives']} false positives "
        f"of {totals['detections']} detections."
    )
    return "\n".join(header + rows + ["", summary]) + "\n", totals


def main(argv: list[str]) -> int:
    from convnextpose.bench import RUNTIMES, markdown_report, run_benchmark, write_report
    from convnextpose.models.checkpoint import DEFAULT_PRETRAINED, PRETRAINED

    parser = argparse.ArgumentParser(prog="python -m benchmarks inference")
    parser.add_argument("--variants", nargs="+", default=["xs", "s", "m", "l"])
    parser.add_argument("--batches", type=int, nargs="+", default=[1, 16])
    parser.add_argument("--runtimes", nargs="+", default=list(RUNTIMES))
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--frames", type=int, default=120)
    parser.add_argument("--out", default="output/benchmarks")
    parser.add_argument("--no-detector", action="store_true")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")

    accuracy_checkpoint, photos = None, []
    if DEFAULT_PRETRAINED in PRETRAINED:
        accuracy_checkpoint = DEFAULT_PRETRAINED
    elif (SHARED / "fixtures" / "official_checkpoint" / "snapshot_24.pth.tar").exists():
        accuracy_checkpoint = SHARED / "fixtures" / "official_checkpoint" / "snapshot_24.pth.tar"
    if (SHARED / "images").exists():
        from convnextpose.image import read_image

        photos = [read_image(SHARED / "images" / name) for name in REFERENCE_BOXES if name.startswith("single")]

    result = run_benchmark(
        variants=args.variants,
        batches=args.batches,
        runtimes=args.runtimes,
        repeats=args.repeats,
        threads=args.threads,
        e2e_frames=args.frames,
        e2e_variant=args.variants[0],
        accuracy_checkpoint=accuracy_checkpoint,
        accuracy_photos=photos,
    )
    report = markdown_report(result)
    print(report)
    paths = write_report(result, args.out)
    print("written: " + ", ".join(str(p) for p in paths.values()))
    if not args.no_detector and (SHARED / "images").exists():
        text = "\n".join(evaluate_detector(upscale)[0] for upscale in (1.0, 2.0))
        print(text)
        (Path(args.out) / "detector.md").write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    import sys

    sys.exit(main(sys.argv[1:]))
