"""Self-intersection tests on capsule proxies of a posed body, the same for every body back-end.

A body is approximated by 15 capsules (two torso halves, the head, and per side the upper arm, forearm, hand, thigh,
shin and foot). A pose is rejected when two capsules that are not neighbours overlap by more than half the thinner
radius, so touching (thighs together, arms against the sides) passes and a limb through the torso or another limb
does not. Hands are not tested: they rest on hips, thighs, the face or each other in many everyday poses.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from .limits import SIDES

CAPSULES: tuple[str, ...] = (
    "torso.L", "torso.R", "head",
    "upperarm.L", "forearm.L", "hand.L", "thigh.L", "shin.L", "foot.L",
    "upperarm.R", "forearm.R", "hand.R", "thigh.R", "shin.R", "foot.R",
)  # fmt: skip
# Pairs that touch by construction (adjacent, or the same side of the torso) are never tested, nor are the hands.
_ADJACENT = {
    ("torso.L", "torso.R"), ("head", "torso.L"), ("head", "torso.R"),
    ("torso.L", "upperarm.L"), ("torso.R", "upperarm.R"), ("torso.L", "thigh.L"), ("torso.R", "thigh.R"),
    ("torso.L", "thigh.R"), ("torso.R", "thigh.L"),
    ("upperarm.L", "forearm.L"), ("forearm.L", "hand.L"), ("thigh.L", "shin.L"), ("shin.L", "foot.L"),
    ("upperarm.R", "forearm.R"), ("forearm.R", "hand.R"), ("thigh.R", "shin.R"), ("shin.R", "foot.R"),
}  # fmt: skip
CAPSULE_PAIRS: tuple[tuple[int, int], ...] = tuple(
    (i, j)
    for i in range(len(CAPSULES))
    for j in range(i + 1, len(CAPSULES))
    if (CAPSULES[i], CAPSULES[j]) not in _ADJACENT
    and (CAPSULES[j], CAPSULES[i]) not in _ADJACENT
    and not (CAPSULES[i].startswith("hand") or CAPSULES[j].startswith("hand"))
)
#: Points :func:`capsule_segments` needs: per side (``.L``/``.R``) the hip, clavicle (its inner end), shoulder,
#: elbow, wrist, knuckles, knee, ankle and toe; and the top of the neck and the crown of the head.
SEGMENT_POINTS = tuple(
    f"{p}.{s}"
    for s in SIDES
    for p in ("hip", "clavicle", "shoulder", "elbow", "wrist", "knuckles", "knee", "ankle", "toe")
) + ("neck_top", "crown")


def capsule_segments(points: Mapping[str, np.ndarray]) -> np.ndarray:
    """Capsule end points (..., C, 2, 3) in :data:`CAPSULES` order from named body points (..., 3) (see
    :data:`SEGMENT_POINTS`)."""
    p = points
    ends = np.stack([p[name] for name in SEGMENT_POINTS], axis=-2)[..., _ENDS, :]
    # The torso's halves run from between the pelvis and a hip to between the neck and a shoulder.
    pelvis = 0.5 * (p["hip.L"] + p["hip.R"])
    neck = 0.5 * (p["clavicle.L"] + p["clavicle.R"])
    for s in SIDES:
        c = CAPSULES.index(f"torso.{s}")
        ends[..., c, 0, :] = pelvis + 0.45 * (p[f"hip.{s}"] - pelvis)
        ends[..., c, 1, :] = neck + 0.35 * (p[f"shoulder.{s}"] - neck)
    return ends


def _capsule_ends() -> np.ndarray:
    """(C, 2) indices into :data:`SEGMENT_POINTS` of each capsule's ends (the torso's are computed, 0 here)."""
    limbs = {"upperarm": ("shoulder", "elbow"), "forearm": ("elbow", "wrist"), "hand": ("wrist", "knuckles"),
             "thigh": ("hip", "knee"), "shin": ("knee", "ankle"), "foot": ("ankle", "toe")}  # fmt: skip
    index = {name: i for i, name in enumerate(SEGMENT_POINTS)}
    ends = np.zeros((len(CAPSULES), 2), np.int64)
    for c, name in enumerate(CAPSULES):
        if name == "head":
            ends[c] = index["neck_top"], index["crown"]
        elif not name.startswith("torso"):
            limb, side = name.split(".")
            ends[c] = index[f"{limbs[limb][0]}.{side}"], index[f"{limbs[limb][1]}.{side}"]
    return ends


_ENDS = _capsule_ends()


def segment_distance(p0, p1, q0, q1) -> np.ndarray:
    """Closest distance between segments [p0, p1] and [q0, q1], all (..., 3)."""
    d1, d2, r = p1 - p0, q1 - q0, p0 - q0
    a = np.sum(d1 * d1, -1)
    e = np.sum(d2 * d2, -1)
    f = np.sum(d2 * r, -1)
    c = np.sum(d1 * r, -1)
    b = np.sum(d1 * d2, -1)
    denom = a * e - b * b
    s = np.where(denom > 1e-9, np.clip((b * f - c * e) / np.maximum(denom, 1e-9), 0, 1), 0.0)
    t = (b * s + f) / np.maximum(e, 1e-9)
    t_clamped = np.clip(t, 0, 1)
    s = np.where(
        t < 0, np.clip(-c / np.maximum(a, 1e-9), 0, 1), np.where(t > 1, np.clip((b - c) / np.maximum(a, 1e-9), 0, 1), s)
    )
    closest_p = p0 + d1 * s[..., None]
    closest_q = q0 + d2 * t_clamped[..., None]
    return np.linalg.norm(closest_p - closest_q, axis=-1)


def self_intersections(segments: np.ndarray, radii: np.ndarray, allowed_overlap: float = 0.5) -> np.ndarray:
    """(..., len(CAPSULE_PAIRS)) bool: capsule pairs overlapping by more than ``allowed_overlap`` x the thinner radius.

    Args:
        segments: (..., C, 2, 3) from :func:`capsule_segments`; radii: (..., C) mm.
    """
    i, j = np.array(CAPSULE_PAIRS).T
    dist = segment_distance(
        segments[..., i, 0, :], segments[..., i, 1, :], segments[..., j, 0, :], segments[..., j, 1, :]
    )
    ri, rj = radii[..., i], radii[..., j]
    return dist < ri + rj - allowed_overlap * np.minimum(ri, rj)


def has_self_intersection(segments: np.ndarray, radii: np.ndarray, allowed_overlap: float = 0.5) -> np.ndarray:
    """(...,) bool: any capsule pair intersects (see :func:`self_intersections`)."""
    return self_intersections(segments, radii, allowed_overlap).any(axis=-1)
