"""Encoding joints into the network's heatmap units and decoding its output back (section 6).

Heatmap units: x, y in cells of the output grid (H/8 x W/8 for XS and S, H/4 x W/4 for the 3-upsampling M and
L: pass the network's ``spec.output_size``), z in depth bins, where bin 0..D spans
root depth -1000 mm .. +1000 mm (a 2 m cube around the root). ``encode`` and ``decode`` are exact
inverses of each other for the same crop transform and root depth.
"""

from __future__ import annotations

import numpy as np

from .geometry.crop import affine_points, crop_transforms

DEFAULT_DEPTH_RANGE_MM = 2000.0
RELEASE_HEATMAP_STRIDE = 8


def _grid(input_size: tuple[int, int], output_size: tuple[int, int] | None) -> tuple[int, int]:
    if output_size is None:
        return input_size[0] // RELEASE_HEATMAP_STRIDE, input_size[1] // RELEASE_HEATMAP_STRIDE
    return int(output_size[0]), int(output_size[1])


def encode(
    joints_img: np.ndarray,
    root_depth: np.ndarray,
    transforms: np.ndarray,
    input_size: tuple[int, int] = (256, 256),
    depth_dim: int = 32,
    depth_range_mm: float = DEFAULT_DEPTH_RANGE_MM,
    output_size: tuple[int, int] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Image-space joints to network targets.

    Args:
        joints_img: (N, J, 3): u, v in original-image px, Z camera depth in mm.
        root_depth: (N,) root joint depth in mm.
        transforms: (N, 2, 3) image -> crop affine maps.
        input_size: (height, width) of the crop.
        depth_dim: D.
        depth_range_mm: depth extent around the root covered by the D bins.
        output_size: (height, width) of the heatmap grid, the network's ``spec.output_size``; default
            ``input_size / 8``, the release's 2-upsampling head.

    Returns:
        joints_hm (N, J, 3) float32 in heatmap units, and in_bounds (N, J) bool: inside the
        heatmap grid and the depth range, as the release's visibility rule.
    """
    joints_img = np.asarray(joints_img, dtype=np.float64)
    output_h, output_w = _grid(input_size, output_size)
    crop = affine_points(transforms, joints_img[..., :2])
    x = crop[..., 0] * output_w / input_size[1]
    y = crop[..., 1] * output_h / input_size[0]
    rel = joints_img[..., 2] - np.asarray(root_depth, dtype=np.float64).reshape(-1, 1)
    z = (rel / (depth_range_mm / 2.0) + 1.0) / 2.0 * depth_dim
    joints_hm = np.stack([x, y, z], axis=-1)
    in_bounds = (
        (x >= 0)
        & (x < output_w)
        & (y >= 0)
        & (y < output_h)
        & (z >= 0)
        & (z < depth_dim)
        & np.isfinite(joints_hm).all(-1)
    )
    return joints_hm.astype(np.float32), in_bounds


def decode(
    joints_hm: np.ndarray,
    root_depth: np.ndarray,
    inverse_transforms: np.ndarray,
    input_size: tuple[int, int] = (256, 256),
    depth_dim: int = 32,
    depth_range_mm: float = DEFAULT_DEPTH_RANGE_MM,
    output_size: tuple[int, int] | None = None,
) -> np.ndarray:
    """Network output to image space; the exact inverse of :func:`encode`.

    Args:
        joints_hm: (N, J, 3) heatmap units.
        root_depth: (N,) mm.
        inverse_transforms: (N, 2, 3) crop -> image affine maps.
        output_size: heatmap (height, width), as in :func:`encode`.

    Returns:
        (N, J, 3) float64: u, v in original-image px, Z in mm.
    """
    joints_hm = np.asarray(joints_hm, dtype=np.float64)
    output_h, output_w = _grid(input_size, output_size)
    crop_xy = np.stack(
        [joints_hm[..., 0] * input_size[1] / output_w, joints_hm[..., 1] * input_size[0] / output_h], axis=-1
    )
    image_xy = affine_points(inverse_transforms, crop_xy)
    rel = (joints_hm[..., 2] / depth_dim * 2.0 - 1.0) * (depth_range_mm / 2.0)
    depth = rel + np.asarray(root_depth, dtype=np.float64).reshape(-1, 1)
    return np.concatenate([image_xy, depth[..., None]], axis=-1)


def decode_with_boxes(
    joints_hm: np.ndarray,
    boxes: np.ndarray,
    root_depth: np.ndarray,
    input_size: tuple[int, int] = (256, 256),
    depth_dim: int = 32,
    depth_range_mm: float = DEFAULT_DEPTH_RANGE_MM,
    output_size: tuple[int, int] | None = None,
) -> np.ndarray:
    """Decode for crops taken straight from extended [x, y, w, h] boxes (no rotation, scale 1).

    Equals the release's ``x / W_hm * w + x0`` decoding for boxes of the input's aspect ratio.
    """
    boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    inverse = crop_transforms(boxes[:, :2] + boxes[:, 2:] / 2.0, boxes[:, 2:], input_size, inverse=True)
    return decode(joints_hm, root_depth, inverse, input_size, depth_dim, depth_range_mm, output_size)


def flip_back(joints_hm: np.ndarray, flip_permutation: np.ndarray, output_width: int) -> np.ndarray:
    """Map a prediction on the mirrored crop back to the original crop: ``x -> W_hm - 1 - x``, swap L/R.

    This is the release's flip-test rule, kept so released checkpoints give released numbers.
    Mirroring a 256-px crop tensor maps stride-8 heatmap x exactly to ``(256 - 1) / 8 - x = 31.875 - x``,
    so the rule shifts the averaged x by about 0.44 cells (3.5 crop px); root-relative 3D errors
    barely change because the shift is the same for every joint.

    Args:
        joints_hm: (..., J, 3) heatmap units, NumPy or torch.
        flip_permutation: (J,) from ``JointSet.flip_permutation``.
        output_width: W_hm.
    """
    flipped = (
        joints_hm[..., flip_permutation, :].clone()
        if hasattr(joints_hm, "clone")
        else np.array(joints_hm[..., flip_permutation, :], copy=True)
    )
    flipped[..., 0] = output_width - 1 - flipped[..., 0]
    return flipped
