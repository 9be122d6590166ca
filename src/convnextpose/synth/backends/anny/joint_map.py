"""Map Anny's 104-bone rig and mesh to the joint sets of :mod:`convnextpose.joints` (DATA_FORMATS.md section 2).

Every joint is a fixed linear combination of posed bone heads and posed mesh vertices, so it moves with the skinned
surface and costs one small matrix product per body. The choice for each joint is documented in
:data:`JOINT_DEFINITIONS` (also rendered as the table in ``docs/data.md``).

Two Human3.6M joints have no anatomical landmark and are placed to reproduce the dataset skeleton's segment lengths:
``Nose`` is its mocap skeleton's head joint (top of the neck, about 120 mm above the thorax joint ``Neck``), and
``Head`` is the skeleton's head end-site, about 115 mm higher (forehead height, below the crown). MuCo/MPI-INF-3DHP's
``Head_top`` is the crown and its ``Head`` is the head centre. Knees use Anny's knee surface keypoint rather than the
rig's knee pivot, which sits about 25 mm too high (Anny's thighs would be ~8 % short and its shanks ~5 % long).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ....joints import get_joint_set

# Sources are terms of a weighted mean:
#   ("bone", name)      posed head of an Anny bone (the joint the bone rotates about)
#   ("keypoint", name)  Anny's COCO surface keypoint (a fixed vertex average shipped with Anny)
#   ("crown", None)     mean of the 12 top-most head vertices of the rest template (top of the skull)
_Term = tuple[str, str | None, float]


def _mid(a: tuple[str, str | None], b: tuple[str, str | None]) -> list[_Term]:
    return [(a[0], a[1], 0.5), (b[0], b[1], 0.5)]


def _bone(name: str) -> list[_Term]:
    return [("bone", name, 1.0)]


_PELVIS = _mid(("bone", "upperleg01.L"), ("bone", "upperleg01.R"))
_THORAX_BASE = _mid(("bone", "clavicle.L"), ("bone", "clavicle.R"))
_EAR_MID = _mid(("keypoint", "left_ear"), ("keypoint", "right_ear"))


def _hand(side: str) -> list[_Term]:
    return [("bone", f"finger{k}-1.{side}", 0.25) for k in (2, 3, 4, 5)]


def _toe(side: str) -> list[_Term]:
    s = "left" if side == "L" else "right"
    return [("keypoint", f"{s}_big_toe", 0.5), ("keypoint", f"{s}_small_toe", 0.5)]


def _sided(side: str) -> dict[str, tuple[list[_Term], str]]:
    s = side
    return {
        f"{s}_Hip": (_bone(f"upperleg01.{s}"), f"head of upperleg01.{s} (hip joint centre)"),
        f"{s}_Knee": (
            [("keypoint", f"{'left' if s == 'L' else 'right'}_knee", 1.0)],
            "Anny's knee surface keypoint (vertex average; ~25 mm below the rig's knee pivot, which sits high)",
        ),
        f"{s}_Ankle": (_bone(f"foot.{s}"), f"head of foot.{s} (ankle pivot)"),
        f"{s}_Shoulder": (_bone(f"upperarm01.{s}"), f"head of upperarm01.{s} (glenohumeral joint)"),
        f"{s}_Elbow": (_bone(f"lowerarm01.{s}"), f"head of lowerarm01.{s} (elbow pivot)"),
        f"{s}_Wrist": (_bone(f"wrist.{s}"), f"head of wrist.{s}"),
        f"{s}_Hand": (_hand(s), f"mean of the heads of finger2-1..finger5-1.{s} (knuckle line)"),
        f"{s}_Toe": (_toe(s), "mean of Anny's big-toe and small-toe surface keypoints (front of the toes)"),
    }


_COMMON: dict[str, tuple[list[_Term], str]] = {
    "Pelvis": (_PELVIS, "midpoint of the two hip joints (heads of upperleg01.L/R)"),
    **_sided("L"),
    **_sided("R"),
}

#: joint set name -> joint name -> (terms, documentation). Thorax of Human3.6M is the shoulder mean (spec, section 2).
JOINT_DEFINITIONS: dict[str, dict[str, tuple[list[_Term], str]]] = {
    "human36m": {
        **_COMMON,
        "Torso": (_bone("spine02"), "head of spine02 (mid spine, ~250 mm above the pelvis)"),
        "Neck": (_THORAX_BASE, "midpoint of the clavicle heads (sternoclavicular joints: the H36M skeleton's neck)"),
        "Nose": (
            _mid(("bone", "neck02"), ("bone", "neck03")),
            "midpoint of the neck02 and neck03 heads (top of the neck: H36M's mocap head joint, ~120 mm above Neck)",
        ),
        "Head": (
            [("keypoint", "left_ear", 0.325), ("keypoint", "right_ear", 0.325), ("crown", None, 0.35)],
            "a third of the way from the ear centre to the crown (H36M's head end-site, forehead height)",
        ),
        "Thorax": (
            [("bone", "upperarm01.L", 0.5), ("bone", "upperarm01.R", 0.5)],
            "mean of the two shoulders (as the dataset appends it)",
        ),
    },
    "muco": {
        **_COMMON,
        "Head_top": ([("crown", None, 1.0)], "mean of the 12 top-most head vertices of the template (crown)"),
        "Thorax": (_THORAX_BASE, "midpoint of the clavicle heads (between the shoulders, base of the neck)"),
        "Spine": (_bone("spine02"), "head of spine02 (same point as H36M Torso)"),
        "Head": (_EAR_MID, "midpoint of Anny's left and right ear keypoints (head centre)"),
    },
}
JOINT_DEFINITIONS["mupots"] = {n: JOINT_DEFINITIONS["muco"][n] for n in get_joint_set("mupots").names}
JOINT_DEFINITIONS["mpii"] = {
    **{n: _COMMON[n] for n in get_joint_set("mpii").names if n in _COMMON},
    "Thorax": JOINT_DEFINITIONS["muco"]["Thorax"],
    "Neck": (JOINT_DEFINITIONS["human36m"]["Nose"][0], "midpoint of the neck02 and neck03 heads (upper neck)"),
    "Head": (JOINT_DEFINITIONS["muco"]["Head_top"][0], "mean of the 12 top-most head vertices (head top)"),
}


def _keypoint(name: str) -> tuple[list[_Term], str]:
    return [("keypoint", name, 1.0)], f"Anny's {name.replace('_', ' ')} surface keypoint"


JOINT_DEFINITIONS["coco"] = {
    **{n: _COMMON[n] for n in get_joint_set("coco").names if n in _COMMON},
    "Nose": _keypoint("nose"),
    "L_Eye": _keypoint("left_eye"),
    "R_Eye": _keypoint("right_eye"),
    "L_Ear": _keypoint("left_ear"),
    "R_Ear": _keypoint("right_ear"),
    "Thorax": JOINT_DEFINITIONS["human36m"]["Thorax"],
}


class JointRegressor:
    """Regress a joint set from posed Anny bodies.

    Args:
        body: a loaded :class:`~.model.AnnyBody`.
        joint_set: ``"human36m"``, ``"muco"``, ``"mupots"``, ``"mpii"`` or ``"coco"``.
    """

    def __init__(self, body, joint_set: str):
        js = get_joint_set(joint_set)
        if js.name not in JOINT_DEFINITIONS:
            raise ValueError(f"no Anny mapping for joint set {joint_set!r}; have {sorted(JOINT_DEFINITIONS)}")
        self.joint_set = js
        defs = JOINT_DEFINITIONS[js.name]
        self.bone_weights = np.zeros((js.num_joints, body.num_bones), np.float32)
        vertex_weights = np.zeros((js.num_joints, body.num_vertices), np.float32)
        crown = crown_vertices(body)
        for j, name in enumerate(js.names):
            for kind, source, w in defs[name][0]:
                if kind == "bone":
                    self.bone_weights[j, body.bone(source)] += w
                elif kind == "keypoint":
                    vertex_weights[j] += w * body.keypoint_weights[body.keypoint(source)]
                elif kind == "crown":
                    vertex_weights[j, crown] += w / len(crown)
                else:  # pragma: no cover - table typo
                    raise AssertionError(kind)
        # Keep the vertex part sparse: only a few hundred vertices carry weight.
        self.vertex_index = np.flatnonzero(np.abs(vertex_weights).sum(0) > 0)
        self.vertex_weights = vertex_weights[:, self.vertex_index]
        total = self.bone_weights.sum(1) + self.vertex_weights.sum(1)
        assert np.allclose(total, 1.0, atol=1e-4), total

    def __call__(self, bone_heads: np.ndarray, vertices: np.ndarray) -> np.ndarray:
        """Joints from posed bone heads (..., 104, 3) and vertices (..., V, 3) -> (..., J, 3), same frame and unit."""
        bones = self.bone_weights @ np.asarray(bone_heads, np.float32)
        verts = self.vertex_weights @ np.asarray(vertices[..., self.vertex_index, :], np.float32)
        return (bones + verts).astype(np.float32)


def crown_vertices(body, count: int = 12) -> np.ndarray:
    """Indices of the ``count`` top-most vertices of the head in the rest template (the crown)."""
    template = body.model.template_vertices.cpu().numpy()
    head = np.flatnonzero(body.dominant_bone == body.bone("head"))
    return head[np.argsort(-template[head, 2])[:count]]


def joint_definition_table(joint_set: str) -> list[tuple[str, str]]:
    """(joint name, how it is computed) rows in channel order, for documentation."""
    js = get_joint_set(joint_set)
    return [(n, JOINT_DEFINITIONS[js.name][n][1]) for n in js.names]


# Human3.6M's mocap skeleton offsets (mm), the standard skeleton shipped with the dataset's exponential-map pose code
# (for example in Martinez et al., "On human motion prediction using recurrent neural networks", CVPR 2017): hip
# 132.95, thigh 442.89, shank 454.21, spine 233.38 (+0.1), neck 257.08, head 121.13, head end-site 115.00,
# clavicle 151.03, upper arm 278.88, forearm 251.73. That is one subject-independent skeleton, not a per-subject
# mean: the per-subject 17-joint annotations spread around it by roughly +-5 %.
H36M_REFERENCE_MM: dict[tuple[str, str], float] = {
    ("Pelvis", "R_Hip"): 132.9,
    ("R_Hip", "R_Knee"): 442.9,
    ("R_Knee", "R_Ankle"): 454.2,
    ("Pelvis", "Torso"): 233.5,
    ("Torso", "Neck"): 257.1,
    ("Neck", "Nose"): 121.1,
    ("Nose", "Head"): 115.0,
    ("Neck", "R_Shoulder"): 151.0,
    ("R_Shoulder", "R_Elbow"): 278.9,
    ("R_Elbow", "R_Wrist"): 251.7,
}

#: Plausible adult ranges (mm) used by the tests: generous bounds around anthropometric tables for 1.45-1.95 m adults.
PLAUSIBLE_RANGES_MM: dict[tuple[str, str], tuple[float, float]] = {
    ("Pelvis", "R_Hip"): (70, 160),
    ("R_Hip", "R_Knee"): (280, 560),
    ("R_Knee", "R_Ankle"): (300, 560),
    ("Pelvis", "Torso"): (150, 330),
    ("Torso", "Neck"): (170, 360),
    ("Neck", "Nose"): (80, 220),
    ("Nose", "Head"): (70, 200),
    ("Neck", "R_Shoulder"): (110, 240),
    ("R_Shoulder", "R_Elbow"): (200, 360),
    ("R_Elbow", "R_Wrist"): (180, 330),
}


@dataclass
class BoneLengthStats:
    """Bone-length statistics of a batch of bodies next to the Human3.6M reference skeleton.

    Attributes:
        bones: (parent, child) joint-name pairs.
        mean, std, min, max: (len(bones),) mm over the batch (left and right pooled).
        reference: (len(bones),) mm, :data:`H36M_REFERENCE_MM`.
    """

    bones: list[tuple[str, str]]
    mean: np.ndarray
    std: np.ndarray
    min: np.ndarray
    max: np.ndarray
    reference: np.ndarray

    def to_markdown(self) -> str:
        rows = ["| bone | Anny mean | std | min | max | H36M skeleton | ratio |", "|---|---|---|---|---|---|---|"]
        for k, (a, b) in enumerate(self.bones):
            rows.append(
                f"| {a}-{b.replace('R_', '')} | {self.mean[k]:.0f} | {self.std[k]:.0f} | {self.min[k]:.0f} | "
                f"{self.max[k]:.0f} | {self.reference[k]:.0f} | {self.mean[k] / self.reference[k]:.2f} |"
            )
        return "\n".join(rows)


def bone_lengths(joints: np.ndarray, bones: Sequence[tuple[str, str]], joint_set: str = "human36m") -> np.ndarray:
    """Lengths (..., len(bones)) mm of named bones of (..., J, 3) joints."""
    js = get_joint_set(joint_set)
    idx = np.array([(js.index(a), js.index(b)) for a, b in bones])
    return np.linalg.norm(joints[..., idx[:, 0], :] - joints[..., idx[:, 1], :], axis=-1)


def bone_length_report(joints_h36m: np.ndarray) -> BoneLengthStats:
    """Statistics of (N, 18, 3) Human3.6M-order joints (mm), left and right pooled, against the H36M skeleton."""
    bones = list(H36M_REFERENCE_MM)
    lengths = [bone_lengths(joints_h36m, [(a, b)]) for a, b in bones]
    mirrored = [(a.replace("R_", "L_"), b.replace("R_", "L_")) for a, b in bones]
    for k, (a, b) in enumerate(mirrored):
        if (a, b) != bones[k]:
            lengths[k] = np.concatenate([lengths[k], bone_lengths(joints_h36m, [(a, b)])])
    return BoneLengthStats(
        bones=bones,
        mean=np.array([v.mean() for v in lengths]),
        std=np.array([v.std() for v in lengths]),
        min=np.array([v.min() for v in lengths]),
        max=np.array([v.max() for v in lengths]),
        reference=np.array([H36M_REFERENCE_MM[b] for b in bones]),
    )
