"""Human3.6M per-action aggregation on constructed predictions (MuPoTS-3D: test_metrics_mupots.py)."""

from __future__ import annotations

import numpy as np
import pytest

from convnextpose.metrics import evaluate_human36m, format_human36m


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
