"""How closely one pose network follows another on the same images (a student and its teacher).

For each image the reference (teacher) finds the person (or takes the given box). Two comparisons:

- ``same_crop``: the other network on the reference's own crop box, so only the networks differ;
- ``end_to_end``: the other network finding the person itself (``detector="auto"``), as a user runs it.

Measures per person, then averaged: 2D PCK against the reference's joints at 0.05 and 0.1 of the
person's size (the longer side of the box around the reference's 2D joints, grown by 1.2 as
:func:`~convnextpose.geometry.box_from_joints`), the mean 2D distance in that unit, the 3D
MPJPE (mm) between the root-relative joints, and the limb spread: how far apart the left and right
wrists and the left and right ankles are in 2D, as a fraction of the reference's (1: the same; a
network that draws every limb along the body's midline, a failure PCK hides when the person stands
upright, scores well below 1).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..geometry import box_from_joints
from ..image import list_images
from .estimator import PoseEstimator
from .result import PersonPose

PCK_THRESHOLDS = (0.05, 0.1)
#: The left/right limb ends whose distances apart make the limb spread (those a joint set has).
LIMB_PAIRS = (("L_Wrist", "R_Wrist"), ("L_Ankle", "R_Ankle"))


def person_size(joints_img: np.ndarray) -> float:
    """The longer side (px) of the box around the 2D joints, grown by 1.2."""
    box = box_from_joints(joints_img)
    return float(max(box[2], box[3]))


def compare_people(reference: PersonPose, other: PersonPose) -> dict[str, float]:
    """PCK@0.05 / @0.1 (fractions), mean 2D distance (person sizes) and root-relative MPJPE (mm) of one person."""
    size = person_size(reference.joints_img)
    distance = np.linalg.norm(other.joints_img - reference.joints_img, axis=1) / size
    out = {f"pck@{t}": float((distance < t).mean()) for t in PCK_THRESHOLDS}
    out["mean_2d"] = float(distance.mean())
    out["mpjpe_rel_mm"] = float(np.linalg.norm(other.joints_rel - reference.joints_rel, axis=1).mean())
    out["limb_spread"] = limb_spread(other) / max(limb_spread(reference), 1e-6)
    return out


def limb_spread(person: PersonPose) -> float:
    """Mean 2D distance (px) between the left and right wrist and between the left and right ankle."""
    names = person.joint_set.names
    pairs = [(names.index(a), names.index(b)) for a, b in LIMB_PAIRS if a in names and b in names]
    left, right = (person.joints_img[[p[i] for p in pairs]] for i in (0, 1))
    return float(np.linalg.norm(left - right, axis=1).mean())


def measure_agreement(
    other: PoseEstimator,
    reference: PoseEstimator,
    images: Sequence[str | os.PathLike | np.ndarray],
    boxes: Sequence[Sequence[float] | None] | None = None,
) -> dict[str, Any]:
    """Agreement of ``other`` with ``reference`` on single-person images.

    Args:
        other: the network under test (e.g. a distilled student).
        reference: the network it should follow (e.g. the teacher).
        images: paths or RGB arrays, one person each.
        boxes: per image [x, y, w, h] px, or None for the reference to find the person.

    Returns:
        ``{"same_crop": {metric: mean}, "end_to_end": {metric: mean}, "per_image": [...]}``.
    """
    per_image = []
    for i, image in enumerate(images):
        box = None if boxes is None or boxes[i] is None else [list(boxes[i])]
        found = reference.predict(image, box)
        if not len(found):
            raise ValueError(f"image {i}: the reference network found nobody")
        teacher = found[0]
        same = other.predict(image, [teacher.box], [teacher.root_depth])[0]
        own = other.predict(image, box, None if box is None else [teacher.root_depth])
        row = {"image": str(image) if not isinstance(image, np.ndarray) else f"array {i}"}
        row["same_crop"] = compare_people(teacher, same)
        row["end_to_end"] = compare_people(teacher, own[0]) if len(own) else None
        per_image.append(row)
    summary = {}
    for mode in ("same_crop", "end_to_end"):
        rows = [r[mode] for r in per_image if r[mode] is not None]
        summary[mode] = {k: float(np.mean([r[k] for r in rows])) for k in rows[0]} if rows else {}
        summary[mode]["found"] = len(rows) / len(per_image)
    return {**summary, "per_image": per_image}


def collect_images(sources: Sequence[str | os.PathLike]) -> list[Path]:
    """The image files named by ``sources``: each a file, or a folder searched recursively (sorted).

    Raises:
        FileNotFoundError: a source that does not exist, or a folder with no image.
    """
    files: list[Path] = []
    for source in map(Path, sources):
        if source.is_dir():
            found = list_images(source)
            if not found:
                raise FileNotFoundError(f"no images in folder {source}")
            files.extend(found)
        elif source.is_file():
            files.append(source)
        else:
            raise FileNotFoundError(f"image not found: {source}")
    return files


def agreement_table(result: dict[str, Any]) -> str:
    """A Markdown table of :func:`measure_agreement`'s result: one row per image and mode, then the means."""
    names = ["pck@0.05", "pck@0.1", "mean_2d", "mpjpe_rel_mm", "limb_spread"]
    lines = ["| image | mode | " + " | ".join(names) + " |", "|---|---|" + "---:|" * len(names)]
    for row in result["per_image"]:
        for mode in ("same_crop", "end_to_end"):
            values = row[mode]
            cells = ["not found"] * len(names) if values is None else [f"{values[n]:.3f}" for n in names]
            lines.append(f"| {Path(row['image']).name} | {mode} | " + " | ".join(cells) + " |")
    for mode in ("same_crop", "end_to_end"):
        cells = [f"{result[mode][n]:.3f}" if n in result[mode] else "-" for n in names]
        lines.append(f"| **mean** | {mode} (found {result[mode]['found']:.0%}) | " + " | ".join(cells) + " |")
    return "\n".join(lines)
