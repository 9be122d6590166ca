"""How the person is found on single-person photos without boxes: HOG, the whole frame, or ``auto``.

    python -m benchmarks person_finder
    python -m benchmarks person_finder -- --checkpoints ../shared/fixtures/release_xs/snapshot_68.pth.tar xs-distilled

For each checkpoint and each ``detector`` of :class:`~convnextpose.inference.PoseEstimator` (``hog``,
``frame``, ``auto``), on the four shared single-person photos with the hand labels of
``tests/assets/shared_photo_labels.json``: the IoU of the crop box the estimator used with the labelled
person box, the share of labelled joints within 0.1 of the box's longer side (PCK@0.1), whether the
wrists, elbows, knees and ankles are called on the right side (the person faces the camera), and the
time per photo (after one warm-up call). Writes ``output/benchmarks/person_finder.md``.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
LABELS = ROOT / "tests" / "assets" / "shared_photo_labels.json"
DETECTORS = ("hog", "frame", "auto")
LIMBS = ("Wrist", "Elbow", "Knee", "Ankle")


def score_person(joint_names: list[str], joints_img: np.ndarray, box: np.ndarray, label: dict) -> dict:
    """IoU with the labelled box, PCK@0.1 of the labelled joints, and limbs on the right side (count of 4)."""
    from convnextpose.inference import box_iou

    predicted = dict(zip(joint_names, np.asarray(joints_img, dtype=np.float64)))
    size = max(label["box"][2:])
    errors = [np.linalg.norm(predicted[n] - np.asarray(xy)) / size for n, xy in label["joints"].items()]
    sides = 0
    for part in LIMBS:
        left, right = predicted["L_" + part], predicted["R_" + part]
        own = np.linalg.norm(left - label["joints"]["L_" + part]) + np.linalg.norm(right - label["joints"]["R_" + part])
        swap = np.linalg.norm(left - label["joints"]["R_" + part]) + np.linalg.norm(
            right - label["joints"]["L_" + part]
        )
        sides += int(own < swap)
    iou = float(box_iou(np.asarray([label["box"]], dtype=np.float64), np.asarray([box], dtype=np.float64))[0, 0])
    return {"iou": iou, "pck@0.1": float(np.mean(np.asarray(errors) < 0.1)), "sides_right": sides}


def run(checkpoints: list[str]) -> tuple[str, dict]:
    from convnextpose.image import read_image
    from convnextpose.inference import PoseEstimator

    labels = {k: v for k, v in json.loads(LABELS.read_text(encoding="utf-8")).items() if k.endswith(".png")}
    images = {name: read_image(SHARED / "images" / name) for name in labels}
    lines = [
        "| checkpoint | detector | IoU per photo | PCK@0.1 per photo | limbs on the right side (of 4) | ms per photo |",
        "|---|---|---|---|---|---:|",
    ]
    results: dict = {}
    for checkpoint in checkpoints:
        for detector in DETECTORS:
            estimator = PoseEstimator(checkpoint, detector=detector)
            estimator.predict(next(iter(images.values())))  # warm-up: the first call prepares the network
            rows, elapsed = [], 0.0
            for name, image in images.items():
                started = time.perf_counter()
                person = estimator.predict(image)[0]
                elapsed += time.perf_counter() - started
                rows.append(score_person(list(person.joint_names), person.joints_img, person.box, labels[name]))
            results[f"{checkpoint}|{detector}"] = rows
            ious = ", ".join(f"{r['iou']:.2f}" for r in rows)
            pcks = ", ".join(f"{r['pck@0.1']:.2f}" for r in rows)
            sides = ", ".join(str(r["sides_right"]) for r in rows)
            ms = 1000 * elapsed / len(rows)
            lines.append(f"| {Path(checkpoint).name} | {detector} | {ious} | {pcks} | {sides} | {ms:.0f} |")
    return "\n".join(lines), results


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks person_finder")
    release = SHARED / "fixtures" / "release_xs" / "snapshot_68.pth.tar"
    parser.add_argument("--checkpoints", nargs="+", default=[str(release), "xs-synthetic"])
    parser.add_argument("--out", default="output/benchmarks")
    args = parser.parse_args(argv)
    if not (SHARED / "images").exists():
        print(f"skipped: {SHARED / 'images'} not found")
        return 0
    checkpoints = [c for c in args.checkpoints if c != str(release) or release.exists()]
    text, _ = run(checkpoints)
    print(text)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "person_finder.md").write_text(text + "\n", encoding="utf-8")
    return 0
