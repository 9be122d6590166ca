"""Soft shadows of people on the floor: capsule shadow casters, a key-light shadow and a contact shadow."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class Capsule:
    """A soft shadow caster: segment end points (2, 3) world mm and radius (mm)."""

    ends: np.ndarray
    radius: float


def capsule_shadow(points: np.ndarray, capsules: list[Capsule], light_dir: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Soft shadows of capsules on the floor (Z = 0) at floor points (K, 3).

    The key-light shadow projects each capsule onto the floor along ``light_dir`` and softens it with the height of
    the caster; the contact (ambient) shadow projects straight down and fades within ~25 cm of the floor. Only the
    points inside each projected capsule's bounding rectangle are evaluated.

    Returns:
        (K,) key-light visibility in [0, 1] and (K,) ambient occlusion in [0, 1].
    """
    key_vis = np.ones(len(points), np.float32)
    ao = np.ones(len(points), np.float32)
    if len(points) == 0 or not capsules:
        return key_vis, ao
    light = np.asarray(light_dir, np.float64)
    p_all = np.asarray(points[:, :2], np.float32)
    jobs = []
    for cap in capsules:
        a, b = np.asarray(cap.ends, np.float64)
        for kind, direction in (("key", light), ("ao", np.array([0.0, 0.0, 1.0]))):
            if direction[2] < 0.05:
                continue
            pa = a[:2] - direction[:2] * a[2] / direction[2]
            pb = b[:2] - direction[:2] * b[2] / direction[2]
            top = max(a[2], b[2])
            reach = cap.radius * 1.5 + 0.1 * top + 30 if kind == "key" else cap.radius + 0.6 * min(a[2], b[2]) + 20
            if kind == "ao" and min(a[2], b[2]) > 600:  # the contact shadow has faded below 10 % by then
                continue
            lo, hi = np.minimum(pa, pb) - reach, np.maximum(pa, pb) + reach
            jobs.append((kind, pa, pb, a[2], b[2], cap.radius, lo, hi))
    lo_all = np.min([j[6] for j in jobs], axis=0)
    hi_all = np.max([j[7] for j in jobs], axis=0)
    px, py = p_all[:, 0], p_all[:, 1]
    cand = np.flatnonzero((px >= lo_all[0]) & (px <= hi_all[0]) & (py >= lo_all[1]) & (py <= hi_all[1]))
    p_c = p_all[cand]
    cx, cy = p_c[:, 0], p_c[:, 1]
    for kind, pa, pb, za, zb, radius, lo, hi in jobs:
        inside = np.flatnonzero((cx >= lo[0]) & (cx <= hi[0]) & (cy >= lo[1]) & (cy <= hi[1]))
        if len(inside) == 0:
            continue
        p = p_c[inside]
        d = (pb - pa).astype(np.float32)
        rel = p - pa.astype(np.float32)
        t = np.clip((rel @ d) / max(float(d @ d), 1e-9), 0, 1)
        q = rel - t[:, None] * d
        dist = np.sqrt(np.einsum("ij,ij->i", q, q))
        height = za + t * (zb - za)
        idx = cand[inside]
        if kind == "key":
            rad = radius * (1.0 + 0.15 * height / 1000.0)
            soft = 0.3 * radius + 0.08 * height
            value = np.clip((rad + soft - dist) / (2 * soft), 0, 1)
            key_vis[idx] = np.minimum(key_vis[idx], 1 - value)
        else:
            reach = radius + 0.6 * height + 20.0
            value = np.clip(1 - dist / reach, 0, 1) ** 1.5 * np.exp(-height / 250.0)
            ao[idx] = np.minimum(ao[idx], 1 - 0.75 * value)
    return key_vis, ao
