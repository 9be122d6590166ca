"""Pinhole camera maps between world, camera and pixel coordinates (DATA_FORMATS.md section 3)."""

from __future__ import annotations

import numpy as np


def _broadcast_intrinsics(values: np.ndarray | tuple[float, float], points: np.ndarray) -> np.ndarray:
    """(2,) or (..., 2) focal/principal point -> shape broadcastable against (..., J, 2) points."""
    values = np.asarray(values, dtype=np.float64)
    if values.shape[-1] != 2:
        raise ValueError(f"focal and principal point need 2 values (x, y), got shape {values.shape}")
    if values.ndim > 1:
        values = values[..., None, :]
    return values if points.ndim > 1 else values.reshape(2)


def cam2pixel(points_cam: np.ndarray, focal: np.ndarray, princpt: np.ndarray) -> np.ndarray:
    """Project camera-frame points to pixels, keeping depth: ``u = X/Z fx + cx``, ``v = Y/Z fy + cy``.

    Args:
        points_cam: (..., J, 3) mm, camera frame.
        focal: (2,) or (..., 2) px, per batch element.
        princpt: (2,) or (..., 2) px.

    Returns:
        (..., J, 3): u, v in pixels and Z in mm.
    """
    points_cam = np.asarray(points_cam, dtype=np.float64)
    f = _broadcast_intrinsics(focal, points_cam)
    c = _broadcast_intrinsics(princpt, points_cam)
    z = points_cam[..., 2:3]
    uv = points_cam[..., :2] / z * f + c
    return np.concatenate([uv, z], axis=-1)


def pixel2cam(points_img: np.ndarray, focal: np.ndarray, princpt: np.ndarray) -> np.ndarray:
    """Back-project pixels with depth to the camera frame; the exact inverse of :func:`cam2pixel`.

    Args:
        points_img: (..., J, 3): u, v in pixels and Z in mm.

    Returns:
        (..., J, 3) mm, camera frame.
    """
    points_img = np.asarray(points_img, dtype=np.float64)
    f = _broadcast_intrinsics(focal, points_img)
    c = _broadcast_intrinsics(princpt, points_img)
    z = points_img[..., 2:3]
    xy = (points_img[..., :2] - c) / f * z
    return np.concatenate([xy, z], axis=-1)


def world2cam(points_world: np.ndarray, rotation: np.ndarray, translation: np.ndarray) -> np.ndarray:
    """``X_cam = R @ X_world + t`` (Human3.6M convention, t in mm).

    Args:
        points_world: (..., J, 3) mm.
        rotation: (3, 3) or (..., 3, 3).
        translation: (3,) or (..., 3) mm.
    """
    points_world = np.asarray(points_world, dtype=np.float64)
    rotation = np.asarray(rotation, dtype=np.float64)
    translation = np.asarray(translation, dtype=np.float64).reshape(rotation.shape[:-2] + (1, 3))
    return np.einsum("...ij,...nj->...ni", rotation, points_world) + translation


def cam2world(points_cam: np.ndarray, rotation: np.ndarray, translation: np.ndarray) -> np.ndarray:
    """Inverse of :func:`world2cam`: ``X_world = R^T (X_cam - t)``."""
    points_cam = np.asarray(points_cam, dtype=np.float64)
    rotation = np.asarray(rotation, dtype=np.float64)
    translation = np.asarray(translation, dtype=np.float64).reshape(rotation.shape[:-2] + (1, 3))
    return np.einsum("...ji,...nj->...ni", rotation, points_cam - translation)
