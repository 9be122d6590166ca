"""Pose comparison on constructed poses with known angle differences (convnextpose.fitness)."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from convnextpose import fitness as F
from convnextpose.fitness import angles as A
from convnextpose.fitness.poses import body_direction as bd
from convnextpose.fitness.poses import direction_from_angles as dfa
from convnextpose.joints import JointSet, get_joint_set

H36M = get_joint_set("human36m")


def side_arm(elevation: float, side: str = "left") -> dict[str, np.ndarray]:
    """A straight arm raised sideways to ``elevation`` degrees above the horizontal."""
    azimuth = 90.0 if side == "left" else -90.0
    d = dfa(elevation, azimuth)
    return {f"{side} upper arm": d, f"{side} forearm": d}


def amount(degrees: float) -> str:
    return f"about {int(5 * round(degrees / 5))} degrees"


# ------------------------------------------------------------------ invariances


def test_identical_pose_scores_100_with_no_cues():
    pose = F.make_pose({**side_arm(30), "right thigh": dfa(-60, 0)})
    result = F.compare(pose, pose)
    assert result.score == pytest.approx(100.0)
    assert max(result.limb_errors.values()) < 1e-6
    assert result.cues == [] and result.in_tolerance and result.coverage == 1.0
    assert set(result.limb_errors) == set(A.LIMBS) and set(result.angle_errors) == set(A.JOINT_ANGLES)


@pytest.mark.parametrize("yaw", [-150.0, -40.0, 25.0, 90.0, 180.0])
def test_position_size_and_heading_do_not_count(yaw, rng):
    reference = F.make_pose({**side_arm(45), "left thigh": dfa(-45, 0), "right forearm": dfa(10, 0)})
    live = F.make_pose(
        {**side_arm(45), "left thigh": dfa(-45, 0), "right forearm": dfa(10, 0)}, yaw_deg=yaw, scale=0.8
    ) + rng.normal(0, 1000, size=3)
    result = F.compare(reference, live)
    assert result.score == pytest.approx(100.0, abs=1e-6)
    assert result.cues == [] and result.in_tolerance
    # The turn that undoes the live pose's heading.
    assert math.cos(math.radians(result.yaw_deg + yaw)) == pytest.approx(1.0, abs=1e-9)


@pytest.mark.parametrize(("yaw", "word"), [(40.0, "right"), (-70.0, "left")])
def test_heading_counts_when_not_aligned(yaw, word):
    # make_pose turns the person towards their own left for a positive yaw, so they must turn back.
    pose = F.make_pose(side_arm(0))
    result = F.compare(pose, F.make_pose(side_arm(0), yaw_deg=yaw), align_yaw=False)
    assert result.heading_deg == pytest.approx(-yaw, abs=1e-6)
    assert result.cues[0] == f"Turn to your {word} {amount(abs(yaw))}"
    assert not result.in_tolerance and result.score < 100


# ------------------------------------------------------------------ known angle differences


@pytest.mark.parametrize("side", ["left", "right"])
@pytest.mark.parametrize(("ref_elevation", "live_elevation"), [(0.0, -30.0), (45.0, 0.0), (-20.0, 40.0)])
def test_arm_elevation_error_and_cue(side, ref_elevation, live_elevation):
    reference = F.make_pose(side_arm(ref_elevation, side))
    live = F.make_pose(side_arm(live_elevation, side))
    result = F.compare(reference, live)
    diff = abs(ref_elevation - live_elevation)
    assert result.limb_errors[f"{side} upper arm"] == pytest.approx(diff, abs=1e-6)
    assert result.limb_errors[f"{side} forearm"] == pytest.approx(diff, abs=1e-6)
    assert result.angle_errors[f"{side} shoulder"] == pytest.approx(live_elevation - ref_elevation, abs=1e-6)
    assert result.angle_errors[f"{side} elbow"] == pytest.approx(0.0, abs=1e-6)
    verb = "Raise" if ref_elevation > live_elevation else "Lower"
    assert result.cues == [f"{verb} your {side} arm {amount(diff)}"]
    assert result.worst in (f"{side} upper arm", f"{side} forearm", f"{side} shoulder")


def test_score_formula_on_a_known_difference():
    # A 30-degree forearm turn changes exactly two items: the forearm direction and the elbow angle.
    reference = F.make_pose(side_arm(0))
    live = F.make_pose({**side_arm(0), "left forearm": dfa(30, 90)})
    result = F.compare(reference, live, half_score_deg=30.0)
    assert result.limb_errors["left forearm"] == pytest.approx(30.0, abs=1e-6)
    assert result.angle_errors["left elbow"] == pytest.approx(-30.0, abs=1e-6)
    n_items = len(A.LIMBS) + len(A.JOINT_ANGLES)
    assert result.score == pytest.approx(100.0 * (n_items - 2 + 2 * 0.5) / n_items)
    assert result.cues == ["Straighten your left elbow about 30 degrees"]
    assert F.item_score(30.0, 30.0) == pytest.approx(0.5) and F.item_score(0.0) == 1.0


@pytest.mark.parametrize("bend", [20.0, 50.0, 90.0])
def test_elbow_bend(bend):
    straight = F.make_pose(side_arm(0, "right"))
    bent = F.make_pose({**side_arm(0, "right"), "right forearm": dfa(bend, -90)})
    result = F.compare(straight, bent)
    assert result.angle_errors["right elbow"] == pytest.approx(-bend, abs=1e-6)
    assert result.cues[0] == f"Straighten your right elbow {amount(bend)}"
    reverse = F.compare(bent, straight)
    assert reverse.cues[0] == f"Bend your right elbow {amount(bend)} more"


def test_knee_and_hip_cues():
    squat_leg = {"right thigh": dfa(-30, 0), "right shin": dfa(-80, 180)}  # thigh forward, shin back
    reference = F.make_pose(squat_leg)
    standing = F.make_pose()
    ref_knee = F.joint_angles(reference, H36M)["right knee"]
    result = F.compare(reference, standing)
    assert result.angle_errors["right knee"] == pytest.approx(180.0 - ref_knee, abs=1e-6)
    assert result.angle_errors["right hip"] == pytest.approx(-60.0, abs=1e-6)
    assert set(result.cues) == {
        f"Bend your right knee {amount(180 - ref_knee)} more",
        "Lift your right leg about 60 degrees",
    }
    back = F.compare(standing, reference)
    assert "Lower your right leg about 60 degrees" in back.cues
    assert f"Straighten your right knee {amount(180 - ref_knee)}" in back.cues


def test_trunk_lean_comes_first_and_keeps_limb_cues_honest():
    # The trainer leans forward 30 degrees with arms hanging straight down; the trainee stands upright.
    reference = F.make_pose({"trunk": dfa(60, 0)})
    result = F.compare(reference, F.make_pose())
    assert result.angle_errors["trunk lean"] == pytest.approx(-30.0, abs=1e-6)
    # Arms still hang straight down in both, so no arm cue, although the shoulder angles differ.
    assert result.cues == ["Lean forward about 30 degrees more"]
    side = F.compare(F.make_pose({"trunk": dfa(70, -90)}), F.make_pose())
    assert side.cues == ["Lean to your right about 20 degrees"]
    upright = F.compare(F.make_pose(), F.make_pose({"trunk": dfa(50, 0)}))
    assert upright.cues == ["Stand up straighter, about 40 degrees"]


def test_direction_cue_when_the_angle_is_right():
    # Same elevation (level), but pointing forward instead of out to the side.
    reference = F.make_pose({"left upper arm": dfa(0, 0), "left forearm": dfa(0, 0)})
    live = F.make_pose(side_arm(0))
    result = F.compare(reference, live)
    assert result.angle_errors["left shoulder"] == pytest.approx(0.0, abs=1e-6)
    assert result.limb_errors["left upper arm"] == pytest.approx(90.0, abs=1e-6)
    assert result.cues == ["Move your left arm forward about 90 degrees"]
    back = F.compare(live, reference)
    assert back.cues == ["Move your left arm out to the side about 90 degrees"]


def test_cues_are_limited_and_worst_first():
    reference = F.make_pose({**side_arm(60), **side_arm(-20, "right"), "left thigh": dfa(-50, 0)})
    result = F.compare(reference, F.make_pose(), max_cues=2)
    assert result.cues == ["Raise your left arm about 150 degrees", "Raise your right arm about 70 degrees"]
    assert F.compare(reference, F.make_pose(), max_cues=0).cues == []


# ------------------------------------------------------------------ mirrored poses


def test_mirrored_pose_names_the_trainees_sides():
    reference = F.make_pose(side_arm(60, "left"))
    mirrored = F.make_pose(side_arm(60, "right"))  # the trainee raised the other arm
    result = F.compare(reference, mirrored)
    assert result.score < 90 and not result.in_tolerance and not result.mirrored
    assert "Raise your left arm about 150 degrees" in result.cues
    assert "Lower your right arm about 150 degrees" in result.cues


def test_mirror_allowed_accepts_the_other_side():
    reference = F.make_pose({**side_arm(60, "left"), "right thigh": dfa(-40, 20)})
    other_side = F.make_pose({**side_arm(60, "right"), "left thigh": dfa(-40, -20)}, yaw_deg=35)
    result = F.compare(reference, other_side, allow_mirror=True)
    assert result.mirrored and result.score == pytest.approx(100.0, abs=1e-6) and result.cues == []
    # The same pose is not reported as mirrored.
    same = F.compare(reference, reference, allow_mirror=True)
    assert not same.mirrored and same.score == pytest.approx(100.0)


def test_mirror_pose_is_an_involution_that_swaps_sides():
    pose = F.normalize_pose(F.make_pose({**side_arm(30), "right shin": dfa(-10, 180)}, yaw_deg=50), H36M)
    once = A.mirror_pose(pose, H36M)
    assert np.allclose(A.mirror_pose(once, H36M), pose, atol=1e-9)
    angles, mirrored_angles = F.joint_angles(pose, H36M), F.joint_angles(once, H36M)
    assert mirrored_angles["right shoulder"] == pytest.approx(angles["left shoulder"])
    assert mirrored_angles["left knee"] == pytest.approx(angles["right knee"])


# ------------------------------------------------------------------ missing and low-confidence joints


def test_missing_live_joint_is_left_out_and_asked_for():
    reference = F.make_pose(side_arm(20))
    live = reference.copy()
    live[H36M.index("L_Wrist")] = np.nan
    result = F.compare(reference, live)
    assert "left forearm" not in result.limb_errors and "left elbow" not in result.angle_errors
    assert set(result.missing) == {"left forearm", "left elbow"}
    assert result.score == pytest.approx(100.0) and result.coverage == pytest.approx(16 / 18)
    assert result.cues == ["Keep your left arm in view of the camera"]
    assert result.in_tolerance  # 16 of 18 items is above min_coverage 0.75


def test_low_confidence_counts_as_missing():
    reference = F.make_pose(side_arm(20))
    live = F.make_pose(side_arm(-60))  # wrong arm, but the arm's joints are not trusted
    confidence = np.ones(len(H36M))
    for name in ("L_Elbow", "L_Wrist"):
        confidence[H36M.index(name)] = 0.05
    result = F.compare(reference, live, live_confidence=confidence, min_confidence=0.1)
    assert "left upper arm" in result.missing and "left upper arm" not in result.limb_errors
    assert result.score == pytest.approx(100.0)
    trusted = F.compare(reference, live, live_confidence=confidence, min_confidence=0.01)
    assert trusted.limb_errors["left upper arm"] == pytest.approx(80.0, abs=1e-6)


def test_legs_out_of_view_block_the_match():
    reference = F.make_pose(side_arm(20))
    live = reference.copy()
    for name in ("L_Knee", "L_Ankle", "R_Knee", "R_Ankle"):
        live[H36M.index(name)] = np.nan
    result = F.compare(reference, live)
    assert result.score == pytest.approx(100.0) and not result.in_tolerance and result.coverage < 0.75
    assert result.cues[0] == "Step back so your whole body is in view"


def test_reference_without_legs_compares_the_rest():
    reference = F.make_pose(side_arm(20))
    for name in ("L_Knee", "L_Ankle", "R_Knee", "R_Ankle"):
        reference[H36M.index(name)] = np.nan
    result = F.compare(reference, F.make_pose(side_arm(20)))
    assert result.coverage == 1.0 and result.missing == [] and result.in_tolerance
    assert "left shin" not in result.limb_errors and result.cues == []


def test_reference_with_nothing_measurable_gives_no_cues():
    result = F.compare(np.full((18, 3), np.nan), F.make_pose())
    assert result.score == 0.0 and result.cues == [] and not result.in_tolerance and result.coverage == 0.0


def test_nobody_visible():
    reference = F.make_pose()
    result = F.compare(reference, np.full_like(reference, np.nan))
    assert result.score == 0.0 and not result.in_tolerance and math.isnan(result.max_error)
    assert result.cues == ["Step into view of the camera"]


# ------------------------------------------------------------------ joint sets, validation, output


@pytest.mark.parametrize("name", ["human36m", "muco", "mupots", "mpii", "coco"])
def test_every_joint_set_with_the_needed_joints_works(name):
    reference = F.make_pose(side_arm(40), joint_set=name)
    live = F.make_pose(side_arm(10), joint_set=name, yaw_deg=20)
    result = F.compare(reference, live, joint_set=name)
    assert result.limb_errors["left upper arm"] == pytest.approx(30.0, abs=1e-6)
    assert result.cues == ["Raise your left arm about 30 degrees"]


def test_bad_inputs_are_refused():
    pose = F.make_pose()
    with pytest.raises(ValueError, match=r"\(18, 3\)"):
        F.compare(pose[:17], pose)
    with pytest.raises(ValueError, match="infinite"):
        F.compare(pose, np.where(np.eye(18, 3) > 0, np.inf, pose))
    with pytest.raises(ValueError, match="confidence"):
        F.compare(pose, pose, live_confidence=np.ones(5))
    with pytest.raises(ValueError, match="unknown joint set"):
        F.compare(pose, pose, joint_set="nope")
    with pytest.raises(ValueError, match="tolerance_deg"):
        F.compare(pose, pose, tolerance_deg=0)
    headless = JointSet("legs", ("Pelvis", "L_Hip", "R_Hip"), (("Pelvis", "L_Hip"),))
    with pytest.raises(ValueError, match="lacks joints"):
        F.compare(np.zeros((3, 3)), np.zeros((3, 3)), joint_set=headless)


def test_to_dict_is_strict_json():
    reference = F.make_pose(side_arm(20))
    live = reference.copy()
    live[H36M.index("R_Wrist")] = np.nan
    data = F.compare(reference, live).to_dict()
    text = json.dumps(data, allow_nan=False)
    again = json.loads(text)
    assert again["live_pose"][H36M.index("R_Wrist")] == [None, None, None]
    assert again["score"] == round(F.compare(reference, live).score, 1)
    assert again["live_angles"]["right elbow"] is None


def test_normalize_pose_removes_position_and_size(rng):
    pose = F.make_pose(side_arm(30))
    moved = pose * 1.7 + rng.normal(0, 500, size=3)
    assert np.allclose(F.normalize_pose(moved, H36M), F.normalize_pose(pose, H36M))
    normalized = F.normalize_pose(pose, H36M)
    assert np.linalg.norm(normalized[H36M.index("Thorax")]) == pytest.approx(1.0)
    assert np.allclose(normalized[H36M.root_index], 0.0)


def test_body_frame_of_a_person_facing_the_camera():
    frame = F.body_frame(F.make_pose(), H36M)
    assert frame.valid
    assert np.allclose(frame.left, [1, 0, 0]) and np.allclose(frame.forward, [0, 0, -1])
    assert np.allclose(bd(up=1), [0, -1, 0])
