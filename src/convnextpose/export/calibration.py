"""Crops to calibrate and check INT8 models on: people, cropped as the estimator crops them.

An INT8 model stores each activation with a range fitted to the calibration crops, and its cost is
measured on other crops; both should look like what the network sees at inference: a person box
grown to the input's aspect ratio and by 1.25, affine-warped to the input size
(:func:`person_crops`, the same geometry as :class:`~convnextpose.inference.PoseEstimator`).

- :func:`generated_people`: the default, people rendered by :mod:`convnextpose.synth` (articulated,
  clothed bodies in rooms and outdoor scenes, JPEG-compressed), one crop per person box;
- :func:`folder_people`: the user's own images, each person found by a callable (the estimator's
  own search, in the CLI), so crops follow the estimator's boxes;
- :func:`generated_calibration_images`: the earlier stand-in, a stick figure on a colour gradient,
  kept for TFLite and for speed measurements (it calibrates a trained network worse, see
  docs/inference.md).
"""

from __future__ import annotations

import functools
import json
import os
import tempfile
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

import numpy as np

from ..geometry import crop_transforms, process_boxes
from ..image import as_normalized, read_image, warp_crops

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp")

#: Generated people: photo side per input side (a person's crop then needs little resampling), and
#: the smallest person box, as a fraction of the photo's area, worth a crop.
PHOTO_PER_INPUT = 1.75
MIN_BOX_FRACTION = 0.01


def person_crops(
    image: np.ndarray,
    boxes: np.ndarray | Sequence[Sequence[float]],
    input_size: tuple[int, int],
    box_scale: float = 1.25,
) -> np.ndarray:
    """Crops of the people in one image, as the estimator makes them.

    Each [x, y, w, h] box is clipped to the image, grown to the input's aspect ratio and by
    ``box_scale``, and affine-warped to the input size (black outside the image).

    Args:
        image: (H, W, 3) uint8 RGB.
        boxes: (N, 4) person boxes [x, y, w, h], px.
        input_size: (height, width) of the network input.
        box_scale: margin (1.25 as trained and as the estimator uses).

    Returns:
        (M, height, width, 3) uint8 crops, M <= N: boxes with no area inside the image are left out.
    """
    boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    height, width = image.shape[:2]
    crop_boxes, valid = process_boxes(boxes, width, height, aspect_ratio=input_size[1] / input_size[0], scale=box_scale)
    crop_boxes = crop_boxes[np.atleast_1d(valid)]
    if not len(crop_boxes):
        return np.zeros((0, *input_size, 3), np.uint8)
    transforms = crop_transforms(crop_boxes[:, :2] + crop_boxes[:, 2:] / 2.0, crop_boxes[:, 2:], input_size)
    return warp_crops(image, transforms, input_size)


def generated_people(count: int, input_size: tuple[int, int], seed: int = 0) -> np.ndarray:
    """``count`` crops of generated people (:mod:`convnextpose.synth`), cropped at their person boxes.

    Renders single-person photos (MPII-style: one person in a room or outdoors, random pose,
    clothes, camera and lighting; no camera degradations; JPEG quality 90; :data:`PHOTO_PER_INPUT` times the input's side)
    in a temporary folder, about 0.4 s each for a 256x256 input on one core, and crops each person
    box of at least :data:`MIN_BOX_FRACTION` of the photo. Different seeds give different people and
    scenes (calibrate on one seed, check on another). Results are cached per process.

    Returns:
        (count, height, width, 3) uint8 RGB crops.
    """
    if count < 1:
        raise ValueError(f"count must be >= 1, got {count}")
    return _generated_people(int(count), (int(input_size[0]), int(input_size[1])), int(seed)).copy()


@functools.lru_cache(maxsize=8)
def _generated_people(count: int, input_size: tuple[int, int], seed: int) -> np.ndarray:
    from ..synth import generate_dataset

    side = int(np.clip(round(PHOTO_PER_INPUT * max(input_size)), 128, 640))
    crops: list[np.ndarray] = []
    batch = 0
    with tempfile.TemporaryDirectory(prefix="convnextpose-people-") as tmp:
        while len(crops) < count:
            # Clean renders (degradation 0): on a handful of crops the writers' random camera degradations (heavy
            # blur, noise, JPEG down to quality 35) would set the activation ranges and the check's error.
            root = generate_dataset(
                "mpii", Path(tmp) / str(batch), seed=seed * 1000 + batch, images=count - len(crops),
                image_size=side, people=(1, 1), degradation=0.0, progress=False,
            )  # fmt: skip
            crops.extend(_annotated_crops(root, input_size, MIN_BOX_FRACTION * side * side))
            batch += 1
            if batch > 4 and not crops:
                raise RuntimeError("the generated photos held no person box large enough to crop")
    return np.stack(crops[:count])


def _annotated_crops(root: Path, input_size: tuple[int, int], min_area: float) -> list[np.ndarray]:
    """Person crops of a COCO-style folder (``annotations/train.json`` + images) written by ``synth``."""
    data = json.loads((root / "annotations" / "train.json").read_text(encoding="utf-8"))
    files = {image["id"]: image["file_name"] for image in data["images"]}
    boxes: dict[int, list[list[float]]] = {}
    for annotation in data["annotations"]:
        box = annotation["bbox"]
        if box[2] * box[3] >= min_area:
            boxes.setdefault(annotation["image_id"], []).append(box)
    crops: list[np.ndarray] = []
    for image_id in sorted(boxes):
        name = files[image_id]
        path = root / name if (root / name).is_file() else root / "images" / Path(name).name
        crops.extend(person_crops(read_image(path), boxes[image_id], input_size))
    return crops


def image_files(folder: str | os.PathLike) -> list[Path]:
    """The images (``.jpg``, ``.jpeg``, ``.png``, ``.bmp``) directly in ``folder``, sorted by name.

    Raises:
        FileNotFoundError: ``folder`` is not a folder.
        ValueError: it holds no such image.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"calibration folder not found: {folder}")
    files = sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
    if not files:
        raise ValueError(f"{folder}: no {'/'.join(IMAGE_SUFFIXES)} images to calibrate on")
    return files


def folder_people(
    folder: str | os.PathLike,
    find_people: Callable[[np.ndarray], np.ndarray],
    input_size: tuple[int, int],
    count: int | None = None,
) -> np.ndarray:
    """Person crops of the images in a folder, each person found by ``find_people``.

    Args:
        folder: a folder of RGB images (read in name order).
        find_people: image (H, W, 3) uint8 RGB -> (N, 4) person boxes [x, y, w, h] px; e.g. the
            crop boxes of :meth:`PoseEstimator.predict` (the CLI does this), so the crops are the ones
            the estimator would feed the network.
        input_size: (height, width) of the network input.
        count: stop after this many crops (None: all).

    Returns:
        (N, height, width, 3) uint8 crops.

    Raises:
        FileNotFoundError / ValueError: see :func:`image_files`; ValueError also when no person is found.
    """
    crops: list[np.ndarray] = []
    files = image_files(folder)
    for path in files:
        image = read_image(path)
        crops.extend(person_crops(image, find_people(image), input_size))
        if count is not None and len(crops) >= count:
            break
    if not crops:
        raise ValueError(f"{folder}: no person found in its {len(files)} images")
    return np.stack(crops[:count])


def split_held_out(crops: np.ndarray, held_out: int) -> tuple[np.ndarray, np.ndarray]:
    """Split crops into (calibration, held-out): every k-th crop is held out, ``held_out`` of them.

    Spreading the held-out crops over the sequence keeps them from one scene or one video stretch
    when a folder is sorted by name. Raises ValueError if fewer than ``held_out + 1`` crops.
    """
    crops = np.asarray(crops)
    if held_out < 0 or len(crops) < held_out + 1:
        raise ValueError(f"need more than {held_out} crops to hold {held_out} out, got {len(crops)}")
    if held_out == 0:
        return crops, crops[:0]
    picked = np.linspace(0, len(crops) - 1, held_out + 2)[1:-1].round().astype(int)
    mask = np.zeros(len(crops), bool)
    mask[np.unique(picked)] = True
    return crops[~mask], crops[mask]


def generated_calibration_images(
    count: int = 32, size: tuple[int, int] = (256, 256), seed: int = 0
) -> Iterable[np.ndarray]:
    """RGB uint8 images of a crude stick figure on a colour gradient (no data set, no renderer).

    Each is a smooth colour gradient with noise and a crude stick figure (thick limbs, a head)
    drawn across the middle, so activations see both flat regions and person-like edges.
    """
    import cv2

    rng = np.random.default_rng(seed)
    height, width = size
    yy, xx = np.mgrid[0:height, 0:width] / max(height, width)
    for _ in range(count):
        base = rng.uniform(0, 255, 3)
        slope = rng.uniform(-120, 120, (2, 3))
        image = base + xx[..., None] * slope[0] + yy[..., None] * slope[1] + rng.normal(0, 12, (height, width, 3))
        image = np.clip(image, 0, 255).astype(np.uint8)
        colour = tuple(int(c) for c in rng.uniform(0, 255, 3))
        cx, cy, scale = width * rng.uniform(0.4, 0.6), height * rng.uniform(0.45, 0.55), height * rng.uniform(0.3, 0.4)
        joints = {
            "head": (0, -1.0), "neck": (0, -0.7), "pelvis": (0, 0.0), "l_hand": (-0.6, -0.2), "r_hand": (0.6, -0.3),
            "l_foot": (-0.3, 0.9), "r_foot": (0.35, 0.9), "l_elbow": (-0.35, -0.45), "r_elbow": (0.35, -0.5),
            "l_knee": (-0.2, 0.45), "r_knee": (0.25, 0.45),
        }  # fmt: skip
        pts = {k: (int(cx + (x + rng.normal(0, 0.08)) * scale), int(cy + (y + rng.normal(0, 0.05)) * scale))
               for k, (x, y) in joints.items()}  # fmt: skip
        thickness = max(2, int(scale * 0.12))
        for a, b in (("neck", "pelvis"), ("neck", "l_elbow"), ("l_elbow", "l_hand"), ("neck", "r_elbow"),
                     ("r_elbow", "r_hand"), ("pelvis", "l_knee"), ("l_knee", "l_foot"), ("pelvis", "r_knee"),
                     ("r_knee", "r_foot")):  # fmt: skip
            cv2.line(image, pts[a], pts[b], colour, thickness, cv2.LINE_AA)
        cv2.circle(image, pts["head"], int(scale * 0.15), colour, -1, cv2.LINE_AA)
        yield image


def calibration_crops(images: Iterable[np.ndarray], input_size: tuple[int, int]) -> np.ndarray:
    """Resize whole RGB uint8 images to the input size: (N, H, W, 3) uint8 crops (the ``pixels`` format)."""
    import cv2

    return np.stack(
        [cv2.resize(np.asarray(im), (input_size[1], input_size[0]), interpolation=cv2.INTER_LINEAR) for im in images]
    )


def calibration_batch(images: Iterable[np.ndarray], input_size: tuple[int, int]) -> np.ndarray:
    """Resize RGB uint8 images to the input size and normalise: (N, 3, H, W) float32."""
    return as_normalized(calibration_crops(images, input_size))
