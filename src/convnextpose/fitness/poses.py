"""Build 3D poses from limb directions: for workouts written by hand, demos and tests.

A built pose is root-relative, in mm, in the camera frame (x right, y down, z forward) of a
person of average build facing the camera, then optionally turned about the vertical axis.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from ..joints import JointSet
from .angles import LIMBS, check_joint_set, rotate_about_vertical, unit

# Average adult segment lengths in mm (rounded anthropometric means).
SEGMENTS_MM = {
    "trunk": 500.0, "shoulder": 180.0, "hip": 110.0, "upper arm": 290.0, "forearm": 260.0, "hand": 80.0,
    "thigh": 440.0, "shin": 420.0, "foot": 130.0, "neck": 70.0, "head": 180.0,
}  # fmt: skip


def body_direction(up: float = 0.0, forward: float = 0.0, left: float = 0.0) -> np.ndarray:
    """A camera-frame unit vector from components in the body frame of a person facing the camera.

    ``up`` is towards the sky, ``forward`` the way the person faces (towards the camera), ``left``
    towards the person's own left (the image's right). E.g. ``body_direction(left=1)`` points a
    left arm straight out to the side, ``body_direction(up=-1)`` hangs a limb straight down.
    """
    vector = np.array([left, -up, -forward], dtype=np.float64)
    result = unit(vector)
    if not np.isfinite(result).all():
        raise ValueError("body_direction needs at least one non-zero component")
    return result


def direction_from_angles(elevation_deg: float, azimuth_deg: float = 0.0) -> np.ndarray:
    """Unit vector from elevation above the horizontal and azimuth from the person's forward axis.

    Azimuth is positive towards the person's left. ``direction_from_angles(-90)`` points straight
    down, ``direction_from_angles(0, 90)`` straight out to the left.
    """
    el, az = np.radians(elevation_deg), np.radians(azimuth_deg)
    return body_direction(up=np.sin(el), forward=np.cos(el) * np.cos(az), left=np.cos(el) * np.sin(az))


DOWN = body_direction(up=-1.0)
STANDING: dict[str, np.ndarray] = {name: (body_direction(up=1.0) if name == "trunk" else DOWN) for name in LIMBS}


def make_pose(
    directions: Mapping[str, np.ndarray] | None = None,
    joint_set: str | JointSet = "human36m",
    yaw_deg: float = 0.0,
    scale: float = 1.0,
) -> np.ndarray:
    """A pose with the given limb directions, every other limb as in standing with arms down.

    Args:
        directions: limb name (see :data:`convnextpose.fitness.angles.LIMBS`) -> camera-frame
            direction of a person facing the camera (any length; see :func:`body_direction`).
        joint_set: which joints to return, in that set's order.
        yaw_deg: turn the finished pose about the vertical axis by this much.
        scale: multiply all lengths (1.0 = average adult).

    Returns:
        (J, 3) float64, mm, root-relative camera frame.
    """
    joints = check_joint_set(joint_set)
    dirs = dict(STANDING)
    for name, vector in (directions or {}).items():
        if name not in LIMBS:
            raise ValueError(f"unknown limb {name!r}; limbs are {list(LIMBS)}")
        dirs[name] = unit(np.asarray(vector, dtype=np.float64))
    seg = SEGMENTS_MM
    up, left = body_direction(up=1.0), body_direction(left=1.0)
    forward = body_direction(forward=1.0)
    trunk = dirs["trunk"]
    # Shoulders and hips stay level across the body; the head follows the trunk.
    p: dict[str, np.ndarray] = {"Pelvis": np.zeros(3)}
    p["Thorax"] = trunk * seg["trunk"]
    p["Spine"] = p["Torso"] = trunk * seg["trunk"] * 0.5
    p["Neck"] = p["Thorax"] + trunk * seg["neck"]
    p["Head"] = p["Neck"] + trunk * seg["head"] * 0.6
    p["Head_top"] = p["Neck"] + trunk * seg["head"]
    p["Nose"] = p["Neck"] + trunk * seg["head"] * 0.45 + forward * 90.0
    for side, sign in (("L_", 1.0), ("R_", -1.0)):
        long = "left" if sign > 0 else "right"
        p[side + "Shoulder"] = p["Thorax"] + sign * left * seg["shoulder"]
        p[side + "Elbow"] = p[side + "Shoulder"] + dirs[f"{long} upper arm"] * seg["upper arm"]
        p[side + "Wrist"] = p[side + "Elbow"] + dirs[f"{long} forearm"] * seg["forearm"]
        p[side + "Hand"] = p[side + "Wrist"] + dirs[f"{long} forearm"] * seg["hand"]
        p[side + "Hip"] = sign * left * seg["hip"]
        p[side + "Knee"] = p[side + "Hip"] + dirs[f"{long} thigh"] * seg["thigh"]
        p[side + "Ankle"] = p[side + "Knee"] + dirs[f"{long} shin"] * seg["shin"]
        p[side + "Toe"] = p[side + "Ankle"] + forward * seg["foot"]
        p[side + "Eye"] = p["Nose"] + up * 30.0 + sign * left * 30.0
        p[side + "Ear"] = p["Head"] + sign * left * 70.0
    missing = [n for n in joints.names if n not in p]
    if missing:
        raise ValueError(f"make_pose cannot place joints {missing} of joint set {joints.name}")
    pose = np.stack([p[n] for n in joints.names]) * float(scale)
    return rotate_about_vertical(pose, np.radians(yaw_deg)) if yaw_deg else pose
