"""Copy a trainer's pose: compare 3D poses, give corrective cues, time holds, run workouts.

>>> from convnextpose import fitness
>>> reference = fitness.make_pose({"left upper arm": fitness.body_direction(left=1)})
>>> result = fitness.compare(reference, fitness.make_pose(), joint_set="human36m")
>>> result.cues[0]
'Raise your left arm about 90 degrees'

See docs/fitness.md for the method, the scoring formula, the cue rules and the workout format.
"""

from __future__ import annotations

from .angles import JOINT_ANGLES, LIMBS, BodyFrame, body_frame, joint_angles, limb_directions, normalize_pose
from .compare import PoseComparison, compare, item_score
from .hold import HoldStatus, HoldTimer
from .poses import body_direction, direction_from_angles, make_pose
from .workout import Workout, WorkoutError, WorkoutRunner, WorkoutStep, WorkoutUpdate

__all__ = [
    "JOINT_ANGLES",
    "LIMBS",
    "BodyFrame",
    "HoldStatus",
    "HoldTimer",
    "PoseComparison",
    "Workout",
    "WorkoutError",
    "WorkoutRunner",
    "WorkoutStep",
    "WorkoutUpdate",
    "body_direction",
    "body_frame",
    "compare",
    "direction_from_angles",
    "item_score",
    "joint_angles",
    "limb_directions",
    "make_pose",
    "normalize_pose",
]
