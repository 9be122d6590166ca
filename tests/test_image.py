"""Image reading and crops."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from conftest import shared_path
from convnextpose.geometry import crop_transform
from convnextpose.image import ImageError, as_rgb, decode_image_bytes, normalize_crops, read_image, warp_crops


def test_read_real_photo_as_rgb():
    path = shared_path("images", "single_person_4.png")
    image = read_image(path)
    assert image.shape == (225, 225, 3) and image.dtype == np.uint8
    assert np.array_equal(image, cv2.imread(str(path))[:, :, ::-1])


def test_unreadable_files(tmp_path):
    with pytest.raises(FileNotFoundError, match="missing.jpg"):
        read_image(tmp_path / "missing.jpg")
    junk = tmp_path / "junk.jpg"
    junk.write_bytes(b"not an image at all")
    with pytest.raises(ImageError, match="junk.jpg"):
        read_image(junk)
    empty = tmp_path / "empty.png"
    empty.write_bytes(b"")
    with pytest.raises(ImageError, match="empty.png"):
        read_image(empty)
    with pytest.raises(ImageError, match="upload"):
        decode_image_bytes(b"\x89PNG broken")


def test_array_checks():
    bgr = np.zeros((4, 5, 3), np.uint8)
    bgr[..., 0] = 255
    assert as_rgb(bgr, "bgr")[0, 0].tolist() == [0, 0, 255]
    with pytest.raises(ImageError, match="empty"):
        as_rgb(np.zeros((0, 5, 3), np.uint8))
    with pytest.raises(ImageError, match="uint8"):
        as_rgb(np.zeros((4, 5, 3), np.float32))
    with pytest.raises(ValueError, match="color_order"):
        as_rgb(bgr, "hsv")


def test_crop_puts_the_box_on_the_whole_input():
    image = np.zeros((100, 200, 3), np.uint8)
    image[20:60, 50:90] = 200  # a 40x40 square
    crop = warp_crops(image, crop_transform(np.array([50.0, 20, 40, 40]), (32, 32))[None], (32, 32))[0]
    assert crop[2:-2, 2:-2].min() == 200
    normalized = normalize_crops(crop[None])
    assert normalized.shape == (1, 3, 32, 32)
    assert normalized[0, 0, 16, 16] == pytest.approx((200 / 255 - 0.485) / 0.229, rel=1e-5)
