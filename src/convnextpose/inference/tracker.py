"""Video: re-crop each person from the previous frame's joints, keep identities, smooth in time."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import numpy as np

from ..geometry import cam2pixel
from .detector import box_iou, run_detector
from .result import PersonPose, Poses
from .smoothing import PoseSmoother

if TYPE_CHECKING:
    from .estimator import ImageInput, PoseEstimator

logger = logging.getLogger(__name__)


def box_from_joints(joints_2d: np.ndarray, margin: float = 1.2) -> np.ndarray:
    """[x, y, w, h] px around the finite 2D joints, grown by ``margin`` about its centre.

    The joints stop at the wrists, ankles and head centre, so a tight box around them is a bit
    smaller than the person; 1.2 makes up for it before the usual 1.25 crop margin.
    Returns NaNs where fewer than two joints are finite.
    """
    points = np.asarray(joints_2d, dtype=np.float64)
    points = points[np.isfinite(points).all(axis=1)]
    if len(points) < 2:
        return np.full(4, np.nan)
    low, high = points.min(axis=0), points.max(axis=0)
    centre, size = (low + high) / 2.0, (high - low) * margin
    return np.concatenate([centre - size / 2.0, size])


class PoseTracker:
    """Frame-by-frame poses for video, with identities and One Euro smoothing of the 3D joints.

    Each frame, every tracked person is cropped from the box around their joints in the previous
    frame (so the detector is not needed every frame and a single person stays framed). The
    detector runs on the first frame, every ``redetect_every`` frames, and whenever nobody is
    tracked; detections that do not overlap a tracked person (IoU < ``iou_threshold``) start new
    tracks. A track ends when its box leaves the image, shrinks below ``min_box`` px, or its mean
    joint confidence falls under ``min_confidence``.

    Smoothing filters each person's camera-frame joints (mm) and re-projects them, so
    ``joints_2d``, ``joints_3d`` and ``joints_3d_rel`` stay consistent.

    Args:
        estimator: the :class:`~convnextpose.inference.PoseEstimator` to run.
        smooth: apply the One Euro filter.
        min_cutoff, beta, d_cutoff: One Euro parameters for mm (see :mod:`.smoothing`).
        fps: frame rate, for the filter's time step when no timestamps are given.
        redetect_every: run the detector every N frames as well (0: only when nobody is tracked).
        iou_threshold: overlap above which a detection is the same person as a track.
        min_confidence: mean joint confidence below which a track is dropped.
        min_box: smallest box side (px) a track may have.
        max_people: keep at most this many tracks (largest boxes first); None for no limit.
    """

    def __init__(
        self,
        estimator: PoseEstimator,
        smooth: bool = True,
        min_cutoff: float = 1.0,
        beta: float = 0.01,
        d_cutoff: float = 1.0,
        fps: float = 30.0,
        redetect_every: int = 0,
        iou_threshold: float = 0.3,
        min_confidence: float = 0.0,
        min_box: float = 8.0,
        max_people: int | None = None,
    ) -> None:
        self.estimator = estimator
        self.smooth = bool(smooth)
        self.smoother = PoseSmoother(min_cutoff=min_cutoff, beta=beta, d_cutoff=d_cutoff, freq=fps)
        self.redetect_every = int(redetect_every)
        self.iou_threshold = float(iou_threshold)
        self.min_confidence = float(min_confidence)
        self.min_box = float(min_box)
        self.max_people = max_people
        self.reset()

    def reset(self) -> None:
        """Forget all tracks and filter states."""
        self.frame_index = 0
        self._tracks: dict[int, np.ndarray] = {}  # track id -> box for the next frame
        self._next_id = 0
        self.smoother.reset()

    def update(
        self,
        frame: ImageInput,
        timestamp: float | None = None,
        color_order: str = "rgb",
        focal: Any = None,
        princpt: Any = None,
    ) -> Poses:
        """Poses in one frame, each with a ``track_id``; see the class docstring for the rules.

        Args:
            frame: path, bytes or (H, W, 3) uint8 array.
            timestamp: seconds, for the filter (default: frame index / fps).
            color_order: ``"rgb"`` or ``"bgr"`` for arrays.
        """
        image = self.estimator._load(frame, color_order)
        ids = list(self._tracks)
        boxes = [self._tracks[i] for i in ids]
        if not ids or (self.redetect_every and self.frame_index % self.redetect_every == 0):
            detected, _ = run_detector(self.estimator.detector, image)
            if len(detected) == 0 and not ids and self.estimator.fallback_to_frame:
                height, width = image.shape[:2]
                detected = np.array([[0.0, 0.0, float(width), float(height)]])
            for box in detected:
                if not boxes or box_iou(box[None], np.array(boxes)).max() < self.iou_threshold:
                    ids.append(self._next_id)
                    boxes.append(np.asarray(box, dtype=np.float64))
                    self._next_id += 1
        if self.max_people is not None and len(ids) > self.max_people:
            order = np.argsort([-(b[2] * b[3]) for b in boxes])[: self.max_people]
            ids, boxes = [ids[i] for i in order], [boxes[i] for i in order]
        poses = self.estimator.predict(
            image, np.array(boxes).reshape(-1, 4), focal=focal, princpt=princpt, color_order="rgb"
        )
        poses.source = f"frame {self.frame_index}"
        people: list[PersonPose] = []
        next_tracks: dict[int, np.ndarray] = {}
        for person in poses:
            track_id = ids[person.index]
            person.track_id = track_id
            if self.smooth:
                self._smooth(person, track_id, timestamp)
            people.append(person)
            box = box_from_joints(person.joints_2d)
            height, width = image.shape[:2]
            confident = not np.isfinite(person.confidence).any() or person.confidence.mean() >= self.min_confidence
            inside = (
                np.isfinite(box).all()
                and box[2] >= self.min_box
                and box[3] >= self.min_box
                and box[0] < width
                and box[1] < height
                and box[0] + box[2] > 0
                and box[1] + box[3] > 0
            )
            if confident and inside:
                next_tracks[track_id] = box
        poses[:] = people
        self._tracks = next_tracks
        if self.smooth:
            self.smoother.keep_only(set(next_tracks))
        self.frame_index += 1
        return poses

    def _smooth(self, person: PersonPose, track_id: int, timestamp: float | None) -> None:
        joints_3d = self.smoother(track_id, person.joints_3d, timestamp)
        person.joints_3d = joints_3d
        person.joints_3d_rel = joints_3d - joints_3d[person.root_index]
        person.joints_2d = cam2pixel(joints_3d, person.focal, person.princpt)[:, :2]
        person.root_depth = float(joints_3d[person.root_index, 2])
