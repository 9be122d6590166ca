"""Where each named joint of :mod:`convnextpose.joints` sits on a body, for every body back-end.

A joint is a weighted mean of anatomical landmarks (:data:`LANDMARKS`); each back-end says where its landmarks are
(Anny: rig bone heads, surface keypoints and the crown; the capsule body: its skeleton points), so the joints mean
the same thing whichever body carries them.

Two Human3.6M joints have no anatomical landmark and are placed to reproduce the dataset skeleton's segment lengths:
``Nose`` is its mocap skeleton's head joint (the top of the neck, about 120 mm above the thorax joint ``Neck``), and
``Head`` is the skeleton's head end-site, about 115 mm higher (forehead height, below the crown). MuCo/MPI-INF-3DHP's
``Head_top`` is the crown and its ``Head`` the head centre; MPII's ``Neck`` is the upper neck and its ``Head`` the head
top. Thorax is the shoulders' midpoint for Human3.6M and COCO (as those loaders append it) and the base of the neck
for MuCo and MPII.
"""

from __future__ import annotations

from ...joints import get_joint_set
from .limits import SIDES

#: Landmark -> what it is. Names ending in ``.S`` exist per side (``.L``, ``.R``).
LANDMARKS: dict[str, str] = {
    "hip.S": "hip joint centre",
    "knee.S": "knee joint, on the knee's surface axis",
    "ankle.S": "ankle joint",
    "toe.S": "front of the toes (between the big and the small toe)",
    "heel.S": "back of the heel",
    "clavicle.S": "inner end of the clavicle (sternoclavicular joint)",
    "shoulder.S": "shoulder joint (glenohumeral)",
    "elbow.S": "elbow joint",
    "wrist.S": "wrist joint",
    "knuckles.S": "knuckle line (the four fingers' bases)",
    "spine_mid": "mid spine, about 250 mm above the pelvis",
    "neck_top": "top of the neck",
    "crown": "top of the skull",
    "ear.S": "ear",
    "eye.S": "eye",
    "nose": "tip of the nose",
}
#: Every landmark name, sides spelt out.
LANDMARK_NAMES: tuple[str, ...] = tuple(
    n for key in LANDMARKS for n in ((key[:-1] + s for s in SIDES) if key.endswith(".S") else (key,))
)

_Terms = tuple[tuple[str, float], ...]


def _mid(a: str, b: str) -> _Terms:
    return ((a, 0.5), (b, 0.5))


def _one(name: str) -> _Terms:
    return ((name, 1.0),)


_PELVIS = (_mid("hip.L", "hip.R"), "midpoint of the two hip joints")
_NECK_BASE = (_mid("clavicle.L", "clavicle.R"), "midpoint of the inner clavicle ends (base of the neck)")
_SHOULDER_MEAN = (_mid("shoulder.L", "shoulder.R"), "mean of the two shoulders")


def _limbs() -> dict[str, tuple[_Terms, str]]:
    out = {"Pelvis": _PELVIS}
    for s in SIDES:
        for joint, landmark in (("Hip", "hip"), ("Knee", "knee"), ("Ankle", "ankle"), ("Shoulder", "shoulder"),
                                ("Elbow", "elbow"), ("Wrist", "wrist"), ("Hand", "knuckles"), ("Toe", "toe")):  # fmt: skip
            out[f"{s}_{joint}"] = (_one(f"{landmark}.{s}"), LANDMARKS[f"{landmark}.S"])
    return out


_LIMBS = _limbs()


def _limbs_of(joint_set: str) -> dict[str, tuple[_Terms, str]]:
    return {n: _LIMBS[n] for n in get_joint_set(joint_set).names if n in _LIMBS}


#: joint set name -> joint name -> (landmark terms of the weighted mean, documentation).
JOINTS: dict[str, dict[str, tuple[_Terms, str]]] = {
    "human36m": {
        **_limbs_of("human36m"),
        "Torso": (_one("spine_mid"), LANDMARKS["spine_mid"]),
        "Neck": (_NECK_BASE[0], "base of the neck (the H36M skeleton's neck carries the clavicles)"),
        "Nose": (_one("neck_top"), "top of the neck (H36M's mocap head joint, ~120 mm above Neck)"),
        "Head": (
            (("ear.L", 0.325), ("ear.R", 0.325), ("crown", 0.35)),
            "a third of the way from the ear centre to the crown (H36M's head end-site, forehead height)",
        ),
        "Thorax": (_SHOULDER_MEAN[0], "mean of the two shoulders (as the dataset appends it)"),
    },
    "muco": {
        **_limbs_of("muco"),
        "Head_top": (_one("crown"), "top of the skull"),
        "Thorax": _NECK_BASE,
        "Spine": (_one("spine_mid"), "mid spine (the same point as Human3.6M's Torso)"),
        "Head": (_mid("ear.L", "ear.R"), "midpoint of the ears (head centre)"),
    },
    "mpii": {
        **_limbs_of("mpii"),
        "Thorax": _NECK_BASE,
        "Neck": (_one("neck_top"), "upper neck"),
        "Head": (_one("crown"), "head top"),
    },
    "coco": {
        **_limbs_of("coco"),
        "Nose": (_one("nose"), LANDMARKS["nose"]),
        **{f"{s}_{j}": (_one(f"{j.lower()}.{s}"), LANDMARKS[f"{j.lower()}.S"]) for j in ("Eye", "Ear") for s in SIDES},
        "Thorax": (_SHOULDER_MEAN[0], "mean of the two shoulders (as the loader appends it)"),
    },
}
JOINTS["mupots"] = {n: JOINTS["muco"][n] for n in get_joint_set("mupots").names}


def joint_terms(joint_set: str) -> list[_Terms]:
    """The landmark terms of each joint of a set, in the set's channel order."""
    js = get_joint_set(joint_set)
    if js.name not in JOINTS:
        raise ValueError(f"no landmark definition for joint set {joint_set!r}; have {sorted(JOINTS)}")
    return [JOINTS[js.name][n][0] for n in js.names]


def joint_definition_table(joint_set: str) -> list[tuple[str, str]]:
    """(joint name, where it is) rows in channel order, for documentation."""
    js = get_joint_set(joint_set)
    return [(n, JOINTS[js.name][n][1]) for n in js.names]
