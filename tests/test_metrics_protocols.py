"""Human3.6M per-action and MuPoTS-3D per-sequence aggregation on constructed predictions."""

from __future__ import annotations

import numpy as np
import pytest

from convnextpose.joints import MUPOTS
from convnextpose.metrics import evaluate_human36m, evaluate_mupots, format_human36m, format_mupots
from convnextpose.metrics.mupots import AnnotatedPerson, bone_parents, match_people, rescale_bones


def h36m_poses(rng, n):
    gt = rng.normal(scale=200.0, size=(n, 18, 3))
    gt[:, :, 2] += 5000.0
    return gt


def test_h36m_per_action_and_overall(rng):
    gt = h36m_poses(rng, 6)
    actions = np.array([2, 2, 2, 5, 5, 16])
    pred = gt.copy()
    # Directions: every joint but the root off by 10 mm along x; Greeting (5): 30 mm along y; WalkTogether: exact.
    pred[:3, 1:] += [10.0, 0, 0]
    pred[3:5, 1:] += [0, 30.0, 0]
    pred[:, 17] += 1000.0  # Thorax is not evaluated
    pred += 777.0  # a global offset is removed by root alignment
    result = evaluate_human36m(pred, gt, actions, protocol=2)
    assert result["headline"] == "mpjpe" and result["num_samples"] == 6
    per = result["per_action"]
    assert set(per) == {"Directions", "Greeting", "WalkTogether"}
    assert per["Directions"]["mpjpe"] == pytest.approx(10.0 * 16 / 17)
    assert per["Greeting"]["mpjpe"] == pytest.approx(30.0 * 16 / 17)
    assert per["WalkTogether"]["mpjpe"] == pytest.approx(0.0, abs=1e-9)
    # Overall pools samples: (3*10 + 2*30 + 0) / 6 * 16/17.
    assert result["overall"]["mpjpe"] == pytest.approx((30 + 60) / 6 * 16 / 17)
    assert result["overall"]["pa_mpjpe_similarity"] <= result["overall"]["mpjpe"] + 1e-9
    table = format_human36m(result)
    assert "Directions" in table and "PA-MPJPE rigid" in table and "similarity" in table


def test_h36m_rigid_and_similarity_differ_on_a_scaled_pose(rng):
    gt = h36m_poses(rng, 4)
    root = gt[:, :1]
    pred = root + 1.2 * (gt - root)
    result = evaluate_human36m(pred, gt, [3, 3, 3, 3], protocol=1)
    assert result["headline"] == "pa_mpjpe_rigid"
    assert result["overall"]["pa_mpjpe_similarity"] == pytest.approx(0.0, abs=1e-6)
    assert result["overall"]["pa_mpjpe_rigid"] > 5.0
    with pytest.raises(ValueError, match="2..16"):
        evaluate_human36m(pred, gt, [1, 3, 3, 3])


def _release_rigid_align(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The release's ``rigid_align(A, B)`` (3DMPPE ``pose_utils``), written out as it reads: A moved onto B."""
    centroid_a, centroid_b = a.mean(axis=0), b.mean(axis=0)
    h = (a - centroid_a).T @ (b - centroid_b)
    u, _s, v = np.linalg.svd(h)
    r = v.T @ u.T
    if np.linalg.det(r) < 0:
        v[2] = -v[2]
        r = v.T @ u.T
    t = -r @ centroid_a + centroid_b
    return (r @ a.T).T + t


def test_h36m_protocol1_is_the_release_evaluate(rng):
    """Root-relative, rigid alignment fitted on all 18 joints, then the 17 scored (Thorax dropped)."""
    gt = h36m_poses(rng, 12)
    pred = gt + rng.normal(scale=40.0, size=gt.shape)
    pred[:, 17] += rng.normal(scale=150.0, size=(12, 3))  # a poor Thorax pulls the release's fit
    expected = []
    for p, g in zip(pred, gt):
        p, g = p - p[0], g - g[0]
        aligned = _release_rigid_align(p, g)
        expected.append(np.linalg.norm(aligned[:17] - g[:17], axis=1).mean())
    result = evaluate_human36m(pred, gt, np.full(12, 4), protocol=1)
    assert result["overall"]["pa_mpjpe_rigid"] == pytest.approx(np.mean(expected), abs=1e-6)
    assert result["per_action"]["Eating"]["pa_mpjpe_rigid"] == pytest.approx(np.mean(expected), abs=1e-6)
    # Fitting on the 17 scored joints only (the package's earlier rule) gives another number.
    only_17 = np.mean([
        np.linalg.norm(_release_rigid_align(p[:17] - p[0], g[:17] - g[0]) - (g[:17] - g[0]), axis=1).mean()
        for p, g in zip(pred, gt)
    ])  # fmt: skip
    assert abs(only_17 - np.mean(expected)) > 0.05
    assert "18 joints" in result["metrics"]["pa_mpjpe_rigid"]


def mupots_person(rng, center_px):
    joints_3d = rng.normal(scale=300.0, size=(17, 3))
    joints_3d[:, 2] += 4000.0
    joints_2d = center_px + rng.normal(scale=60.0, size=(17, 2))
    return joints_3d, joints_2d


def test_rescale_bones_gives_true_lengths_and_keeps_directions(rng):
    parents = bone_parents(MUPOTS)
    root = MUPOTS.root_index
    assert parents[root] == root and parents[MUPOTS.index("Head_top")] == MUPOTS.index("Head")
    gt = rng.normal(scale=300.0, size=(17, 3))
    gt -= gt[root]
    pred = 1.7 * gt  # right directions, wrong lengths
    assert np.allclose(rescale_bones(pred, gt, parents), gt)
    pred = rng.normal(scale=300.0, size=(17, 3))
    pred -= pred[root]
    out = rescale_bones(pred, gt, parents)
    for child, parent in enumerate(parents):
        if child == root:
            continue
        assert np.linalg.norm(out[child] - out[parent]) == pytest.approx(np.linalg.norm(gt[child] - gt[parent]))
        bone, new = pred[child] - pred[parent], out[child] - out[parent]
        assert np.dot(bone, new) / np.linalg.norm(bone) / np.linalg.norm(new) == pytest.approx(1.0)


def test_match_people_by_2d_distance(rng):
    gt = np.stack([mupots_person(rng, c)[1] for c in ([100, 100], [400, 100], [700, 300])])
    pred = np.stack([gt[2] + 5.0, gt[0] - 3.0, gt[1] + 100.0])  # third is 141 px off: no match
    assert match_people(gt, pred).tolist() == [1, -1, 0]
    assert match_people(gt, pred, threshold_px=200).tolist() == [1, 2, 0]
    assert match_people(gt, pred[:0]).tolist() == [-1, -1, -1]


def test_mupots_all_vs_matched_per_sequence(rng):
    people, preds_2d, preds_3d = [], {}, {}
    # TS1 frame 0: two people, both predicted exactly (up to a global shift).
    # TS1 frame 1: one person predicted exactly, one person not predicted at all.
    # TS2 frame 0: one person predicted with every bone 2x too long (undone by rescaling) and one invalid.
    for sequence, frame, specs in (
        (1, 0, ["exact", "exact"]),
        (1, 1, ["exact", "missing"]),
        (2, 0, ["long", "invalid"]),
    ):
        p2, p3 = [], []
        for k, spec in enumerate(specs):
            joints_3d, joints_2d = mupots_person(rng, np.array([150.0 + 300 * k, 200.0]))
            occluded = np.zeros(17, bool)
            occluded[:4] = True
            people.append(AnnotatedPerson(sequence, frame, joints_2d, joints_3d, spec != "invalid", occluded))
            if spec == "exact":
                p2.append(joints_2d + 2.0)
                p3.append(joints_3d + 50.0)
            elif spec == "long":
                root = joints_3d[MUPOTS.root_index]
                p2.append(joints_2d)
                p3.append(root + 2.0 * (joints_3d - root))
        preds_2d[(sequence, frame)] = np.array(p2).reshape(-1, 17, 2)
        preds_3d[(sequence, frame)] = np.array(p3).reshape(-1, 17, 3)
    result = evaluate_mupots(people, preds_2d, preds_3d)
    assert result["num_people"] == 5 and result["num_matched"] == 4
    all_ts1 = result["all"]["per_sequence"]["TS1"]
    matched_ts1 = result["matched"]["per_sequence"]["TS1"]
    assert all_ts1["pck"] == pytest.approx(3 / 4) and matched_ts1["pck"] == 1.0
    # Exact predictions score at every threshold except possibly 0 mm (rounding in the rescaling).
    assert matched_ts1["auc"] >= 30 / 31 and all_ts1["auc"] == pytest.approx(3 / 4 * matched_ts1["auc"])
    assert result["all"]["per_sequence"]["TS2"]["pck"] == 1.0  # bone rescaling undoes the 2x
    assert result["all"]["mean_over_sequences"]["pck"] == pytest.approx((0.75 + 1.0) / 2)
    assert result["all"]["pooled"]["pck"] == pytest.approx(4 / 5)
    assert all_ts1["pck_visible"] == pytest.approx(3 / 4) and all_ts1["num_joints_visible"] == 4 * 11
    assert len(result["eval_joints"]) == 15 and "Pelvis" not in result["eval_joints"]
    table = format_mupots(result)
    assert "TS1" in table and "TS2" in table and " 75.0" in table


def test_mupots_partial_error_counts_joints(rng):
    joints_3d, joints_2d = mupots_person(rng, np.array([300.0, 300.0]))
    pred = joints_3d.copy()
    # Reverse the left forearm: rescaling keeps its length, so only the wrist is off, by twice the bone.
    elbow, wrist = MUPOTS.index("L_Elbow"), MUPOTS.index("L_Wrist")
    bone = joints_3d[wrist] - joints_3d[elbow]
    pred[wrist] = joints_3d[elbow] - bone  # reversed forearm: error = 2 * |bone|
    person = AnnotatedPerson(3, 0, joints_2d, joints_3d)
    result = evaluate_mupots([person], {(3, 0): joints_2d[None]}, {(3, 0): pred[None]})
    expected_error_missed = 2 * np.linalg.norm(bone) > 150
    assert result["all"]["pooled"]["pck"] == pytest.approx((15 - expected_error_missed) / 15)
    assert "pck_visible" not in result["all"]["pooled"]  # no occlusion labels given
