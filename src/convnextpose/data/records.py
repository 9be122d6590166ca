"""The common record type every loader produces, and the dataset that holds them.

Frames: ``joints_img`` is u, v in original-image pixels plus the absolute camera depth Z in mm (0 for
2D-only sets); ``joints_cam`` and ``root_cam`` are mm in the camera frame; ``bbox`` is the processed
box [x, y, w, h] px the crop is taken from (clipped, grown to the input aspect ratio, x1.25).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..joints import JointSet

logger = logging.getLogger(__name__)

MAX_LISTED_PROBLEMS = 20


@dataclass(slots=True)
class PersonRecord:
    """One annotated (or detected) person in one image.

    Attributes:
        image_path: the image file.
        image_id: the image's id in the annotation file.
        ann_id: the annotation's id (-1 for a detection without an annotation).
        bbox: (4,) float64 processed box [x, y, w, h], px: the crop region.
        joints_img: (J, 3) float64: u, v px and absolute camera depth Z mm (Z = 0 for 2D sets).
        joints_vis: (J,) float32 0/1.
        joints_cam: (J, 3) float64 mm, camera frame (zeros for 2D sets).
        root_cam: (3,) float64 mm, camera frame: ground truth, or the detector's root with bbox_root.
        focal: (2,) px.
        princpt: (2,) px.
        meta: dataset-specific fields (subject, action_idx, sequence, image size, is_valid, ...).
    """

    image_path: Path
    image_id: int
    ann_id: int
    bbox: np.ndarray
    joints_img: np.ndarray
    joints_vis: np.ndarray
    joints_cam: np.ndarray
    root_cam: np.ndarray
    focal: np.ndarray
    princpt: np.ndarray
    meta: dict = field(default_factory=dict)


class DatasetError(ValueError):
    """Annotations that cannot be used: the message names the file, the record and what is wrong."""


class Problems:
    """Collects what is wrong with annotation records, so one error can list them all.

    Args:
        dataset: name used in the message.
    """

    def __init__(self, dataset: str) -> None:
        self.dataset = dataset
        self.items: list[str] = []

    def add(self, path: Path | str, record: str, message: str) -> None:
        """Note a problem with one record (``record`` like "annotation id 12")."""
        self.items.append(f"{path}: {record}: {message}")

    def __len__(self) -> int:
        return len(self.items)

    def __bool__(self) -> bool:
        return bool(self.items)

    def message(self) -> str:
        shown = self.items[:MAX_LISTED_PROBLEMS]
        more = len(self.items) - len(shown)
        tail = f"\n  ... and {more} more" if more else ""
        return f"{self.dataset}: {len(self.items)} malformed record(s):\n  " + "\n  ".join(shown) + tail

    def resolve(self, strict: bool) -> None:
        """Raise :class:`DatasetError` listing every problem (strict), or log them as a warning."""
        if not self.items:
            return
        if strict:
            raise DatasetError(self.message())
        logger.warning("%s; these records are skipped (strict=False)", self.message())


@dataclass
class PoseDataset:
    """The records of one benchmark split.

    Attributes:
        name: "human36m", "muco", "mupots", "mpii" or "coco".
        joint_set: the joint set of ``joints_img`` / ``joints_cam`` (channel order).
        has_depth: whether the set has 3D annotations (False for MPII and COCO).
        root: the dataset folder.
        records: one per person.
        split: "train" or "test".
        options: the loading options (protocol, subsample, ...).
        problems: malformed records that were skipped (only with ``strict=False``).
        skipped: reason -> count of records the release also skips (e.g. boxes without area).
    """

    name: str
    joint_set: JointSet
    has_depth: bool
    root: Path
    records: list[PersonRecord]
    split: str = "train"
    options: dict = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    skipped: dict[str, int] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.records)

    def __getitem__(self, index: int) -> PersonRecord:
        return self.records[index]

    def __iter__(self) -> Iterator[PersonRecord]:
        return iter(self.records)

    def stack(self, attribute: str) -> np.ndarray:
        """One record attribute stacked over all records, e.g. ``stack("joints_cam")`` -> (N, J, 3)."""
        if attribute not in PersonRecord.__slots__ or attribute in ("image_path", "meta"):
            raise ValueError(f"cannot stack {attribute!r}; choose an array attribute of PersonRecord")
        values = [getattr(r, attribute) for r in self.records]
        if not values:
            return np.zeros((0,))
        return np.stack([np.asarray(v) for v in values])

    def __repr__(self) -> str:
        return (
            f"PoseDataset(name={self.name!r}, split={self.split!r}, records={len(self.records)}, "
            f"joints={self.joint_set.num_joints}, has_depth={self.has_depth}, root={str(self.root)!r})"
        )


def build_records(
    image_paths: list[Path],
    image_ids: np.ndarray,
    ann_ids: np.ndarray,
    bboxes: np.ndarray,
    joints_img: np.ndarray,
    joints_vis: np.ndarray,
    joints_cam: np.ndarray,
    root_cam: np.ndarray,
    focal: np.ndarray,
    princpt: np.ndarray,
    metas: list[dict],
) -> list[PersonRecord]:
    """Records from stacked (N, ...) arrays; each record holds views into them (no copies)."""
    bboxes = np.asarray(bboxes, np.float64)
    joints_img = np.asarray(joints_img, np.float64)
    joints_vis = np.asarray(joints_vis, np.float32)
    joints_cam = np.asarray(joints_cam, np.float64)
    root_cam = np.asarray(root_cam, np.float64)
    focal = np.asarray(focal, np.float64)
    princpt = np.asarray(princpt, np.float64)
    image_ids = np.asarray(image_ids).tolist()
    ann_ids = np.asarray(ann_ids).tolist()
    return [
        PersonRecord(
            image_paths[i],
            image_ids[i],
            ann_ids[i],
            bboxes[i],
            joints_img[i],
            joints_vis[i],
            joints_cam[i],
            root_cam[i],
            focal[i],
            princpt[i],
            metas[i],
        )  # fmt: skip
        for i in range(len(image_paths))
    ]
