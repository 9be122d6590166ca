"""The capsule body back-end: articulated bodies of shaded capsules and ellipsoids, posed by the shared pose parameters.

A body is a skeleton of the landmarks of :mod:`~convnextpose.synth.people.landmarks` (plus a few points for its
surface) carried by 20 rigid segments. The rest skeleton is Anny's average adult in the pose the identity rotations
give (measured on Anny's mean body and 200 random adults, as fractions of stature; the right side mirrors the left),
and the segments turn by :func:`~convnextpose.synth.people.kinematics.segment_rotations` exactly as Anny's bones do,
so the same pose parameters bend both bodies the same way and their joints agree where the bodies do. Statures are
N(1755, 70) mm for men and N(1625, 65) mm for women (clipped to +-2.5 sd); a girth factor 0.9-1.15 scales the limbs'
radii and the trunk's width and depth. Capsule radii and ellipsoids were measured on the same Anny bodies (median
distance of a part's vertices to its bone).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..people.collision import CAPSULES, SEGMENT_POINTS, capsule_segments
from ..people.kinematics import segment_rotations, tilt_matrix
from ..people.landmarks import LANDMARK_NAMES, joint_terms
from ..people.outfit import Outfit
from ..render.frame import JOINT_SETS
from ..render.raycast import CapsuleSurface

HEAD, NECK, TORSO, ARM, LEG, FOOT, EYE = range(7)  # body parts, as outfit.paint numbers them
_SPINE = (0.25, 0.25, 0.2, 0.15, 0.15)  # the spine's bend shared as over Anny's five spine bones (bottom up)
_NECK = (0.4, 0.3, 0.3)

# Left and centre points, fractions of stature, body frame (X left, Y back, Z up), origin at the pelvis.
_REST = {
    "hip.L": (0.0666, 0.0, 0.0), "knee.L": (0.0904, -0.0115, -0.2367), "ankle.L": (0.1123, 0.0066, -0.4776),
    "toe.L": (0.1205, -0.1000, -0.5124), "heel.L": (0.1141, 0.0270, -0.5015),
    "clavicle.L": (0.0137, -0.0042, 0.2827), "shoulder.L": (0.1039, -0.0019, 0.2696),
    "elbow.L": (0.2030, -0.0059, 0.1538), "wrist.L": (0.2737, -0.0991, 0.0836), "knuckles.L": (0.3004, -0.1404, 0.0502),
    "spine_mid": (0.0, 0.0114, 0.1443), "neck_top": (0.0, -0.0010, 0.3570), "crown": (0.0, -0.0169, 0.4746),
    "ear.L": (0.0436, -0.0189, 0.4007), "eye.L": (0.0176, -0.0675, 0.4121), "nose": (0.0, -0.0803, 0.3929),
    # Surface points of the capsule body: the neck's base, mid-thigh, mid-shin, the fingertips and the sole's ends.
    "neck_base": (0.0, -0.0042, 0.2827), "thigh_mid.L": (0.0785, -0.0058, -0.1184),
    "shin_mid.L": (0.1014, -0.0025, -0.3572), "fingertips.L": (0.3150, -0.1630, 0.0320),
    "foot_back.L": (0.1140, 0.0120, -0.5060), "foot_front.L": (0.1200, -0.0900, -0.5070),
}  # fmt: skip
POINTS: tuple[str, ...] = (
    LANDMARK_NAMES
    + tuple(f"{p}.{s}" for p in ("thigh_mid", "shin_mid", "fingertips", "foot_back", "foot_front") for s in "LR")
    + ("neck_base",)
)
_INDEX = {n: i for i, n in enumerate(POINTS)}


def _rest_fractions() -> np.ndarray:
    out = np.zeros((len(POINTS), 3))
    for name, i in _INDEX.items():
        left = name.replace(".R", ".L")
        out[i] = np.array(_REST[left]) * ([-1.0, 1.0, 1.0] if name.endswith(".R") else 1.0)
    return out


_REST_FRACTIONS = _rest_fractions()


def _sided(rows: tuple) -> tuple:
    """Rows naming ``X.S`` points and segments, once per side."""

    def side(value, s: str):
        if isinstance(value, str):
            return value.replace(".S", f".{s}")
        return tuple(side(v, s) for v in value) if isinstance(value, tuple) else value

    return tuple(side(row, s) for s in "LR" for row in rows)


# Segments in parent-before-child order: (name, parent, the point it turns about (None: the pelvis), points it carries).
SEGMENTS = (
    ("root", None, None, ("hip.L", "hip.R")),
    ("lumbar", "root", None, ("spine_mid",)),
    ("chest", "lumbar", "spine_mid", ("clavicle.L", "clavicle.R", "neck_base")),
    ("neck", "chest", "neck_base", ("neck_top",)),
    ("head", "neck", "neck_top", ("ear.L", "ear.R", "eye.L", "eye.R", "nose", "crown")),
) + _sided((
    ("clavicle.S", "chest", "clavicle.S", ("shoulder.S",)),
    ("upperarm.S", "clavicle.S", "shoulder.S", ("elbow.S",)),
    ("forearm.S", "upperarm.S", "elbow.S", ("wrist.S",)),
    ("hand.S", "forearm.S", "wrist.S", ("knuckles.S", "fingertips.S")),
    ("thigh.S", "root", "hip.S", ("thigh_mid.S", "knee.S")),
    ("shin.S", "thigh.S", "knee.S", ("shin_mid.S", "ankle.S")),
    ("foot.S", "shin.S", "ankle.S", ("heel.S", "toe.S", "foot_back.S", "foot_front.S")),
))  # fmt: skip
_SEGMENT = {s[0]: i for i, s in enumerate(SEGMENTS)}
# Capsules: (segment, start, end, radius as a fraction of stature, body part, limb coordinate at start and end).
_CAPSULES = (("neck", "neck_base", "neck_top", 0.034, NECK, (-1.0, -1.0)),) + _sided((
    ("thigh.S", "hip.S", "thigh_mid.S", 0.054, LEG, (0.0, 0.5)),
    ("thigh.S", "thigh_mid.S", "knee.S", 0.040, LEG, (0.5, 1.0)),
    ("shin.S", "knee.S", "shin_mid.S", 0.034, LEG, (1.0, 1.5)),
    ("shin.S", "shin_mid.S", "ankle.S", 0.025, LEG, (1.5, 2.0)),
    ("foot.S", "foot_back.S", "foot_front.S", 0.017, FOOT, (2.5, 2.5)),
    ("upperarm.S", "shoulder.S", "elbow.S", 0.029, ARM, (0.0, 1.0)),
    ("forearm.S", "elbow.S", "wrist.S", 0.021, ARM, (1.0, 2.0)),
    ("hand.S", "wrist.S", "fingertips.S", 0.018, ARM, (2.5, 2.5)),
))  # fmt: skip
# Ellipsoids: (segment, rest centre and semi-axes as fractions of stature, body part): pelvis, belly, chest, head,
# nose, eyes.
_ELLIPSOIDS = (
    ("root", (0.0, -0.013, 0.019), (0.098, 0.076, 0.073), TORSO),
    ("lumbar", (0.0, -0.010, 0.095), (0.088, 0.070, 0.075), TORSO),
    ("chest", (0.0, -0.013, 0.207), (0.095, 0.074, 0.117), TORSO),
    ("head", (0.0, -0.024, 0.405), (0.047, 0.050, 0.070), HEAD),
    ("head", (0.0, -0.076, 0.392), (0.008, 0.010, 0.013), HEAD),
    ("head", (0.0176, -0.066, 0.412), (0.0065, 0.0065, 0.0065), EYE),
    ("head", (-0.0176, -0.066, 0.412), (0.0065, 0.0065, 0.0065), EYE),
)
_TRUNK_DEPTH = 2 * 0.074  # the chest's front-to-back depth, for the torso's collision capsules


def _proxy_radius(name: str) -> float:
    """Collision-proxy radius of a capsule of :data:`CAPSULES`, fraction of stature: 0.7 x the drawn radius, as for
    Anny (the test is for limbs through the body, not touching it); torso halves 0.32 x the trunk's depth."""
    part, _, side = name.partition(".")
    if part == "torso":
        return 0.32 * _TRUNK_DEPTH
    if part == "head":
        return 0.7 * next(e[2][0] for e in _ELLIPSOIDS if e[0] == "head")
    return 0.7 * float(np.mean([c[3] for c in _CAPSULES if c[0] == f"{part}.{side}"]))


_PROXY_RADII = np.array([_proxy_radius(c) for c in CAPSULES])


@dataclass
class CapsuleRest:
    """Rest state of a batch of capsule bodies: shapes (B, 3) stature mm, girth, gender; points (B, N, 3) rest
    skeleton, mm; radii (B, C) collision-proxy radii, mm."""

    shapes: np.ndarray
    points: np.ndarray
    radii: np.ndarray

    def take(self, index: np.ndarray) -> CapsuleRest:
        return CapsuleRest(self.shapes[index], self.points[index], self.radii[index])


@dataclass
class CapsulePosed:
    """Posed capsule bodies: shapes (B, 3); points (B, N, 3) skeleton, mm; rotations (B, S, 3, 3) of the segments."""

    shapes: np.ndarray
    points: np.ndarray
    rotations: np.ndarray


class CapsuleBackend:
    """Capsule bodies for :class:`~convnextpose.synth.frames.FrameSampler` (see :class:`~.BodyBackend`)."""

    name = "capsule"
    default_recording = "studio"
    hips = (_INDEX["hip.L"], _INDEX["hip.R"])

    def __init__(self):
        self._joints = {}
        for name in JOINT_SETS:
            terms = joint_terms(name)
            weights = np.zeros((len(terms), len(POINTS)))
            for j, joint in enumerate(terms):
                for landmark, w in joint:
                    weights[j, _INDEX[landmark]] += w
            self._joints[name] = weights
        count = {"c": 12, "e": 6}  # hull points per capsule and per ellipsoid
        owners = [c[0] for c in _CAPSULES for _ in range(count["c"])] + [e[0] for e in _ELLIPSOIDS for _ in range(6)]
        owners = np.array(owners)
        ends = np.tile(np.repeat([0, 1], 6), len(_CAPSULES))  # which capsule end each capsule hull point is at
        ends = np.concatenate([ends, np.full(6 * len(_ELLIPSOIDS), -1)])
        is_pelvis = np.arange(len(owners)) >= count["c"] * len(_CAPSULES)
        is_pelvis &= owners == "root"
        self.groups = {
            "feet": np.char.startswith(owners, "foot."),
            "hands": np.char.startswith(owners, "hand."),
            "knees": np.char.startswith(owners, "shin.") & (ends == 0),
            "elbows": np.char.startswith(owners, "forearm.") & (ends == 0),
            "seat": is_pelvis | np.char.startswith(owners, "thigh."),
        }

    def sample_shapes(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """(n, 3): stature mm, girth factor, gender (0 male, 1 female)."""
        gender = (rng.random(n) < 0.5).astype(np.float64)
        mean, sd = np.where(gender > 0, 1625.0, 1755.0), np.where(gender > 0, 65.0, 70.0)
        stature = mean + sd * np.clip(rng.normal(size=n), -2.5, 2.5)
        return np.stack([stature, rng.uniform(0.9, 1.15, n), gender], axis=1)

    @staticmethod
    def gender(shape: np.ndarray) -> float:
        return float(shape[2])

    def rest(self, shapes: np.ndarray) -> CapsuleRest:
        stature = shapes[:, 0]
        points = _REST_FRACTIONS[None] * stature[:, None, None]
        radii = _PROXY_RADII[None] * stature[:, None]  # an average build: the test is for limbs through the body
        return CapsuleRest(shapes, points, radii)

    def pose(self, rest: CapsuleRest, params: np.ndarray) -> CapsulePosed:
        """Forward kinematics: every segment's rotation, then its points from its pivot."""
        rest_points = rest.points
        anchors = {f"{p}.{s}": rest_points[:, _INDEX[f"{p}.{s}"]] for p in ("shoulder", "elbow", "wrist", "hip", "knee",
                                                                             "ankle") for s in "LR"}  # fmt: skip
        seg = segment_rotations(params, anchors, {"spine": _SPINE, "neck": _NECK, "head": (1.0,)})
        spine, neck = seg["spine"], seg["neck"]
        local = {"root": seg["root"], "lumbar": spine[0] @ spine[1] @ spine[2], "chest": spine[3] @ spine[4],
                 "neck": neck[0] @ neck[1] @ neck[2], "head": seg["head"][0]}  # fmt: skip
        for s in "LR":
            local.update({
                f"clavicle.{s}": seg[f"clavicle.{s}"], f"upperarm.{s}": seg[f"upperarm.{s}"],
                f"forearm.{s}": seg[f"elbow.{s}"], f"hand.{s}": seg[f"forearm.{s}"] @ seg[f"wrist.{s}"],
                f"thigh.{s}": seg[f"thigh.{s}"], f"shin.{s}": seg[f"knee.{s}"], f"foot.{s}": seg[f"ankle.{s}"],
            })  # fmt: skip
        b = len(params)
        rotations = np.zeros((b, len(SEGMENTS), 3, 3))
        points = np.zeros_like(rest_points)
        for i, (name, parent, pivot, carried) in enumerate(SEGMENTS):
            rotations[:, i] = local[name] if parent is None else rotations[:, _SEGMENT[parent]] @ local[name]
            origin = np.zeros((b, 3)) if pivot is None else points[:, _INDEX[pivot]]
            rest_origin = np.zeros((b, 3)) if pivot is None else rest_points[:, _INDEX[pivot]]
            for point in carried:
                offset = rest_points[:, _INDEX[point]] - rest_origin
                points[:, _INDEX[point]] = origin + np.einsum("bij,bj->bi", rotations[:, i], offset)
        return CapsulePosed(rest.shapes, points, rotations)

    @staticmethod
    def merge(batch: CapsulePosed, update: CapsulePosed, index: np.ndarray) -> CapsulePosed:
        out = CapsulePosed(batch.shapes.copy(), batch.points.copy(), batch.rotations.copy())
        out.points[index], out.rotations[index] = update.points, update.rotations
        return out

    def proxy_segments(self, posed: CapsulePosed) -> np.ndarray:
        return self.segments(posed.points, None)

    @staticmethod
    def segments(skeleton: np.ndarray, surface: np.ndarray | None) -> np.ndarray:
        """(..., C, 2, 3) collision capsules from skeleton points (..., N, 3)."""
        return capsule_segments({name: skeleton[..., _INDEX[name], :] for name in SEGMENT_POINTS})

    def posed_points(self, posed: CapsulePosed, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Body ``k``'s hull points (on its primitives) and skeleton points."""
        primitives = _primitives(posed.points[k], posed.rotations[k], posed.shapes[k])
        return _hull(*primitives), posed.points[k]

    def joints(self, skeleton: np.ndarray, surface: np.ndarray) -> dict[str, np.ndarray]:
        return {name: (w @ skeleton).astype(np.float32) for name, w in self._joints.items()}

    def surface(
        self, posed: CapsulePosed, k: int, rest: CapsuleRest, points: np.ndarray, skeleton: np.ndarray, tilt: float,
        outfit: Outfit,
    ) -> CapsuleSurface:  # fmt: skip
        """Body ``k``'s primitives from its levelled skeleton (turned by ``tilt`` radians about X)."""
        rotations = tilt_matrix(tilt) @ posed.rotations[k]
        ends, radii, centres, axes, semi = _primitives(skeleton, rotations, posed.shapes[k])
        rest_points = rest.points[k]
        pelvis = 0.5 * (skeleton[self.hips[0]] + skeleton[self.hips[1]])
        pivots = np.concatenate([skeleton, pelvis[None]])[_SEGMENT_PIVOTS]
        rest_pivots = np.concatenate([rest_points, np.zeros((1, 3))])[_SEGMENT_PIVOTS]

        def mean(name: str, axis: int) -> float:
            return float(0.5 * (rest_points[_INDEX[f"{name}.L"], axis] + rest_points[_INDEX[f"{name}.R"], axis]))

        heights = {
            "hip_z": mean("hip", 2), "clav_z": mean("clavicle", 2), "spine_y": float(rest_points[_INDEX["spine_mid"], 1]),
            "eye_z": mean("eye", 2), "eye_y": mean("eye", 1), "ear_z": mean("ear", 2), "ear_y": mean("ear", 1),
            "ankle_z": mean("ankle", 2),
        }  # fmt: skip
        return CapsuleSurface(
            ends, radii, centres, axes, semi,
            segment=_PRIMITIVE_SEGMENTS, part=_PRIMITIVE_PARTS, coord=_PRIMITIVE_COORDS,
            rotations=rotations, pivots=pivots, rest_pivots=rest_pivots, heights=heights, outfit=outfit,
            hull=_hull(ends, radii, centres, axes, semi), groups=self.groups,
        )  # fmt: skip


_CAPSULE_ENDS = np.array([(_INDEX[c[1]], _INDEX[c[2]]) for c in _CAPSULES])
_CAPSULE_RADII = np.array([c[3] for c in _CAPSULES])
_ELLIPSOID_SEGMENTS = np.array([_SEGMENT[e[0]] for e in _ELLIPSOIDS])
_ELLIPSOID_CENTRES = np.array([e[1] for e in _ELLIPSOIDS])
_ELLIPSOID_SEMI = np.array([e[2] for e in _ELLIPSOIDS])
_ELLIPSOID_GIRTH = np.array([[1.0, 1.0, 0.0] if e[3] == TORSO else [0.0, 0.0, 0.0] for e in _ELLIPSOIDS])
# The point each segment turns about (-1: the pelvis, the hips' midpoint), and each ellipsoid's.
_SEGMENT_PIVOTS = np.array([-1 if pivot is None else _INDEX[pivot] for _, _, pivot, _ in SEGMENTS])
_ELLIPSOID_PIVOTS = _SEGMENT_PIVOTS[_ELLIPSOID_SEGMENTS]
# Each primitive's (capsules, then ellipsoids) segment, body part and limb coordinates at its ends.
_PRIMITIVE_SEGMENTS = np.array([_SEGMENT[c[0]] for c in _CAPSULES] + [_SEGMENT[e[0]] for e in _ELLIPSOIDS])
_PRIMITIVE_PARTS = np.array([c[4] for c in _CAPSULES] + [e[3] for e in _ELLIPSOIDS])
_PRIMITIVE_COORDS = np.array([c[5] for c in _CAPSULES] + [(-1.0, -1.0)] * len(_ELLIPSOIDS))


def _primitives(points: np.ndarray, rotations: np.ndarray, shape: np.ndarray):
    """One posed body's capsules (ends (C, 2, 3), radii (C,)) and ellipsoids (centres (E, 3), axes (E, 3, 3),
    semi-axes (E, 3)) from its skeleton points (N, 3) and segment rotations (S, 3, 3)."""
    stature, girth = float(shape[0]), float(shape[1])
    ends = points[_CAPSULE_ENDS]
    radii = _CAPSULE_RADII * stature * girth
    pelvis = 0.5 * (points[_INDEX["hip.L"]] + points[_INDEX["hip.R"]])
    with_pelvis = np.concatenate([points, pelvis[None]])
    rest_with_pelvis = np.concatenate([_REST_FRACTIONS, np.zeros((1, 3))]) * stature
    origin, rest_origin = with_pelvis[_ELLIPSOID_PIVOTS], rest_with_pelvis[_ELLIPSOID_PIVOTS]
    axes = rotations[_ELLIPSOID_SEGMENTS]
    centres = origin + np.einsum("eij,ej->ei", axes, _ELLIPSOID_CENTRES * stature - rest_origin)
    semi = _ELLIPSOID_SEMI * stature * (1.0 + (girth - 1.0) * _ELLIPSOID_GIRTH)
    return ends, radii, centres, axes, semi


_DIRECTIONS = np.concatenate([np.eye(3), -np.eye(3)])


def _hull(ends, radii, centres, axes, semi) -> np.ndarray:
    """(N, 3) points on the primitives: each capsule end +- its radius along the world axes, each ellipsoid's
    centre +- its semi-axes."""
    caps = ends[:, :, None, :] + radii[:, None, None, None] * _DIRECTIONS[None, None]
    ells = centres[:, None, :] + np.einsum("eij,ej,kj->eki", axes, semi, _DIRECTIONS)
    return np.concatenate([caps.reshape(-1, 3), ells.reshape(-1, 3)])
