"""Short corrective cues in plain words, from the differences between a reference and a live pose.

Left and right are the trainee's own (anatomical) sides, which is what the joint names mean; a
trainee facing the camera has their left on the image's right. Amounts are rounded to 5 degrees.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

__all__ = [
    "CUE_GROUPS",
    "CueGroup",
    "angle_cue",
    "build_cues",
    "direction_cue",
    "lean_cue",
    "missing_cue",
    "turn_cue",
]


@dataclass(frozen=True)
class CueGroup:
    """One body part that gets at most one cue.

    Attributes:
        name: e.g. ``"left arm"``.
        side: ``"left"``, ``"right"`` or ``""``.
        angle: the joint angle whose error is phrased (``"left shoulder"``).
        limb: the limb whose direction is phrased when the angle is right but the direction is not.
        parent: the limb above, whose error the limb inherits (its cue is given on the parent instead).
        part: the word for what moves in a direction cue ("arm", "hand", "leg", "foot").
        kind: ``"shoulder"``, ``"elbow"``, ``"hip"``, ``"knee"`` or ``"trunk"``.
    """

    name: str
    side: str
    angle: str
    limb: str
    parent: str | None
    part: str
    kind: str


def _groups() -> tuple[CueGroup, ...]:
    groups = [CueGroup("upper body", "", "trunk lean", "trunk", None, "upper body", "trunk")]
    for side in ("left", "right"):
        groups += [
            CueGroup(f"{side} arm", side, f"{side} shoulder", f"{side} upper arm", "trunk", "arm", "shoulder"),
            CueGroup(f"{side} elbow", side, f"{side} elbow", f"{side} forearm", f"{side} upper arm", "hand", "elbow"),
        ]
    for side in ("left", "right"):
        groups += [
            CueGroup(f"{side} leg", side, f"{side} hip", f"{side} thigh", "trunk", "leg", "hip"),
            CueGroup(f"{side} knee", side, f"{side} knee", f"{side} shin", f"{side} thigh", "foot", "knee"),
        ]
    return tuple(groups)


CUE_GROUPS = _groups()


def _wrap(degrees: float) -> float:
    """An angle difference in (-180, 180]."""
    return -((-degrees + 180.0) % 360.0 - 180.0)


def _amount(degrees: float) -> str:
    return f"about {max(5, int(5 * round(abs(degrees) / 5)))} degrees"


def angle_cue(group: CueGroup, delta_deg: float) -> str:
    """Cue for a joint angle that should change by ``delta_deg`` (reference minus live).

    Elbow and knee angles are 180 when straight; shoulder and hip angles grow as the arm or leg
    is raised.
    """
    amount = _amount(delta_deg)
    side = group.side
    if group.kind == "shoulder":
        return f"Raise your {side} arm {amount}" if delta_deg > 0 else f"Lower your {side} arm {amount}"
    if group.kind == "hip":
        return f"Lift your {side} leg {amount}" if delta_deg > 0 else f"Lower your {side} leg {amount}"
    if group.kind in ("elbow", "knee"):
        joint = group.kind
        return (
            f"Straighten your {side} {joint} {amount}" if delta_deg > 0 else f"Bend your {side} {joint} {amount} more"
        )
    raise ValueError(f"no angle cue for a {group.kind} group; use lean_cue")


def direction_cue(
    group: CueGroup,
    reference: tuple[float, float, float],
    live: tuple[float, float, float],
    error_deg: float,
) -> str:
    """Cue for a limb pointing the wrong way while its joint angle is right.

    The movement is the largest component of (reference - live); between near-equal components,
    the one that points where the reference limb points wins ("move your arm out to the side"
    rather than "move it back" when going from forward to sideways).

    Args:
        reference, live: (up, forward, left) components of the limb's unit direction in the
            trainee's body frame.
        error_deg: the limb's angular error, for the amount.
    """
    sign = 1.0 if group.side != "right" else -1.0  # "out" is towards the limb's own side
    ref = {"up": reference[0], "forward": reference[1], "out": sign * reference[2]}
    delta = {"up": reference[0] - live[0], "forward": reference[1] - live[1], "out": sign * (reference[2] - live[2])}
    largest = max(abs(v) for v in delta.values())
    near = [k for k, v in delta.items() if abs(v) >= 0.9 * largest]
    component = max(near, key=lambda k: (ref[k] * math.copysign(1.0, delta[k]), -list(delta).index(k)))
    what = f"your {group.side} {group.part}".replace("  ", " ")
    amount = _amount(error_deg)
    value = delta[component]
    if component == "up":
        return f"Raise {what} {amount}" if value > 0 else f"Lower {what} {amount}"
    if component == "forward":
        return f"Move {what} forward {amount}" if value > 0 else f"Move {what} back {amount}"
    return f"Move {what} out to the side {amount}" if value > 0 else f"Bring {what} in towards your body {amount}"


def lean_cue(reference_lean: tuple[float, float], live_lean: tuple[float, float]) -> str:
    """Cue for the trunk from signed (forward, to-the-left) lean angles in degrees."""
    forward = _wrap(reference_lean[0] - live_lean[0])
    side = _wrap(reference_lean[1] - live_lean[1])
    if abs(forward) >= abs(side):
        if forward > 0:
            return f"Lean forward {_amount(forward)} more"
        if abs(reference_lean[0]) < 10:
            return f"Stand up straighter, {_amount(forward)}"
        return f"Lean back {_amount(forward)}"
    return f"Lean to your left {_amount(side)}" if side > 0 else f"Lean to your right {_amount(side)}"


def turn_cue(yaw_deg: float) -> str:
    """Cue for facing the wrong way: ``yaw_deg`` is the turn (about the vertical, towards the
    trainee's own left when positive) that would bring them to the reference's heading."""
    return f"Turn to your left {_amount(yaw_deg)}" if yaw_deg > 0 else f"Turn to your right {_amount(yaw_deg)}"


def missing_cue(missing_groups: Sequence[str], total_groups: int) -> str | None:
    """Cue asking the trainee to bring body parts the camera cannot see into view."""
    if not missing_groups:
        return None
    if len(missing_groups) >= total_groups:
        return "Step into view of the camera"
    if any("leg" in g or "knee" in g for g in missing_groups):
        return "Step back so your whole body is in view"
    parts = sorted({g.replace(" elbow", " arm") for g in missing_groups})
    listed = " and ".join(parts) if len(parts) <= 2 else ", ".join(parts[:-1]) + " and " + parts[-1]
    return f"Keep your {listed} in view of the camera"


def _parent_ok(group: CueGroup, limb_errors: Mapping[str, float], threshold_deg: float) -> bool:
    return group.parent is None or limb_errors.get(group.parent, 0.0) < threshold_deg


def group_error(
    group: CueGroup,
    angle_deltas: Mapping[str, float],
    limb_errors: Mapping[str, float],
    threshold_deg: float,
) -> tuple[float, bool]:
    """How wrong a body part is, and whether to phrase it by its joint angle.

    A part's error is the larger of its joint-angle error and its limb-direction error, except
    that errors it inherits from a wrong parent are left to the parent's cue:

    - arm and leg (parent: trunk): when the trunk is off, the shoulder/hip angle (measured against
      the trunk) is not used; the arm's or leg's own direction still is.
    - elbow and knee (parent: upper arm / thigh): when the parent is off, the forearm's/shin's
      direction is not used; the elbow/knee angle, which does not depend on the parent, still is.

    Returns:
        (error in degrees, NaN if nothing was compared; True to phrase it as an angle cue).
    """
    parent_ok = _parent_ok(group, limb_errors, threshold_deg)
    relative = group.kind in ("elbow", "knee")
    use_angle = group.angle in angle_deltas and (relative or parent_ok)
    use_limb = group.limb in limb_errors and (parent_ok or not relative)
    candidates = []
    if use_angle:
        candidates.append(abs(angle_deltas[group.angle]))
    if use_limb:
        candidates.append(limb_errors[group.limb])
    error = max(candidates) if candidates else float("nan")
    return error, use_angle and abs(angle_deltas[group.angle]) >= threshold_deg


def build_cues(
    angle_deltas: Mapping[str, float],
    limb_errors: Mapping[str, float],
    limb_components: Mapping[str, tuple[tuple[float, float, float], tuple[float, float, float]]],
    leans: tuple[tuple[float, float], tuple[float, float]] | None,
    missing_groups: Sequence[str] = (),
    turn_deg: float | None = None,
    threshold_deg: float = 12.0,
    max_cues: int = 3,
) -> list[str]:
    """The cues for the worst body parts, worst first.

    Args:
        angle_deltas: joint angle name -> reference minus live, degrees (compared angles only).
        limb_errors: limb name -> angle between reference and live direction, degrees.
        limb_components: limb name -> (reference, live) (up, forward, left) components of the unit
            limb directions in the trainee's body frame.
        leans: (reference, live) signed trunk leans (forward, left) in degrees, or None.
        missing_groups: names of :data:`CUE_GROUPS` the live pose lacks but the reference has.
        turn_deg: when the heading counts (not aligned away), the turn the trainee should make.
        threshold_deg: parts off by less than this get no cue.
        max_cues: at most this many cues (a missing-parts cue counts as one and comes first).

    Returns:
        Sentences without a full stop, e.g. ``"Raise your left arm about 20 degrees"``.
    """
    cues: list[str] = []
    note = missing_cue(missing_groups, len(CUE_GROUPS))
    if note:
        cues.append(note)
    if turn_deg is not None and turn_deg == turn_deg and abs(turn_deg) >= threshold_deg:
        cues.append(turn_cue(turn_deg))
    ranked = []
    for order, group in enumerate(CUE_GROUPS):
        error, by_angle = group_error(group, angle_deltas, limb_errors, threshold_deg)
        if error == error and error >= threshold_deg:  # error == error: not NaN
            ranked.append((-round(error, 6), order, group, by_angle))
    ranked.sort(key=lambda item: item[:2])  # worst first; ties go to the trunk, then arms, then legs
    for _, _, group, by_angle in ranked:
        if len(cues) >= max_cues:
            break
        if group.kind == "trunk":
            if leans is not None and all(v == v for lean in leans for v in lean):
                cues.append(lean_cue(*leans))
            elif group.limb in limb_components:
                cues.append(direction_cue(group, *limb_components[group.limb], limb_errors[group.limb]))
        elif by_angle:
            cues.append(angle_cue(group, angle_deltas[group.angle]))
        elif group.limb in limb_components:
            cues.append(direction_cue(group, *limb_components[group.limb], limb_errors[group.limb]))
    return cues
