"""Video: re-crop each person from the previous frame's joints, keep identities, smooth in time."""

from __future__ import annotations

import logging
from typing import Any, Protocol

import numpy as np

from ..geometry import box_from_joints, cam2pixel
from ..image import ImageInput
from .detector import box_iou, run_detector, whole_frame
from .result import PersonPose, Poses
from .smoothing import PoseSmoother

logger = logging.getLogger(__name__)


class FrameEstimator(Protocol):
    """What the tracker uses of a :class:`~convnextpose.inference.PoseEstimator` (which builds trackers,
    so the tracker names the interface instead of importing the class)."""

    detector: Any
    fallback_to_frame: bool

    def load_image(self, image: ImageInput, color_order: str = "rgb") -> np.ndarray: ...

    def predict(self, image: ImageInput, boxes: Any = None, root_depths: Any = None, **options: Any) -> Poses: ...


class PoseTracker:
    """Frame-by-frame poses for video, with identities and One Euro smoothing of the 3D joints.

    Each frame, every tracked person is cropped from the box around their joints in the previous
    frame (so the detector is not needed every frame and a single person stays framed). The
    detector runs on the first frame, every ``redetect_every`` frames, and whenever nobody is
    tracked; detections that do not overlap a tracked person (IoU < ``iou_threshold``) start new
    tracks. A track ends when its box leaves the image, shrinks below ``min_box`` px, or its mean
    joint confidence falls under ``min_confidence``.

    Smoothing filters each person's camera-frame joints (mm) and re-projects them, so
    ``joints_img``, ``joints_cam`` and ``joints_rel`` stay consistent.

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
        max_scale_change: per frame, a track's box may grow or shrink by at most this factor, so
            one bad frame cannot shrink the crop onto a limb and lose the person.
    """

    def __init__(
        self,
        estimator: FrameEstimator,
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
        max_scale_change: float = 1.25,
    ) -> None:
        if max_scale_change < 1.0:
            raise ValueError(f"max_scale_change must be >= 1, got {max_scale_change}")
        self.estimator = estimator
        self.smooth = bool(smooth)
        self.smoother = PoseSmoother(min_cutoff=min_cutoff, beta=beta, d_cutoff=d_cutoff, freq=fps)
        self.redetect_every = int(redetect_every)
        self.iou_threshold = float(iou_threshold)
        self.min_confidence = float(min_confidence)
        self.min_box = float(min_box)
        self.max_people = max_people
        self.max_scale_change = float(max_scale_change)
        self.reset()

    def reset(self) -> None:
        """Forget all tracks and filter states."""
        self.frame_index = 0
        self._tracks: dict[int, np.ndarray] = {}  # track id -> box for the next frame
        self._scores: dict[int, float | None] = {}  # track id -> detection score it started with
        self._next_id = 0
        self.smoother.reset()

    def update(
        self,
        frame: ImageInput,
        timestamp: float | None = None,
        color_order: str = "rgb",
        boxes: np.ndarray | None = None,
        root_depths: np.ndarray | None = None,
        scores: np.ndarray | None = None,
        focal: Any = None,
        princpt: Any = None,
    ) -> Poses:
        """Poses in one frame, each with a ``track_id``; see the class docstring for the rules.

        Args:
            frame: path, bytes or (H, W, 3) uint8 array.
            timestamp: seconds, for the filter (default: frame index / fps).
            color_order: ``"rgb"`` or ``"bgr"`` for arrays.
            boxes: (N, 4) boxes for this frame from elsewhere (e.g. a detections file); they
                replace re-cropping and detection, and take the id of the track they overlap most.
            root_depths: (N,) mm for ``boxes``.
            scores: (N,) detection scores for ``boxes``.
            focal, princpt: camera for this frame (default: the estimator's).
        """
        image = self.estimator.load_image(frame, color_order)
        if boxes is not None:
            boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
            ids = self._match_given(boxes)
            scores = None if scores is None else np.asarray(scores, dtype=np.float64).reshape(-1)
        else:
            ids, boxes, scores = self._tracked_and_detected(image)
            root_depths = None
        poses = self.estimator.predict(
            image, boxes, root_depths, focal=focal, princpt=princpt, color_order="rgb", scores=scores
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
            box = self._next_box(person.joints_img, boxes[person.index])
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
                self._scores.setdefault(track_id, person.score)
        poses[:] = people
        self._tracks = next_tracks
        self._scores = {k: v for k, v in self._scores.items() if k in next_tracks}
        if self.smooth:
            self.smoother.keep_only(set(next_tracks))
        self.frame_index += 1
        return poses

    def _tracked_and_detected(self, image: np.ndarray) -> tuple[list[int], np.ndarray, np.ndarray]:
        """Boxes (and scores) from the tracks, plus new detections when it is time to detect."""
        ids = list(self._tracks)
        boxes = [self._tracks[i] for i in ids]
        scores = [self._scores.get(i) for i in ids]
        if not ids or (self.redetect_every and self.frame_index % self.redetect_every == 0):
            detected, detected_scores = run_detector(self.estimator.detector, image)
            if len(detected) == 0 and not ids and self.estimator.fallback_to_frame:
                detected, detected_scores = whole_frame(image)
            for k, box in enumerate(detected):
                if not boxes or box_iou(box[None], np.array(boxes)).max() < self.iou_threshold:
                    ids.append(self._new_id())
                    boxes.append(np.asarray(box, dtype=np.float64))
                    scores.append(None if detected_scores is None else float(detected_scores[k]))
        if self.max_people is not None and len(ids) > self.max_people:
            order = np.argsort([-(b[2] * b[3]) for b in boxes])[: self.max_people]
            ids, boxes, scores = [ids[i] for i in order], [boxes[i] for i in order], [scores[i] for i in order]
        score_array = np.array([np.nan if v is None else v for v in scores], dtype=np.float64)
        return ids, np.array(boxes, dtype=np.float64).reshape(-1, 4), score_array

    def _match_given(self, boxes: np.ndarray) -> list[int]:
        """Track ids for externally given boxes: greedy best-IoU match to the tracks, else new ids."""
        ids: list[int | None] = [None] * len(boxes)
        if self._tracks and len(boxes):
            track_ids = list(self._tracks)
            iou = box_iou(boxes, np.array([self._tracks[t] for t in track_ids]))
            for _ in range(min(iou.shape)):
                b, t = np.unravel_index(np.argmax(iou), iou.shape)
                if iou[b, t] < self.iou_threshold:
                    break
                ids[b] = track_ids[t]
                iou[b, :] = -1.0
                iou[:, t] = -1.0
        return [self._new_id() if i is None else i for i in ids]

    def _next_box(self, joints_img: np.ndarray, previous: np.ndarray) -> np.ndarray:
        """Box around this frame's joints, its size kept within ``max_scale_change`` of ``previous``."""
        box = box_from_joints(joints_img)
        if not np.isfinite(box).all():
            return box
        centre = box[:2] + box[2:] / 2.0
        size = np.clip(box[2:], previous[2:] / self.max_scale_change, previous[2:] * self.max_scale_change)
        return np.concatenate([centre - size / 2.0, size])

    def _new_id(self) -> int:
        self._next_id += 1
        return self._next_id - 1

    def _smooth(self, person: PersonPose, track_id: int, timestamp: float | None) -> None:
        joints_cam = self.smoother(track_id, person.joints_cam, timestamp)
        person.joints_cam = joints_cam
        person.joints_rel = joints_cam - joints_cam[person.root_index]
        person.joints_img = cam2pixel(joints_cam, person.focal, person.princpt)[:, :2]
        person.root_depth = float(joints_cam[person.root_index, 2])
