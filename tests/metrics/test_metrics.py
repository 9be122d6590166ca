"""Pure metric functions against known answers and independent implementations."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.linalg import orthogonal_procrustes
from scipy.spatial.transform import Rotation

from convnextpose.metrics import AUC_THRESHOLDS_MM, auc, mpjpe, pa_mpjpe, pck3d


def random_poses(rng, n=8, j=17):
    return rng.normal(scale=250.0, size=(n, j, 3))


def loop_mpjpe(pred, gt, mask=None):
    total, count = 0.0, 0
    for n in range(pred.shape[0]):
        for j in range(pred.shape[1]):
            if mask is None or mask[n, j]:
                total += float(np.sqrt(((pred[n, j] - gt[n, j]) ** 2).sum()))
                count += 1
    return total / count


def loop_align(pred, gt, scale):
    """Independent per-sample alignment: scipy's orthogonal Procrustes for R, closed forms for s and t."""
    out = np.empty_like(pred)
    for n in range(len(pred)):
        mu_p, mu_g = pred[n].mean(0), gt[n].mean(0)
        p0, g0 = pred[n] - mu_p, gt[n] - mu_g
        # orthogonal_procrustes(A, B) minimises ||A R - B||; it may return a reflection, which we fix by hand.
        rot, _ = orthogonal_procrustes(p0, g0)
        if np.linalg.det(rot) < 0:
            u, _, vt = np.linalg.svd(p0.T @ g0)
            d = np.diag([1.0, 1.0, -1.0])
            rot = u @ d @ vt
        s = np.trace((p0 @ rot).T @ g0) / (p0**2).sum() if scale else 1.0
        out[n] = s * p0 @ rot + mu_g
    return out


def test_shift_of_10mm_is_10(rng):
    gt = random_poses(rng)
    assert mpjpe(gt + np.array([6.0, 8.0, 0.0]), gt) == pytest.approx(10.0)
    assert mpjpe(gt + np.array([0.0, 0.0, -10.0]), gt) == pytest.approx(10.0)
    assert isinstance(mpjpe(gt, gt), float)


def test_mpjpe_matches_a_loop_with_and_without_mask(rng):
    pred, gt = random_poses(rng), random_poses(rng)
    mask = rng.uniform(size=pred.shape[:2]) > 0.3
    assert mpjpe(pred, gt) == pytest.approx(loop_mpjpe(pred, gt), rel=1e-12)
    assert mpjpe(pred, gt, mask=mask) == pytest.approx(loop_mpjpe(pred, gt, mask), rel=1e-12)
    assert mpjpe(pred[0], gt[0]) == pytest.approx(loop_mpjpe(pred[:1], gt[:1]), rel=1e-12)


@pytest.mark.parametrize("scale", [True, False])
def test_pa_mpjpe_matches_independent_alignment(rng, scale):
    gt = random_poses(rng)
    pred = gt * 0.9 + rng.normal(scale=40.0, size=gt.shape) + 30.0
    expected = loop_mpjpe(loop_align(pred, gt, scale), gt)
    assert pa_mpjpe(pred, gt, scale=scale) == pytest.approx(expected, rel=1e-8)


def test_pa_mpjpe_similarity_removes_a_similarity_transform_and_rigid_does_not(rng):
    gt = random_poses(rng)
    rotations = Rotation.random(len(gt), random_state=1).as_matrix()
    scales = np.array([0.7, 1.3] * (len(gt) // 2))
    pred = scales[:, None, None] * np.einsum("nij,nkj->nki", rotations, gt) + rng.normal(
        scale=500, size=(len(gt), 1, 3)
    )
    assert pa_mpjpe(pred, gt, scale=True) == pytest.approx(0.0, abs=1e-6)
    assert pa_mpjpe(pred, gt, scale=False) > 10.0
    # A rigid motion alone is removed by both.
    rigid = np.einsum("nij,nkj->nki", rotations, gt) + 100.0
    assert pa_mpjpe(rigid, gt, scale=False) == pytest.approx(0.0, abs=1e-6)
    # and MPJPE sees the rotation: the alignment is what makes these zero.
    assert mpjpe(rigid, gt) > 100.0


def test_pa_mpjpe_mask_ignores_a_wild_joint(rng):
    gt = random_poses(rng, n=3)
    pred = gt.copy()
    pred[:, 5] += 5000.0
    mask = np.ones(gt.shape[:2], bool)
    mask[:, 5] = False
    assert pa_mpjpe(pred, gt, mask=mask) == pytest.approx(0.0, abs=1e-6)
    assert pa_mpjpe(pred, gt) > 100.0


def test_pck_steps_at_the_threshold(rng):
    gt = random_poses(rng)
    direction = np.array([0.0, 0.6, 0.8])
    assert pck3d(gt + 149.9 * direction, gt) == 1.0
    assert pck3d(gt + 150.1 * direction, gt) == 0.0
    assert pck3d(gt + 99.0 * direction, gt, threshold=100.0) == 1.0
    assert pck3d(gt + 101.0 * direction, gt, threshold=100.0) == 0.0
    half = gt.copy()
    half[:, ::2] += 200.0 * direction
    expected = 1.0 - len(range(0, 17, 2)) / 17
    assert pck3d(half, gt) == pytest.approx(expected)


def test_auc_grid_and_values(rng):
    assert len(AUC_THRESHOLDS_MM) == 31 and AUC_THRESHOLDS_MM[0] == 0 and AUC_THRESHOLDS_MM[-1] == 150
    gt = random_poses(rng)
    assert auc(gt, gt) == 1.0
    assert auc(gt + 1000.0, gt) == 0.0
    # Every error is 72 mm: counted from the 75 mm threshold on, i.e. 16 of the 31 thresholds.
    assert auc(gt + np.array([72.0, 0, 0]), gt) == pytest.approx(16 / 31)
    pred = gt + rng.normal(scale=60.0, size=gt.shape)
    errors = np.linalg.norm(pred - gt, axis=-1)
    expected = np.mean([np.mean(errors <= t) for t in range(0, 151, 5)])
    assert auc(pred, gt) == pytest.approx(expected)
    mask = errors < 100
    assert auc(pred, gt, mask=mask) == pytest.approx(np.mean([np.mean(errors[mask] <= t) for t in range(0, 151, 5)]))


def test_bad_inputs_are_rejected(rng):
    gt = random_poses(rng)
    with pytest.raises(ValueError, match="same shape"):
        mpjpe(gt[:, :16], gt)
    with pytest.raises(ValueError, match="mask"):
        mpjpe(gt, gt, mask=np.ones(3))
    with pytest.raises(ValueError, match="excludes every joint"):
        pck3d(gt, gt, mask=np.zeros(gt.shape[:2], bool))
