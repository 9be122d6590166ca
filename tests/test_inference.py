"""PoseEstimator on real photos with the official-layout checkpoint: pipeline, geometry, batching, flip test."""

from __future__ import annotations

import json

import cv2
import numpy as np
import pytest
import torch

from conftest import shared_path
from convnextpose import PersonPose, PoseEstimator, build_model
from convnextpose.codec import decode_with_boxes, flip_back
from convnextpose.geometry import cam2pixel, process_boxes
from convnextpose.image import normalize_crops, read_image
from convnextpose.inference import Poses, estimate_root_depth
from convnextpose.joints import get_joint_set
from convnextpose.models import load_model

SKIER_BOXES = np.array(
    [
        [139.41, 102.25, 222.39, 241.57],
        [287.17, 61.52, 74.88, 165.61],
        [540.04, 48.81, 99.96, 223.36],
        [372.58, 170.84, 266.63, 217.19],
        [0.5, 43.74, 90.1, 220.09],
    ]
)
SKIER_DEPTHS = np.array([11250.57, 15522.87, 11831.38, 8852.56, 12572.60])


@pytest.fixture(scope="module")
def network(official_checkpoint):
    return load_model(official_checkpoint)


@pytest.fixture(scope="module")
def estimator(network):
    return PoseEstimator(network)


@pytest.fixture(scope="module")
def skiers():
    return read_image(shared_path("images", "multi_person_skiers.jpg"))


def reference_pipeline(network, image, boxes, depths, flip=False):
    """The release's demo written out by hand: process_bbox, crop, network, flip test, x/32*w + x0 decoding."""
    height, width = image.shape[:2]
    crop_boxes, _ = process_boxes(boxes, width, height)
    crops = []
    for x, y, w, h in crop_boxes:
        # The release's gen_trans_from_patch_cv without rotation: box centre to crop centre, box size to 256.
        scale_x, scale_y = 256.0 / w, 256.0 / h
        trans = np.array([[scale_x, 0, 128 - scale_x * (x + w / 2)], [0, scale_y, 128 - scale_y * (y + h / 2)]])
        crops.append(cv2.warpAffine(image, trans, (256, 256), flags=cv2.INTER_LINEAR))
    inputs = torch.from_numpy(normalize_crops(np.stack(crops)))
    with torch.no_grad():
        out = network(inputs).numpy().astype(np.float64)
        if flip:
            mirrored = network(torch.flip(inputs, dims=[3])).numpy().astype(np.float64)
            out = (out + flip_back(mirrored, get_joint_set("human36m").flip_permutation, 32)) / 2
    return decode_with_boxes(out, crop_boxes, depths), out


@pytest.mark.parametrize("flip", [False, True])
def test_skiers_match_the_release_pipeline_written_out(network, skiers, flip):
    estimator = PoseEstimator(network, flip_test=flip, optimize=False)
    poses = estimator.predict(skiers, SKIER_BOXES, SKIER_DEPTHS)
    expected_img, expected_hm = reference_pipeline(network, skiers, SKIER_BOXES, SKIER_DEPTHS, flip)
    assert len(poses) == 5 and [p.index for p in poses] == [0, 1, 2, 3, 4]
    got_img = np.stack([np.c_[p.joints_img, p.joints_cam[:, 2]] for p in poses])
    np.testing.assert_allclose(np.stack([p.joints_hm for p in poses]), expected_hm, atol=1e-4)
    np.testing.assert_allclose(got_img[..., :2], expected_img[..., :2], atol=1e-3)
    np.testing.assert_allclose(got_img[..., 2], expected_img[..., 2], atol=1e-2)


def test_skiers_results_are_complete_and_consistent(estimator, skiers):
    poses = estimator.predict(skiers, SKIER_BOXES, SKIER_DEPTHS)
    assert isinstance(poses, Poses) and poses.image_size == (392, 640) and poses.error is None
    for person, box, depth in zip(poses, SKIER_BOXES, SKIER_DEPTHS):
        assert isinstance(person, PersonPose)
        assert person.joints_img.shape == (18, 2) and person.joints_cam.shape == (18, 3)
        assert person.confidence.shape == (18,) and ((person.confidence >= 0) & (person.confidence <= 1)).all()
        assert person.root_depth == pytest.approx(depth) and person.root_depth_source == "given"
        np.testing.assert_allclose(person.box, box)
        np.testing.assert_allclose(person.focal, [1500, 1500])
        np.testing.assert_allclose(person.princpt, [320, 196])
        np.testing.assert_allclose(person.joints_rel[person.root_index], 0.0, atol=1e-9)
        np.testing.assert_allclose(person.joints_rel, person.joints_cam - person.joints_cam[0])
        # Joints decode inside the crop box, and depths within the 2 m cube around the root.
        x, y, w, h = person.crop_box
        assert (person.joints_img[:, 0] >= x - 1).all() and (person.joints_img[:, 0] <= x + w).all()
        assert (person.joints_img[:, 1] >= y - 1).all() and (person.joints_img[:, 1] <= y + h).all()
        assert (np.abs(person.joints_cam[:, 2] - depth) <= 1000).all()
        assert person.joint_names == get_joint_set("human36m").names and len(person.skeleton) == 16


def test_pixel_camera_pixel_round_trip_is_exact(estimator, skiers):
    poses = estimator.predict(skiers, SKIER_BOXES, SKIER_DEPTHS, focal=(1400.0, 1600.0), princpt=(300.0, 210.0))
    for person in poses:
        back = cam2pixel(person.joints_cam, person.focal, person.princpt)
        np.testing.assert_allclose(back[:, :2], person.joints_img, rtol=0, atol=1e-9)
        # The camera coordinates really used the given intrinsics.
        np.testing.assert_allclose(person.focal, [1400, 1600])
        expected_x = (person.joints_img[:, 0] - 300.0) / 1400.0 * person.joints_cam[:, 2]
        np.testing.assert_allclose(person.joints_cam[:, 0], expected_x, atol=1e-9)


def test_one_forward_pass_for_all_people_and_batches_agree(network, skiers):
    estimator = PoseEstimator(network)
    calls = []
    backend = estimator.backend

    def counting(crops):
        calls.append(len(crops))
        return backend(crops)

    estimator.backend = counting
    single = read_image(shared_path("images", "single_person_2.png"))
    batch = estimator.predict_batch([skiers, single], [SKIER_BOXES, [[30, 20, 200, 220]]], [SKIER_DEPTHS, None])
    assert calls == [6]
    alone = estimator.predict(skiers, SKIER_BOXES, SKIER_DEPTHS)
    for a, b in zip(batch[0], alone):
        np.testing.assert_allclose(a.joints_cam, b.joints_cam, atol=1e-3)
    assert batch[1][0].root_depth_source == "prior"
    estimator.batch_size = 4
    calls.clear()
    estimator.predict_batch([skiers, single], [SKIER_BOXES, [[30, 20, 200, 220]]])
    assert calls == [4, 2]


def test_image_inputs_path_bytes_rgb_and_bgr_agree(estimator):
    path = shared_path("images", "single_person_3.png")
    rgb = read_image(path)
    box = [[70, 10, 100, 240]]
    results = [
        estimator.predict(path, box),
        estimator.predict(path.read_bytes(), box),
        estimator.predict(rgb, box, color_order="rgb"),
        estimator.predict(np.ascontiguousarray(rgb[:, :, ::-1]), box, color_order="bgr"),
    ]
    for other in results[1:]:
        np.testing.assert_allclose(other[0].joints_cam, results[0][0].joints_cam, atol=1e-6)
    # Reading a BGR array as RGB gives another answer: the colour order is not ignored.
    wrong = estimator.predict(np.ascontiguousarray(rgb[:, :, ::-1]), box, color_order="rgb")
    assert np.abs(wrong[0].joints_hm - results[0][0].joints_hm).max() > 1e-4


def test_root_depth_prior_when_not_given(estimator, skiers):
    poses = estimator.predict(skiers, SKIER_BOXES)
    crop = np.stack([p.crop_box for p in poses])
    expected = 1500.0 * 2000.0 / np.sqrt(crop[:, 2] * crop[:, 3])
    np.testing.assert_allclose([p.root_depth for p in poses], expected)
    assert all(p.root_depth_source == "prior" for p in poses)
    # Person 0: a 241.57 px tall box is 240.57 px after the release's "w - 1" clipping, so the
    # square crop is 1.25 x 240.57 px and k = 1500 * 2000 / 300.71 mm.
    assert poses[0].root_depth == pytest.approx(1500 * 2000 / (240.57 * 1.25), rel=1e-6)


def test_estimate_root_depth_formula():
    depth = estimate_root_depth(np.array([[0, 0, 100.0, 400.0]]), (1000.0, 1600.0))
    assert depth[0] == pytest.approx(np.sqrt(1000 * 1600 * 2000 * 2000 / (100 * 400)))
    assert np.isnan(estimate_root_depth(np.array([0, 0, 0.0, 10.0])))
    # Twice as far away, half the box side.
    near, far = estimate_root_depth(np.array([[0, 0, 200, 200], [0, 0, 100, 100.0]]))
    assert far == pytest.approx(2 * near)


def test_flip_test_runs_mirrored_crops_in_the_same_pass(network, skiers):
    estimator = PoseEstimator(network, flip_test=True)
    calls = []
    backend = estimator.backend
    estimator.backend = lambda crops: calls.append(len(crops)) or backend(crops)
    flipped = estimator.predict(skiers, SKIER_BOXES[:2], SKIER_DEPTHS[:2])
    plain = PoseEstimator(network).predict(skiers, SKIER_BOXES[:2], SKIER_DEPTHS[:2])
    assert calls == [4]
    assert np.abs(flipped[0].joints_hm - plain[0].joints_hm).max() > 1e-3


def test_onnx_backend_matches_torch(network, skiers, tmp_path):
    pytest.importorskip("onnxruntime")
    torch_poses = PoseEstimator(network).predict(skiers, SKIER_BOXES, SKIER_DEPTHS)
    onnx_poses = PoseEstimator(network, backend="onnx").predict(skiers, SKIER_BOXES, SKIER_DEPTHS)
    for a, b in zip(torch_poses, onnx_poses):
        np.testing.assert_allclose(b.joints_hm, a.joints_hm, atol=1e-4)
        np.testing.assert_allclose(b.confidence, a.confidence, atol=1e-4)


def test_to_dict_is_json_and_round_trips(estimator, skiers):
    poses = estimator.predict(skiers, SKIER_BOXES, SKIER_DEPTHS)
    payload = json.loads(json.dumps(poses.to_dict()))
    assert payload["image_size"] == [392, 640] and len(payload["people"]) == 5
    back = PersonPose.from_dict(payload["people"][1])
    np.testing.assert_allclose(back.joints_cam, poses[1].joints_cam, atol=1e-3)
    np.testing.assert_allclose(back.joints_img, poses[1].joints_img, atol=1e-3)
    assert back.joint_set.name == "human36m" and back.root_depth_source == "given"


def test_old_joint_names_warn_and_old_json_reads(estimator, skiers):
    person = estimator.predict(skiers, SKIER_BOXES, SKIER_DEPTHS)[1]
    entry = person.to_dict()
    assert {"joints_img", "joints_cam", "joints_rel"} <= set(entry) and "joints_3d" not in entry
    for old, new in (("joints_2d", "joints_img"), ("joints_3d", "joints_cam"), ("joints_3d_rel", "joints_rel")):
        with pytest.warns(DeprecationWarning, match=f"PersonPose.{old} is deprecated: use PersonPose.{new}"):
            assert getattr(person, old) is getattr(person, new)
    moved = person.joints_cam + 1.0
    with pytest.warns(DeprecationWarning):
        person.joints_3d = moved
    assert person.joints_cam is moved
    # JSON written by 0.1 (the demo's NAME.json) still reads back.
    old_names = {"joints_img": "joints_2d", "joints_cam": "joints_3d", "joints_rel": "joints_3d_rel"}
    back = PersonPose.from_dict({old_names.get(k, k): v for k, v in entry.items()})
    for new in old_names:
        np.testing.assert_array_equal(getattr(back, new), np.array(entry[new], dtype=float))


def test_plot_draws_on_a_copy(estimator, skiers):
    poses = estimator.predict(skiers, SKIER_BOXES[:1], SKIER_DEPTHS[:1])
    before = skiers.copy()
    drawn = poses[0].plot(skiers)
    assert drawn.shape == skiers.shape and np.array_equal(skiers, before)
    assert (drawn != skiers).any(axis=2).sum() > 200


def test_lookup_normalisation_equals_the_shared_one(rng):
    from convnextpose.image import normalize_crops_lut

    crops = rng.integers(0, 256, (2, 64, 48, 3), dtype=np.uint8)
    crops[0, 0, :3] = [[0, 0, 0], [255, 255, 255], [128, 7, 250]]
    fast = normalize_crops_lut(crops)
    assert fast.dtype == np.float32 and fast.shape == (2, 3, 64, 48)
    np.testing.assert_array_equal(fast, normalize_crops(crops))


def test_optimised_pytorch_path_equals_the_plain_network(network, skiers):
    from convnextpose.export.onednn import count_onednn_convs, onednn_available

    fast = PoseEstimator(network)  # fused, channels-last, oneDNN fused convolutions on CPU
    plain = PoseEstimator(network, optimize=False)
    for count in (1, 3):  # weights packed for one image, then for a batch
        a = fast.predict(skiers, SKIER_BOXES[:count], SKIER_DEPTHS[:count])
        b = plain.predict(skiers, SKIER_BOXES[:count], SKIER_DEPTHS[:count])
        np.testing.assert_allclose(np.stack([p.joints_hm for p in a]), np.stack([p.joints_hm for p in b]), atol=1e-4)
        np.testing.assert_allclose(np.stack([p.confidence for p in a]), np.stack([p.confidence for p in b]), atol=1e-4)
    convs = sum(isinstance(m, torch.nn.Conv2d) for m in network.modules())
    assert count_onednn_convs(fast.backend.model) == (convs if onednn_available() else 0)
    assert count_onednn_convs(plain.backend.model) == 0


@pytest.mark.parametrize("flip", [False, True])
def test_three_upsampling_heatmaps_decode_at_stride_four(skiers, flip):
    """An M/L-style head (heatmaps at input/4, 64 bins): cells are 4 crop px, flip mirrors the 64-wide grid."""
    torch.manual_seed(0)
    model = build_model("test", depth_dim=64, upsample_layers=3).eval()
    estimator = PoseEstimator(model, flip_test=flip, optimize=False)
    box, depth = [[100.0, 60.0, 120.0, 200.0]], [9000.0]
    person = estimator.predict(skiers, box, depth)[0]
    crop_box = person.crop_box
    hm = person.joints_hm
    assert model.output_size == (16, 16) and (hm[:, :2] <= 15).all() and (hm[:, 2] <= 63).all()
    expected_xy = crop_box[:2] + hm[:, :2] * 4 * crop_box[2:] / 64  # 4 crop px per cell, 64 px crop
    np.testing.assert_allclose(person.joints_img, expected_xy, atol=1e-6)
    np.testing.assert_allclose(person.joints_cam[:, 2], depth[0] + (hm[:, 2] / 64 * 2 - 1) * 1000, atol=1e-6)
    if flip:
        crops = np.stack([cv2.warpAffine(skiers, estimator_transform(estimator, skiers, box), (64, 64))])
        images = torch.from_numpy(normalize_crops(crops))
        with torch.no_grad():
            plain, mirrored = model(images).numpy(), model(torch.flip(images, dims=[3])).numpy()
        expected = (plain + flip_back(mirrored, get_joint_set("human36m").flip_permutation, 16)) / 2
        np.testing.assert_allclose(hm, expected[0], atol=1e-4)


def estimator_transform(estimator, image, boxes):
    """The image -> crop affine the estimator uses for the first box."""
    from convnextpose.geometry import crop_transforms

    crop_boxes, _ = process_boxes(np.asarray(boxes), image.shape[1], image.shape[0])
    return crop_transforms(crop_boxes[:, :2] + crop_boxes[:, 2:] / 2, crop_boxes[:, 2:], estimator.input_size)[0]
