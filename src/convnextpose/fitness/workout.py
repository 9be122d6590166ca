"""Workouts: a sequence of reference poses, each held for some seconds, stored as JSON.

File format (docs/fitness.md, "Workout JSON")::

    {
      "format": "convnextpose-workout",
      "version": 1,
      "name": "Morning stretch",
      "joint_set": "human36m",
      "steps": [
        {"name": "Arms up", "pose": [[x, y, z], ...], "hold_s": 3.0,
         "confidence": [...], "tolerance_deg": 15.0, "align_yaw": true, "allow_mirror": false}
      ]
    }

``pose`` has one [x, y, z] row per joint of ``joint_set`` (camera frame, y down, any unit, mm from the
network); a row of ``null`` marks a joint the reference does not specify. Only ``pose`` is required
in a step.
"""

from __future__ import annotations

import difflib
import json
import math
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..joints import get_joint_set
from .angles import check_joint_set, joint_angles, limb_directions
from .compare import PoseComparison, compare
from .hold import HoldStatus, HoldTimer

__all__ = ["Workout", "WorkoutError", "WorkoutRunner", "WorkoutStep", "WorkoutUpdate"]

FORMAT = "convnextpose-workout"
VERSION = 1
MAX_STEPS = 500
MAX_HOLD_S = 3600.0
_TOP_KEYS = ("format", "version", "name", "joint_set", "steps")
_STEP_KEYS = ("name", "pose", "hold_s", "confidence", "tolerance_deg", "align_yaw", "allow_mirror")


class WorkoutError(ValueError):
    """A workout that cannot be used; the message names the field (``steps[2].pose``) and the problem."""


@dataclass
class WorkoutStep:
    """One reference pose to copy.

    Attributes:
        pose: (J, 3) float64, camera frame, NaN rows for joints not specified.
        name: shown to the trainee.
        hold_s: seconds to hold the pose within tolerance.
        confidence: optional (J,) per-joint confidence of the reference.
        tolerance_deg: largest angular error that still counts as matching.
        align_yaw: ignore the heading about the vertical axis.
        allow_mirror: the other side doing the movement also counts.
    """

    pose: np.ndarray
    name: str = ""
    hold_s: float = 3.0
    confidence: np.ndarray | None = None
    tolerance_deg: float = 15.0
    align_yaw: bool = True
    allow_mirror: bool = False

    def compare(self, live: np.ndarray, joint_set: str, **kwargs: Any) -> PoseComparison:
        """:func:`~convnextpose.fitness.compare` with this step's reference and options."""
        options = dict(
            reference_confidence=self.confidence,
            tolerance_deg=self.tolerance_deg,
            align_yaw=self.align_yaw,
            allow_mirror=self.allow_mirror,
        )
        options.update(kwargs)
        return compare(self.pose, live, joint_set, **options)


@dataclass
class Workout:
    """A named sequence of :class:`WorkoutStep` in one joint set."""

    steps: list[WorkoutStep]
    name: str = "workout"
    joint_set: str = "human36m"

    def __post_init__(self) -> None:
        self.joint_set = _joint_set_name(self.joint_set, "joint_set")
        self.validate()

    def validate(self) -> None:
        """Check every step; raises :class:`WorkoutError` naming the first bad field."""
        _check_steps(self.to_dict(), self.joint_set)

    def to_dict(self) -> dict[str, Any]:
        def row(values: np.ndarray) -> list[float] | None:
            return [float(v) for v in values] if np.isfinite(values).all() else None

        steps = []
        for step in self.steps:
            pose = np.asarray(step.pose, dtype=np.float64)
            entry: dict[str, Any] = {
                "name": step.name,
                "pose": [row(r) for r in pose] if pose.ndim == 2 else pose.tolist(),
                "hold_s": float(step.hold_s),
                "tolerance_deg": float(step.tolerance_deg),
                "align_yaw": bool(step.align_yaw),
                "allow_mirror": bool(step.allow_mirror),
            }
            if step.confidence is not None:
                entry["confidence"] = [float(c) for c in np.asarray(step.confidence).reshape(-1)]
            steps.append(entry)
        return {"format": FORMAT, "version": VERSION, "name": self.name, "joint_set": self.joint_set, "steps": steps}

    def to_json(self, indent: int | None = 1) -> str:
        """JSON text; with ``indent``, each [x, y, z] row (and the confidence list) stays on one line."""
        text = json.dumps(self.to_dict(), indent=indent)
        if indent is None:
            return text
        # Collapse innermost lists (numbers and nulls only) onto one line.
        return re.sub(r"\[\s+([^\[\]{}\"]*?)\s+\]", lambda m: "[" + " ".join(m.group(1).split()) + "]", text)

    def save(self, path: str | os.PathLike) -> Path:
        """Write the workout as JSON (UTF-8)."""
        path = Path(path)
        path.write_text(self.to_json() + "\n", encoding="utf-8")
        return path

    @classmethod
    def from_dict(cls, data: Any) -> Workout:
        """Build from parsed JSON, validating everything; :class:`WorkoutError` on any problem."""
        if not isinstance(data, Mapping):
            raise WorkoutError(f"workout: expected a JSON object, got {type(data).__name__}")
        _reject_unknown(data, _TOP_KEYS, "workout")
        if data.get("format", FORMAT) != FORMAT:
            raise WorkoutError(f"format: expected {FORMAT!r}, got {data.get('format')!r}")
        if data.get("version", VERSION) != VERSION:
            raise WorkoutError(f"version: this reader knows version {VERSION}, got {data.get('version')!r}")
        name = data.get("name", "workout")
        if not isinstance(name, str) or len(name) > 200:
            raise WorkoutError("name: expected a string of at most 200 characters")
        joint_set = _joint_set_name(data.get("joint_set", "human36m"), "joint_set")
        steps = _check_steps(data, joint_set)
        workout = cls.__new__(cls)
        workout.steps, workout.name, workout.joint_set = steps, name, joint_set
        return workout

    @classmethod
    def from_json(cls, text: str | bytes, source: str = "workout") -> Workout:
        try:
            data = json.loads(text)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise WorkoutError(f"{source}: not valid JSON ({exc})") from None
        return cls.from_dict(data)

    @classmethod
    def load(cls, path: str | os.PathLike) -> Workout:
        """Read a workout JSON file.

        Raises:
            FileNotFoundError: no such file.
            WorkoutError: bad JSON or bad contents; the message starts with the file name.
        """
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"workout file not found: {path}")
        try:
            return cls.from_json(path.read_bytes(), source=str(path))
        except WorkoutError as exc:
            message = str(exc)
            raise WorkoutError(message if message.startswith(str(path)) else f"{path}: {message}") from None


def _joint_set_name(value: Any, where: str) -> str:
    if not isinstance(value, str):
        raise WorkoutError(f"{where}: expected a joint set name, got {value!r}")
    try:
        return check_joint_set(get_joint_set(value)).name
    except ValueError as exc:
        raise WorkoutError(f"{where}: {exc}") from None


def _reject_unknown(data: Mapping, allowed: Sequence[str], where: str) -> None:
    for key in data:
        if key not in allowed:
            hint = difflib.get_close_matches(str(key), allowed, n=1)
            suggestion = f"; did you mean {hint[0]!r}?" if hint else f"; allowed keys are {list(allowed)}"
            raise WorkoutError(f"{where}: unknown key {key!r}{suggestion}")


def _number(value: Any, where: str, low: float, high: float) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise WorkoutError(f"{where}: expected a number, got {value!r}")
    if not low <= value <= high:
        raise WorkoutError(f"{where}: expected a value in [{low}, {high}], got {value}")
    return float(value)


def _check_steps(data: Mapping, joint_set: str) -> list[WorkoutStep]:
    joints = get_joint_set(joint_set)
    steps = data.get("steps")
    if not isinstance(steps, list) or not steps:
        raise WorkoutError("steps: expected a non-empty list of steps")
    if len(steps) > MAX_STEPS:
        raise WorkoutError(f"steps: at most {MAX_STEPS} steps, got {len(steps)}")
    out = []
    for i, step in enumerate(steps):
        where = f"steps[{i}]"
        if not isinstance(step, Mapping):
            raise WorkoutError(f"{where}: expected an object, got {type(step).__name__}")
        _reject_unknown(step, _STEP_KEYS, where)
        if "pose" not in step:
            raise WorkoutError(f"{where}.pose: missing (one [x, y, z] row per joint of {joint_set})")
        pose = _pose(step["pose"], f"{where}.pose", joints.num_joints, joint_set)
        confidence = None
        if step.get("confidence") is not None:
            conf = step["confidence"]
            if not isinstance(conf, list) or len(conf) != joints.num_joints:
                raise WorkoutError(f"{where}.confidence: expected a list of {joints.num_joints} numbers")
            confidence = np.array([_number(c, f"{where}.confidence[{j}]", 0.0, 1.0) for j, c in enumerate(conf)])
        name = step.get("name", f"step {i + 1}")
        if not isinstance(name, str) or len(name) > 200:
            raise WorkoutError(f"{where}.name: expected a string of at most 200 characters")
        flags = {}
        for key, default in (("align_yaw", True), ("allow_mirror", False)):
            flags[key] = step.get(key, default)
            if not isinstance(flags[key], bool):
                raise WorkoutError(f"{where}.{key}: expected true or false, got {flags[key]!r}")
        out.append(
            WorkoutStep(
                pose=pose,
                name=name,
                hold_s=_number(step.get("hold_s", 3.0), f"{where}.hold_s", 0.0, MAX_HOLD_S),
                confidence=confidence,
                tolerance_deg=_number(step.get("tolerance_deg", 15.0), f"{where}.tolerance_deg", 1.0, 180.0),
                **flags,
            )
        )
    return out


def _pose(value: Any, where: str, num_joints: int, joint_set: str) -> np.ndarray:
    if isinstance(value, np.ndarray):
        value = [None if not np.isfinite(r).all() else list(r) for r in np.asarray(value, dtype=float)]
    if not isinstance(value, list) or len(value) != num_joints:
        got = f"{len(value)} rows" if isinstance(value, list) else type(value).__name__
        raise WorkoutError(f"{where}: expected {num_joints} [x, y, z] rows (joint set {joint_set}), got {got}")
    pose = np.full((num_joints, 3), np.nan)
    for j, row in enumerate(value):
        if row is None:
            continue
        if not isinstance(row, list) or len(row) != 3:
            raise WorkoutError(f"{where}[{j}]: expected [x, y, z] or null, got {row!r}")
        pose[j] = [_number(v, f"{where}[{j}]", -1e7, 1e7) for v in row]
    joints = get_joint_set(joint_set)
    measurable = [v for v in joint_angles(pose, joints).values() if math.isfinite(v)]
    measurable += [d for d in limb_directions(pose, joints).values() if np.isfinite(d).all()]
    if not measurable:
        raise WorkoutError(f"{where}: too many null rows: no limb direction or joint angle can be measured")
    return pose


@dataclass(frozen=True)
class WorkoutUpdate:
    """What :meth:`WorkoutRunner.update` saw.

    Attributes:
        comparison: the live pose against the current step (None if no pose was given).
        hold: the hold timer of the step compared.
        step_index: index of the step compared.
        completed_step: index of the step this update completed, else None.
        finished: every step has been completed.
    """

    comparison: PoseComparison | None
    hold: HoldStatus
    step_index: int
    completed_step: int | None
    finished: bool
    step_count: int
    step_name: str = ""

    def to_dict(self, include_poses: bool = False) -> dict[str, Any]:
        comparison = self.comparison.to_dict() if self.comparison is not None else None
        if comparison is not None and not include_poses:
            comparison.pop("reference_pose")
            comparison.pop("live_pose")
        return {
            "comparison": comparison,
            "hold": self.hold.to_dict(),
            "step": {"index": self.step_index, "count": self.step_count, "name": self.step_name},
            "completed_step": self.completed_step,
            "finished": self.finished,
        }


@dataclass
class WorkoutRunner:
    """Steps through a workout: compares each live pose with the current step and advances once
    the step's hold timer reports matched. After the last step it stays finished until reset.

    Args:
        workout: the workout to run.
        grace_s: see :class:`HoldTimer`.
        compare_options: extra keyword arguments for :func:`compare` (e.g. ``min_confidence``).
    """

    workout: Workout
    grace_s: float = 0.5
    compare_options: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.step_index = 0
        self.finished = False
        self._timer = HoldTimer(self.workout.steps[0].hold_s, self.grace_s)

    @property
    def step(self) -> WorkoutStep:
        return self.workout.steps[self.step_index]

    def update(self, t: float, live: np.ndarray | None, confidence: np.ndarray | None = None) -> WorkoutUpdate:
        """Compare ``live`` (J, 3) taken at time ``t`` (seconds) with the current step.

        ``live=None`` (nobody detected) counts as out of tolerance.
        """
        index = self.step_index
        step = self.step
        comparison = None
        if live is not None:
            comparison = step.compare(live, self.workout.joint_set, live_confidence=confidence, **self.compare_options)
        if self.finished:
            status = self._timer.status(bool(comparison and comparison.in_tolerance))
            return WorkoutUpdate(comparison, status, index, None, True, len(self.workout.steps), step.name)
        status = self._timer.update(t, bool(comparison is not None and comparison.in_tolerance))
        completed = None
        if status.matched:
            completed = index
            if index + 1 < len(self.workout.steps):
                self.step_index = index + 1
                self._timer = HoldTimer(self.step.hold_s, self.grace_s)
            else:
                self.finished = True
        return WorkoutUpdate(comparison, status, index, completed, self.finished, len(self.workout.steps), step.name)
