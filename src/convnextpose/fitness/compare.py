"""Compare a live pose with a reference pose: a 0-100 score, per-limb errors and corrective cues.

Method (docs/fitness.md has the long form):

1. Missing joints (NaN, or confidence below ``min_confidence``) are dropped.
2. Global position and body size are removed: root at the origin, torso length 1.
3. Unless ``align_yaw=False``, the live pose is turned about the vertical axis so that its
   left-right axis (hips and shoulders) has the reference's heading.
4. Limb directions (upper arms, forearms, thighs, shins, trunk) are compared as angles between
   unit vectors, and joint angles (elbows, shoulders, hips, knees, trunk lean) as differences.
5. Each compared item scores ``2 ** -(error / half_score_deg) ** 2`` (1 at 0 degrees, 0.5 at
   ``half_score_deg``); the score is 100 times their mean.
6. Cues name the worst body parts (see :mod:`convnextpose.fitness.cues`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..joints import JointSet
from . import angles as A
from .cues import CUE_GROUPS, build_cues

__all__ = ["PoseComparison", "compare", "item_score"]


@dataclass(frozen=True)
class PoseComparison:
    """The result of :func:`compare`.

    Attributes:
        score: 0-100 similarity, 100 for the same pose (after removing position, size and heading).
        limb_errors: limb name -> angle between reference and live limb direction, degrees,
            for limbs present in both poses.
        angle_errors: joint angle name -> live minus reference, degrees (signed).
        reference_angles, live_angles: joint angle name -> degrees (NaN where missing).
        cues: corrective sentences, worst part first; empty when nothing needs correcting.
        in_tolerance: every compared item is within ``tolerance_deg`` and enough of the reference
            could be compared (``coverage >= min_coverage``).
        max_error: the largest compared error, degrees (NaN if nothing was compared).
        coverage: fraction of the reference's items that the live pose also has.
        missing: items the reference has but the live pose lacks.
        mirrored: the live pose matched the reference's mirror image (only with ``allow_mirror``).
        yaw_deg: turn applied to the live pose about the vertical axis (towards the trainee's left
            when positive); 0 with ``align_yaw=False``.
        heading_deg: heading difference between the poses before alignment, same sign convention.
        tolerance_deg: the tolerance used.
        reference_pose, live_pose: (J, 3) normalised poses as compared (root at 0, torso length 1,
            live turned by ``yaw_deg``, reference mirrored if ``mirrored``), NaN rows missing.
        joint_set: joint set name.
    """

    score: float
    limb_errors: dict[str, float]
    angle_errors: dict[str, float]
    reference_angles: dict[str, float]
    live_angles: dict[str, float]
    cues: list[str]
    in_tolerance: bool
    max_error: float
    coverage: float
    missing: list[str]
    mirrored: bool
    yaw_deg: float
    heading_deg: float
    tolerance_deg: float
    reference_pose: np.ndarray = field(repr=False)
    live_pose: np.ndarray = field(repr=False)
    joint_set: str = "human36m"

    @property
    def worst(self) -> str | None:
        """Name of the item with the largest error, or None if nothing was compared."""
        items = {**self.limb_errors, **{k: abs(v) for k, v in self.angle_errors.items()}}
        return max(items, key=items.__getitem__) if items else None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict: numbers rounded to 0.1, NaN as None, poses as nested lists."""

        def num(value: float) -> float | None:
            return round(float(value), 1) if math.isfinite(value) else None

        def pose(array: np.ndarray) -> list[list[float | None]]:
            return [[None if not math.isfinite(v) else round(float(v), 4) for v in row] for row in array]

        return {
            "score": num(self.score),
            "limb_errors": {k: num(v) for k, v in self.limb_errors.items()},
            "angle_errors": {k: num(v) for k, v in self.angle_errors.items()},
            "reference_angles": {k: num(v) for k, v in self.reference_angles.items()},
            "live_angles": {k: num(v) for k, v in self.live_angles.items()},
            "cues": list(self.cues),
            "in_tolerance": bool(self.in_tolerance),
            "max_error": num(self.max_error),
            "coverage": round(float(self.coverage), 3),
            "missing": list(self.missing),
            "mirrored": bool(self.mirrored),
            "yaw_deg": num(self.yaw_deg),
            "heading_deg": num(self.heading_deg),
            "tolerance_deg": num(self.tolerance_deg),
            "worst": self.worst,
            "reference_pose": pose(self.reference_pose),
            "live_pose": pose(self.live_pose),
            "joint_set": self.joint_set,
        }


def item_score(error_deg: float | np.ndarray, half_score_deg: float = 30.0) -> float | np.ndarray:
    """Score in [0, 1] of one angular error: 1 at 0 degrees, 0.5 at ``half_score_deg``, ~0 past 3x."""
    return np.power(2.0, -np.square(np.asarray(error_deg, dtype=np.float64) / half_score_deg))


def _wrap_degrees(angle: float) -> float:
    return (angle + 180.0) % 360.0 - 180.0


def compare(
    reference: np.ndarray,
    live: np.ndarray,
    joint_set: str | JointSet = "human36m",
    *,
    reference_confidence: Sequence[float] | np.ndarray | None = None,
    live_confidence: Sequence[float] | np.ndarray | None = None,
    min_confidence: float = 0.1,
    align_yaw: bool = True,
    allow_mirror: bool = False,
    tolerance_deg: float = 15.0,
    half_score_deg: float = 30.0,
    min_coverage: float = 0.75,
    max_cues: int = 3,
) -> PoseComparison:
    """Compare a live 3D pose with a reference 3D pose.

    Args:
        reference: (J, 3) the trainer's pose, camera frame (x right, y down, z forward), any unit;
            root-relative or not. NaN rows are missing joints.
        live: (J, 3) the trainee's pose, same conventions.
        joint_set: the joint set both poses use (needs shoulders, elbows, wrists, hips, knees,
            ankles, pelvis and thorax).
        reference_confidence, live_confidence: optional (J,) per-joint confidence in [0, 1];
            joints below ``min_confidence`` count as missing.
        align_yaw: remove the rotation about the vertical axis. Set False for exercises where the
            heading matters (e.g. side-on to the camera); a heading cue is then given.
        allow_mirror: also accept the reference's mirror image (the other side doing the movement),
            for exercises where either side will do.
        tolerance_deg: largest error that still counts as matching.
        half_score_deg: error at which an item scores half.
        min_coverage: fraction of the reference's items the live pose must show to be in tolerance.
        max_cues: at most this many cues.

    Returns:
        A :class:`PoseComparison`.

    Raises:
        ValueError: wrong shapes, infinite coordinates, or a joint set without the needed joints.
    """
    if not (0 < tolerance_deg <= 180 and half_score_deg > 0 and 0 <= min_coverage <= 1 and max_cues >= 0):
        raise ValueError(
            "need 0 < tolerance_deg <= 180, half_score_deg > 0, 0 <= min_coverage <= 1 and max_cues >= 0; got "
            f"{tolerance_deg}, {half_score_deg}, {min_coverage}, {max_cues}"
        )
    joints = A.check_joint_set(joint_set)
    ref = A.as_pose(reference, joints, "reference")
    cur = A.as_pose(live, joints, "live")
    ref_valid = A.valid_joints(ref, reference_confidence, min_confidence)
    cur_valid = A.valid_joints(cur, live_confidence, min_confidence)
    ref_norm = A.normalize_pose(A.masked(ref, ref_valid), joints)
    cur_norm = A.normalize_pose(A.masked(cur, cur_valid), joints)
    options = dict(
        align_yaw=align_yaw,
        tolerance_deg=tolerance_deg,
        half_score_deg=half_score_deg,
        min_coverage=min_coverage,
        max_cues=max_cues,
    )
    best = _compare_normalized(ref_norm, cur_norm, joints, mirrored=False, **options)
    if allow_mirror:
        mirrored = _compare_normalized(A.mirror_pose(ref_norm, joints), cur_norm, joints, mirrored=True, **options)
        # Prefer the pose as given unless the mirror image is clearly closer.
        if mirrored.score > best.score + 1e-6:
            best = mirrored
    return best


def _compare_normalized(
    ref: np.ndarray,
    cur: np.ndarray,
    joints: JointSet,
    *,
    mirrored: bool,
    align_yaw: bool,
    tolerance_deg: float,
    half_score_deg: float,
    min_coverage: float,
    max_cues: int,
) -> PoseComparison:
    ref_frame, cur_frame = A.body_frame(ref, joints), A.body_frame(cur, joints)
    heading = 0.0
    if ref_frame.valid and cur_frame.valid:
        heading = _wrap_degrees(math.degrees(A.yaw_of(ref_frame) - A.yaw_of(cur_frame)))
    yaw = heading if align_yaw else 0.0
    if yaw:
        cur = A.rotate_about_vertical(cur, math.radians(yaw))
        cur_frame = A.body_frame(cur, joints)

    ref_dirs, cur_dirs = A.limb_directions(ref, joints), A.limb_directions(cur, joints)
    ref_angles, cur_angles = A.joint_angles(ref, joints), A.joint_angles(cur, joints)

    limb_errors: dict[str, float] = {}
    limb_components: dict[str, tuple[tuple[float, float, float], tuple[float, float, float]]] = {}
    angle_errors: dict[str, float] = {}
    missing: list[str] = []
    for name in A.LIMBS:
        if not np.isfinite(ref_dirs[name]).all():
            continue  # not part of the reference: not compared, not missing
        if not np.isfinite(cur_dirs[name]).all():
            missing.append(name)
            continue
        limb_errors[name] = A.angle_between(ref_dirs[name], cur_dirs[name])
        limb_components[name] = (cur_frame.components(ref_dirs[name]), cur_frame.components(cur_dirs[name]))
    for name in A.JOINT_ANGLES:
        if not math.isfinite(ref_angles[name]):
            continue
        if not math.isfinite(cur_angles[name]):
            missing.append(name)
            continue
        angle_errors[name] = cur_angles[name] - ref_angles[name]

    errors = np.array(list(limb_errors.values()) + [abs(v) for v in angle_errors.values()])
    total = len(errors) + len(missing)
    coverage = len(errors) / total if total else 0.0
    score = float(100.0 * item_score(errors, half_score_deg).mean()) if len(errors) else 0.0
    max_error = float(errors.max()) if len(errors) else float("nan")
    in_tolerance = bool(len(errors) and max_error <= tolerance_deg and coverage >= min_coverage)
    if not align_yaw and abs(heading) > tolerance_deg:
        in_tolerance = False

    missing_set = set(missing)
    missing_groups = [g.name for g in CUE_GROUPS if g.angle in missing_set or g.limb in missing_set]
    leans = (A.trunk_lean(ref, joints, ref_frame), A.trunk_lean(cur, joints, cur_frame))
    cues = build_cues(
        angle_deltas={k: -v for k, v in angle_errors.items()},
        limb_errors=limb_errors,
        limb_components=limb_components,
        leans=leans,
        missing_groups=missing_groups,
        turn_deg=None if align_yaw or not (ref_frame.valid and cur_frame.valid) else heading,
        threshold_deg=tolerance_deg,
        max_cues=max_cues,
    )
    return PoseComparison(
        score=score,
        limb_errors=limb_errors,
        angle_errors=angle_errors,
        reference_angles=ref_angles,
        live_angles=cur_angles,
        cues=cues,
        in_tolerance=in_tolerance,
        max_error=max_error,
        coverage=coverage,
        missing=missing,
        mirrored=mirrored,
        yaw_deg=yaw,
        heading_deg=heading,
        tolerance_deg=tolerance_deg,
        reference_pose=ref,
        live_pose=cur,
        joint_set=joints.name,
    )
