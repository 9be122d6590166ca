"""Person boxes for a folder of photos, as a COCO-style detections file (``convnextpose data boxes``).

The file is what ``convnextpose demo --boxes`` and label-free image folders
(:mod:`convnextpose.data.image_folder`, ``boxes="boxes.json"``) read: a list of
``{"file_name": path relative to the folder, "bbox": [x, y, w, h], "score"}``. Boxes come from the
estimator's detector; with ``refine`` each is re-cropped around the pose network's own joints, as
:mod:`.person_finder` does for one person, so they fit the people the network sees.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from ..atomic import write_json_atomic
from ..geometry import box_from_joints
from ..image import list_images, read_image
from .estimator import PoseEstimator
from .person_finder import DEFAULT_REFINE_PASSES, find_person

logger = logging.getLogger(__name__)


def find_person_boxes(
    folder: str | os.PathLike,
    estimator: PoseEstimator,
    refine: bool = True,
    min_confidence: float = 0.0,
    progress: bool = True,
) -> list[dict[str, Any]]:
    """Detections of every image under ``folder`` (recursive), best first per image.

    Args:
        folder: the photos.
        estimator: its detector finds the people (``"auto"``: one person, found and refined; several: the
            detector's boxes) and its network refines them.
        refine: re-crop every box around the network's joints (2 passes), keep the most confident pass, and
            write the box around its joints (grown by 1.2, :func:`~convnextpose.geometry.box_from_joints`).
        min_confidence: drop people whose mean joint confidence is lower.
        progress: a tqdm bar.

    Returns:
        ``[{"file_name", "bbox", "score"}]``; ``score`` is the mean joint confidence of the kept pass.
    """
    folder = Path(folder)
    images = list_images(folder)
    if not images:
        raise FileNotFoundError(f"{folder}: no images in this folder")
    iterator: Any = images
    if progress:
        from tqdm import tqdm

        iterator = tqdm(images, desc="boxes", unit="image", dynamic_ncols=True)
    detections = []
    for path in iterator:
        image = read_image(path)
        people = list(estimator.predict(image))
        # The "auto" detector has already found and refined a lone person.
        if refine and not (estimator.find_single_person and len(people) <= 1):
            refined = []
            for person in people:

                def run(boxes: np.ndarray, image: np.ndarray = image) -> Any:
                    return estimator.predict(image, boxes)

                found = find_person(run, person.box[None], ["box"], DEFAULT_REFINE_PASSES)
                refined.append(person if found is None else found.person)
            people = refined
        for person in people:
            score = float(np.nanmean(person.confidence)) if np.isfinite(person.confidence).any() else 0.0
            if score < min_confidence:
                continue
            # The person as the network sees them: the box around its joints (the crop adds the usual margin).
            box = box_from_joints(person.joints_img) if refine else person.box
            if not np.isfinite(box).all():
                box = person.box
            detections.append(
                {
                    "file_name": path.relative_to(folder).as_posix(),
                    "bbox": [round(float(v), 2) for v in box],
                    "score": round(score, 4),
                }
            )
    logger.info("%s: %d people in %d images", folder, len(detections), len(images))
    return detections


def write_person_boxes(detections: list[dict[str, Any]], path: str | os.PathLike) -> Path:
    """Write detections as JSON, atomically."""
    return write_json_atomic(path, detections, indent=0)


def box_finder(estimator: PoseEstimator) -> Callable[[np.ndarray], np.ndarray]:
    """image (H, W, 3) uint8 RGB -> (N, 4) boxes [x, y, w, h] of the crops ``estimator`` feeds its network.

    What INT8 calibration on a folder of photos needs (``export_model(..., find_people=...)``): the
    crops it calibrates on are the ones this estimator would see.
    """

    def find_people(image: np.ndarray) -> np.ndarray:
        return np.array([person.box for person in estimator.predict(image)], dtype=np.float64).reshape(-1, 4)

    return find_people
