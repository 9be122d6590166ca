"""Finding the one person of a photo when no boxes are given.

A person detector trained on upright pedestrians (the built-in HOG) boxes the wrong thing on many
ordinary photos: the legs of someone jumping, nothing at all for a seated or half-body person. A
pose network can fix its own crop: starting from the whole image and from the detector's best box,
each start is re-cropped around the network's own 2D joints for a few passes (as the video tracker
re-crops from the previous frame), and the pass whose joints the network is most confident of is
kept. Every pass runs the crops of all starts in one batch.

Measured on the four shared single-person photos with the release's XS weights (docs/inference.md):
the detector alone gets one of them wrong (it boxes the legs), the whole image alone misplaces the
raised arms of the same photo; the refined, most confident crop is right on all four.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ..geometry import box_from_joints
from .result import PersonPose, Poses

#: Re-crops after the first pass (each pass is one forward of a batch of at most two crops).
DEFAULT_REFINE_PASSES = 2


@dataclass(frozen=True)
class FoundPerson:
    """The chosen pass: the person, the start it came from and the pass number (0 = the start's own box)."""

    person: PersonPose
    start: str
    refine_pass: int
    mean_confidence: float


def start_boxes(image_shape: tuple[int, ...], detected: np.ndarray) -> tuple[np.ndarray, list[str]]:
    """Boxes to start from: the whole image, then the detector's best box (if it found one).

    Args:
        image_shape: (H, W, ...) of the image.
        detected: (N, 4) [x, y, w, h] px, best first.

    Returns:
        (K, 4) boxes and their names (``"whole image"``, ``"detector"``).
    """
    height, width = image_shape[:2]
    boxes = [np.array([0.0, 0.0, float(width), float(height)])]
    names = ["whole image"]
    detected = np.asarray(detected, dtype=np.float64).reshape(-1, 4)
    if len(detected):
        boxes.append(detected[0])
        names.append("detector")
    return np.stack(boxes), names


def _mean_confidence(person: PersonPose) -> float:
    value = float(np.nanmean(person.confidence)) if np.isfinite(person.confidence).any() else -np.inf
    return value


def find_person(
    run: Callable[[np.ndarray], Poses],
    starts: np.ndarray,
    names: list[str],
    passes: int = DEFAULT_REFINE_PASSES,
) -> FoundPerson | None:
    """Refine each start box from the network's joints and keep the most confident pass.

    Args:
        run: the network on one image: boxes (K, 4) [x, y, w, h] px -> :class:`Poses` of K people (a box
            that cannot be cropped may be skipped).
        starts: (K, 4) start boxes, e.g. from :func:`start_boxes`.
        names: a name per start.
        passes: re-crops after the first pass.

    Returns:
        The chosen pass, or None when no box gave a person. Where the backend gives no confidence
        (NaN), the first start's first pass is kept.
    """
    if passes < 0:
        raise ValueError(f"passes must be >= 0, got {passes}")
    best: FoundPerson | None = None
    boxes, owners = np.asarray(starts, dtype=np.float64).reshape(-1, 4), list(range(len(starts)))
    for refine_pass in range(passes + 1):
        if not len(boxes):
            break
        people = run(boxes)
        next_boxes, next_owners = [], []
        for person in people:
            owner = owners[person.index]
            found = FoundPerson(person, names[owner], refine_pass, _mean_confidence(person))
            if best is None or found.mean_confidence > best.mean_confidence:
                best = found
            box = box_from_joints(person.joints_img)
            if np.isfinite(box).all() and (box[2:] > 1.0).all():
                next_boxes.append(box)
                next_owners.append(owner)
        boxes, owners = np.array(next_boxes).reshape(-1, 4), next_owners
    return best
