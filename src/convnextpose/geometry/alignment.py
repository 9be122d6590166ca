"""Rigid and similarity (Procrustes) alignment of point sets, batched.

Human3.6M protocol 1 of the release aligns rigidly (rotation + translation); most of the field
(e.g. MMPose's P-MPJPE) also fits a scale. Both are here, chosen by ``scale``.
"""

from __future__ import annotations

import numpy as np


def procrustes_transform(
    source: np.ndarray, target: np.ndarray, scale: bool = True, mask: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Best ``target ~ s * R @ source + t`` in the least-squares sense, without reflections.

    Args:
        source, target: (N, J, 3) or (J, 3).
        scale: fit the scale s (similarity); else s = 1 (rigid).
        mask: optional (N, J) or (J,) bool/float weights; joints with weight 0 are ignored.

    Returns:
        s (N,), R (N, 3, 3), t (N, 3) (without the batch axis for 2-D inputs).
    """
    single = np.asarray(source).ndim == 2
    src = np.asarray(source, dtype=np.float64).reshape((-1,) + np.shape(source)[-2:])
    dst = np.asarray(target, dtype=np.float64).reshape(src.shape)
    weights = np.ones(src.shape[:2]) if mask is None else np.asarray(mask, dtype=np.float64).reshape(src.shape[:2])
    wsum = np.maximum(weights.sum(axis=1, keepdims=True), 1e-12)[..., None]
    w = weights[..., None]
    mu_src = (src * w).sum(axis=1, keepdims=True) / wsum
    mu_dst = (dst * w).sum(axis=1, keepdims=True) / wsum
    src_c, dst_c = src - mu_src, dst - mu_dst
    cov = np.einsum("nji,njk->nik", dst_c * w, src_c)  # (N, 3, 3): sum w * dst_c src_c^T
    u, sing, vt = np.linalg.svd(cov)
    d = np.sign(np.linalg.det(u @ vt))
    d = np.where(d == 0, 1.0, d)
    correction = np.ones((len(src), 3))
    correction[:, 2] = d
    rotation = u @ (correction[:, :, None] * vt)
    if scale:
        var_src = ((src_c**2) * w).sum(axis=(1, 2))
        s = (sing * correction).sum(axis=1) / np.maximum(var_src, 1e-12)
    else:
        s = np.ones(len(src))
    t = mu_dst[:, 0] - s[:, None] * np.einsum("nij,nj->ni", rotation, mu_src[:, 0])
    if single:
        return s[0], rotation[0], t[0]
    return s, rotation, t


def align(source: np.ndarray, target: np.ndarray, scale: bool = True, mask: np.ndarray | None = None) -> np.ndarray:
    """``source`` moved onto ``target`` by :func:`procrustes_transform`; same shape as ``source``."""
    s, rotation, t = procrustes_transform(source, target, scale, mask)
    src = np.asarray(source, dtype=np.float64)
    if src.ndim == 2:
        return s * src @ rotation.T + t
    return s[:, None, None] * np.einsum("nij,nkj->nki", rotation, src) + t[:, None, :]
