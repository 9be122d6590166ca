"""Bad inputs to PoseEstimator: clear errors, and never a whole batch lost to one bad image or box."""

from __future__ import annotations

import logging

import numpy as np
import pytest

from convnextpose import PoseEstimator
from convnextpose.image import ImageError
from convnextpose.inference import HOGPersonDetector, box_iou, whole_frame
from convnextpose.inference.detector import run_detector, suppress_overlaps


@pytest.fixture
def estimator(tiny_model):
    return PoseEstimator(tiny_model)


@pytest.fixture
def image(rng):
    return rng.integers(0, 255, (120, 160, 3), dtype=np.uint8)


def test_missing_file_raises_file_not_found(estimator, tmp_path):
    with pytest.raises(FileNotFoundError, match="nothere.jpg"):
        estimator.predict(tmp_path / "nothere.jpg")


def test_non_image_bytes_and_files_raise_image_error(estimator, tmp_path):
    fake = tmp_path / "notes.jpg"
    fake.write_text("this is not a picture")
    with pytest.raises(ImageError, match="notes.jpg"):
        estimator.predict(fake)
    with pytest.raises(ImageError, match="not a decodable image"):
        estimator.predict(b"\x00\x01garbage")
    with pytest.raises(ImageError):
        estimator.predict(b"")


def test_empty_and_malformed_arrays_raise_image_error(estimator):
    with pytest.raises(ImageError, match="empty"):
        estimator.predict(np.zeros((0, 10, 3), np.uint8))
    with pytest.raises(ImageError, match="uint8"):
        estimator.predict(np.zeros((10, 10, 3), np.float32))
    with pytest.raises(ImageError, match="shape"):
        estimator.predict(np.zeros((10, 10, 5), np.uint8))
    with pytest.raises(ValueError, match="color_order"):
        estimator.predict(np.zeros((10, 10, 3), np.uint8), color_order="hsv")


def test_invalid_boxes_are_skipped_with_a_warning_naming_them(estimator, image, caplog):
    boxes = [
        [10, 10, 50, 90],  # fine
        [20, 20, 0, 40],  # zero width
        [500, 500, 40, 40],  # outside the image
        [np.nan, 5, 30, 30],  # not finite
        [-30, -30, 60, 80],  # partly outside: clipped, kept
    ]
    with caplog.at_level(logging.WARNING):
        poses = estimator.predict(image, boxes)
    assert [p.index for p in poses] == [0, 4]
    assert len(poses.warnings) == 3
    for index, warning in zip((1, 2, 3), poses.warnings):
        assert f"box {index}" in warning and "skipped" in warning
    assert "box 2" in caplog.text
    # The kept partial box was clipped to the image before cropping.
    assert poses[1].crop_box[2] > 0 and np.isfinite(poses[1].joints_cam).all()


def test_strict_mode_raises_on_the_first_invalid_box(tiny_model, image):
    strict = PoseEstimator(tiny_model, strict=True)
    with pytest.raises(ValueError, match="box 1"):
        strict.predict(image, [[10, 10, 50, 90], [0, 0, 0, 0]])
    with pytest.raises(ValueError, match="root depth nan of box 0"):
        strict.predict(image, [[10, 10, 50, 90]], [np.nan])


def test_bad_root_depths_fall_back_to_the_prior(estimator, image):
    poses = estimator.predict(image, [[10, 10, 50, 90]] * 4, [4000.0, np.nan, -5.0, np.inf])
    assert [p.root_depth_source for p in poses] == ["given", "prior", "prior", "prior"]
    assert poses[0].root_depth == 4000.0
    assert all(np.isfinite(p.root_depth) and p.root_depth > 0 for p in poses)
    assert poses[1].root_depth == pytest.approx(poses[2].root_depth)
    assert sum("root depth" in w for w in poses.warnings) == 3


def test_malformed_box_arrays_and_lengths_raise(estimator, image):
    with pytest.raises(ValueError, match=r"\(N, 4\)"):
        estimator.predict(image, [[1, 2, 3]])
    with pytest.raises(ValueError, match="2 root depths for 1 boxes"):
        estimator.predict(image, [[1, 2, 30, 40]], [1000.0, 2000.0])
    with pytest.raises(ValueError, match="without boxes"):
        estimator.predict(image, None, [1000.0])
    with pytest.raises(ValueError, match="focal"):
        estimator.predict(image, [[1, 2, 30, 40]], focal=(1.0, 2.0, 3.0))


def test_a_single_box_and_no_boxes_are_accepted(estimator, image):
    assert len(estimator.predict(image, [10, 10, 50, 90])) == 1
    poses = estimator.predict(image, np.zeros((0, 4)))
    assert len(poses) == 0 and poses.error is None


def test_batch_survives_bad_images(estimator, image, tmp_path):
    results = estimator.predict_batch(
        [image, tmp_path / "missing.png", b"junk", np.zeros((0, 0, 3), np.uint8), image],
        boxes=[[[10, 10, 50, 90]], None, None, None, [[0, 0, 10, 10], [5, 5, 0, 0]]],
    )
    assert [len(r) for r in results] == [1, 0, 0, 0, 1]
    assert results[0].error is None and results[4].error is None and results[4].warnings
    assert "missing.png" in results[1].error
    assert "decodable" in results[2].error and "empty" in results[3].error
    with pytest.raises(FileNotFoundError):
        estimator.predict_batch([image, tmp_path / "missing.png"], on_error="raise")
    with pytest.raises(ValueError, match="boxes has 1 entries for 2 images"):
        estimator.predict_batch([image, image], boxes=[None])


def test_custom_detector_boxes_and_scores_are_used(tiny_model, image):
    seen = []

    def detector(img):
        seen.append(img.shape)
        return np.array([[10, 10, 40, 80], [60, 20, 50, 90.0]]), np.array([0.9, 0.4])

    poses = PoseEstimator(tiny_model, detector=detector).predict(image)
    assert seen == [(120, 160, 3)]
    assert [p.score for p in poses] == [0.9, 0.4]
    np.testing.assert_allclose(poses[1].box, [60, 20, 50, 90])
    # (N, 5) arrays with the score as the last column work too.
    five = PoseEstimator(tiny_model, detector=lambda img: np.array([[10, 10, 40, 80, 0.7]])).predict(image)
    assert five[0].score == pytest.approx(0.7)
    with pytest.raises(ValueError, match="detector returned boxes of shape"):
        PoseEstimator(tiny_model, detector=lambda img: np.zeros((2, 3))).predict(image)


def test_no_detection_falls_back_to_the_whole_frame_or_nobody(tiny_model, image):
    poses = PoseEstimator(tiny_model, detector=lambda img: np.zeros((0, 4))).predict(image)
    assert len(poses) == 1 and "whole image" in poses.warnings[0]
    np.testing.assert_allclose(poses[0].box, [0, 0, 160, 120])
    nobody = PoseEstimator(tiny_model, detector=lambda img: np.zeros((0, 4)), fallback_to_frame=False).predict(image)
    assert len(nobody) == 0
    frame = PoseEstimator(tiny_model, detector="frame").predict(image)
    np.testing.assert_allclose(frame[0].box, [0, 0, 160, 120])
    with pytest.raises(ValueError, match="detector must be"):
        PoseEstimator(tiny_model, detector="yolo")


def test_model_arguments_are_checked(tiny_model, tmp_path):
    with pytest.raises(FileNotFoundError, match="missing.pth"):
        PoseEstimator(tmp_path / "missing.pth")
    with pytest.raises(ValueError, match="backend='onnx'"):
        PoseEstimator(tmp_path / "model.onnx")
    with pytest.raises(ValueError, match="unknown backend"):
        PoseEstimator(tiny_model, backend="tensorrt")
    with pytest.raises(ValueError, match="batch_size"):
        PoseEstimator(tiny_model, batch_size=0)


def test_hog_detector_finds_a_person_drawn_large():
    # An upright dark silhouette on a light background: head, torso, arms, legs.
    import cv2

    canvas = np.full((400, 300, 3), 220, np.uint8)
    cv2.circle(canvas, (150, 80), 22, (40, 40, 40), -1)
    cv2.rectangle(canvas, (125, 105), (175, 220), (40, 40, 40), -1)
    cv2.line(canvas, (130, 110), (95, 210), (40, 40, 40), 14)
    cv2.line(canvas, (170, 110), (205, 210), (40, 40, 40), 14)
    cv2.line(canvas, (135, 215), (120, 340), (40, 40, 40), 18)
    cv2.line(canvas, (165, 215), (180, 340), (40, 40, 40), 18)
    boxes, scores = HOGPersonDetector()(canvas)
    assert boxes.shape == (1, 4) and scores.shape == (1,) and scores[0] > 0.5
    x, y, w, h = boxes[0]
    # The silhouette spans x 95..205, y 58..340: the box covers it.
    assert x <= 100 and y <= 63 and x + w >= 200 and y + h >= 335
    # Nothing on a blank image; boxes stay inside the image.
    assert len(HOGPersonDetector()(np.full((400, 300, 3), 220, np.uint8))[0]) == 0
    assert (boxes[:, 0] >= 0).all() and (boxes[:, 0] + boxes[:, 2] <= 300 + 1e-9).all()


def test_box_iou_and_suppression():
    a = np.array([[0, 0, 10, 10.0]])
    b = np.array([[5, 0, 10, 10.0], [20, 20, 5, 5], [0, 0, 10, 10]])
    np.testing.assert_allclose(box_iou(a, b), [[50 / 150, 0.0, 1.0]])
    boxes = np.array([[0, 0, 10, 10], [1, 1, 10, 10], [30, 30, 10, 10], [2, 2, 4, 4.0]])
    keep = suppress_overlaps(boxes, np.array([0.5, 0.9, 0.3, 0.8]))
    # Box 0 overlaps the better box 1; box 3 lies inside box 1.
    assert keep.tolist() == [1, 2]
    boxes, scores = run_detector(whole_frame, np.zeros((7, 9, 3), np.uint8))
    np.testing.assert_allclose(boxes, [[0, 0, 9, 7]]) and np.testing.assert_allclose(scores, [1])
