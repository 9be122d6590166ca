"""An articulated human body for the synthetic data: anthropometric skeleton, joint limits, forward kinematics.

Frames: the body frame has +x to the person's right, +y forward (the way the person faces) and +z up,
all in mm. The world frame is Human3.6M's: z up, the floor at z = 0. A body is placed by a root
position on the floor plane and a yaw about the world z axis.

Proportions are fractions of stature H from the segment-length diagram of Drillis & Contini (1966),
as tabulated in D. A. Winter, *Biomechanics and Motor Control of Human Movement* (4th ed., fig. 4.1):
hip (greater trochanter) 0.530 H, knee 0.285 H, ankle 0.039 H, shoulder 0.818 H, elbow 0.630 H,
wrist 0.485 H, chin 0.870 H, eyes 0.936 H; upper arm 0.186 H, forearm 0.146 H, hand 0.108 H,
thigh 0.245 H, shank 0.246 H, foot length 0.152 H, shoulder breadth 0.259 H, hip breadth 0.191 H.
Limb radii are rounded from adult circumferences (thigh ~ 0.040 H, calf ~ 0.030 H, upper arm
~ 0.026 H, forearm ~ 0.021 H: about 70, 52, 45 and 37 mm at H = 1750 mm), which is an approximation.
Joint limits are typical adult active ranges of motion (AAOS tables, rounded, and narrowed where two
Euler angles combine), e.g. hip flexion -20..120 deg, knee 0..140, shoulder flexion -45..160, elbow 0..145.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# Every joint the generator knows; each benchmark's joint set is a named subset (see FORMAT_JOINTS).
JOINTS = (
    "Pelvis", "R_Hip", "R_Knee", "R_Ankle", "R_Toe", "R_Heel", "L_Hip", "L_Knee", "L_Ankle", "L_Toe", "L_Heel",
    "Spine", "Thorax", "Neck", "Head", "Head_top", "Nose", "L_Eye", "R_Eye", "L_Ear", "R_Ear",
    "R_Shoulder", "R_Elbow", "R_Wrist", "R_Hand", "L_Shoulder", "L_Elbow", "L_Wrist", "L_Hand",
)  # fmt: skip
JOINT_INDEX = {name: i for i, name in enumerate(JOINTS)}

# Benchmark joint name -> generator joint, per annotation format (order = the file's joint order).
FORMAT_JOINTS: dict[str, tuple[tuple[str, str], ...]] = {
    # Human3.6M's 17 annotated joints: "Torso" is the mid spine, "Neck" the thorax (neck base),
    # "Nose" the face, "Head" the top of the head (the loader appends Thorax = mean of shoulders).
    "human36m": (
        ("Pelvis", "Pelvis"), ("R_Hip", "R_Hip"), ("R_Knee", "R_Knee"), ("R_Ankle", "R_Ankle"),
        ("L_Hip", "L_Hip"), ("L_Knee", "L_Knee"), ("L_Ankle", "L_Ankle"), ("Torso", "Spine"), ("Neck", "Thorax"),
        ("Nose", "Nose"), ("Head", "Head_top"), ("L_Shoulder", "L_Shoulder"), ("L_Elbow", "L_Elbow"),
        ("L_Wrist", "L_Wrist"), ("R_Shoulder", "R_Shoulder"), ("R_Elbow", "R_Elbow"), ("R_Wrist", "R_Wrist"),
    ),
    "muco": tuple((n, n) for n in (
        "Head_top", "Thorax", "R_Shoulder", "R_Elbow", "R_Wrist", "L_Shoulder", "L_Elbow", "L_Wrist", "R_Hip",
        "R_Knee", "R_Ankle", "L_Hip", "L_Knee", "L_Ankle", "Pelvis", "Spine", "Head", "R_Hand", "L_Hand", "R_Toe",
        "L_Toe",
    )),
    "mpii": (
        ("R_Ankle", "R_Ankle"), ("R_Knee", "R_Knee"), ("R_Hip", "R_Hip"), ("L_Hip", "L_Hip"), ("L_Knee", "L_Knee"),
        ("L_Ankle", "L_Ankle"), ("Pelvis", "Pelvis"), ("Thorax", "Thorax"), ("Neck", "Neck"), ("Head", "Head_top"),
        ("R_Wrist", "R_Wrist"), ("R_Elbow", "R_Elbow"), ("R_Shoulder", "R_Shoulder"), ("L_Shoulder", "L_Shoulder"),
        ("L_Elbow", "L_Elbow"), ("L_Wrist", "L_Wrist"),
    ),
    "coco": tuple((n, n) for n in (
        "Nose", "L_Eye", "R_Eye", "L_Ear", "R_Ear", "L_Shoulder", "R_Shoulder", "L_Elbow", "R_Elbow", "L_Wrist",
        "R_Wrist", "L_Hip", "R_Hip", "L_Knee", "R_Knee", "L_Ankle", "R_Ankle",
    )),
}  # fmt: skip
FORMAT_JOINTS["mupots"] = FORMAT_JOINTS["muco"][:17]


def format_indices(fmt: str) -> np.ndarray:
    """(J,) indices into :data:`JOINTS` of an annotation format's joints, in the file's order."""
    return np.array([JOINT_INDEX[src] for _, src in FORMAT_JOINTS[fmt]], dtype=np.int64)


# Degrees of freedom: (name, segment, kind, low, high). Kinds: flex (about x), abd (about y), twist (about z).
DOFS = (
    ("root_flex", "root", "flex", -10, 35), ("root_roll", "root", "abd", -10, 10),
    ("lumbar_flex", "lumbar", "flex", -15, 45), ("lumbar_lat", "lumbar", "abd", -20, 20),
    ("lumbar_twist", "lumbar", "twist", -30, 30),
    ("chest_flex", "chest", "flex", -10, 30), ("chest_lat", "chest", "abd", -15, 15),
    ("chest_twist", "chest", "twist", -20, 20),
    ("neck_flex", "neck", "flex", -40, 50), ("neck_lat", "neck", "abd", -30, 30), ("neck_twist", "neck", "twist", -70, 70),
    ("L_hip_flex", "L_thigh", "flex", -20, 120), ("L_hip_abd", "L_thigh", "abd", -25, 45),
    ("L_hip_twist", "L_thigh", "twist", -40, 40), ("L_knee", "L_shank", "flex", 0, 140),
    ("L_ankle", "L_foot", "flex", -45, 20),
    ("R_hip_flex", "R_thigh", "flex", -20, 120), ("R_hip_abd", "R_thigh", "abd", -25, 45),
    ("R_hip_twist", "R_thigh", "twist", -40, 40), ("R_knee", "R_shank", "flex", 0, 140),
    ("R_ankle", "R_foot", "flex", -45, 20),
    ("L_sh_flex", "L_upperarm", "flex", -45, 160), ("L_sh_abd", "L_upperarm", "abd", -10, 160),
    ("L_sh_twist", "L_upperarm", "twist", -70, 70), ("L_elbow", "L_forearm", "flex", 0, 145),
    ("L_wrist", "L_hand", "flex", -60, 60),
    ("R_sh_flex", "R_upperarm", "flex", -45, 160), ("R_sh_abd", "R_upperarm", "abd", -10, 160),
    ("R_sh_twist", "R_upperarm", "twist", -70, 70), ("R_elbow", "R_forearm", "flex", 0, 145),
    ("R_wrist", "R_hand", "flex", -60, 60),
)  # fmt: skip
DOF_NAMES = tuple(d[0] for d in DOFS)
DOF_INDEX = {name: i for i, name in enumerate(DOF_NAMES)}
DOF_LIMITS = np.array([[d[3], d[4]] for d in DOFS], dtype=np.float64)

# Segments in parent-before-child order: (name, parent, joint where it starts).
SEGMENTS = (
    ("root", None, "Pelvis"), ("lumbar", "root", "Pelvis"), ("chest", "lumbar", "Spine"), ("neck", "chest", "Thorax"),
    ("L_thigh", "root", "L_Hip"), ("L_shank", "L_thigh", "L_Knee"), ("L_foot", "L_shank", "L_Ankle"),
    ("R_thigh", "root", "R_Hip"), ("R_shank", "R_thigh", "R_Knee"), ("R_foot", "R_shank", "R_Ankle"),
    ("L_upperarm", "chest", "L_Shoulder"), ("L_forearm", "L_upperarm", "L_Elbow"), ("L_hand", "L_forearm", "L_Wrist"),
    ("R_upperarm", "chest", "R_Shoulder"), ("R_forearm", "R_upperarm", "R_Elbow"), ("R_hand", "R_forearm", "R_Wrist"),
)  # fmt: skip
SEGMENT_INDEX = {s[0]: i for i, s in enumerate(SEGMENTS)}

# Joint -> (segment whose frame places it, parent joint, offset in that frame as fractions of H).
# Left joints mirror right ones in x (the body frame's +x is the person's right).
_OFFSETS = {
    "Spine": ("lumbar", "Pelvis", (0.0, -0.005, 0.13)),
    "Thorax": ("chest", "Spine", (0.0, -0.01, 0.165)),
    "Neck": ("neck", "Thorax", (0.0, 0.012, 0.05)),
    "Head": ("neck", "Neck", (0.0, 0.0, 0.06)),
    "Head_top": ("neck", "Head", (0.0, -0.008, 0.064)),
    "Nose": ("neck", "Head", (0.0, 0.058, -0.012)),
    "R_Eye": ("neck", "Head", (0.018, 0.047, 0.002)),
    "R_Ear": ("neck", "Head", (0.044, -0.002, -0.008)),
    "R_Hip": ("root", "Pelvis", (0.075, 0.0, -0.02)),
    "R_Knee": ("R_thigh", "R_Hip", (0.0, 0.0, -0.245)),
    "R_Ankle": ("R_shank", "R_Knee", (0.0, 0.0, -0.246)),
    "R_Toe": ("R_foot", "R_Ankle", (0.0, 0.112, -0.03)),
    "R_Heel": ("R_foot", "R_Ankle", (0.0, -0.035, -0.03)),
    "R_Shoulder": ("chest", "Thorax", (0.095, -0.005, -0.015)),
    "R_Elbow": ("R_upperarm", "R_Shoulder", (0.0, 0.0, -0.186)),
    "R_Wrist": ("R_forearm", "R_Elbow", (0.0, 0.0, -0.146)),
    "R_Hand": ("R_hand", "R_Wrist", (0.0, 0.0, -0.07)),
}
for _name, (_seg, _parent, (_x, _y, _z)) in list(_OFFSETS.items()):
    if _name.startswith("R_"):
        _OFFSETS["L_" + _name[2:]] = (_seg.replace("R_", "L_"), _parent.replace("R_", "L_"), (-_x, _y, _z))
# Joints in an order where every parent comes first.
_JOINT_ORDER = ("Pelvis",) + tuple(
    sorted(_OFFSETS, key=lambda n: (SEGMENT_INDEX[_OFFSETS[n][0]], list(_OFFSETS).index(n)))
)


@dataclass(frozen=True)
class BodyShape:
    """One person's size. Lengths in mm.

    Attributes:
        stature: standing height H.
        girth: multiplier on every limb and trunk radius (slim 0.9 .. broad 1.15).
        sex: "female" or "male" (only shifts the defaults of ``sample_shape``).
    """

    stature: float
    girth: float = 1.0
    sex: str = "male"

    def offset(self, joint: str) -> np.ndarray:
        """(3,) mm offset of a joint from its parent joint, in its segment's rest frame."""
        return np.asarray(_OFFSETS[joint][2]) * self.stature


def sample_shape(rng: np.random.Generator, sex: str | None = None) -> BodyShape:
    """A random adult: stature ~ N(1755, 70) mm for men and N(1625, 65) mm for women, clipped to +-2.5 sd."""
    sex = sex or ("female" if rng.random() < 0.4 else "male")
    mean, sd = (1755.0, 70.0) if sex == "male" else (1625.0, 65.0)
    stature = mean + sd * float(np.clip(rng.normal(), -2.5, 2.5))
    return BodyShape(stature=stature, girth=float(rng.uniform(0.9, 1.15)), sex=sex)


def _axis_rotations(axis: str, angles_deg: np.ndarray) -> np.ndarray:
    """(T,) degrees -> (T, 3, 3) rotations about a body axis."""
    a = np.deg2rad(angles_deg)
    c, s = np.cos(a), np.sin(a)
    o, z = np.ones_like(a), np.zeros_like(a)
    if axis == "x":
        m = [[o, z, z], [z, c, -s], [z, s, c]]
    elif axis == "y":
        m = [[c, z, s], [z, o, z], [-s, z, c]]
    else:
        m = [[c, -s, z], [s, c, z], [z, z, o]]
    return np.moveaxis(np.array(m), (0, 1), (-2, -1))


def _segment_local_rotation(segment: str, angles: np.ndarray) -> np.ndarray:
    """(T, 3, 3) rotation of a segment relative to its parent from the (T, D) DOF angles (degrees).

    Signs make every positive angle the anatomical one: flexion brings a limb forward (the knee
    backward, the trunk and the head forward), abduction moves a limb away from the midline.
    """
    t = len(angles)
    rot = np.broadcast_to(np.eye(3), (t, 3, 3)).copy()
    left = segment.startswith("L_")
    for name, seg, kind, _, _ in DOFS:
        if seg != segment:
            continue
        a = angles[:, DOF_INDEX[name]]
        if kind == "flex":
            sign = -1.0 if segment in ("root", "lumbar", "chest", "neck") or segment.endswith("shank") else 1.0
            r = _axis_rotations("x", sign * a)
        elif kind == "abd":
            sign = 1.0 if left or segment in ("root", "lumbar", "chest", "neck") else -1.0
            r = _axis_rotations("y", sign * a)
        else:
            r = _axis_rotations("z", (-1.0 if left else 1.0) * a)
        rot = rot @ r
    return rot


def yaw_rotations(yaw_rad: np.ndarray) -> np.ndarray:
    """(T,) radians about world z -> (T, 3, 3)."""
    return _axis_rotations("z", np.rad2deg(np.asarray(yaw_rad, dtype=np.float64)))


def forward_kinematics(
    shape: BodyShape, angles: np.ndarray, root_world: np.ndarray, yaw: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Pose a body over T frames.

    Args:
        shape: the person's size.
        angles: (T, D) DOF angles in degrees, D = len(DOF_NAMES); clipped to DOF_LIMITS.
        root_world: (T, 3) pelvis position, mm, world frame.
        yaw: (T,) heading about world z, radians (0 faces world +y).

    Returns:
        joints (T, len(JOINTS), 3) mm, world frame, and segment rotations (T, len(SEGMENTS), 3, 3)
        mapping each segment's body-frame axes to world axes.
    """
    angles = np.clip(np.asarray(angles, dtype=np.float64), DOF_LIMITS[:, 0], DOF_LIMITS[:, 1])
    n = len(angles)
    global_rot = np.zeros((n, len(SEGMENTS), 3, 3))
    base = yaw_rotations(yaw)
    for i, (name, parent, _) in enumerate(SEGMENTS):
        parent_rot = base if parent is None else global_rot[:, SEGMENT_INDEX[parent]]
        global_rot[:, i] = parent_rot @ _segment_local_rotation(name, angles)
    joints = np.zeros((n, len(JOINTS), 3))
    joints[:, JOINT_INDEX["Pelvis"]] = root_world
    for name in _JOINT_ORDER[1:]:
        segment, parent, _ = _OFFSETS[name]
        rot = global_rot[:, SEGMENT_INDEX[segment]]
        joints[:, JOINT_INDEX[name]] = joints[:, JOINT_INDEX[parent]] + rot @ shape.offset(name)
    return joints, global_rot


def lowest_point(shape: BodyShape, joints: np.ndarray) -> np.ndarray:
    """(T,) height of the lowest point of the feet (soles), mm, for putting the feet on the floor."""
    sole = 0.022 * shape.stature * shape.girth  # the foot capsule's radius
    feet = joints[:, [JOINT_INDEX[n] for n in ("L_Toe", "R_Toe", "L_Heel", "R_Heel")], 2]
    return feet.min(axis=1) - sole


def rest_angles() -> np.ndarray:
    """(D,) a relaxed standing pose: arms slightly away from the body, elbows and knees slightly bent."""
    a = np.zeros(len(DOF_NAMES))
    for side in ("L_", "R_"):
        a[DOF_INDEX[side + "sh_abd"]] = 8.0
        a[DOF_INDEX[side + "elbow"]] = 12.0
        a[DOF_INDEX[side + "knee"]] = 4.0
        a[DOF_INDEX[side + "hip_flex"]] = 2.0
    return a
