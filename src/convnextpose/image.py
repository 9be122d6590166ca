"""Image reading and the network's input crops, shared by the data pipeline and inference.

Images are RGB uint8 (H, W, 3) everywhere inside the package; OpenCV's BGR appears only at the
file boundary.
"""

from __future__ import annotations

import os
from pathlib import Path

import cv2
import numpy as np

IMAGENET_MEAN = np.array([0.485, 0.456, 0.406], dtype=np.float32)
IMAGENET_STD = np.array([0.229, 0.224, 0.225], dtype=np.float32)
#: File suffixes read as images and as videos (lower case).
IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp"})
VIDEO_SUFFIXES = frozenset({".mp4", ".avi", ".mov", ".mkv", ".webm", ".m4v", ".mpg", ".mpeg"})
#: What the estimator takes as an image: a file path, encoded bytes, or an (H, W, 3) uint8 array.
ImageInput = str | os.PathLike | np.ndarray | bytes


class ImageError(ValueError):
    """An image that cannot be used; the message names the file or says what is wrong with the array."""


def list_images(folder: str | os.PathLike, recursive: bool = True) -> list[Path]:
    """Image files under ``folder`` (by suffix, hidden files and folders skipped), sorted.

    Raises:
        FileNotFoundError: ``folder`` is not a folder.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"image folder not found: {folder}")
    found = folder.rglob("*") if recursive else folder.iterdir()
    return sorted(
        p
        for p in found
        if p.suffix.lower() in IMAGE_SUFFIXES
        and p.is_file()
        and not any(part.startswith(".") for part in p.relative_to(folder).parts)
    )


def read_image(path: str | os.PathLike) -> np.ndarray:
    """Read an image file as RGB uint8 (H, W, 3).

    Raises:
        FileNotFoundError: no such file.
        ImageError: the bytes are not a decodable image, or it is empty.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"image not found: {path}")
    data = np.fromfile(path, dtype=np.uint8)
    image = cv2.imdecode(data, cv2.IMREAD_COLOR) if data.size else None
    if image is None or image.size == 0:
        raise ImageError(f"{path}: not a readable image (empty or not an image format OpenCV can decode)")
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)


def decode_image_bytes(data: bytes, source: str = "upload") -> np.ndarray:
    """Decode encoded image bytes (JPEG, PNG, ...) to RGB uint8; ImageError if they are not an image."""
    array = np.frombuffer(data, dtype=np.uint8)
    image = cv2.imdecode(array, cv2.IMREAD_COLOR) if array.size else None
    if image is None or image.size == 0:
        raise ImageError(f"{source}: not a decodable image")
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)


def as_rgb(image: np.ndarray, color_order: str = "rgb") -> np.ndarray:
    """Validate an (H, W, 3) uint8 array and return it in RGB order.

    Args:
        image: the array; grayscale (H, W) is expanded to three channels.
        color_order: ``"rgb"`` or ``"bgr"`` (what OpenCV's ``imread`` gives).
    """
    if color_order not in ("rgb", "bgr"):
        raise ValueError(f"color_order must be 'rgb' or 'bgr', got {color_order!r}")
    image = np.asarray(image)
    if image.ndim == 2:
        image = np.repeat(image[:, :, None], 3, axis=2)
    if image.ndim != 3 or image.shape[2] not in (3, 4):
        raise ImageError(f"expected an image array of shape (H, W, 3), got {image.shape}")
    if image.shape[0] == 0 or image.shape[1] == 0:
        raise ImageError(f"empty image of shape {image.shape}")
    if image.dtype != np.uint8:
        raise ImageError(f"expected a uint8 image, got dtype {image.dtype}")
    image = image[:, :, :3]
    return np.ascontiguousarray(image[:, :, ::-1] if color_order == "bgr" else image)


def warp_crops(image: np.ndarray, transforms: np.ndarray, input_size: tuple[int, int]) -> np.ndarray:
    """Affine-warp crops out of one image (bilinear, black outside the image).

    Args:
        image: (H, W, 3) uint8 RGB.
        transforms: (N, 2, 3) image -> crop maps, e.g. from :func:`convnextpose.geometry.crop_transforms`.
        input_size: (height, width) of the crops.

    Returns:
        (N, height, width, 3) uint8.
    """
    height, width = input_size
    crops = np.zeros((len(transforms), height, width, 3), dtype=np.uint8)
    for i, trans in enumerate(np.asarray(transforms, dtype=np.float64)):
        crops[i] = cv2.warpAffine(image, trans, (width, height), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT)
    return crops


def normalize_crops(crops: np.ndarray) -> np.ndarray:
    """(N, H, W, 3) uint8 RGB -> (N, 3, H, W) float32, /255 then ImageNet mean/std, as the release."""
    crops = np.asarray(crops, dtype=np.float32) / 255.0
    crops = (crops - IMAGENET_MEAN) / IMAGENET_STD
    return np.ascontiguousarray(crops.transpose(0, 3, 1, 2))


# uint8 value -> normalised float32 per channel: the same float32 arithmetic as
# normalize_crops ((v / 255 - mean) / std, bit-identical, tested), as a table
# lookup, which is about 5x faster than converting and normalising every pixel.
_NORMALIZE_LUT = ((np.arange(256, dtype=np.float32)[:, None] / np.float32(255.0) - IMAGENET_MEAN) / IMAGENET_STD).T


def normalize_crops_lut(crops: np.ndarray) -> np.ndarray:
    """(N, H, W, 3) uint8 RGB -> (N, 3, H, W) float32, equal to :func:`normalize_crops`."""
    crops = np.asarray(crops, dtype=np.uint8)
    out = np.empty((crops.shape[0], 3, crops.shape[1], crops.shape[2]), dtype=np.float32)
    for channel in range(3):
        out[:, channel] = _NORMALIZE_LUT[channel][crops[..., channel]]
    return out


# The network takes crops in one of two formats: "pixels", (N, H, W, 3) uint8 RGB as cropped, or
# "normalized", (N, 3, H, W) float32 as normalize_crops makes them. Exported models may take either.


def is_pixel_batch(batch: np.ndarray) -> bool:
    """True for a uint8 (N, H, W, 3) batch of RGB crops (the ``pixels`` format)."""
    array = np.asarray(batch)
    return array.dtype == np.uint8 and array.ndim == 4 and array.shape[-1] == 3


def as_normalized(batch: np.ndarray) -> np.ndarray:
    """(N, 3, H, W) float32 normalised crops from a batch in either format."""
    if is_pixel_batch(batch):
        return normalize_crops_lut(batch)
    return np.ascontiguousarray(np.asarray(batch, dtype=np.float32))


def as_pixels(batch: np.ndarray) -> np.ndarray:
    """(N, H, W, 3) uint8 RGB crops from a batch in either format.

    Normalised crops are mapped back and rounded, which restores crops made by
    :func:`normalize_crops` exactly; other values are clipped to 0-255.
    """
    if is_pixel_batch(batch):
        return np.ascontiguousarray(batch)
    values = np.asarray(batch, dtype=np.float32).transpose(0, 2, 3, 1) * IMAGENET_STD + IMAGENET_MEAN
    return np.clip(np.rint(values * 255.0), 0, 255).astype(np.uint8)
