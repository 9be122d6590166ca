"""Anatomical pose parameters for Anny: joint limits, a pose library, random variations, self-intersection, sequences.

A pose is a vector of :data:`PARAM_NAMES` angles in degrees (shape ``(P,)`` or ``(B, P)``). Each angle has an
anatomical meaning, so the library reads like a physiotherapy sheet and the limits are one box per angle:

- ``spine_*``, ``neck_*``, ``head_*``: ``flex`` bends forward, ``lat`` bends to the person's left, ``twist`` turns
  left. The spine's total is spread over Anny's five spine bones, the neck's over its three neck bones.
- ``{L,R}_shoulder_*`` / ``{L,R}_hip_*``: the upper arm / thigh direction relative to the torso / pelvis, as
  ``elev`` (0 = hanging straight down, 90 = horizontal, 180 = straight up) and ``plane`` (0 = out to the side,
  90 = forward, -90 = backward, +-180 = across the body), then ``twist`` about the segment (positive = internal
  rotation: with the elbow/knee bent, the hand swings towards the belly, the foot outwards).
- ``elbow_flex``, ``knee_flex``: 0 = straight. ``ankle_flex``: positive lifts the toes. ``forearm_twist``: about the
  forearm axis (positive = pronation, palm turning down). ``wrist_flex``/``wrist_dev``, ``clav_elev`` (shrug)/``clav_prot`` (forward).
- ``root_pitch`` (positive leans the whole body forward, 90 = lying face down) and ``root_roll`` orient the body;
  the yaw and floor placement are left to the scene.

Joint limits (:data:`LIMITS`) follow typical adult active range-of-motion tables (the AAOS "normal" values, rounded),
with the shoulder and hip elevation limited per elevation plane (:data:`ELEVATION_LIMITS`). Rotations are converted
to Anny's ``local-ref`` per-bone rotations by :func:`pose_rotations` using each body's own rest skeleton.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from scipy.spatial.transform import Rotation

SIDES = ("L", "R")
_SIDED = (
    "clav_elev", "clav_prot", "shoulder_elev", "shoulder_plane", "shoulder_twist", "elbow_flex", "forearm_twist",
    "wrist_flex", "wrist_dev", "hip_elev", "hip_plane", "hip_twist", "knee_flex", "ankle_flex", "ankle_inv",
)  # fmt: skip
_CENTRAL = (
    "root_pitch", "root_roll", "spine_flex", "spine_lat", "spine_twist", "neck_flex", "neck_lat", "neck_twist",
    "head_flex", "head_lat", "head_twist",
)  # fmt: skip
PARAM_NAMES: tuple[str, ...] = _CENTRAL + tuple(f"{s}_{n}" for s in SIDES for n in _SIDED)
PARAM_INDEX = {n: i for i, n in enumerate(PARAM_NAMES)}
NUM_PARAMS = len(PARAM_NAMES)

# (low, high) degrees. Planes wrap and are not clamped; elevations are further limited by ELEVATION_LIMITS.
_LIMITS_CENTRAL = {
    "root_pitch": (-180, 180), "root_roll": (-180, 180),
    "spine_flex": (-25, 80), "spine_lat": (-35, 35), "spine_twist": (-45, 45),
    "neck_flex": (-40, 40), "neck_lat": (-30, 30), "neck_twist": (-60, 60),
    "head_flex": (-20, 20), "head_lat": (-15, 15), "head_twist": (-20, 20),
}  # fmt: skip
_LIMITS_SIDED = {
    "clav_elev": (-10, 30), "clav_prot": (-15, 20),
    "shoulder_elev": (0, 180), "shoulder_plane": (-180, 180), "shoulder_twist": (-90, 80),
    "elbow_flex": (0, 150), "forearm_twist": (-80, 80), "wrist_flex": (-70, 80), "wrist_dev": (-25, 35),
    "hip_elev": (0, 125), "hip_plane": (-180, 180), "hip_twist": (-45, 40),
    "knee_flex": (0, 150), "ankle_flex": (-50, 30), "ankle_inv": (-20, 30),
}  # fmt: skip
#: Box limits per parameter, degrees.
LIMITS: dict[str, tuple[float, float]] = {
    **_LIMITS_CENTRAL,
    **{f"{s}_{n}": v for s in SIDES for n, v in _LIMITS_SIDED.items()},
}
#: Largest elevation per elevation plane (piecewise linear in the plane angle), degrees.
ELEVATION_LIMITS: dict[str, tuple[tuple[float, ...], tuple[float, ...]]] = {
    "shoulder": ((-180, -135, -90, -45, 0, 45, 90, 135, 180), (40, 50, 60, 110, 180, 180, 180, 140, 40)),
    "hip": ((-180, -135, -90, -45, 0, 45, 90, 135, 180), (25, 25, 30, 35, 50, 110, 125, 100, 25)),
}
#: Standard deviations (degrees) of the random variations around a library pose.
VARIATION_SIGMA: dict[str, float] = {
    "root_pitch": 3, "root_roll": 3, "spine_flex": 6, "spine_lat": 4, "spine_twist": 6, "neck_flex": 8,
    "neck_lat": 5, "neck_twist": 12, "head_flex": 5, "head_lat": 4, "head_twist": 8,
    **{f"{s}_{n}": v for s in SIDES for n, v in {
        "clav_elev": 4, "clav_prot": 4, "shoulder_elev": 9, "shoulder_plane": 12, "shoulder_twist": 15,
        "elbow_flex": 10, "forearm_twist": 15, "wrist_flex": 10, "wrist_dev": 6, "hip_elev": 6, "hip_plane": 10,
        "hip_twist": 8, "knee_flex": 7, "ankle_flex": 6, "ankle_inv": 4}.items()},
}  # fmt: skip

_SPINE = (("spine05", 0.25), ("spine04", 0.25), ("spine03", 0.2), ("spine02", 0.15), ("spine01", 0.15))
_NECK = (("neck01", 0.4), ("neck02", 0.3), ("neck03", 0.3))


# ----------------------------------------------------------------------------------------------------------------------
# Pose library
# ----------------------------------------------------------------------------------------------------------------------
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


def _wrap180(x: np.ndarray) -> np.ndarray:
    return (x + 180.0) % 360.0 - 180.0


def clamp_to_limits(params: np.ndarray) -> np.ndarray:
    """Clamp (..., P) degrees into :data:`LIMITS` and the per-plane elevation limits; planes are wrapped to +-180."""
    out = np.array(params, dtype=np.float32, copy=True)
    lo = np.array([LIMITS[n][0] for n in PARAM_NAMES], np.float32)
    hi = np.array([LIMITS[n][1] for n in PARAM_NAMES], np.float32)
    out = np.clip(out, lo, hi)
    for s in SIDES:
        for joint, (grid, max_elev) in ELEVATION_LIMITS.items():
            plane = PARAM_INDEX[f"{s}_{joint}_plane"]
            elev = PARAM_INDEX[f"{s}_{joint}_elev"]
            out[..., plane] = _wrap180(np.asarray(params, np.float32)[..., plane])
            out[..., elev] = np.minimum(out[..., elev], np.interp(out[..., plane], grid, max_elev))
    return out


def within_limits(params: np.ndarray, tol: float = 1e-3) -> np.ndarray:
    """(...,) bool: every parameter is inside the limits (to ``tol`` degrees)."""
    params = np.asarray(params, np.float32)
    wrapped = params.copy()
    for s in SIDES:
        for joint in ELEVATION_LIMITS:
            k = PARAM_INDEX[f"{s}_{joint}_plane"]
            wrapped[..., k] = _wrap180(params[..., k])
    return np.all(np.abs(clamp_to_limits(wrapped) - wrapped) <= tol, axis=-1)


def vary_pose(params: np.ndarray, rng: np.random.Generator, scale: float = 1.0) -> np.ndarray:
    """Random variation around (..., P) poses: Gaussian noise of :data:`VARIATION_SIGMA` x ``scale``, then clamped."""
    sigma = np.array([VARIATION_SIGMA[n] for n in PARAM_NAMES], np.float32) * scale
    noisy = np.asarray(params, np.float32) + rng.standard_normal(np.shape(params)).astype(np.float32) * sigma
    return clamp_to_limits(noisy)


# ----------------------------------------------------------------------------------------------------------------------
# Parameters -> Anny local-ref rotations
# ----------------------------------------------------------------------------------------------------------------------
def _normalize(v: np.ndarray) -> np.ndarray:
    return v / np.maximum(np.linalg.norm(v, axis=-1, keepdims=True), 1e-9)


def _axis_angle(axis: np.ndarray, degrees: np.ndarray) -> np.ndarray:
    """(..., 3, 3) rotations about unit (..., 3) axes by (...,) degrees."""
    rotvec = _normalize(np.asarray(axis, np.float64)) * np.deg2rad(np.asarray(degrees, np.float64))[..., None]
    shape = rotvec.shape[:-1]
    return Rotation.from_rotvec(rotvec.reshape(-1, 3)).as_matrix().reshape(shape + (3, 3))


def _min_rotation(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(..., 3, 3) smallest rotations taking unit vectors a to unit vectors b."""
    a, b = _normalize(a), _normalize(b)
    axis = np.cross(a, b)
    sin = np.linalg.norm(axis, axis=-1)
    cos = np.sum(a * b, axis=-1)
    # Antiparallel: any axis perpendicular to a.
    fallback = np.cross(a, np.where(np.abs(a[..., :1]) < 0.9, [1.0, 0.0, 0.0], [0.0, 1.0, 0.0]))
    axis = np.where((sin < 1e-6)[..., None], fallback, axis)
    return _axis_angle(axis, np.rad2deg(np.arctan2(sin, cos)))


def _euler_spine(flex: np.ndarray, lat: np.ndarray, twist: np.ndarray) -> np.ndarray:
    """Rz(twist) Ry(lat) Rx(flex) in degrees: +X rotation bends forward, +Y bends left, +Z turns left."""
    angles = np.stack([twist, lat, flex], axis=-1).astype(np.float64)
    shape = angles.shape[:-1]
    return Rotation.from_euler("ZYX", angles.reshape(-1, 3), degrees=True).as_matrix().reshape(shape + (3, 3))


def _mirror_axis(axis: np.ndarray, side: str) -> np.ndarray:
    """A left-side rotation axis mirrored to the right side (rotation axes are pseudo-vectors: (x, -y, -z))."""
    axis = np.asarray(axis, np.float64)
    return axis if side == "L" else axis * np.array([1.0, -1.0, -1.0])


@dataclass(frozen=True)
class _RigIndex:
    """Bone indices used by the pose conversion, looked up once per body model."""

    names: tuple[str, ...]

    def __call__(self, name: str) -> int:
        return self.names.index(name)


def pose_rotations(params: np.ndarray, rest_bone_heads: np.ndarray, bone_names: Sequence[str]) -> np.ndarray:
    """Anny ``local-ref`` per-bone rotations for anatomical poses.

    Args:
        params: (B, P) or (P,) degrees in :data:`PARAM_NAMES` order (not clamped here).
        rest_bone_heads: (B, J, 3) or (J, 3) bone heads of each body in Anny's reference pose, the pose identity
            rotations give (:meth:`AnnyBody.reference_heads`; mm, body frame: X left, Y back, Z up).
        bone_names: Anny's J bone names.

    Returns:
        (B, J, 3, 3) float32 rotations (identity for the bones a pose does not move: fingers, toes, twist bones).
    """
    params = np.atleast_2d(np.asarray(params, np.float64))
    heads = np.asarray(rest_bone_heads, np.float64)
    if heads.ndim == 2:
        heads = np.broadcast_to(heads, (len(params),) + heads.shape)
    b = len(params)
    rig = _RigIndex(tuple(bone_names))
    rot = np.broadcast_to(np.eye(3), (b, len(bone_names), 3, 3)).copy()

    def p(name: str) -> np.ndarray:
        return params[:, PARAM_INDEX[name]]

    def h(name: str) -> np.ndarray:
        return heads[:, rig(name)]

    rot[:, 0] = _euler_spine(p("root_pitch"), p("root_roll"), np.zeros(b))
    for group, chain in (("spine", _SPINE), ("neck", _NECK), ("head", (("head", 1.0),))):
        for bone, w in chain:
            rot[:, rig(bone)] = _euler_spine(w * p(f"{group}_flex"), w * p(f"{group}_lat"), w * p(f"{group}_twist"))

    down, forward = np.array([0.0, 0.0, -1.0]), np.array([0.0, -1.0, 0.0])
    for s in SIDES:
        out = np.array([1.0 if s == "L" else -1.0, 0.0, 0.0])
        twist_sign = 1.0 if s == "L" else -1.0
        # Clavicle: elevation about the forward axis, protraction about the vertical axis (left-side signs).
        rot[:, rig(f"clavicle.{s}")] = _axis_angle(
            np.broadcast_to(_mirror_axis([0, -1, 0], s), (b, 3)), p(f"{s}_clav_elev")
        ) @ _axis_angle(np.broadcast_to(_mirror_axis([0, 0, -1], s), (b, 3)), p(f"{s}_clav_prot"))
        for joint, (bone, child) in {
            "shoulder": (f"upperarm01.{s}", f"lowerarm01.{s}"),
            "hip": (f"upperleg01.{s}", f"lowerleg01.{s}"),
        }.items():
            rest_dir = _normalize(h(child) - h(bone))
            elev, plane = np.deg2rad(p(f"{s}_{joint}_elev")), np.deg2rad(p(f"{s}_{joint}_plane"))
            target = (
                np.cos(elev)[:, None] * down
                + (np.sin(elev) * np.cos(plane))[:, None] * out
                + (np.sin(elev) * np.sin(plane))[:, None] * forward
            )
            swing = _min_rotation(rest_dir, target)
            rot[:, rig(bone)] = _axis_angle(target * twist_sign, p(f"{s}_{joint}_twist")) @ swing
        # Elbow: hinge about the rest plane of upper arm and forearm; its rest bend is subtracted.
        upper = _normalize(h(f"lowerarm01.{s}") - h(f"upperarm01.{s}"))
        fore = _normalize(h(f"wrist.{s}") - h(f"lowerarm01.{s}"))
        hinge = _normalize(np.cross(upper, fore))
        rest_bend = np.rad2deg(np.arccos(np.clip(np.sum(upper * fore, -1), -1, 1)))
        rot[:, rig(f"lowerarm01.{s}")] = _axis_angle(hinge, p(f"{s}_elbow_flex") - rest_bend)
        rot[:, rig(f"lowerarm02.{s}")] = _axis_angle(fore * twist_sign, p(f"{s}_forearm_twist"))
        wrist_axis = _normalize(np.cross(fore, out))
        dev_axis = _normalize(np.cross(fore, wrist_axis))
        rot[:, rig(f"wrist.{s}")] = _axis_angle(wrist_axis, p(f"{s}_wrist_flex")) @ _axis_angle(
            dev_axis, p(f"{s}_wrist_dev")
        )
        # Knee: hinge about forward x thigh (the lateral axis); positive rotation swings the shin backwards.
        thigh = _normalize(h(f"lowerleg01.{s}") - h(f"upperleg01.{s}"))
        shin = _normalize(h(f"foot.{s}") - h(f"lowerleg01.{s}"))
        knee_axis = _normalize(np.cross(forward, thigh))
        rest_knee = np.rad2deg(np.arctan2(np.sum(np.cross(thigh, shin) * knee_axis, -1), np.sum(thigh * shin, -1)))
        rot[:, rig(f"lowerleg01.{s}")] = _axis_angle(knee_axis, p(f"{s}_knee_flex") - rest_knee)
        ankle_axis = _normalize(np.cross(forward, shin))
        rot[:, rig(f"foot.{s}")] = _axis_angle(ankle_axis, -p(f"{s}_ankle_flex")) @ _axis_angle(
            np.broadcast_to(_mirror_axis([0, -1, 0], s), (b, 3)), p(f"{s}_ankle_inv")
        )
    return rot.astype(np.float32)


def measure_pose(joints: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Anatomical angles (degrees) measured back from posed joint positions (body frame, root pitch/roll zero).

    Args:
        joints: name -> (..., 3) positions for ``{L,R}_{Hip,Knee,Ankle,Shoulder,Elbow,Wrist}``.

    Returns:
        ``{side}_knee_flex``, ``{side}_elbow_flex``, ``{side}_hip_elev``, ``{side}_shoulder_elev`` per side.
    """
    out = {}
    down = np.array([0.0, 0.0, -1.0])
    for s in SIDES:
        for name, (a, b, c) in {
            "knee_flex": ("Hip", "Knee", "Ankle"),
            "elbow_flex": ("Shoulder", "Elbow", "Wrist"),
        }.items():
            u = _normalize(joints[f"{s}_{b}"] - joints[f"{s}_{a}"])
            v = _normalize(joints[f"{s}_{c}"] - joints[f"{s}_{b}"])
            out[f"{s}_{name}"] = np.rad2deg(np.arccos(np.clip(np.sum(u * v, -1), -1, 1)))
        for name, (a, b) in {"hip_elev": ("Hip", "Knee"), "shoulder_elev": ("Shoulder", "Elbow")}.items():
            u = _normalize(joints[f"{s}_{b}"] - joints[f"{s}_{a}"])
            out[f"{s}_{name}"] = np.rad2deg(np.arccos(np.clip(np.sum(u * down, -1), -1, 1)))
    return out


# ----------------------------------------------------------------------------------------------------------------------
# Self-intersection: capsule proxies
# ----------------------------------------------------------------------------------------------------------------------
CAPSULES: tuple[str, ...] = (
    "torso.L", "torso.R", "head",
    "upperarm.L", "forearm.L", "hand.L", "thigh.L", "shin.L", "foot.L",
    "upperarm.R", "forearm.R", "hand.R", "thigh.R", "shin.R", "foot.R",
)  # fmt: skip
_CAPSULE_BONES = {
    "torso": ("spine05", "spine04", "spine03", "spine02", "spine01", "clavicle", "pelvis", "root"),
    "head": ("head", "neck03"),
    "upperarm": ("upperarm01", "upperarm02"),
    "forearm": ("lowerarm01", "lowerarm02"),
    "hand": ("wrist", "metacarpal", "finger"),
    "thigh": ("upperleg01", "upperleg02"),
    "shin": ("lowerleg01", "lowerleg02"),
    "foot": ("foot", "toe"),
}
# Pairs that touch by construction (adjacent, or the same side of the torso) are never tested, nor are the hands:
# they rest on hips, thighs, the face or each other in many everyday poses, and are too small to matter.
_ADJACENT = {
    ("torso.L", "torso.R"), ("head", "torso.L"), ("head", "torso.R"),
    ("torso.L", "upperarm.L"), ("torso.R", "upperarm.R"), ("torso.L", "thigh.L"), ("torso.R", "thigh.R"),
    ("torso.L", "thigh.R"), ("torso.R", "thigh.L"),
    ("upperarm.L", "forearm.L"), ("forearm.L", "hand.L"), ("thigh.L", "shin.L"), ("shin.L", "foot.L"),
    ("upperarm.R", "forearm.R"), ("forearm.R", "hand.R"), ("thigh.R", "shin.R"), ("shin.R", "foot.R"),
}  # fmt: skip
CAPSULE_PAIRS: tuple[tuple[int, int], ...] = tuple(
    (i, j)
    for i in range(len(CAPSULES))
    for j in range(i + 1, len(CAPSULES))
    if (CAPSULES[i], CAPSULES[j]) not in _ADJACENT
    and (CAPSULES[j], CAPSULES[i]) not in _ADJACENT
    and not (CAPSULES[i].startswith("hand") or CAPSULES[j].startswith("hand"))
)


def capsule_segments(bone_heads: np.ndarray, bone_names: Sequence[str], crown: np.ndarray, toes: np.ndarray):
    """Capsule end points (..., C, 2, 3) in :data:`CAPSULES` order from bone heads (..., J, 3).

    Args:
        crown: (..., 3) top of the head; toes: (..., 2, 3) front of the left and right foot.
    """
    rig = _RigIndex(tuple(bone_names))

    def h(name: str) -> np.ndarray:
        return bone_heads[..., rig(name), :]

    pelvis = 0.5 * (h("upperleg01.L") + h("upperleg01.R"))
    neck = 0.5 * (h("clavicle.L") + h("clavicle.R"))
    segs = {}
    for k, s in enumerate(SIDES):
        segs[f"torso.{s}"] = (
            pelvis + 0.45 * (h(f"upperleg01.{s}") - pelvis),
            neck + 0.35 * (h(f"upperarm01.{s}") - neck),
        )
        segs[f"upperarm.{s}"] = (h(f"upperarm01.{s}"), h(f"lowerarm01.{s}"))
        segs[f"forearm.{s}"] = (h(f"lowerarm01.{s}"), h(f"wrist.{s}"))
        segs[f"hand.{s}"] = (h(f"wrist.{s}"), h(f"finger3-1.{s}"))
        segs[f"thigh.{s}"] = (h(f"upperleg01.{s}"), h(f"lowerleg01.{s}"))
        segs[f"shin.{s}"] = (h(f"lowerleg01.{s}"), h(f"foot.{s}"))
        segs[f"foot.{s}"] = (h(f"foot.{s}"), toes[..., k, :])
    segs["head"] = (h("head"), crown)
    return np.stack([np.stack(segs[c], axis=-2) for c in CAPSULES], axis=-3)


def _segment_distance(p0, p1, q0, q1) -> np.ndarray:
    """Closest distance between segments [p0, p1] and [q0, q1], all (..., 3)."""
    d1, d2, r = p1 - p0, q1 - q0, p0 - q0
    a = np.sum(d1 * d1, -1)
    e = np.sum(d2 * d2, -1)
    f = np.sum(d2 * r, -1)
    c = np.sum(d1 * r, -1)
    b = np.sum(d1 * d2, -1)
    denom = a * e - b * b
    s = np.where(denom > 1e-9, np.clip((b * f - c * e) / np.maximum(denom, 1e-9), 0, 1), 0.0)
    t = (b * s + f) / np.maximum(e, 1e-9)
    t_clamped = np.clip(t, 0, 1)
    s = np.where(
        t < 0, np.clip(-c / np.maximum(a, 1e-9), 0, 1), np.where(t > 1, np.clip((b - c) / np.maximum(a, 1e-9), 0, 1), s)
    )
    closest_p = p0 + d1 * s[..., None]
    closest_q = q0 + d2 * t_clamped[..., None]
    return np.linalg.norm(closest_p - closest_q, axis=-1)


def capsule_radii(
    rest_vertices: np.ndarray, rest_segments: np.ndarray, dominant_bone: np.ndarray, bone_names
) -> np.ndarray:
    """(..., C) capsule radii (mm): 0.7 x the median distance of each part's rest vertices to its segment.

    The torso halves use 0.32 x the torso's front-to-back depth instead, since a capsule cannot follow its width.
    Radii err on the small side: the test is for limbs *through* the body, not for limbs touching it.
    """
    names = np.asarray(bone_names)
    radii = []
    for c, cap in enumerate(CAPSULES):
        part, _, side = cap.partition(".")
        prefixes = _CAPSULE_BONES[part]
        mask = np.zeros(len(dominant_bone), bool)
        for bone in np.unique(dominant_bone):
            name = names[bone]
            if name.startswith(prefixes) and (not side or name.endswith(f".{side}") or part == "torso"):
                mask |= dominant_bone == bone
        verts = rest_vertices[..., mask, :]
        if part == "torso":
            depth = np.percentile(verts[..., 1], 95, axis=-1) - np.percentile(verts[..., 1], 5, axis=-1)
            radii.append(0.32 * depth)
            continue
        seg = rest_segments[..., c, :, :]
        p0, p1 = seg[..., None, 0, :], seg[..., None, 1, :]
        d = p1 - p0
        t = np.clip(np.sum((verts - p0) * d, -1) / np.maximum(np.sum(d * d, -1), 1e-9), 0, 1)
        dist = np.linalg.norm(verts - (p0 + t[..., None] * d), axis=-1)
        radii.append(0.7 * np.median(dist, axis=-1))
    return np.stack(radii, axis=-1).astype(np.float32)


def self_intersections(segments: np.ndarray, radii: np.ndarray, allowed_overlap: float = 0.5) -> np.ndarray:
    """(..., len(CAPSULE_PAIRS)) bool: capsule pairs overlapping by more than ``allowed_overlap`` x the thinner radius.

    Touching (hands on thighs, thighs together) is allowed; a limb through another limb or the torso is not.
    """
    i, j = np.array(CAPSULE_PAIRS).T
    dist = _segment_distance(
        segments[..., i, 0, :], segments[..., i, 1, :], segments[..., j, 0, :], segments[..., j, 1, :]
    )
    ri, rj = radii[..., i], radii[..., j]
    return dist < ri + rj - allowed_overlap * np.minimum(ri, rj)


def has_self_intersection(segments: np.ndarray, radii: np.ndarray, allowed_overlap: float = 0.5) -> np.ndarray:
    """(...,) bool: any capsule pair intersects (see :func:`self_intersections`)."""
    return self_intersections(segments, radii, allowed_overlap).any(axis=-1)


# ----------------------------------------------------------------------------------------------------------------------
# Sequences
# ----------------------------------------------------------------------------------------------------------------------
def slerp_rotations(rot_a: np.ndarray, rot_b: np.ndarray, t: np.ndarray | float) -> np.ndarray:
    """Spherical interpolation of matching rotations (..., 3, 3) at fractions ``t`` (T,) -> (T, ..., 3, 3)."""
    t = np.atleast_1d(np.asarray(t, np.float64))
    shape = np.shape(rot_a)[:-2]
    qa = Rotation.from_matrix(np.reshape(rot_a, (-1, 3, 3))).as_quat()
    qb = Rotation.from_matrix(np.reshape(rot_b, (-1, 3, 3))).as_quat()
    dot = np.sum(qa * qb, -1)
    qb = np.where(dot[:, None] < 0, -qb, qb)
    dot = np.abs(dot)
    theta = np.arccos(np.clip(dot, -1.0, 1.0))[None, :, None]
    sin = np.sin(theta)
    tt = t[:, None, None]
    linear = sin < 1e-6
    wa = np.where(linear, 1 - tt, np.sin((1 - tt) * theta) / np.where(linear, 1, sin))
    wb = np.where(linear, tt, np.sin(tt * theta) / np.where(linear, 1, sin))
    q = wa * qa[None] + wb * qb[None]
    q /= np.linalg.norm(q, axis=-1, keepdims=True)
    mats = Rotation.from_quat(q.reshape(-1, 4)).as_matrix()
    return mats.reshape((len(t),) + shape + (3, 3)).astype(np.float32)


def smoothstep(t: np.ndarray) -> np.ndarray:
    """Ease-in/ease-out 3t^2 - 2t^3, so transitions between key poses start and stop smoothly."""
    t = np.clip(t, 0.0, 1.0)
    return t * t * (3 - 2 * t)


def sequence_rotations(key_rotations: np.ndarray, frames_per_transition: int) -> np.ndarray:
    """Smooth per-bone sequence through K key poses (K, J, 3, 3) -> ((K-1) * n + 1, J, 3, 3), slerp with easing."""
    if frames_per_transition < 1:
        raise ValueError(f"frames_per_transition must be >= 1, got {frames_per_transition}")
    key_rotations = np.asarray(key_rotations)
    t = smoothstep(np.arange(frames_per_transition) / frames_per_transition)
    parts = [slerp_rotations(key_rotations[k], key_rotations[k + 1], t) for k in range(len(key_rotations) - 1)]
    parts.append(key_rotations[-1:].astype(np.float32))
    return np.concatenate(parts)
