"""Person detectors: where the boxes come from when the caller gives none.

A detector is any callable ``image (H, W, 3) uint8 RGB -> boxes`` or ``-> (boxes, scores)``, with
boxes (N, 4) [x, y, w, h] px and scores (N,). The built-in ones need no download:

- :class:`HOGPersonDetector`: OpenCV's HOG + linear SVM people detector (Dalal and Triggs, 2005).
  Fast and always available, but weak: it was trained on upright pedestrians about 100 px tall,
  so it misses people who are bent, seated, partly hidden or overlapping (see docs/inference.md
  for what it finds on the sample photos). Use a real detector for crowded scenes.
- :func:`whole_frame`: one box covering the whole image, for single-person photos and webcams.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import cv2
import numpy as np

Detector = Callable[[np.ndarray], Any]


def whole_frame(image: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """One box covering the whole image, score 1."""
    height, width = image.shape[:2]
    return np.array([[0.0, 0.0, float(width), float(height)]]), np.ones(1)


def _intersections(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Pairwise intersection areas of [x, y, w, h] boxes: (N, 4), (M, 4) -> (N, M)."""
    iw = np.minimum(a[:, None, 0] + a[:, None, 2], b[None, :, 0] + b[None, :, 2]) - np.maximum(
        a[:, None, 0], b[None, :, 0]
    )
    ih = np.minimum(a[:, None, 1] + a[:, None, 3], b[None, :, 1] + b[None, :, 3]) - np.maximum(
        a[:, None, 1], b[None, :, 1]
    )
    return np.clip(iw, 0, None) * np.clip(ih, 0, None)


def box_iou(boxes_a: np.ndarray, boxes_b: np.ndarray) -> np.ndarray:
    """Pairwise intersection over union of [x, y, w, h] boxes: (N, 4), (M, 4) -> (N, M)."""
    a = np.asarray(boxes_a, dtype=np.float64).reshape(-1, 4)
    b = np.asarray(boxes_b, dtype=np.float64).reshape(-1, 4)
    inter = _intersections(a, b)
    union = (a[:, 2] * a[:, 3])[:, None] + (b[:, 2] * b[:, 3])[None] - inter
    return np.where(union > 0, inter / np.where(union > 0, union, 1.0), 0.0)


def suppress_overlaps(boxes: np.ndarray, scores: np.ndarray, iou_threshold: float = 0.4) -> np.ndarray:
    """Greedy non-maximum suppression; indices of the kept boxes, best score first.

    Besides IoU, a box mostly (> 70%) inside a better one is dropped: HOG often fires on a
    person's upper body as well as on the whole person.
    """
    boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    order = np.argsort(-np.asarray(scores, dtype=np.float64), kind="stable")
    areas = boxes[:, 2] * boxes[:, 3]
    inter = _intersections(boxes, boxes)
    iou = inter / np.maximum(areas[:, None] + areas[None] - inter, 1e-9)
    inside = inter / np.maximum(np.minimum(areas[:, None], areas[None]), 1e-9)
    keep: list[int] = []
    for i in order:
        if all(iou[i, k] <= iou_threshold and inside[i, k] <= 0.7 for k in keep):
            keep.append(int(i))
    return np.array(keep, dtype=np.int64)


class HOGPersonDetector:
    """OpenCV's default HOG people detector, with border padding and overlap suppression.

    Args:
        score_threshold: minimum SVM score (OpenCV's detection weight) of a kept box.
        iou_threshold: overlap above which the weaker of two boxes is dropped.
        upscale: resize the image by this factor first; 2 finds people down to ~50 px tall at
            about 4x the time.
        pad: border (px, before upscaling) added around the image, so people touching the edge
            fit the 64x128 detection window.
        win_stride, scale: OpenCV ``detectMultiScale`` search step (px) and pyramid factor.
        max_people: keep at most this many boxes (best first); None keeps all.
    """

    def __init__(
        self,
        score_threshold: float = 0.3,
        iou_threshold: float = 0.4,
        upscale: float = 1.0,
        pad: int = 32,
        win_stride: int = 8,
        scale: float = 1.05,
        max_people: int | None = None,
    ) -> None:
        if upscale <= 0 or scale <= 1.0 or win_stride <= 0 or pad < 0:
            raise ValueError(
                f"need upscale > 0, scale > 1, win_stride > 0, pad >= 0; got {upscale}, {scale}, {win_stride}, {pad}"
            )
        self.score_threshold = float(score_threshold)
        self.iou_threshold = float(iou_threshold)
        self.upscale = float(upscale)
        self.pad = int(pad)
        self.win_stride = int(win_stride)
        self.scale = float(scale)
        self.max_people = max_people
        self._hog = cv2.HOGDescriptor()
        self._hog.setSVMDetector(cv2.HOGDescriptor_getDefaultPeopleDetector())

    def __call__(self, image: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(H, W, 3) uint8 RGB -> boxes (N, 4) [x, y, w, h] px and scores (N,), best first."""
        work = np.ascontiguousarray(image)
        if self.upscale != 1.0:
            work = cv2.resize(work, None, fx=self.upscale, fy=self.upscale, interpolation=cv2.INTER_LINEAR)
        pad = int(round(self.pad * self.upscale))
        if pad:
            work = cv2.copyMakeBorder(work, pad, pad, pad, pad, cv2.BORDER_REPLICATE)
        stride = (self.win_stride, self.win_stride)
        rects, weights = self._hog.detectMultiScale(work, winStride=stride, padding=stride, scale=self.scale)
        boxes = np.asarray(rects, dtype=np.float64).reshape(-1, 4)
        scores = np.asarray(weights, dtype=np.float64).reshape(-1)
        boxes[:, :2] -= pad
        boxes /= self.upscale
        height, width = image.shape[:2]
        # Keep the part inside the image; padding can put a box's edge outside it.
        x1, y1 = np.clip(boxes[:, 0], 0, width), np.clip(boxes[:, 1], 0, height)
        x2 = np.clip(boxes[:, 0] + boxes[:, 2], 0, width)
        y2 = np.clip(boxes[:, 1] + boxes[:, 3], 0, height)
        boxes = np.stack([x1, y1, x2 - x1, y2 - y1], axis=1)
        ok = (scores >= self.score_threshold) & (boxes[:, 2] > 1) & (boxes[:, 3] > 1)
        boxes, scores = boxes[ok], scores[ok]
        keep = suppress_overlaps(boxes, scores, self.iou_threshold)
        if self.max_people is not None:
            keep = keep[: self.max_people]
        return boxes[keep], scores[keep]


def run_detector(detector: Detector, image: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
    """Call a detector and normalise what it returns to boxes (N, 4) float64 and scores (N,) or None.

    Raises:
        ValueError: the detector returned something that is not (N, 4) boxes.
    """
    out = detector(image)
    scores = None
    if isinstance(out, tuple) and len(out) == 2:
        out, scores = out
    boxes = np.asarray(out, dtype=np.float64)
    if boxes.size == 0:
        return np.zeros((0, 4)), None if scores is None else np.zeros(0)
    if boxes.ndim != 2 or boxes.shape[1] not in (4, 5):
        raise ValueError(f"detector returned boxes of shape {boxes.shape}; expected (N, 4) [x, y, w, h] px")
    if boxes.shape[1] == 5 and scores is None:
        boxes, scores = boxes[:, :4], boxes[:, 4]
    if scores is not None:
        scores = np.asarray(scores, dtype=np.float64).reshape(-1)
        if len(scores) != len(boxes):
            raise ValueError(f"detector returned {len(boxes)} boxes but {len(scores)} scores")
    return boxes[:, :4], scores
