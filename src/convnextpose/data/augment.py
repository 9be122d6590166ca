"""Training augmentation of the release (DATA_FORMATS.md section 6), as pure functions of a generator.

Parameters are drawn in the release's order: scale ``1 + 0.25 clip(N(0,1), -1, 1)``; rotation
``30 clip(N(0,1), -2, 2)`` degrees with probability 0.6; a horizontal flip with probability 0.5; a colour
scale per channel in [0.8, 1.2]; and with probability 0.5 a synthetic occlusion: a rectangle placed in
the box, of up to 70% of its area (aspect 0.3..3.3), filled with uniform noise in the original image
(as in the release, a very tall or wide one may overhang the box; its centre stays inside).
Where the release would retry the occlusion rectangle forever (boxes reaching outside the image), we
stop after ``OCCLUSION_TRIES`` draws and skip the occlusion.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from ..codec import DEFAULT_DEPTH_RANGE_MM, encode
from ..geometry import crop_transforms

SCALE_FACTOR = 0.25
ROTATION_FACTOR = 30.0
ROTATION_PROBABILITY = 0.6
FLIP_PROBABILITY = 0.5
COLOR_FACTOR = 0.2
OCCLUSION_PROBABILITY = 0.5
OCCLUSION_MAX_AREA = 0.7
OCCLUSION_TRIES = 20


@dataclass(frozen=True)
class Augmentation:
    """One sample's augmentation.

    Attributes:
        scale: box scale factor.
        rotation: degrees.
        flip: mirror horizontally (and swap left/right joints).
        color_scale: (3,) per-channel factors, RGB.
        occlusion: (x, y, w, h) px rectangle in the original image, or None.
        noise_seed: seed of the occluder's noise.
    """

    scale: float = 1.0
    rotation: float = 0.0
    flip: bool = False
    color_scale: tuple[float, float, float] = (1.0, 1.0, 1.0)
    occlusion: tuple[int, int, int, int] | None = None
    noise_seed: int = 0


NO_AUGMENTATION = Augmentation()


def sample_augmentation(
    rng: np.random.Generator, bbox: np.ndarray, image_width: int, image_height: int, occlusion: bool = True
) -> Augmentation:
    """Draw one sample's augmentation as the release does.

    Args:
        rng: the sample's generator.
        bbox: (4,) processed box [x, y, w, h] px (the occluder is placed inside it).
        image_width, image_height: px.
        occlusion: allow synthetic occlusion.
    """
    scale = float(np.clip(rng.standard_normal(), -1.0, 1.0) * SCALE_FACTOR + 1.0)
    rot_draw = float(np.clip(rng.standard_normal(), -2.0, 2.0) * ROTATION_FACTOR)
    rotation = rot_draw if rng.random() <= ROTATION_PROBABILITY else 0.0
    flip = bool(rng.random() <= FLIP_PROBABILITY)
    color = tuple(float(c) for c in rng.uniform(1.0 - COLOR_FACTOR, 1.0 + COLOR_FACTOR, 3))
    occluder = None
    if rng.random() <= OCCLUSION_PROBABILITY and occlusion:
        occluder = _sample_occluder(rng, np.asarray(bbox, dtype=np.float64), image_width, image_height)
    return Augmentation(scale, rotation, flip, color, occluder, int(rng.integers(2**31)))


def _sample_occluder(
    rng: np.random.Generator, bbox: np.ndarray, width: int, height: int
) -> tuple[int, int, int, int] | None:
    x0, y0, bw, bh = bbox
    for _ in range(OCCLUSION_TRIES):
        area = rng.random() * OCCLUSION_MAX_AREA * bw * bh
        ratio = rng.random() * (1 / 0.3 - 0.3) + 0.3
        h, w = math.sqrt(area * ratio), math.sqrt(area / ratio)
        x = rng.random() * (bw - w - 1) + x0
        y = rng.random() * (bh - h - 1) + y0
        if x >= 0 and y >= 0 and x + w < width and y + h < height:
            return int(x), int(y), int(w), int(h)
    return None


def crop_matrix(bbox: np.ndarray, image_width: int, aug: Augmentation, input_size: tuple[int, int]) -> np.ndarray:
    """(2, 3) map from the original image's pixels to the crop's, flip included.

    The release mirrors the image (``x -> W - 1 - x``) and the box centre, then crops; here the
    mirror is folded into the same affine map, which samples exactly the same pixels.
    """
    bbox = np.asarray(bbox, dtype=np.float64)
    centre = bbox[:2] + bbox[2:] / 2.0
    if aug.flip:
        centre = np.array([image_width - 1 - centre[0], centre[1]])
    trans = crop_transforms(centre[None], bbox[None, 2:], input_size, aug.scale, aug.rotation)[0]
    if aug.flip:
        mirror = np.array([[-1.0, 0.0, image_width - 1.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]])
        trans = trans @ mirror
    return trans


def augment_crop(image: np.ndarray, bbox: np.ndarray, aug: Augmentation, input_size: tuple[int, int]) -> np.ndarray:
    """The augmented crop: occlusion, then flip + scale + rotation in one warp, then colour scale.

    Args:
        image: (H, W, 3) uint8 RGB (not modified).
        bbox: (4,) processed box, px.

    Returns:
        (h, w, 3) float32 RGB in 0..255.
    """
    if aug.occlusion is not None:
        x, y, w, h = aug.occlusion
        image = image.copy()
        noise = np.random.default_rng(aug.noise_seed).random((h, w, 3)) * 255
        image[y : y + h, x : x + w] = noise.astype(np.uint8)
    trans = crop_matrix(bbox, image.shape[1], aug, input_size)
    crop = cv2.warpAffine(image, trans, (input_size[1], input_size[0]), flags=cv2.INTER_LINEAR)
    crop = crop.astype(np.float32) * np.asarray(aug.color_scale, dtype=np.float32)
    return np.clip(crop, 0.0, 255.0, out=crop)


def augment_joints(
    joints_img: np.ndarray,
    joints_vis: np.ndarray,
    root_depth: float,
    bbox: np.ndarray,
    image_width: int,
    aug: Augmentation,
    flip_permutation: np.ndarray,
    input_size: tuple[int, int] = (256, 256),
    depth_dim: int = 32,
    depth_range_mm: float = DEFAULT_DEPTH_RANGE_MM,
    output_size: tuple[int, int] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Targets of an augmented crop, with the release's visibility rule.

    Args:
        joints_img: (J, 3) u, v px and absolute depth Z mm.
        joints_vis: (J,) 0/1.
        root_depth: root Z, mm (0 for 2D sets, whose Z is 0 too: z lands mid-range, masked by has_depth).
        flip_permutation: (J,) left/right swap of the joint set.
        output_size: heatmap (height, width), see :func:`convnextpose.codec.encode`.

    Returns:
        (J, 3) float32 heatmap units and (J,) float32 visibility: the joint's own visibility times
        "inside the crop and inside the depth range".
    """
    joints = np.array(joints_img, dtype=np.float64, copy=True)
    vis = np.asarray(joints_vis, dtype=np.float32).copy()
    bbox = np.asarray(bbox, dtype=np.float64)
    centre = bbox[:2] + bbox[2:] / 2.0
    if aug.flip:
        joints[:, 0] = image_width - 1 - joints[:, 0]
        joints, vis = joints[flip_permutation], vis[flip_permutation]
        centre = np.array([image_width - 1 - centre[0], centre[1]])
    trans = crop_transforms(centre[None], bbox[None, 2:], input_size, aug.scale, aug.rotation)
    target, inside = encode(
        joints[None], np.array([root_depth]), trans, input_size, depth_dim, depth_range_mm, output_size
    )
    return target[0], vis * inside[0].astype(np.float32)
