"""PoseTracker: detection only when needed, re-cropping from joints, identities, bounded box changes."""

from __future__ import annotations

import numpy as np
import pytest

from convnextpose import PoseEstimator
from convnextpose.geometry import cam2pixel
from convnextpose.inference import PoseTracker, box_from_joints


class CountingDetector:
    def __init__(self, boxes):
        self.boxes = np.asarray(boxes, dtype=np.float64)
        self.calls = 0

    def __call__(self, image):
        self.calls += 1
        return self.boxes, np.linspace(0.9, 0.5, len(self.boxes))


def steady(estimator: PoseEstimator) -> PoseEstimator:
    """Replace the network by one whose joints span the middle 2/3 of every crop, so the box
    around them (x1.2) is the person box again (x1.25 crop margin): a person who stands still."""
    width = estimator.spec.output_size[1]
    line = np.linspace(width / 6, width * 5 / 6, estimator.spec.num_joints)
    coords = np.stack([line, line, np.full_like(line, 16.0)], axis=1).astype(np.float32)

    def backend(crops):
        return np.repeat(coords[None], len(crops), 0), np.ones((len(crops), len(line)), np.float32)

    estimator.backend = backend
    return estimator


@pytest.fixture
def frames(rng):
    return [rng.integers(0, 255, (120, 160, 3), dtype=np.uint8) for _ in range(5)]


def test_box_from_joints():
    joints = np.array([[10.0, 20.0], [30.0, 60.0], [np.nan, 5.0]])
    np.testing.assert_allclose(box_from_joints(joints, margin=1.0), [10, 20, 20, 40])
    np.testing.assert_allclose(box_from_joints(joints), [8, 16, 24, 48])
    assert np.isnan(box_from_joints(np.array([[1.0, 2.0]]))).all()


def test_detector_runs_once_then_people_are_recropped(tiny_model, frames):
    detector = CountingDetector([[20, 10, 50, 100], [90, 10, 50, 100]])
    tracker = PoseTracker(PoseEstimator(tiny_model, detector=detector), smooth=False)
    results = [tracker.update(frame) for frame in frames]
    assert detector.calls == 1
    assert [[p.track_id for p in r] for r in results] == [[0, 1]] * 5
    assert [p.score for p in results[-1]] == pytest.approx([0.9, 0.5])  # the detection score stays with the track
    # From frame 1 on, each crop comes from the previous frame's joints, size change bounded by 1.25x.
    for previous, current in zip(results, results[1:]):
        for a, b in zip(previous, current):
            expected = box_from_joints(a.joints_img)
            centre = expected[:2] + expected[2:] / 2
            np.testing.assert_allclose(b.box[:2] + b.box[2:] / 2, centre, atol=1e-6)
            ratio = b.box[2:] / a.box[2:]
            assert ((ratio >= 1 / 1.25 - 1e-9) & (ratio <= 1.25 + 1e-9)).all()


def test_redetect_adds_new_people_without_duplicating_tracks(tiny_model, frames):
    detector = CountingDetector([[20, 10, 80, 80]])
    tracker = PoseTracker(steady(PoseEstimator(tiny_model, detector=detector)), smooth=False, redetect_every=2)
    tracker.update(frames[0])
    detector.boxes = np.array([[20, 10, 80, 80], [100, 10, 40, 40.0]])
    results = [tracker.update(frame) for frame in frames[1:]]
    ids = [[p.track_id for p in people] for people in results]
    # A person who stands still keeps (nearly: the release's "w - 1" clipping) the same box.
    np.testing.assert_allclose(results[-1][0].box, [20, 10, 80, 80], atol=5)
    assert detector.calls == 3  # frames 0, 2 and 4
    # The redetected first person overlaps its track (IoU > 0.3) and gets no new id.
    assert ids[0] == [0] and ids[1] == [0, 1] and ids[3] == [0, 1]


def test_given_boxes_keep_their_identity(tiny_model, frames):
    tracker = PoseTracker(PoseEstimator(tiny_model), smooth=False)
    first = tracker.update(frames[0], boxes=[[10, 10, 40, 90], [100, 10, 40, 90]])
    second = tracker.update(frames[1], boxes=[[102, 12, 40, 90], [12, 10, 40, 90], [60, 60, 20, 40]])
    assert [p.track_id for p in first] == [0, 1]
    assert [p.track_id for p in second] == [1, 0, 2]


def test_smoothing_keeps_projection_consistent_and_max_people(tiny_model, frames):
    detector = CountingDetector([[20, 10, 50, 100], [90, 10, 60, 110], [5, 5, 10, 20]])
    tracker = PoseTracker(PoseEstimator(tiny_model, detector=detector), max_people=2)
    for frame in frames:
        people = tracker.update(frame)
    assert len(people) == 2 and {p.track_id for p in people} == {0, 1}  # the two largest boxes
    for person in people:
        np.testing.assert_allclose(cam2pixel(person.joints_cam, person.focal, person.princpt)[:, :2], person.joints_img)
        np.testing.assert_allclose(person.joints_rel[person.root_index], 0.0, atol=1e-9)


def test_estimator_track_generator_and_reset(tiny_model, frames):
    estimator = PoseEstimator(tiny_model, detector="frame")
    out = list(estimator.track(frames[:3], smooth=False))
    assert len(out) == 3 and all(len(p) == 1 for p in out)
    np.testing.assert_allclose(out[0][0].box, [0, 0, 160, 120])
    tracker = PoseTracker(estimator)
    tracker.update(frames[0])
    tracker.reset()
    assert tracker.frame_index == 0 and tracker.update(frames[1])[0].track_id == 0
    with pytest.raises(ValueError, match="max_scale_change"):
        PoseTracker(estimator, max_scale_change=0.5)
