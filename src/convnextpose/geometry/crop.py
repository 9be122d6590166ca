"""Affine crop transforms between image pixels and network-input pixels (section 6).

The transform maps a box's centre to the crop centre and its half-width and half-height to the
crop's, with rotation (degrees, counter-clockwise in the image as the release applies it) and an
extra scale. A horizontal flip is applied to the image beforehand (``x -> width - 1 - x``).
"""

from __future__ import annotations

import numpy as np


def crop_transforms(
    centers: np.ndarray,
    sizes: np.ndarray,
    output_size: tuple[int, int],
    scales: np.ndarray | float = 1.0,
    rotations: np.ndarray | float = 0.0,
    inverse: bool = False,
) -> np.ndarray:
    """2x3 affine matrices from image pixels to crop pixels (or back, with ``inverse=True``).

    Args:
        centers: (N, 2) box centres, px.
        sizes: (N, 2) box width and height, px.
        output_size: (height, width) of the crop.
        scales: (N,) or scalar: the box is multiplied by this before cropping.
        rotations: (N,) or scalar, degrees.
        inverse: give crop -> image instead.

    Returns:
        (N, 2, 3) float64.
    """
    centers = np.asarray(centers, dtype=np.float64).reshape(-1, 2)
    sizes = np.asarray(sizes, dtype=np.float64).reshape(-1, 2)
    n = len(centers)
    scales = np.broadcast_to(np.asarray(scales, dtype=np.float64), (n,))
    theta = np.deg2rad(np.broadcast_to(np.asarray(rotations, dtype=np.float64), (n,)))
    cos, sin = np.cos(theta), np.sin(theta)
    half_w, half_h = sizes[:, 0] * scales * 0.5, sizes[:, 1] * scales * 0.5
    # Columns: the box's "right" and "down" half-axes in the image, rotated as the release does.
    src_axes = np.stack([np.stack([half_w * cos, half_w * sin], 1), np.stack([-half_h * sin, half_h * cos], 1)], 2)
    out_h, out_w = output_size
    dst_axes = np.broadcast_to(np.array([[out_w * 0.5, 0.0], [0.0, out_h * 0.5]]), (n, 2, 2))
    dst_center = np.broadcast_to(np.array([out_w * 0.5, out_h * 0.5]), (n, 2))
    if inverse:
        src_axes, dst_axes = dst_axes, src_axes
        centers, dst_center = dst_center, centers
    linear = dst_axes @ np.linalg.inv(src_axes)
    offset = dst_center - np.einsum("nij,nj->ni", linear, centers)
    return np.concatenate([linear, offset[:, :, None]], axis=2)


def crop_transform(
    box: np.ndarray,
    output_size: tuple[int, int],
    scale: float = 1.0,
    rotation: float = 0.0,
    inverse: bool = False,
) -> np.ndarray:
    """The (2, 3) transform for one [x, y, w, h] box (see :func:`crop_transforms`)."""
    box = np.asarray(box, dtype=np.float64)
    center = box[:2] + box[2:] / 2.0
    return crop_transforms(center[None], box[None, 2:], output_size, scale, rotation, inverse)[0]


def affine_points(transforms: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Apply (2, 3) or (N, 2, 3) affine maps to (..., 2) or (N, J, 2) points; extra columns pass through.

    Args:
        transforms: (2, 3) or (N, 2, 3).
        points: (J, >=2) with a (2, 3) map, or (N, J, >=2) with (N, 2, 3) maps.
    """
    points = np.asarray(points, dtype=np.float64)
    transforms = np.asarray(transforms, dtype=np.float64)
    xy = points[..., :2]
    if transforms.ndim == 2:
        moved = xy @ transforms[:, :2].T + transforms[:, 2]
    else:
        moved = np.einsum("nij,nkj->nki", transforms[:, :, :2], xy) + transforms[:, None, :, 2]
    return np.concatenate([moved, points[..., 2:]], axis=-1)


def invert_affine(transforms: np.ndarray) -> np.ndarray:
    """Inverse of (2, 3) or (N, 2, 3) affine maps."""
    transforms = np.asarray(transforms, dtype=np.float64)
    linear_inv = np.linalg.inv(transforms[..., :2])
    offset = -np.einsum("...ij,...j->...i", linear_inv, transforms[..., 2])
    return np.concatenate([linear_inv, offset[..., None]], axis=-1)
