"""Hold timer, workout JSON and the workout runner (convnextpose.fitness)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from convnextpose import fitness as F
from convnextpose.fitness.poses import direction_from_angles as dfa

ARMS_UP = {"left upper arm": dfa(80, 90), "left forearm": dfa(80, 90), "right upper arm": dfa(80, -90)}


# ------------------------------------------------------------------ hold timer


def test_matched_after_holding_for_the_set_time():
    timer = F.HoldTimer(hold_s=2.0, grace_s=0.0)
    states = [timer.update(t, True) for t in np.arange(0.0, 2.01, 0.25)]
    assert [s.state for s in states[:-1]] == ["holding"] * 8
    assert states[-1].matched and states[-1].remaining_s == 0.0 and states[-1].progress == 1.0
    assert states[4].held_s == pytest.approx(1.0) and states[4].progress == pytest.approx(0.5)


def test_leaving_tolerance_restarts_the_hold():
    timer = F.HoldTimer(hold_s=2.0, grace_s=0.3)
    timer.update(0.0, True)
    assert timer.update(1.5, True).held_s == pytest.approx(1.5)
    assert timer.update(1.7, False).state == "holding"  # 0.2 s out: within the 0.3 s grace
    assert timer.update(1.9, False).state == "out"  # 0.4 s out: the hold is lost
    again = timer.update(2.2, True)
    assert again.state == "holding" and again.held_s == 0.0
    assert not timer.update(4.1, True).matched
    assert timer.update(4.2, True).matched


def test_a_short_dip_keeps_the_hold_without_counting_it():
    timer = F.HoldTimer(hold_s=1.0, grace_s=0.5)
    timer.update(0.0, True)
    timer.update(0.4, True)
    dip = timer.update(0.6, False)
    assert dip.state == "holding" and not dip.within and dip.held_s == pytest.approx(0.4)
    back = timer.update(0.8, True)  # the 0.4 s from 0.4 to 0.8 was not all in tolerance: not counted
    assert back.held_s == pytest.approx(0.4)
    assert timer.update(1.3, True).state == "holding"
    assert timer.update(1.4, True).matched


def test_matched_is_kept_until_reset():
    timer = F.HoldTimer(hold_s=0.0)
    assert timer.update(5.0, False).state == "out"
    assert timer.update(5.1, True).matched
    assert timer.update(9.0, False).matched
    timer.reset()
    assert timer.state == "out" and timer.update(1.0, False).state == "out"  # reset also forgets the clock


def test_hold_timer_rejects_bad_input():
    with pytest.raises(ValueError, match="hold_s"):
        F.HoldTimer(hold_s=-1)
    with pytest.raises(ValueError, match="grace_s"):
        F.HoldTimer(hold_s=1, grace_s=float("nan"))
    timer = F.HoldTimer(hold_s=1.0)
    timer.update(2.0, True)
    with pytest.raises(ValueError, match="decrease"):
        timer.update(1.0, True)
    with pytest.raises(ValueError, match="finite"):
        timer.update(float("inf"), True)
    assert json.loads(json.dumps(timer.status().to_dict()))["hold_s"] == 1.0


# ------------------------------------------------------------------ workout JSON


def two_step_workout() -> F.Workout:
    first = F.make_pose(ARMS_UP)
    second = F.make_pose({"left thigh": dfa(0, 0)})
    second[3] = np.nan  # R_Ankle left unspecified
    return F.Workout(
        [
            F.WorkoutStep(first, name="arms up", hold_s=1.0),
            F.WorkoutStep(second, name="knee up", hold_s=0.5, tolerance_deg=20, allow_mirror=True),
        ],
        name="test",
    )


def test_workout_round_trip(tmp_path):
    workout = two_step_workout()
    path = workout.save(tmp_path / "w.json")
    data = json.loads(path.read_text())
    assert data["format"] == "convnextpose-workout" and data["version"] == 1
    assert data["steps"][1]["pose"][3] is None
    loaded = F.Workout.load(path)
    assert loaded.name == "test" and loaded.joint_set == "human36m" and len(loaded.steps) == 2
    for a, b in zip(loaded.steps, workout.steps):
        assert np.allclose(a.pose, b.pose, equal_nan=True)
        assert (a.name, a.hold_s, a.tolerance_deg, a.allow_mirror) == (
            b.name,
            b.hold_s,
            b.tolerance_deg,
            b.allow_mirror,
        )


def test_minimal_workout_gets_defaults():
    pose = F.make_pose().tolist()
    workout = F.Workout.from_dict({"steps": [{"pose": pose}]})
    step = workout.steps[0]
    assert (step.name, step.hold_s, step.tolerance_deg, step.align_yaw, step.allow_mirror) == (
        "step 1",
        3.0,
        15.0,
        True,
        False,
    )


def _bad(mutate) -> str:
    data = json.loads(two_step_workout().to_json())
    mutate(data)
    with pytest.raises(F.WorkoutError) as info:
        F.Workout.from_dict(data)
    return str(info.value)


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: d["steps"][1].update(pose=d["steps"][1]["pose"][:17]), "steps[1].pose: expected 18 [x, y, z] rows"),
        (lambda d: d["steps"][0]["pose"].__setitem__(2, [1, 2]), "steps[0].pose[2]: expected [x, y, z]"),
        (lambda d: d["steps"][0]["pose"].__setitem__(2, [1, "a", 3]), "steps[0].pose[2]: expected a number"),
        (lambda d: d["steps"][0].update(hold=2), "unknown key 'hold'; did you mean 'hold_s'"),
        (lambda d: d["steps"][0].update(hold_s=-1), "steps[0].hold_s: expected a value in [0.0, 3600.0]"),
        (lambda d: d["steps"][0].update(hold_s=True), "steps[0].hold_s: expected a number"),
        (lambda d: d["steps"][0].update(allow_mirror="yes"), "steps[0].allow_mirror: expected true or false"),
        (lambda d: d["steps"][0].update(confidence=[1.0] * 3), "steps[0].confidence: expected a list of 18"),
        (lambda d: d["steps"][0].update(tolerance_deg=0), "tolerance_deg: expected a value in [1.0, 180.0]"),
        (lambda d: d["steps"][0].pop("pose"), "steps[0].pose: missing"),
        (lambda d: d["steps"][0].update(pose=[[0, 0, 0]] * 2 + [None] * 16), "no limb direction or joint angle"),
        (lambda d: d.update(steps=[]), "steps: expected a non-empty list"),
        (lambda d: d.update(joint_set="nope"), "joint_set: unknown joint set"),
        (lambda d: d.update(format="other"), "format: expected 'convnextpose-workout'"),
        (lambda d: d.update(version=2), "version: this reader knows version 1"),
        (lambda d: d.update(step=[]), "unknown key 'step'; did you mean 'steps'"),
    ],
)
def test_bad_workouts_name_the_field(mutate, message):
    assert message in _bad(mutate)


def test_bad_files(tmp_path):
    with pytest.raises(FileNotFoundError):
        F.Workout.load(tmp_path / "missing.json")
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(F.WorkoutError, match=r"bad\.json: not valid JSON"):
        F.Workout.load(bad)
    bad.write_text("[1, 2]")
    with pytest.raises(F.WorkoutError, match=r"bad\.json: workout: expected a JSON object"):
        F.Workout.load(bad)
    with pytest.raises(F.WorkoutError, match="steps\\[0\\].pose"):
        F.Workout([F.WorkoutStep(np.zeros((18, 2)))])


# ------------------------------------------------------------------ runner


def test_runner_advances_through_the_steps():
    workout = two_step_workout()
    runner = F.WorkoutRunner(workout, grace_s=0.0)
    first, second = workout.steps[0].pose, F.make_pose({"left thigh": dfa(0, 0)})
    wrong = F.make_pose()

    update = runner.update(0.0, wrong)
    assert update.step_index == 0 and update.hold.state == "out" and update.comparison.cues
    assert runner.update(0.1, first).hold.state == "holding"
    assert runner.update(0.6, first).completed_step is None
    done = runner.update(1.1, first)
    assert done.completed_step == 0 and done.hold.matched and not done.finished
    assert runner.step_index == 1
    # Step 2 allows the mirror image: the right knee raised instead of the left counts.
    other_knee = F.make_pose({"right thigh": dfa(0, 0)})
    assert runner.update(1.2, None).hold.state == "out"  # nobody in view
    runner.update(1.3, other_knee)
    final = runner.update(1.8, other_knee)
    assert final.comparison.mirrored and final.completed_step == 1 and final.finished
    after = runner.update(2.0, wrong)
    assert after.finished and after.completed_step is None and after.step_index == 1
    data = after.to_dict()
    assert data["step"] == {"index": 1, "count": 2, "name": "knee up"} and "live_pose" not in data["comparison"]
    assert "live_pose" in after.to_dict(include_poses=True)["comparison"]
    runner.reset()
    assert runner.step_index == 0 and not runner.finished
    assert second.shape == (18, 3)
