"""Person boxes: sanitising to the image and extending to the network's aspect ratio (section 6)."""

from __future__ import annotations

import numpy as np


def sanitize_boxes(
    boxes: np.ndarray, width: float | np.ndarray, height: float | np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Clip [x, y, w, h] boxes to the image as the release does.

    The release clips the corner to the image, then the far corner to ``(width-1, height-1)``
    measured from the clipped corner; boxes with no area are invalid.

    Args:
        boxes: (N, 4) or (4,) px.
        width, height: image size, scalars or (N,).

    Returns:
        The clipped boxes (same shape) and a bool validity mask ((N,) or scalar).
    """
    boxes = np.asarray(boxes, dtype=np.float64)
    single = boxes.ndim == 1
    b = boxes.reshape(-1, 4)
    x, y, w, h = b.T
    finite = np.isfinite(b).all(axis=1)
    x1 = np.maximum(0.0, x)
    y1 = np.maximum(0.0, y)
    x2 = np.minimum(np.asarray(width, dtype=np.float64) - 1, x1 + np.maximum(0.0, w - 1))
    y2 = np.minimum(np.asarray(height, dtype=np.float64) - 1, y1 + np.maximum(0.0, h - 1))
    valid = finite & (w * h > 0) & (x2 >= x1) & (y2 >= y1)
    out = np.stack([x1, y1, x2 - x1, y2 - y1], axis=1)
    out[~valid] = np.nan
    return (out[0], bool(valid[0])) if single else (out, valid)


def extend_boxes(boxes: np.ndarray, aspect_ratio: float = 1.0, scale: float = 1.25) -> np.ndarray:
    """Grow [x, y, w, h] boxes about their centre to ``w/h = aspect_ratio``, then scale both sides.

    Args:
        boxes: (N, 4) or (4,) px.
        aspect_ratio: input width / input height of the network.
        scale: extra margin (1.25 in the release).
    """
    boxes = np.asarray(boxes, dtype=np.float64)
    b = boxes.reshape(-1, 4)
    w, h = b[:, 2].copy(), b[:, 3].copy()
    cx, cy = b[:, 0] + w / 2.0, b[:, 1] + h / 2.0
    wide = w > aspect_ratio * h
    tall = w < aspect_ratio * h
    h = np.where(wide, w / aspect_ratio, h)
    w = np.where(tall, h * aspect_ratio, w)
    w, h = w * scale, h * scale
    out = np.stack([cx - w / 2.0, cy - h / 2.0, w, h], axis=1)
    return out.reshape(boxes.shape)


def process_boxes(
    boxes: np.ndarray,
    width: float | np.ndarray,
    height: float | np.ndarray,
    aspect_ratio: float = 1.0,
    scale: float = 1.25,
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`sanitize_boxes` then :func:`extend_boxes`: the release's ``process_bbox``.

    Returns:
        Extended boxes (NaN where invalid) and the validity mask.
    """
    clipped, valid = sanitize_boxes(boxes, width, height)
    return extend_boxes(clipped, aspect_ratio, scale), valid


def box_from_joints(joints_img: np.ndarray, margin: float = 1.2) -> np.ndarray:
    """[x, y, w, h] px around the finite 2D joints, grown by ``margin`` about its centre.

    The joints stop at the wrists, ankles and head centre, so a tight box around them is a bit
    smaller than the person; 1.2 makes up for it before the usual 1.25 crop margin.
    Returns NaNs where fewer than two joints are finite.
    """
    points = np.asarray(joints_img, dtype=np.float64)
    points = points[np.isfinite(points).all(axis=1)]
    if len(points) < 2:
        return np.full(4, np.nan)
    low, high = points.min(axis=0), points.max(axis=0)
    centre, size = (low + high) / 2.0, (high - low) * margin
    return np.concatenate([centre - size / 2.0, size])
