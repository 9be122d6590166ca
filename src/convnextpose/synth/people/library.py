"""The pose library: named everyday, fitness, stretching and yoga poses, and random draws from it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from .limits import NUM_PARAMS, PARAM_INDEX, PARAM_NAMES, SIDES

#: The relaxed standing pose every library pose overrides (degrees; unlisted parameters are 0).
NEUTRAL: dict[str, float] = {
    **{f"{s}_{n}": v for s in SIDES for n, v in {
        "shoulder_elev": 8, "elbow_flex": 12, "hip_elev": 4, "knee_flex": 3, "forearm_twist": 0}.items()},
}  # fmt: skip


def _both(**kw: float) -> dict[str, float]:
    return {f"{s}_{k}": v for s in SIDES for k, v in kw.items()}


def _side(side: str, **kw: float) -> dict[str, float]:
    return {f"{side}_{k}": v for k, v in kw.items()}


@dataclass(frozen=True)
class LibraryPose:
    """A named pose: overrides of :data:`NEUTRAL`, the body parts that rest on the floor, and whether it needs a seat.

    Attributes:
        params: parameter name -> degrees.
        contacts: groups that should touch the floor together (``"feet"``, ``"hands"``, ``"knees"``, ``"elbows"``,
            ``"seat"``); the scene tilts the body so the listed groups are level before dropping it onto the floor.
        seat: the pose sits on a chair; the scene puts a box seat under the buttocks.
        category: ``"everyday"``, ``"fitness"``, ``"stretch"`` or ``"yoga"``.
    """

    params: Mapping[str, float]
    contacts: tuple[str, ...] = ("feet",)
    seat: bool = False
    category: str = "everyday"


POSE_LIBRARY: dict[str, LibraryPose] = {
    "standing": LibraryPose({}),
    "standing_relaxed": LibraryPose({**_both(shoulder_elev=14, elbow_flex=25, hip_elev=7), "spine_flex": 5}),
    "hands_on_hips": LibraryPose(_both(shoulder_elev=40, shoulder_plane=-20, shoulder_twist=70, elbow_flex=110)),
    "walking_left_step": LibraryPose(
        {
            **_side("L", hip_elev=24, hip_plane=90, knee_flex=8, ankle_flex=10, shoulder_elev=18, shoulder_plane=-90),
            **_side("R", hip_elev=14, hip_plane=-90, knee_flex=25, ankle_flex=-15, shoulder_elev=20, shoulder_plane=90),
            "L_elbow_flex": 20,
            "R_elbow_flex": 35,
            "spine_twist": -5,
        }
    ),  # fmt: skip
    "walking_right_step": LibraryPose(
        {
            **_side("R", hip_elev=24, hip_plane=90, knee_flex=8, ankle_flex=10, shoulder_elev=18, shoulder_plane=-90),
            **_side("L", hip_elev=14, hip_plane=-90, knee_flex=25, ankle_flex=-15, shoulder_elev=20, shoulder_plane=90),
            "R_elbow_flex": 20,
            "L_elbow_flex": 35,
            "spine_twist": 5,
        }
    ),  # fmt: skip
    "walking_passing": LibraryPose(
        {**_side("L", hip_elev=12, hip_plane=90, knee_flex=45, ankle_flex=5), **_side("R", hip_elev=3, knee_flex=5)}
    ),
    "sitting": LibraryPose(
        {
            **_both(hip_elev=88, hip_plane=82, knee_flex=88, shoulder_elev=28, shoulder_plane=75, elbow_flex=65),
            "spine_flex": 8,
        },
        contacts=("feet",),
        seat=True,
    ),  # fmt: skip
    "sitting_leaning_back": LibraryPose(
        {
            **_both(hip_elev=80, hip_plane=85, knee_flex=70, ankle_flex=-10, shoulder_elev=20, elbow_flex=40),
            "spine_flex": -10,
            "root_pitch": -12,
        },
        contacts=("feet",),
        seat=True,
    ),  # fmt: skip
    "sitting_floor": LibraryPose(
        {
            **_both(
                hip_elev=95,
                hip_plane=88,
                knee_flex=8,
                ankle_flex=-25,
                shoulder_elev=35,
                shoulder_plane=-70,
                elbow_flex=5,
            ),
            "root_pitch": -25,
            "spine_flex": 15,
        },
        contacts=("seat",),
        category="stretch",
    ),  # fmt: skip
    "kneeling": LibraryPose(
        {**_both(hip_elev=5, knee_flex=95, ankle_flex=-45), "spine_flex": 5},
        contacts=("knees",),
    ),
    "squat": LibraryPose(
        {
            **_both(
                hip_elev=108,
                hip_plane=70,
                hip_twist=-15,
                knee_flex=118,
                ankle_flex=25,
                shoulder_elev=88,
                shoulder_plane=88,
                elbow_flex=10,
            ),
            "spine_flex": 30,
        },
        category="fitness",
    ),  # fmt: skip
    "half_squat": LibraryPose(
        {
            **_both(hip_elev=65, hip_plane=85, knee_flex=75, ankle_flex=15, shoulder_elev=80, shoulder_plane=88),
            "spine_flex": 22,
        },
        category="fitness",
    ),  # fmt: skip
    "lunge": LibraryPose(
        {
            **_side("L", hip_elev=85, hip_plane=88, knee_flex=92, ankle_flex=5),
            **_side("R", hip_elev=18, hip_plane=-90, knee_flex=95, ankle_flex=25),
            **_both(shoulder_elev=40, shoulder_plane=-20, shoulder_twist=70, elbow_flex=110),
        },
        contacts=("feet",),
        category="fitness",
    ),  # fmt: skip
    "plank": LibraryPose(
        {
            **_both(shoulder_elev=88, shoulder_plane=90, elbow_flex=3, hip_elev=2, knee_flex=2, ankle_flex=25),
            "root_pitch": 75,
            "neck_flex": -15,
        },
        contacts=("hands", "feet"),
        category="fitness",
    ),  # fmt: skip
    "forearm_plank": LibraryPose(
        {
            **_both(shoulder_elev=85, shoulder_plane=90, elbow_flex=88, forearm_twist=40, hip_elev=2, ankle_flex=25),
            "root_pitch": 78,
            "neck_flex": -10,
        },
        contacts=("elbows", "feet"),
        category="fitness",
    ),  # fmt: skip
    "push_up_bottom": LibraryPose(
        {
            **_both(shoulder_elev=40, shoulder_plane=55, elbow_flex=95, hip_elev=2, ankle_flex=25),
            "root_pitch": 85,
            "neck_flex": -15,
        },
        contacts=("hands", "feet"),
        category="fitness",
    ),  # fmt: skip
    "jumping_jack_open": LibraryPose(
        _both(shoulder_elev=155, shoulder_plane=8, elbow_flex=15, hip_elev=22, hip_plane=0, knee_flex=6),
        category="fitness",
    ),
    "jumping_jack_closed": LibraryPose(_both(shoulder_elev=5, elbow_flex=8, hip_elev=2), category="fitness"),
    "arms_overhead": LibraryPose(_both(shoulder_elev=170, shoulder_plane=20, elbow_flex=8), category="fitness"),
    "arms_to_side": LibraryPose(_both(shoulder_elev=90, shoulder_plane=0, elbow_flex=5), category="fitness"),
    "arms_forward": LibraryPose(_both(shoulder_elev=90, shoulder_plane=88, elbow_flex=5), category="fitness"),
    "one_arm_raised": LibraryPose(_side("R", shoulder_elev=165, shoulder_plane=10, elbow_flex=10)),
    "waving": LibraryPose(_side("R", shoulder_elev=115, shoulder_plane=15, shoulder_twist=-50, elbow_flex=70)),
    "shoulder_press": LibraryPose(
        _both(shoulder_elev=92, shoulder_plane=5, shoulder_twist=-80, elbow_flex=90), category="fitness"
    ),
    "bicep_curl": LibraryPose(_both(shoulder_elev=10, shoulder_plane=80, elbow_flex=125), category="fitness"),
    "side_stretch": LibraryPose(
        {**_both(shoulder_elev=168, shoulder_plane=15, elbow_flex=10), "spine_lat": 28}, category="stretch"
    ),
    "forward_fold": LibraryPose(
        {
            **_both(hip_elev=60, hip_plane=90, shoulder_elev=95, shoulder_plane=90, elbow_flex=5),
            "root_pitch": 60,
            "spine_flex": 45,
            "neck_flex": 15,
        },
        category="stretch",
    ),  # fmt: skip
    "quad_stretch": LibraryPose(
        {
            **_side(
                "L",
                hip_elev=12,
                hip_plane=-90,
                knee_flex=145,
                ankle_flex=-40,
                shoulder_elev=35,
                shoulder_plane=-85,
                elbow_flex=20,
            ),
            **_side("R", shoulder_elev=15),
        },
        category="stretch",
    ),  # fmt: skip
    "calf_stretch": LibraryPose(
        {
            **_side("L", hip_elev=35, hip_plane=90, knee_flex=45, ankle_flex=10),
            **_side("R", hip_elev=25, hip_plane=-90, knee_flex=2, ankle_flex=20),
            **_both(shoulder_elev=80, shoulder_plane=88, elbow_flex=15),
            "root_pitch": 15,
        },
        category="stretch",
    ),  # fmt: skip
    "yoga_tree": LibraryPose(
        {
            **_side("L", hip_elev=55, hip_plane=5, hip_twist=-40, knee_flex=140, ankle_flex=-30),
            **_both(shoulder_elev=172, shoulder_plane=35, elbow_flex=12),
        },
        category="yoga",
    ),  # fmt: skip
    "yoga_warrior_2": LibraryPose(
        {
            **_side("L", hip_elev=65, hip_plane=15, knee_flex=80, ankle_flex=15),
            **_side("R", hip_elev=38, hip_plane=-5, hip_twist=-15, knee_flex=2),
            **_both(shoulder_elev=90, shoulder_plane=0, elbow_flex=3),
            "head_twist": 20,
            "neck_twist": 40,
        },
        category="yoga",
    ),  # fmt: skip
    "yoga_downward_dog": LibraryPose(
        {
            **_both(
                hip_elev=100,
                hip_plane=90,
                knee_flex=3,
                ankle_flex=15,
                shoulder_elev=165,
                shoulder_plane=85,
                elbow_flex=3,
            ),
            "root_pitch": 118,
            "spine_flex": -10,
            "neck_flex": 10,
        },
        contacts=("hands", "feet"),
        category="yoga",
    ),  # fmt: skip
    "yoga_chair": LibraryPose(
        {
            **_both(
                hip_elev=75,
                hip_plane=88,
                knee_flex=80,
                ankle_flex=20,
                shoulder_elev=160,
                shoulder_plane=70,
                elbow_flex=5,
            ),
            "root_pitch": 25,
            "spine_flex": 5,
        },
        category="yoga",
    ),  # fmt: skip
    "lying_on_back": LibraryPose(
        {**_both(shoulder_elev=12, elbow_flex=10, hip_elev=3, ankle_flex=-30), "root_pitch": -90},
        contacts=(),
        category="stretch",
    ),
}


def pose_params(name_or_params: str | Mapping[str, float]) -> np.ndarray:
    """(P,) float32 degrees: :data:`NEUTRAL` overridden by a library pose (by name) or by a mapping."""
    if isinstance(name_or_params, str):
        if name_or_params not in POSE_LIBRARY:
            raise ValueError(f"unknown pose {name_or_params!r}; library: {sorted(POSE_LIBRARY)}")
        overrides = POSE_LIBRARY[name_or_params].params
    else:
        overrides = name_or_params
    values = np.zeros(NUM_PARAMS, np.float32)
    for table in (NEUTRAL, overrides):
        for k, v in table.items():
            if k not in PARAM_INDEX:
                raise ValueError(f"unknown pose parameter {k!r}; parameters: {list(PARAM_NAMES)}")
            values[PARAM_INDEX[k]] = v
    return values


#: Odds of each pose category when poses are drawn at random.
CATEGORY_WEIGHTS = {"everyday": 0.45, "fitness": 0.3, "stretch": 0.12, "yoga": 0.13}


def random_pose_names(rng: np.random.Generator, n: int) -> list[str]:
    """``n`` library pose names, drawn by :data:`CATEGORY_WEIGHTS` then uniformly within the category."""
    cats = list(CATEGORY_WEIGHTS)
    probs = np.array([CATEGORY_WEIGHTS[c] for c in cats])
    names = []
    for c in rng.choice(cats, size=n, p=probs / probs.sum()):
        options = sorted(k for k, v in POSE_LIBRARY.items() if v.category == c)
        names.append(options[int(rng.integers(len(options)))])
    return names
