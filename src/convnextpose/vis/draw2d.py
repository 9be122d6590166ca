"""2D skeleton overlays with OpenCV, coloured by body side (left blue, right orange, centre green)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import cv2
import numpy as np

from ..joints import JointSet, get_joint_set


class DrawnPose(Protocol):
    """What drawing reads of one person; :class:`~convnextpose.inference.PersonPose` is one (named here, not
    imported: the results import vis to plot themselves)."""

    box: np.ndarray  # (4,) [x, y, w, h] px
    joints_img: np.ndarray  # (J, 2) px
    joints_cam: np.ndarray  # (J, 3) mm, camera frame
    joints_rel: np.ndarray  # (J, 3) mm, root-relative
    confidence: np.ndarray  # (J,)
    joint_set: JointSet
    root_depth: float
    index: int
    track_id: int | None


# RGB, as every image inside the package is RGB.
SIDE_COLORS: dict[str, tuple[int, int, int]] = {
    "left": (30, 144, 255),
    "right": (255, 140, 0),
    "centre": (50, 205, 50),
}
BOX_COLOR = (255, 255, 0)


def bone_side(joint_set: JointSet, bone: tuple[int, int]) -> str:
    """'left' or 'right' if either end of the bone is on that side, else 'centre'."""
    sides = {joint_set.side(joint_set.names[i]) for i in bone}
    return "left" if "left" in sides else "right" if "right" in sides else "centre"


def _line_width(image: np.ndarray) -> int:
    return max(1, int(round(min(image.shape[:2]) / 160)))


def draw_skeleton(
    image: np.ndarray,
    joints_img: np.ndarray,
    joint_set: str | JointSet = "human36m",
    confidence: np.ndarray | None = None,
    min_confidence: float = 0.0,
    thickness: int | None = None,
    colors: dict[str, tuple[int, int, int]] | None = None,
) -> np.ndarray:
    """Draw one skeleton on ``image`` in place and return it.

    Args:
        image: (H, W, 3) uint8 RGB, modified in place.
        joints_img: (J, 2) px; non-finite joints and bones touching them are not drawn.
        joint_set: the joints' set (its skeleton and left/right names).
        confidence: optional (J,); joints below ``min_confidence`` are not drawn.
        thickness: line width px (default from the image size).
        colors: RGB per side, default :data:`SIDE_COLORS`.
    """
    joint_set = get_joint_set(joint_set)
    colors = colors or SIDE_COLORS
    points = np.asarray(joints_img, dtype=np.float64)
    if points.shape != (len(joint_set), 2):
        raise ValueError(f"joints_img must be ({len(joint_set)}, 2) for joint set {joint_set.name}, got {points.shape}")
    show = np.isfinite(points).all(axis=1) & (np.abs(points) < 1e6).all(axis=1)
    if confidence is not None:
        conf = np.asarray(confidence, dtype=np.float64)
        show &= ~(conf < min_confidence)  # NaN confidence (unknown) still draws
    width = thickness or _line_width(image)
    pixels = np.round(np.where(show[:, None], points, 0)).astype(np.int32)
    for bone in joint_set.skeleton:
        a, b = bone
        if show[a] and show[b]:
            color = colors[bone_side(joint_set, bone)]
            cv2.line(image, tuple(pixels[a]), tuple(pixels[b]), color, width, cv2.LINE_AA)
    for j, name in enumerate(joint_set.names):
        if show[j]:
            cv2.circle(image, tuple(pixels[j]), width + 1, colors[joint_set.side(name)], -1, cv2.LINE_AA)
    return image


def draw_box(image: np.ndarray, box: np.ndarray, label: str | None = None, color: tuple[int, int, int] = BOX_COLOR):
    """Draw an [x, y, w, h] box (and a label above it) on ``image`` in place and return it."""
    box = np.asarray(box, dtype=np.float64)
    if not np.isfinite(box).all():
        return image
    x, y, w, h = box
    width = max(1, _line_width(image) // 2)
    cv2.rectangle(image, (int(round(x)), int(round(y))), (int(round(x + w)), int(round(y + h))), color, width)
    if label:
        scale = max(0.4, min(image.shape[:2]) / 800)
        origin = (int(round(x)) + 2, max(int(round(y)) - 4, 12))
        cv2.putText(image, label, origin, cv2.FONT_HERSHEY_SIMPLEX, scale, (0, 0, 0), width + 2, cv2.LINE_AA)
        cv2.putText(image, label, origin, cv2.FONT_HERSHEY_SIMPLEX, scale, color, width, cv2.LINE_AA)
    return image


def draw_poses(
    image: np.ndarray,
    people: Sequence[DrawnPose],
    draw_boxes: bool = True,
    min_confidence: float = 0.0,
    show_depth: bool = True,
) -> np.ndarray:
    """A copy of ``image`` (RGB uint8) with every person's skeleton, and box and label.

    The label shows the track id (if any) or box index, and the root depth in metres.
    """
    canvas = np.ascontiguousarray(np.asarray(image, dtype=np.uint8)[..., :3]).copy()
    for person in people:
        if draw_boxes:
            name = f"#{person.track_id}" if person.track_id is not None else f"{person.index}"
            depth = f" {person.root_depth / 1000:.1f} m" if show_depth and np.isfinite(person.root_depth) else ""
            draw_box(canvas, person.box, name + depth)
        draw_skeleton(canvas, person.joints_img, person.joint_set, person.confidence, min_confidence)
    return canvas
