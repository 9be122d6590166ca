"""Soft shadows of people on the floor: a key-light shadow and a contact shadow of each capsule caster."""

from __future__ import annotations

import cv2
import numpy as np

from ..camera import Camera
from ..people.person import Capsule
from .raster import NEAR_MM


def capsule_shadow(
    floor: np.ndarray, camera: Camera, capsules: list[Capsule], light_dir: np.ndarray, step: int = 1
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Soft shadows of capsules on the floor (Z = 0), for the pixels that see the floor.

    The key-light shadow projects each capsule onto the floor along ``light_dir`` and softens it with the height of
    the caster; the contact (ambient) shadow projects straight down and fades within ~25 cm of the floor. Shadows are
    evaluated on every ``step``-th pixel of the region of the image they can reach (they are soft), all casters at
    once, then interpolated.

    Args:
        floor: (H, W, 2) float32 world x, y of the floor point each pixel sees (NaN where it sees something else).
        camera: the camera of those pixels.

    Returns:
        (K,) int64 linear indices of the shadowed pixels, their (K,) key-light visibility and (K,) ambient
        occlusion in [0, 1].
    """
    h, w = floor.shape[:2]
    none = np.zeros(0, np.int64), np.zeros(0, np.float32), np.zeros(0, np.float32)
    jobs = _jobs(capsules, np.asarray(light_dir, np.float64))
    if jobs is None:
        return none
    key, pa, pb, za, zb, radius, lo, hi = jobs
    boxes = _image_boxes(camera, lo, hi)
    live = [j for j, box in enumerate(boxes) if box is not None]
    if not live:
        return none
    x0, y0 = min(boxes[j][0] for j in live), min(boxes[j][1] for j in live)
    x1, y1 = max(boxes[j][2] for j in live), max(boxes[j][3] for j in live)
    grid = floor[y0:y1:step, x0:x1:step]  # the region's floor, every step-th pixel
    key_vis = np.ones(grid.shape[:2], np.float32)
    ao = np.ones(grid.shape[:2], np.float32)
    d = (pb - pa).astype(np.float32)
    for j in live:
        # The grid cells inside this shadow's image box, then the floor points inside its floor rectangle.
        bx0, by0, bx1, by1 = boxes[j]
        gy0, gx0, gy1, gx1 = (
            -(-(by0 - y0) // step),
            -(-(bx0 - x0) // step),
            -(-(by1 - y0) // step),
            -(-(bx1 - x0) // step),
        )
        xy = grid[gy0:gy1, gx0:gx1]
        rows, cols = np.nonzero(
            (xy[..., 0] >= lo[j, 0]) & (xy[..., 0] <= hi[j, 0]) & (xy[..., 1] >= lo[j, 1]) & (xy[..., 1] <= hi[j, 1])
        )
        if not len(rows):
            continue
        rel = xy[rows, cols] - pa[j].astype(np.float32)
        t = np.clip((rel @ d[j]) / max(float(d[j] @ d[j]), 1e-9), 0, 1)
        q = rel - t[:, None] * d[j]
        dist = np.sqrt(np.einsum("ij,ij->i", q, q))
        height = za[j] + t * (zb[j] - za[j])
        rows, cols = rows + gy0, cols + gx0
        if key[j]:
            rad = radius[j] * (1.0 + 0.15 * height / 1000.0)
            soft = 0.3 * radius[j] + 0.08 * height
            value = np.clip((rad + soft - dist) / (2 * soft), 0, 1)
            key_vis[rows, cols] = np.minimum(key_vis[rows, cols], 1 - value)
        else:
            reach = radius[j] + 0.6 * height + 20.0
            value = np.clip(1 - dist / reach, 0, 1) ** 1.5 * np.exp(-height / 250.0)
            ao[rows, cols] = np.minimum(ao[rows, cols], 1 - 0.75 * value)
    if step > 1:  # back to every pixel of the region, and only where the floor is
        size = (x1 - x0, y1 - y0)
        key_vis = cv2.resize(key_vis, size, interpolation=cv2.INTER_LINEAR)
        ao = cv2.resize(ao, size, interpolation=cv2.INTER_LINEAR)
        off_floor = np.isnan(floor[y0:y1, x0:x1, 0])
        key_vis[off_floor], ao[off_floor] = 1.0, 1.0
    rows, cols = np.nonzero((key_vis < 1) | (ao < 1))
    return (rows + y0) * w + cols + x0, key_vis[rows, cols], ao[rows, cols]


def _jobs(capsules: list[Capsule], light: np.ndarray) -> tuple[np.ndarray, ...] | None:
    """Per capsule and kind (key light, contact): whether it is the key light's (J,), the floor segment of its
    shadow's axis (J, 2) x 2, its end heights (J,) x 2, radius (J,), and the floor rectangle it can darken (lo, hi
    (J, 2)); None without casters."""
    if not capsules:
        return None
    ends = np.stack([np.asarray(c.ends, np.float64) for c in capsules])  # (C, 2, 3)
    radius = np.array([c.radius for c in capsules], np.float64)
    a, b = ends[:, 0], ends[:, 1]
    out = []
    for key, direction in ((True, light), (False, np.array([0.0, 0.0, 1.0]))):
        if direction[2] < 0.05:
            continue
        pa = a[:, :2] - direction[:2] * a[:, 2:] / direction[2]
        pb = b[:, :2] - direction[:2] * b[:, 2:] / direction[2]
        low = np.minimum(a[:, 2], b[:, 2])
        if key:
            reach, keep = radius * 1.5 + 0.1 * np.maximum(a[:, 2], b[:, 2]) + 30, np.ones(len(a), bool)
        else:  # the contact shadow has faded below 10 % 600 mm above the floor
            reach, keep = radius + 0.6 * low + 20, low <= 600
        lo = np.minimum(pa, pb) - reach[:, None]
        hi = np.maximum(pa, pb) + reach[:, None]
        out.append((np.full(len(a), key), pa, pb, a[:, 2], b[:, 2], radius, lo, hi, keep))
    if not out:
        return None
    key, pa, pb, za, zb, r, lo, hi, keep = (np.concatenate(parts) for parts in zip(*out))
    return key[keep], pa[keep], pb[keep], za[keep], zb[keep], r[keep], lo[keep], hi[keep]


def _image_boxes(camera: Camera, lo: np.ndarray, hi: np.ndarray) -> list[tuple[int, int, int, int] | None]:
    """Pixel bounds (x0, y0, x1, y1) of the images of floor rectangles (J, 2) (the whole image for one reaching
    behind the camera), None for those outside the image."""
    corners = np.stack([np.stack([x[:, 0], y[:, 1], np.zeros(len(lo))], 1) for x in (lo, hi) for y in (lo, hi)], 1)
    uvz = camera.world_to_image(corners)  # (J, 4, 3)
    behind = (uvz[..., 2] <= NEAR_MM).any(1)
    lo_px = np.maximum(np.floor(uvz[..., :2].min(1)).astype(int), 0)
    hi_px = np.minimum(np.ceil(uvz[..., :2].max(1)).astype(int) + 1, [camera.width, camera.height])
    boxes = []
    for j in range(len(lo)):
        if behind[j]:
            boxes.append((0, 0, camera.width, camera.height))
        elif hi_px[j, 0] > lo_px[j, 0] and hi_px[j, 1] > lo_px[j, 1]:
            boxes.append((int(lo_px[j, 0]), int(lo_px[j, 1]), int(hi_px[j, 0]), int(hi_px[j, 1])))
        else:
            boxes.append(None)
    return boxes
