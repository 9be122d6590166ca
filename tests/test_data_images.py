"""Label-free image folders (distillation data): box sources, the detections file, errors."""

from __future__ import annotations

import json

import cv2
import numpy as np
import pytest

from convnextpose.data import TrainSamples, load_dataset
from convnextpose.data.image_folder import random_person_boxes
from convnextpose.image import list_images


@pytest.fixture
def folder(tmp_path):
    rng = np.random.default_rng(0)
    root = tmp_path / "Images"
    for name, size in (("a.jpg", (120, 80)), ("sub/b.png", (60, 90)), ("sub/deeper/c.jpg", (100, 100))):
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        cv2.imwrite(str(root / name), rng.integers(0, 255, size=(*size, 3), dtype=np.uint8))
    (root / ".hidden").mkdir()
    cv2.imwrite(str(root / ".hidden" / "skip.jpg"), np.zeros((10, 10, 3), np.uint8))
    (root / "notes.txt").write_text("not an image")
    return root


def test_every_image_recursively_with_whole_image_boxes(folder):
    assert [p.relative_to(folder).as_posix() for p in list_images(folder)] == ["a.jpg", "sub/b.png", "sub/deeper/c.jpg"]
    dataset = load_dataset("images", folder)
    assert dataset.name == "images" and not dataset.has_depth and len(dataset) == 3
    record = dataset.records[0]
    assert record.meta["box"] == [0.0, 0.0, 80.0, 120.0]
    assert (record.joints_vis == 0).all() and record.joints_img.shape == (18, 3)
    # The crop box is the release's processed box: aspect 1, x1.25 around the image.
    np.testing.assert_allclose(record.bbox[2:], [(120 - 1) * 1.25] * 2)  # clipped to the last pixel row


def test_random_person_boxes_are_seeded_and_inside_the_image(folder):
    first = load_dataset("images", folder, boxes="random", crops_per_image=4, seed=3)
    again = load_dataset("images", folder, boxes="random", crops_per_image=4, seed=3)
    other = load_dataset("images", folder, boxes="random", crops_per_image=4, seed=4)
    boxes = np.array([r.meta["box"] for r in first.records])
    assert len(first) == 12 and np.array_equal(boxes, [r.meta["box"] for r in again.records])
    assert not np.array_equal(boxes, [r.meta["box"] for r in other.records])
    raw = random_person_boxes(80, 120, 500, np.random.default_rng(0))
    assert (
        (raw[:, :2] >= 0).all() and (raw[:, 0] + raw[:, 2] <= 80 + 1e-9).all() and (raw[:, 1] + raw[:, 3] <= 120).all()
    )
    assert (raw[:, 3] >= 0.4 * 120 - 1e-9).all() and (raw[:, 2] <= 0.7 * raw[:, 3] + 1e-9).all()


def test_a_detections_file_with_relative_names(folder):
    detections = [
        {"file_name": "sub/b.png", "bbox": [5, 10, 30, 60], "score": 0.9},
        {"file_name": "sub/b.png", "bbox": [1, 1, 10, 20], "score": 0.1},
        {"file_name": "a.jpg", "bbox": [10, 20, 40, 80], "score": 0.8},
    ]
    (folder / "boxes.json").write_text(json.dumps(detections))
    dataset = load_dataset("images", folder, boxes="boxes.json", min_score=0.5)
    assert [r.meta["box"] for r in dataset.records] == [[10, 20, 40, 80], [5, 10, 30, 60]]
    assert dataset.skipped == {"no detection": 1}  # c.jpg has no entry


def test_errors_name_the_folder_and_file(tmp_path, folder):
    with pytest.raises(FileNotFoundError, match="image folder not found"):
        load_dataset("images", tmp_path / "nowhere")
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match="empty: no images"):
        load_dataset("images", tmp_path / "empty")
    with pytest.raises(FileNotFoundError, match="nor a detections file"):
        load_dataset("images", folder, boxes="detector.json")
    (folder / "broken.jpg").write_bytes(b"not really a jpeg")
    with pytest.raises(ValueError, match="broken.jpg: not a readable image"):
        load_dataset("images", folder)
    assert load_dataset("images", folder, strict=False).skipped == {"unreadable image": 1}


def test_label_free_crops_train_nothing_from_ground_truth(folder):
    samples = TrainSamples([load_dataset("images", folder)], "human36m", (64, 64), seed=0)
    item = samples[1]
    assert item["image"].shape == (3, 64, 64)
    assert float(item["target_vis"].sum()) == 0.0 and float(item["has_depth"]) == 0.0
