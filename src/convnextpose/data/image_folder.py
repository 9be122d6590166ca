"""Photos without labels, for distillation: every image under a folder, with person boxes.

A teacher network labels these crops while the student trains (``distill`` in the config), so
no joints are stored: every record has visibility 0 and contributes nothing to a ground-truth
loss. Boxes come from one of:

- ``"whole"``: the whole image, for photos that are already person crops;
- ``"random"``: ``crops_per_image`` random person-shaped boxes (40-100% of the image height, width
  0.35-0.7 of the height), drawn from a generator seeded by ``seed`` and the image's index;
- a COCO-style detections file (the demo's ``--boxes`` format, see :class:`BoxesFile`), e.g. written
  by ``convnextpose data boxes FOLDER`` with a detector and a pose network's own re-cropping. A
  ``file_name`` may be relative to the folder. Images the file does not list are skipped and counted.
"""

from __future__ import annotations

import logging
from pathlib import Path

import cv2
import numpy as np

from ..geometry import process_boxes
from ..image import list_images
from ..joints import get_joint_set
from .box_file import BoxesFile
from .records import PersonRecord, PoseDataset

logger = logging.getLogger(__name__)

BOX_MODES = ("whole", "random")
DEFAULT_FOCAL = (1500.0, 1500.0)
LAYOUT = """  Images/          any folder of photos (recursive; .jpg .png ...), no labels
    boxes.json     optional person boxes (COCO-style detections), see `convnextpose data boxes`"""


def _image_size(path: Path) -> tuple[int, int]:
    image = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    if image is None or image.ndim < 2 or image.size == 0:
        raise ValueError(f"{path}: not a readable image")
    return int(image.shape[1]), int(image.shape[0])


def random_person_boxes(width: int, height: int, count: int, rng: np.random.Generator) -> np.ndarray:
    """``count`` person-shaped [x, y, w, h] boxes inside a ``width x height`` image."""
    box_h = rng.uniform(0.4, 1.0, count) * height
    box_w = np.minimum(rng.uniform(0.35, 0.7, count) * box_h, width)
    x = rng.uniform(0.0, 1.0, count) * (width - box_w)
    y = rng.uniform(0.0, 1.0, count) * (height - box_h)
    return np.stack([x, y, box_w, box_h], axis=1)


def load_image_folder(
    root: str | Path,
    split: str = "train",
    boxes: str = "whole",
    crops_per_image: int = 1,
    seed: int = 0,
    min_score: float = 0.0,
    joint_set: str = "human36m",
    aspect_ratio: float = 1.0,
    strict: bool = True,
) -> PoseDataset:
    """Every image under ``root`` as label-free training records.

    Args:
        root: the folder (searched recursively; hidden files and folders are skipped).
        split: "train".
        boxes: ``"whole"``, ``"random"`` or a detections file (absolute, or relative to ``root``).
        crops_per_image: random boxes per image (``boxes="random"``).
        seed: seed of the random boxes.
        min_score: detections scoring lower are ignored.
        joint_set: the joint set the records claim (all joints invisible); any set the network maps from.
        aspect_ratio: network input width / height, for extending boxes.
        strict: raise on an unreadable image; False skips it with a warning.

    Raises:
        FileNotFoundError: no folder, or no images in it, or no detections file.
        ValueError: an unknown ``boxes`` mode, or an unreadable image with ``strict``.
    """
    root = Path(root)
    if split != "train":
        raise ValueError(f"image folders have a train split only, not {split!r}")
    if crops_per_image < 1:
        raise ValueError(f"crops_per_image must be >= 1, got {crops_per_image}")
    box_file = None
    if boxes not in BOX_MODES:
        path = Path(boxes) if Path(boxes).is_absolute() else root / boxes
        if not path.is_file():
            raise FileNotFoundError(
                f"boxes={boxes!r}: neither {' nor '.join(repr(m) for m in BOX_MODES)} nor a detections file ({path})"
            )
        box_file = BoxesFile.load(path, min_score)
    images = list_images(root)
    if not images:
        raise FileNotFoundError(f"{root}: no images in this folder (expected layout:\n{LAYOUT})")
    joints = get_joint_set(joint_set)
    records: list[PersonRecord] = []
    skipped: dict[str, int] = {}
    for index, path in enumerate(images):
        try:
            width, height = _image_size(path)
        except ValueError as exc:
            if strict:
                raise
            logger.warning("%s; skipped", exc)
            skipped["unreadable image"] = skipped.get("unreadable image", 0) + 1
            continue
        if box_file is not None:
            entries = box_file.lookup(path.relative_to(root).as_posix())
            if not entries:
                skipped["no detection"] = skipped.get("no detection", 0) + 1
                continue
            raw = np.array([e.box for e in entries], dtype=np.float64)
        elif boxes == "random":
            raw = random_person_boxes(width, height, crops_per_image, np.random.default_rng([seed, index]))
        else:
            raw = np.array([[0.0, 0.0, width, height]])
        processed, valid = process_boxes(raw, width, height, aspect_ratio)
        skipped["box without area"] = skipped.get("box without area", 0) + int((~valid).sum())
        for k in np.flatnonzero(valid):
            records.append(
                PersonRecord(
                    image_path=path,
                    image_id=index,
                    ann_id=-1,
                    bbox=processed[k],
                    joints_img=np.zeros((joints.num_joints, 3)),
                    joints_vis=np.zeros(joints.num_joints, dtype=np.float32),
                    joints_cam=np.zeros((joints.num_joints, 3)),
                    root_cam=np.zeros(3),
                    focal=np.array(DEFAULT_FOCAL),
                    princpt=np.array([width / 2.0, height / 2.0]),
                    meta={"width": width, "height": height, "box": raw[k].tolist()},
                )
            )
    options = {"boxes": str(boxes), "crops_per_image": crops_per_image, "seed": seed, "aspect_ratio": aspect_ratio}
    dataset = PoseDataset("images", joints, False, root, records, split, options)
    dataset.skipped = {k: v for k, v in skipped.items() if v}
    logger.info("images %s: %d crops from %d images (%s)", root, len(records), len(images), boxes)
    return dataset
