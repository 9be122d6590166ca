"""Anatomical pose parameters shared by every body back-end: names, joint limits and random variations.

A pose is a vector of :data:`PARAM_NAMES` angles in degrees (shape ``(P,)`` or ``(B, P)``). Each angle has an
anatomical meaning, so the pose library reads like a physiotherapy sheet and the limits are one box per angle:

- ``spine_*``, ``neck_*``, ``head_*``: ``flex`` bends forward, ``lat`` bends to the person's left, ``twist`` turns
  left. Each back-end spreads the spine's total over its spine segments and the neck's over its neck segments.
- ``{L,R}_shoulder_*`` / ``{L,R}_hip_*``: the upper arm / thigh direction relative to the torso / pelvis, as
  ``elev`` (0 = hanging straight down, 90 = horizontal, 180 = straight up) and ``plane`` (0 = out to the side,
  90 = forward, -90 = backward, +-180 = across the body), then ``twist`` about the segment (positive = internal
  rotation: with the elbow/knee bent, the hand swings towards the belly, the foot outwards).
- ``elbow_flex``, ``knee_flex``: 0 = straight. ``ankle_flex``: positive lifts the toes. ``forearm_twist``: about the
  forearm axis (positive = pronation, palm turning down). ``wrist_flex``/``wrist_dev``, ``clav_elev`` (shrug)/
  ``clav_prot`` (forward).
- ``root_pitch`` (positive leans the whole body forward, 90 = lying face down) and ``root_roll`` orient the body;
  the yaw and floor placement are left to the scene.

Joint limits (:data:`LIMITS`) follow typical adult active range-of-motion tables (the AAOS "normal" values, rounded),
with the shoulder and hip elevation limited per elevation plane (:data:`ELEVATION_LIMITS`).
:mod:`.kinematics` turns a pose into segment rotations for a body's own rest skeleton.
"""

from __future__ import annotations

import numpy as np

SIDES = ("L", "R")
_SIDED = (
    "clav_elev", "clav_prot", "shoulder_elev", "shoulder_plane", "shoulder_twist", "elbow_flex", "forearm_twist",
    "wrist_flex", "wrist_dev", "hip_elev", "hip_plane", "hip_twist", "knee_flex", "ankle_flex", "ankle_inv",
)  # fmt: skip
_CENTRAL = (
    "root_pitch", "root_roll", "spine_flex", "spine_lat", "spine_twist", "neck_flex", "neck_lat", "neck_twist",
    "head_flex", "head_lat", "head_twist",
)  # fmt: skip
PARAM_NAMES: tuple[str, ...] = _CENTRAL + tuple(f"{s}_{n}" for s in SIDES for n in _SIDED)
PARAM_INDEX = {n: i for i, n in enumerate(PARAM_NAMES)}
NUM_PARAMS = len(PARAM_NAMES)

# (low, high) degrees. Planes wrap and are not clamped; elevations are further limited by ELEVATION_LIMITS.
_LIMITS_CENTRAL = {
    "root_pitch": (-180, 180), "root_roll": (-180, 180),
    "spine_flex": (-25, 80), "spine_lat": (-35, 35), "spine_twist": (-45, 45),
    "neck_flex": (-40, 40), "neck_lat": (-30, 30), "neck_twist": (-60, 60),
    "head_flex": (-20, 20), "head_lat": (-15, 15), "head_twist": (-20, 20),
}  # fmt: skip
_LIMITS_SIDED = {
    "clav_elev": (-10, 30), "clav_prot": (-15, 20),
    "shoulder_elev": (0, 180), "shoulder_plane": (-180, 180), "shoulder_twist": (-90, 80),
    "elbow_flex": (0, 150), "forearm_twist": (-80, 80), "wrist_flex": (-70, 80), "wrist_dev": (-25, 35),
    "hip_elev": (0, 125), "hip_plane": (-180, 180), "hip_twist": (-45, 40),
    "knee_flex": (0, 150), "ankle_flex": (-50, 30), "ankle_inv": (-20, 30),
}  # fmt: skip
#: Box limits per parameter, degrees.
LIMITS: dict[str, tuple[float, float]] = {
    **_LIMITS_CENTRAL,
    **{f"{s}_{n}": v for s in SIDES for n, v in _LIMITS_SIDED.items()},
}
#: Largest elevation per elevation plane (piecewise linear in the plane angle), degrees.
ELEVATION_LIMITS: dict[str, tuple[tuple[float, ...], tuple[float, ...]]] = {
    "shoulder": ((-180, -135, -90, -45, 0, 45, 90, 135, 180), (40, 50, 60, 110, 180, 180, 180, 140, 40)),
    "hip": ((-180, -135, -90, -45, 0, 45, 90, 135, 180), (25, 25, 30, 35, 50, 110, 125, 100, 25)),
}
#: Standard deviations (degrees) of the random variations around a library pose.
VARIATION_SIGMA: dict[str, float] = {
    "root_pitch": 3, "root_roll": 3, "spine_flex": 6, "spine_lat": 4, "spine_twist": 6, "neck_flex": 8,
    "neck_lat": 5, "neck_twist": 12, "head_flex": 5, "head_lat": 4, "head_twist": 8,
    **{f"{s}_{n}": v for s in SIDES for n, v in {
        "clav_elev": 4, "clav_prot": 4, "shoulder_elev": 9, "shoulder_plane": 12, "shoulder_twist": 15,
        "elbow_flex": 10, "forearm_twist": 15, "wrist_flex": 10, "wrist_dev": 6, "hip_elev": 6, "hip_plane": 10,
        "hip_twist": 8, "knee_flex": 7, "ankle_flex": 6, "ankle_inv": 4}.items()},
}  # fmt: skip


def _wrap180(x: np.ndarray) -> np.ndarray:
    return (x + 180.0) % 360.0 - 180.0


def clamp_to_limits(params: np.ndarray) -> np.ndarray:
    """Clamp (..., P) degrees into :data:`LIMITS` and the per-plane elevation limits; planes are wrapped to +-180."""
    out = np.array(params, dtype=np.float32, copy=True)
    lo = np.array([LIMITS[n][0] for n in PARAM_NAMES], np.float32)
    hi = np.array([LIMITS[n][1] for n in PARAM_NAMES], np.float32)
    out = np.clip(out, lo, hi)
    for s in SIDES:
        for joint, (grid, max_elev) in ELEVATION_LIMITS.items():
            plane = PARAM_INDEX[f"{s}_{joint}_plane"]
            elev = PARAM_INDEX[f"{s}_{joint}_elev"]
            out[..., plane] = _wrap180(np.asarray(params, np.float32)[..., plane])
            out[..., elev] = np.minimum(out[..., elev], np.interp(out[..., plane], grid, max_elev))
    return out


def within_limits(params: np.ndarray, tol: float = 1e-3) -> np.ndarray:
    """(...,) bool: every parameter is inside the limits (to ``tol`` degrees)."""
    params = np.asarray(params, np.float32)
    wrapped = params.copy()
    for s in SIDES:
        for joint in ELEVATION_LIMITS:
            k = PARAM_INDEX[f"{s}_{joint}_plane"]
            wrapped[..., k] = _wrap180(params[..., k])
    return np.all(np.abs(clamp_to_limits(wrapped) - wrapped) <= tol, axis=-1)


def vary_pose(params: np.ndarray, rng: np.random.Generator, scale: float = 1.0) -> np.ndarray:
    """Random variation around (..., P) poses: Gaussian noise of :data:`VARIATION_SIGMA` x ``scale``, then clamped."""
    sigma = np.array([VARIATION_SIGMA[n] for n in PARAM_NAMES], np.float32) * scale
    noisy = np.asarray(params, np.float32) + rng.standard_normal(np.shape(params)).astype(np.float32) * sigma
    return clamp_to_limits(noisy)
