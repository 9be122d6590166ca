"""Smooth, limit-respecting motion for the synthetic bodies: one style per Human3.6M action.

Every degree of freedom follows a base angle plus a few slow sinusoids (0.08..0.6 Hz) with random
phases, squashed into its joint limits with a tanh so the motion stays smooth at the limits. Walking
styles add a gait cycle (about 0.9 strides/s) and move the root along a closed Lissajous path in the
capture area, facing the direction of travel.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .body import DOF_INDEX, DOF_LIMITS, DOF_NAMES, rest_angles

H36M_ACTIONS = (
    "Directions", "Discussion", "Eating", "Greeting", "Phoning", "Posing", "Purchases", "Sitting", "SittingDown",
    "Smoking", "Photo", "Waiting", "Walking", "WalkDog", "WalkTogether",
)  # fmt: skip
WALKING = {"Walking", "WalkDog", "WalkTogether"}

# Per action: base angles (degrees, added to the rest pose) and per-group amplitudes of free motion.
_STYLES: dict[str, dict] = {
    "Directions": {"amp": {"arm": 35, "elbow": 35, "trunk": 8, "neck": 25, "leg": 6}},
    "Discussion": {"amp": {"arm": 30, "elbow": 45, "trunk": 8, "neck": 25, "leg": 5}},
    "Eating": {"base": {"R_sh_flex": 30, "R_elbow": 100, "L_sh_flex": 20, "L_elbow": 70}, "amp": {"elbow": 25}},
    "Greeting": {"base": {"R_sh_abd": 100, "R_elbow": 60}, "amp": {"arm": 30, "elbow": 40, "neck": 15}},
    "Phoning": {"base": {"R_sh_flex": 35, "R_sh_abd": 25, "R_elbow": 135, "neck_lat": 10}, "amp": {"leg": 6}},
    "Posing": {"amp": {"arm": 70, "elbow": 60, "trunk": 15, "neck": 25, "leg": 20}},
    "Purchases": {"base": {"lumbar_flex": 20, "L_sh_flex": 40, "R_sh_flex": 40}, "amp": {"arm": 30, "elbow": 40}},
    "Sitting": {
        "base": {"L_hip_flex": 85, "R_hip_flex": 85, "L_knee": 85, "R_knee": 85, "L_hip_abd": 8, "R_hip_abd": 8},
        "amp": {"arm": 25, "elbow": 35, "trunk": 10, "neck": 20, "leg": 8},
        "seated": True,
    },
    "SittingDown": {"amp": {"arm": 20, "elbow": 25, "trunk": 10}, "squat": True},
    "Smoking": {"base": {"L_sh_flex": 25, "L_elbow": 110}, "amp": {"elbow": 30, "neck": 15}},
    "Photo": {"base": {"L_sh_flex": 70, "R_sh_flex": 70, "L_elbow": 110, "R_elbow": 110}, "amp": {"trunk": 10}},
    "Waiting": {"amp": {"arm": 12, "elbow": 20, "trunk": 6, "neck": 20, "leg": 6}},
    "Walking": {"amp": {"neck": 10}},
    "WalkDog": {"base": {"R_sh_flex": 25, "R_elbow": 40, "lumbar_flex": 8}, "amp": {"neck": 20}},
    "WalkTogether": {"base": {"L_elbow": 25}, "amp": {"neck": 25, "trunk": 5}},
}
_DEFAULT_AMP = {"arm": 15, "elbow": 20, "trunk": 5, "neck": 15, "leg": 4}


def _group(dof: str) -> str:
    if "elbow" in dof or "wrist" in dof:
        return "elbow"
    if dof.startswith(("L_sh", "R_sh")):
        return "arm"
    if dof.startswith(("lumbar", "chest", "root")):
        return "trunk"
    if dof.startswith("neck"):
        return "neck"
    return "leg"


@dataclass(frozen=True)
class Motion:
    """A posed sequence.

    Attributes:
        angles: (T, D) DOF angles, degrees, inside the joint limits.
        root_xy: (T, 2) pelvis position on the floor plane, mm, world frame.
        yaw: (T,) heading, radians.
        seated: the person sits on a stool (the renderer adds one).
    """

    angles: np.ndarray
    root_xy: np.ndarray
    yaw: np.ndarray
    seated: bool = False


def _squash(angles: np.ndarray) -> np.ndarray:
    """Map unbounded angles smoothly into the joint limits (identity near the middle of the range)."""
    mid = DOF_LIMITS.mean(axis=1)
    half = (DOF_LIMITS[:, 1] - DOF_LIMITS[:, 0]) / 2.0
    return mid + half * np.tanh((angles - mid) / half)


def sample_motion(
    rng: np.random.Generator,
    action: str,
    times: np.ndarray,
    area_mm: float = 1500.0,
    centre_xy: tuple[float, float] = (0.0, 0.0),
) -> Motion:
    """Sample one smooth sequence of an action.

    Args:
        rng: the sequence's generator.
        action: a Human3.6M action name (see :data:`H36M_ACTIONS`).
        times: (T,) seconds.
        area_mm: half-size of the square the root stays in.
        centre_xy: centre of that square, world mm.

    Returns:
        The :class:`Motion`.
    """
    if action not in _STYLES:
        raise ValueError(f"unknown action {action!r}; choose one of {list(_STYLES)}")
    style = _STYLES[action]
    times = np.asarray(times, dtype=np.float64)
    n_dof = len(DOF_NAMES)
    base = rest_angles()
    for name, value in style.get("base", {}).items():
        base[DOF_INDEX[name]] += value
    amp_by_group = {**_DEFAULT_AMP, **style.get("amp", {})}
    amps = np.array([amp_by_group[_group(d)] for d in DOF_NAMES], dtype=np.float64)
    # Three sinusoids per DOF; left and right limbs move independently.
    freqs = rng.uniform(0.08, 0.6, (n_dof, 3))
    phases = rng.uniform(0, 2 * np.pi, (n_dof, 3))
    weights = rng.dirichlet(np.ones(3), n_dof) * rng.uniform(0.5, 1.0, (n_dof, 1))
    waves = np.sin(2 * np.pi * freqs[None] * times[:, None, None] + phases[None])  # (T, D, 3)
    angles = base + amps * (waves * weights[None]).sum(-1) + rng.normal(0, 3.0, n_dof)
    centre = np.asarray(centre_xy, dtype=np.float64)
    seated = bool(style.get("seated", False))
    if action in WALKING:
        angles, root_xy, yaw = _walk(rng, angles, times, area_mm, centre)
    else:
        drift = rng.uniform(0.02, 0.08)
        start = centre + rng.uniform(-0.5, 0.5, 2) * area_mm
        root_xy = start + 150.0 * np.stack([np.sin(2 * np.pi * drift * times), np.cos(2 * np.pi * drift * times)], 1)
        yaw = rng.uniform(-np.pi, np.pi) + np.deg2rad(35.0) * np.sin(2 * np.pi * rng.uniform(0.03, 0.1) * times)
        if style.get("squat"):
            depth = 0.5 - 0.5 * np.cos(2 * np.pi * rng.uniform(0.1, 0.2) * times + rng.uniform(0, 2 * np.pi))
            for side in ("L_", "R_"):
                angles[:, DOF_INDEX[side + "hip_flex"]] += 100 * depth
                angles[:, DOF_INDEX[side + "knee"]] += 125 * depth
                angles[:, DOF_INDEX[side + "ankle"]] += 15 * depth
            angles[:, DOF_INDEX["lumbar_flex"]] += 25 * depth
    return Motion(angles=_squash(angles), root_xy=root_xy, yaw=yaw, seated=seated)


def _walk(
    rng: np.random.Generator, angles: np.ndarray, times: np.ndarray, area_mm: float, centre: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Add a gait cycle to the legs and arms and move the root along a closed path at walking speed."""
    stride_hz = rng.uniform(0.8, 1.0)
    phase = 2 * np.pi * stride_hz * times + rng.uniform(0, 2 * np.pi)
    angles = angles.copy()
    for side, offset in (("L_", 0.0), ("R_", np.pi)):
        p = phase + offset
        angles[:, DOF_INDEX[side + "hip_flex"]] += 8 + 22 * np.sin(p)
        angles[:, DOF_INDEX[side + "knee"]] += 5 + 55 * ((1 + np.sin(p + 1.2)) / 2) ** 2
        angles[:, DOF_INDEX[side + "ankle"]] += -4 + 12 * np.sin(p - 0.5)
        angles[:, DOF_INDEX[side + "sh_flex"]] += -18 * np.sin(p)
        angles[:, DOF_INDEX[side + "elbow"]] += 12 + 10 * (1 - np.sin(p))
    # A Lissajous path of ~1 m/s: x = a sin(w t), y = b sin(2 w t).
    a, b = area_mm * rng.uniform(0.6, 1.0), area_mm * rng.uniform(0.4, 0.8)
    omega = 1000.0 / np.sqrt(a**2 + 4 * b**2) * rng.uniform(0.8, 1.2)
    t0 = rng.uniform(0, 2 * np.pi / omega)
    wt = omega * (times + t0)
    root_xy = centre + np.stack([a * np.sin(wt), b * np.sin(2 * wt)], axis=1)
    velocity = np.stack([a * omega * np.cos(wt), 2 * b * omega * np.cos(2 * wt)], axis=1)
    heading = np.arctan2(velocity[:, 1], velocity[:, 0])
    return angles, root_xy, heading - np.pi / 2  # yaw 0 faces +y, so face along the velocity


def sample_static_pose(rng: np.random.Generator) -> np.ndarray:
    """(D,) one pose for single photos (MPII/COCO style): a random action at a random instant (no chairs)."""
    actions = [a for a in H36M_ACTIONS if not _STYLES[a].get("seated")]
    action = actions[rng.integers(len(actions))]
    motion = sample_motion(rng, action, np.array([rng.uniform(0, 60)]))
    return motion.angles[0]
