"""Geometry round trips and known answers."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from convnextpose.codec import decode, decode_with_boxes, encode, flip_back
from convnextpose.geometry import (
    affine_points,
    align,
    cam2pixel,
    cam2world,
    crop_transform,
    crop_transforms,
    extend_boxes,
    invert_affine,
    pixel2cam,
    process_boxes,
    procrustes_transform,
    sanitize_boxes,
    world2cam,
)
from convnextpose.joints import get_joint_set


def _random_poses(rng, n=5, j=17):
    return rng.normal(0, 300, (n, j, 3)) + np.array([0, 0, 5000.0])


def test_project_and_back_project(rng):
    points = _random_poses(rng)
    focal = rng.uniform(1000, 1200, (5, 2))
    princpt = rng.uniform(400, 600, (5, 2))
    pixels = cam2pixel(points, focal, princpt)
    assert np.allclose(pixel2cam(pixels, focal, princpt), points)
    u = points[0, 0, 0] / points[0, 0, 2] * focal[0, 0] + princpt[0, 0]
    assert pixels[0, 0, 0] == pytest.approx(u)
    single = cam2pixel(points[0], focal[0], princpt[0])
    assert np.allclose(single, pixels[0])


def test_world_camera_round_trip(rng):
    rotation = Rotation.random(random_state=1).as_matrix()
    translation = rng.normal(0, 1000, 3)
    world = _random_poses(rng)
    cam = world2cam(world, rotation, translation)
    assert np.allclose(cam[2, 4], rotation @ world[2, 4] + translation)
    assert np.allclose(cam2world(cam, rotation, translation), world)


def test_box_sanitising_and_extension():
    boxes = np.array([[-10.0, 20, 100, 50], [50, 50, 0, 10], [990, 990, 50, 50], [np.nan, 0, 5, 5]])
    clipped, valid = sanitize_boxes(boxes, 1000, 1000)
    assert valid.tolist() == [True, False, True, False]
    assert np.allclose(clipped[0], [0, 20, 99, 49])
    assert np.allclose(clipped[2], [990, 990, 9, 9])
    extended = extend_boxes(np.array([0.0, 0, 100, 50]), aspect_ratio=1.0)
    assert np.allclose(extended, [-12.5, -37.5, 125, 125])
    extended, valid = process_boxes(boxes, 1000, 1000)
    assert np.isnan(extended[1]).all() and not valid[1]


@pytest.mark.parametrize(("scale", "rotation"), [(1.0, 0.0), (1.2, 30.0), (0.8, -45.0)])
def test_crop_transform_matches_three_point_affine(scale, rotation):
    box = np.array([100.0, 150, 300, 200])
    trans = crop_transform(box, (256, 192), scale, rotation)
    center = box[:2] + box[2:] / 2
    w, h = box[2] * scale, box[3] * scale
    t = np.deg2rad(rotation)
    down = np.array([-0.5 * h * np.sin(t), 0.5 * h * np.cos(t)])
    right = np.array([0.5 * w * np.cos(t), 0.5 * w * np.sin(t)])
    src = np.float32([center, center + down, center + right])
    dst = np.float32([[96, 128], [96, 256], [192, 128]])
    assert np.allclose(trans, cv2.getAffineTransform(src, dst), atol=1e-4)


def test_crop_and_uncrop_round_trip(rng):
    centers = rng.uniform(200, 800, (4, 2))
    sizes = rng.uniform(100, 500, (4, 2))
    forward = crop_transforms(centers, sizes, (256, 256), rng.uniform(0.7, 1.3, 4), rng.uniform(-60, 60, 4))
    backward = crop_transforms(
        centers, sizes, (256, 256), 1.0, 0.0, inverse=True
    )  # different crop, check the general inverse instead
    points = rng.uniform(0, 1000, (4, 17, 2))
    assert np.allclose(affine_points(invert_affine(forward), affine_points(forward, points)), points)
    assert np.allclose(affine_points(backward, affine_points(invert_affine(backward), points)), points)
    assert np.allclose(affine_points(forward[:, :, :], np.broadcast_to(centers[:, None], (4, 1, 2))), 128)


def test_encode_decode_round_trip(rng):
    joints_img = np.concatenate([rng.uniform(300, 700, (3, 18, 2)), rng.uniform(4500, 5500, (3, 18, 1))], -1)
    root = joints_img[:, 0, 2]
    boxes = extend_boxes(np.array([[250.0, 250, 500, 500]] * 3))
    trans = crop_transforms(boxes[:, :2] + boxes[:, 2:] / 2, boxes[:, 2:], (256, 256), [1.0, 1.1, 0.9], [0, 20, -10])
    joints_hm, inside = encode(joints_img, root, trans)
    back = decode(joints_hm, root, invert_affine(trans))
    assert np.allclose(back, joints_img, atol=1e-3)
    assert np.allclose(joints_hm[:, 0, 2], 16.0)  # the root sits in the middle depth bin
    plain, _ = encode(joints_img[:1], root[:1], trans[:1])
    assert np.allclose(decode_with_boxes(plain, boxes[:1], root[:1]), joints_img[:1], atol=1e-3)
    far = joints_img.copy()
    far[0, 3, 2] = root[0] + 1500
    assert not encode(far, root, trans)[1][0, 3]


def test_release_box_decoding_equals_inverse_affine(rng):
    box = np.array([[120.0, 80, 400, 400]])
    joints_hm = rng.uniform(0, 31, (1, 18, 3))
    decoded = decode_with_boxes(joints_hm, box, np.array([5000.0]))
    assert np.allclose(decoded[0, :, 0], joints_hm[0, :, 0] / 32 * 400 + 120)
    assert np.allclose(decoded[0, :, 1], joints_hm[0, :, 1] / 32 * 400 + 80)
    assert np.allclose(decoded[0, :, 2], (joints_hm[0, :, 2] / 32 * 2 - 1) * 1000 + 5000)


def test_flipping_twice_is_identity(rng):
    perm = get_joint_set("human36m").flip_permutation
    joints_hm = rng.uniform(0, 31, (2, 18, 3))
    assert np.allclose(flip_back(flip_back(joints_hm, perm, 32), perm, 32), joints_hm)


@pytest.mark.parametrize("scale", [True, False])
def test_alignment_recovers_a_known_transform(rng, scale):
    source = rng.normal(0, 300, (6, 17, 3))
    rotation = Rotation.random(6, random_state=2).as_matrix()
    s = rng.uniform(0.5, 2.0, 6) if scale else np.ones(6)
    t = rng.normal(0, 100, (6, 3))
    target = s[:, None, None] * np.einsum("nij,nkj->nki", rotation, source) + t[:, None]
    s_hat, r_hat, t_hat = procrustes_transform(source, target, scale=scale)
    assert np.allclose(s_hat, s) and np.allclose(r_hat, rotation) and np.allclose(t_hat, t)
    assert np.allclose(align(source, target, scale=scale), target)
    assert np.allclose(np.linalg.det(r_hat), 1.0)


def test_rigid_alignment_keeps_scale(rng):
    source = rng.normal(0, 300, (17, 3))
    aligned = align(source, 2.0 * source, scale=False)
    assert np.allclose(
        np.linalg.norm(aligned - aligned.mean(0), axis=1), np.linalg.norm(source - source.mean(0), axis=1)
    )
    assert np.allclose(align(source, 2.0 * source, scale=True), 2.0 * source)


def test_alignment_never_reflects(rng):
    source = rng.normal(0, 300, (17, 3))
    mirrored = source * np.array([-1.0, 1, 1])
    _, rotation, _ = procrustes_transform(source, mirrored)
    assert np.linalg.det(rotation) == pytest.approx(1.0)
