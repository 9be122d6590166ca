"""Result objects of :class:`~convnextpose.inference.PoseEstimator`: one person, and one image's people."""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..joints import JointSet, get_joint_set


def _json_array(values: np.ndarray | None, decimals: int) -> Any:
    """An array as nested lists of rounded floats, with NaN/inf as ``None`` (JSON has no NaN)."""
    if values is None:
        return None
    array = np.asarray(values, dtype=np.float64)
    rounded = np.round(array, decimals)
    flat = [None if not math.isfinite(v) else float(v) for v in rounded.ravel()]
    return np.array(flat, dtype=object).reshape(array.shape).tolist()


#: Attribute and JSON names of 0.1 -> the names that say each array's frame.
RENAMED = {"joints_2d": "joints_img", "joints_3d": "joints_cam", "joints_3d_rel": "joints_rel"}


def _renamed(old: str, new: str) -> property:
    """A deprecated alias of attribute ``new``, warning on every read and write."""

    def warn() -> None:
        warnings.warn(f"PersonPose.{old} is deprecated: use PersonPose.{new}", DeprecationWarning, stacklevel=3)

    def get(self: Any) -> np.ndarray:
        warn()
        return getattr(self, new)

    def set(self: Any, value: np.ndarray) -> None:
        warn()
        setattr(self, new, value)

    return property(get, set, doc=f"Deprecated alias of :attr:`{new}`.")


@dataclass
class PersonPose:
    """One person's 3D pose in one image.

    Attributes:
        box: (4,) float64, the person box [x, y, w, h] in original-image px, as given or detected.
        crop_box: (4,) float64, the box actually cropped: clipped to the image, grown to the
            network's aspect ratio and by 1.25 (the release's ``process_bbox``).
        joints_img: (J, 2) float64, original-image px.
        joints_cam: (J, 3) float64, mm, camera frame (X right, Y down, Z forward).
        joints_rel: (J, 3) float64, mm, camera axes with the root joint at the origin.
        confidence: (J,) float64 in [0, 1], heatmap mass near each joint's 2D peak.
        root_depth: Z of the root joint, mm.
        root_depth_source: ``"given"`` (caller, boxes file) or ``"prior"`` (box-size prior).
        focal: (2,) fx, fy in px used for back-projection.
        princpt: (2,) cx, cy in px.
        joint_set: the :class:`~convnextpose.joints.JointSet` of the J channels.
        joints_hm: (J, 3) float64, the raw network output (heatmap cells, depth bins).
        score: detection score of the box, or None where the caller gave the box without one.
        index: position of this person's box among the boxes of the image (given or detected).
        track_id: identity across video frames (:class:`~convnextpose.inference.PoseTracker`), else None.
    """

    box: np.ndarray
    crop_box: np.ndarray
    joints_img: np.ndarray
    joints_cam: np.ndarray
    joints_rel: np.ndarray
    confidence: np.ndarray
    root_depth: float
    root_depth_source: str
    focal: np.ndarray
    princpt: np.ndarray
    joint_set: JointSet
    joints_hm: np.ndarray | None = None
    score: float | None = None
    index: int = 0
    track_id: int | None = None

    # The 0.1 names did not say the frame; they work, with a DeprecationWarning, for one more release.
    joints_2d = _renamed("joints_2d", "joints_img")
    joints_3d = _renamed("joints_3d", "joints_cam")
    joints_3d_rel = _renamed("joints_3d_rel", "joints_rel")

    @property
    def joint_names(self) -> tuple[str, ...]:
        return self.joint_set.names

    @property
    def skeleton(self) -> tuple[tuple[int, int], ...]:
        """Bones as (parent, child) joint-index pairs."""
        return self.joint_set.skeleton

    @property
    def num_joints(self) -> int:
        return len(self.joint_set)

    @property
    def root_index(self) -> int:
        return self.joint_set.root_index

    def to_dict(self, decimals: int = 3) -> dict[str, Any]:
        """JSON-serialisable dict (plain lists and floats; non-finite values become ``None``)."""
        return {
            "index": int(self.index),
            "track_id": None if self.track_id is None else int(self.track_id),
            "box": _json_array(self.box, decimals),
            "crop_box": _json_array(self.crop_box, decimals),
            "score": None if self.score is None or not math.isfinite(self.score) else float(self.score),
            "joint_set": self.joint_set.name,
            "joint_names": list(self.joint_names),
            "skeleton": [list(b) for b in self.skeleton],
            "joints_img": _json_array(self.joints_img, decimals),
            "joints_cam": _json_array(self.joints_cam, decimals),
            "joints_rel": _json_array(self.joints_rel, decimals),
            "confidence": _json_array(self.confidence, 4),
            "root_depth": None if not math.isfinite(self.root_depth) else round(float(self.root_depth), decimals),
            "root_depth_source": self.root_depth_source,
            "focal": _json_array(self.focal, decimals),
            "princpt": _json_array(self.princpt, decimals),
        }

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> PersonPose:
        """Rebuild from :meth:`to_dict` output (``None`` values come back as NaN).

        Output of earlier versions, with ``joints_2d``/``joints_3d``/``joints_3d_rel``, reads too.
        """

        values = {**{RENAMED[k]: v for k, v in values.items() if k in RENAMED}, **values}

        def arr(key: str) -> np.ndarray:
            return np.array(values[key], dtype=np.float64)

        return cls(
            box=arr("box"),
            crop_box=arr("crop_box"),
            joints_img=arr("joints_img"),
            joints_cam=arr("joints_cam"),
            joints_rel=arr("joints_rel"),
            confidence=arr("confidence"),
            root_depth=float("nan") if values["root_depth"] is None else float(values["root_depth"]),
            root_depth_source=values["root_depth_source"],
            focal=arr("focal"),
            princpt=arr("princpt"),
            joint_set=get_joint_set(values["joint_set"]),
            score=values.get("score"),
            index=int(values.get("index", 0)),
            track_id=values.get("track_id"),
        )

    def plot(self, image: np.ndarray, **kwargs: Any) -> np.ndarray:
        """A copy of ``image`` (RGB uint8) with this skeleton drawn on it; see :func:`convnextpose.vis.draw_poses`."""
        from ..vis import draw_poses

        return draw_poses(image, [self], **kwargs)


class Poses(list):
    """The people found in one image: a ``list[PersonPose]`` with the image's metadata.

    Attributes:
        image_size: (height, width) px of the image, or None where it could not be read.
        source: the file path, or a short description of an array input.
        error: why the image could not be processed (then the list is empty), else None.
        warnings: non-fatal problems, e.g. boxes that were skipped.
    """

    def __init__(
        self,
        people: list[PersonPose] | None = None,
        image_size: tuple[int, int] | None = None,
        source: str = "",
        error: str | None = None,
        warnings: list[str] | None = None,
    ) -> None:
        list.__init__(self, people or [])
        self.image_size = image_size
        self.source = source
        self.error = error
        self.warnings = list(warnings or [])

    def __repr__(self) -> str:
        extra = f", error={self.error!r}" if self.error else ""
        return f"Poses({len(self)} people, source={self.source!r}, image_size={self.image_size}{extra})"

    def to_dict(self, decimals: int = 3) -> dict[str, Any]:
        """JSON-serialisable dict with the image metadata and every person."""
        return {
            "source": self.source,
            "image_size": None if self.image_size is None else [int(v) for v in self.image_size],
            "error": self.error,
            "warnings": list(self.warnings),
            "people": [p.to_dict(decimals) for p in self],
        }

    def plot(self, image: np.ndarray, **kwargs: Any) -> np.ndarray:
        """A copy of ``image`` (RGB uint8) with every skeleton and box drawn on it."""
        from ..vis import draw_poses

        return draw_poses(image, list(self), **kwargs)
