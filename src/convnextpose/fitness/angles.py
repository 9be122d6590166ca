"""Pure geometry for pose comparison: body frame, normalisation, limb directions and joint angles.

Every pose here is a (J, 3) float array in the camera frame of DATA_FORMATS.md: x right, y DOWN,
z forward (away from the camera), in any length unit (mm from the network). "Up" is therefore
``(0, -1, 0)`` and the vertical axis is y; the camera is assumed to be held upright. Missing
joints are NaN rows. Nothing here keeps state.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from ..joints import JointSet, get_joint_set

UP = np.array([0.0, -1.0, 0.0])

# Bones whose direction is compared: name -> (from joint, to joint).
LIMBS: dict[str, tuple[str, str]] = {
    "left upper arm": ("L_Shoulder", "L_Elbow"),
    "left forearm": ("L_Elbow", "L_Wrist"),
    "right upper arm": ("R_Shoulder", "R_Elbow"),
    "right forearm": ("R_Elbow", "R_Wrist"),
    "left thigh": ("L_Hip", "L_Knee"),
    "left shin": ("L_Knee", "L_Ankle"),
    "right thigh": ("R_Hip", "R_Knee"),
    "right shin": ("R_Knee", "R_Ankle"),
    "trunk": ("Pelvis", "Thorax"),
}

# Joint angles: name -> (first vector, second vector), each a (from, to) joint pair, or "up" for
# the world's up direction. The angle between the two vectors is the joint angle in degrees.
#   elbow/knee: 180 straight, smaller when bent.
#   shoulder: arm elevation against the trunk, 0 arm by the side, 90 level, 180 overhead.
#   hip: thigh against the trunk, 0 standing, 90 thigh level with the hip.
#   trunk lean: the trunk against the world's vertical, 0 upright.
JOINT_ANGLES: dict[str, tuple[tuple[str, str] | str, tuple[str, str]]] = {
    "left elbow": (("L_Elbow", "L_Shoulder"), ("L_Elbow", "L_Wrist")),
    "right elbow": (("R_Elbow", "R_Shoulder"), ("R_Elbow", "R_Wrist")),
    "left shoulder": (("Thorax", "Pelvis"), ("L_Shoulder", "L_Elbow")),
    "right shoulder": (("Thorax", "Pelvis"), ("R_Shoulder", "R_Elbow")),
    "left hip": (("Thorax", "Pelvis"), ("L_Hip", "L_Knee")),
    "right hip": (("Thorax", "Pelvis"), ("R_Hip", "R_Knee")),
    "left knee": (("L_Knee", "L_Hip"), ("L_Knee", "L_Ankle")),
    "right knee": (("R_Knee", "R_Hip"), ("R_Knee", "R_Ankle")),
    "trunk lean": ("up", ("Pelvis", "Thorax")),
}

REQUIRED_JOINTS = tuple(
    sorted({j for a, b in LIMBS.values() for j in (a, b)} | {"L_Hip", "R_Hip", "L_Shoulder", "R_Shoulder"})
)


@dataclass(frozen=True)
class BodyFrame:
    """A person's own axes in the camera frame, all unit vectors.

    Attributes:
        up: the world's up, ``(0, -1, 0)``.
        left: horizontal, from the person's right side to their left side.
        forward: horizontal, the way the person faces (``left x up``).
        valid: False where hips and shoulders gave no usable horizontal left-right axis; the axes
            then default to a person facing the camera.
    """

    up: np.ndarray
    left: np.ndarray
    forward: np.ndarray
    valid: bool

    def components(self, vector: np.ndarray) -> tuple[float, float, float]:
        """(up, forward, left) components of a camera-frame vector."""
        return float(vector @ self.up), float(vector @ self.forward), float(vector @ self.left)


def check_joint_set(joint_set: str | JointSet) -> JointSet:
    """The joint set, after checking it has every joint the comparison needs (ValueError if not)."""
    joints = get_joint_set(joint_set)
    lacking = [name for name in REQUIRED_JOINTS if name not in joints.names]
    if lacking:
        raise ValueError(f"joint set {joints.name} lacks joints needed for pose comparison: {lacking}")
    return joints


def as_pose(pose: np.ndarray, joint_set: JointSet, what: str = "pose") -> np.ndarray:
    """Validate a (J, 3) pose and return it as float64 (NaN rows stay NaN: missing joints)."""
    array = np.asarray(pose, dtype=np.float64)
    if array.shape != (joint_set.num_joints, 3):
        raise ValueError(
            f"{what}: expected shape ({joint_set.num_joints}, 3) for joint set {joint_set.name}, got {array.shape}"
        )
    if np.isinf(array).any():
        raise ValueError(f"{what}: contains infinite values")
    return array


def valid_joints(pose: np.ndarray, confidence: np.ndarray | None = None, min_confidence: float = 0.0) -> np.ndarray:
    """(J,) bool: joints with finite coordinates and, if given, confidence >= ``min_confidence``."""
    valid = np.isfinite(pose).all(axis=1)
    if confidence is not None:
        conf = np.asarray(confidence, dtype=np.float64).reshape(-1)
        if conf.shape != (len(pose),):
            raise ValueError(f"confidence: expected {len(pose)} values, got shape {np.shape(confidence)}")
        valid &= np.nan_to_num(conf, nan=-1.0) >= min_confidence
    return valid


def unit(vector: np.ndarray, eps: float = 1e-9) -> np.ndarray:
    """Vector divided by its norm; NaN where the norm is (near) zero or the input is not finite."""
    vector = np.asarray(vector, dtype=np.float64)
    norm = np.linalg.norm(vector, axis=-1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(norm > eps, vector / np.where(norm > eps, norm, 1.0), np.nan)


def angle_between(u: np.ndarray, v: np.ndarray) -> float:
    """Angle between two vectors in degrees, in [0, 180]; NaN if either is zero or not finite."""
    a, b = unit(u), unit(v)
    if not (np.isfinite(a).all() and np.isfinite(b).all()):
        return float("nan")
    # atan2 of the cross and dot products stays accurate near 0 and 180 degrees, unlike arccos.
    return float(np.degrees(np.arctan2(np.linalg.norm(np.cross(a, b)), float(a @ b))))


def masked(pose: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """Copy of the pose with invalid joints set to NaN."""
    out = np.array(pose, dtype=np.float64, copy=True)
    out[~np.asarray(valid, dtype=bool)] = np.nan
    return out


def body_frame(pose: np.ndarray, joint_set: JointSet) -> BodyFrame:
    """The person's left/forward axes from the hips and shoulders (NaN joints are skipped).

    The left-right axis is the mean of the unit hip and shoulder vectors (right to left joint),
    flattened onto the horizontal plane. If it is (near) vertical or both pairs are missing, the
    frame is marked invalid and defaults to a person facing the camera.
    """
    idx = joint_set.index
    axes = []
    for left_name, right_name in (("L_Hip", "R_Hip"), ("L_Shoulder", "R_Shoulder")):
        axis = unit(pose[idx(left_name)] - pose[idx(right_name)])
        if np.isfinite(axis).all():
            axes.append(axis)
    left = np.mean(axes, axis=0) if axes else np.full(3, np.nan)
    left = left - (left @ UP) * UP if np.isfinite(left).all() else left
    valid = bool(np.isfinite(left).all() and np.linalg.norm(left) > 0.25)
    # A person facing the camera has their left on the image's right (+x) and faces -z.
    left = unit(left) if valid else np.array([1.0, 0.0, 0.0])
    forward = np.cross(left, UP)
    return BodyFrame(up=UP.copy(), left=left, forward=forward, valid=valid)


def yaw_of(frame: BodyFrame) -> float:
    """Heading of the left axis about the vertical axis, radians (0 for a person facing the camera)."""
    return float(np.arctan2(frame.left[2], frame.left[0]))


def rotate_about_vertical(points: np.ndarray, angle: float) -> np.ndarray:
    """Rotate camera-frame points about the vertical (y) axis through the origin.

    A positive ``angle`` (radians) increases :func:`yaw_of` of a rotated pose by ``angle``:
    it turns the x axis towards +z.
    """
    c, s = np.cos(angle), np.sin(angle)
    rotation = np.array([[c, 0.0, -s], [0.0, 1.0, 0.0], [s, 0.0, c]])
    return np.asarray(points, dtype=np.float64) @ rotation.T


def torso_length(pose: np.ndarray, joint_set: JointSet) -> float:
    """Pelvis-to-thorax distance, or the mean valid limb length if the trunk is missing; NaN if none."""
    idx = joint_set.index
    trunk = np.linalg.norm(pose[idx("Thorax")] - pose[idx("Pelvis")])
    if np.isfinite(trunk) and trunk > 0:
        return float(trunk)
    lengths = [np.linalg.norm(pose[idx(b)] - pose[idx(a)]) for a, b in LIMBS.values()]
    lengths = [v for v in lengths if np.isfinite(v) and v > 0]
    return float(np.mean(lengths)) if lengths else float("nan")


def normalize_pose(pose: np.ndarray, joint_set: JointSet) -> np.ndarray:
    """Remove global position and body size: root at the origin and a unit torso length.

    Args:
        pose: (J, 3) camera frame; NaN rows are missing joints.

    Returns:
        (J, 3) float64, root-relative, divided by :func:`torso_length`. If the root is missing the
        mean of the valid joints stands in for it.
    """
    root = pose[joint_set.root_index]
    if not np.isfinite(root).all():
        finite = np.isfinite(pose).all(axis=1)
        root = pose[finite].mean(axis=0) if finite.any() else np.zeros(3)
    centred = pose - root
    scale = torso_length(centred, joint_set)
    return centred / scale if np.isfinite(scale) and scale > 0 else centred


def mirror_pose(pose: np.ndarray, joint_set: JointSet, frame: BodyFrame | None = None) -> np.ndarray:
    """The pose's mirror image: reflected across the person's own mid-plane, left and right swapped.

    The result is what the person would look like doing the same movement with the other side
    (a left-arm raise becomes a right-arm raise), facing the same way.

    Args:
        pose: (J, 3), root-relative.
        frame: the pose's body frame; computed when not given.
    """
    frame = frame or body_frame(pose, joint_set)
    normal = frame.left
    reflected = pose - 2.0 * np.outer(pose @ normal, normal)
    return reflected[joint_set.flip_permutation]


def _vector(pose: np.ndarray, joint_set: JointSet, spec: tuple[str, str] | str) -> np.ndarray:
    if isinstance(spec, str):
        if spec != "up":
            raise ValueError(f"unknown direction {spec!r}")
        return UP
    start, end = spec
    return pose[joint_set.index(end)] - pose[joint_set.index(start)]


def limb_directions(pose: np.ndarray, joint_set: JointSet) -> dict[str, np.ndarray]:
    """Unit direction of each limb in :data:`LIMBS`; NaN vectors where a joint is missing."""
    return {name: unit(_vector(pose, joint_set, pair)) for name, pair in LIMBS.items()}


def joint_angles(pose: np.ndarray, joint_set: JointSet) -> dict[str, float]:
    """Each angle in :data:`JOINT_ANGLES`, degrees; NaN where a joint is missing."""
    return {
        name: angle_between(_vector(pose, joint_set, first), _vector(pose, joint_set, second))
        for name, (first, second) in JOINT_ANGLES.items()
    }


def trunk_lean(pose: np.ndarray, joint_set: JointSet, frame: BodyFrame | None = None) -> tuple[float, float]:
    """Signed trunk lean in degrees: (forward, to the person's left); (0, 0) upright, NaN if missing."""
    frame = frame or body_frame(pose, joint_set)
    trunk = _vector(pose, joint_set, LIMBS["trunk"])
    if not np.isfinite(trunk).all():
        return float("nan"), float("nan")
    up, forward, left = frame.components(trunk)
    return float(np.degrees(np.arctan2(forward, up))), float(np.degrees(np.arctan2(left, up)))


def limb_joints(joint_set: JointSet) -> Mapping[str, tuple[int, ...]]:
    """Indices of the joints each limb and each joint angle depends on (for validity checks)."""
    out: dict[str, tuple[int, ...]] = {n: tuple(joint_set.index(j) for j in p) for n, p in LIMBS.items()}
    for name, specs in JOINT_ANGLES.items():
        joints = {j for spec in specs if not isinstance(spec, str) for j in spec}
        out[name] = tuple(sorted(joint_set.index(j) for j in joints))
    return out
