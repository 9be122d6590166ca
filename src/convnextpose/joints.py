"""Joint sets of the benchmarks (DATA_FORMATS.md section 2): names, flip pairs, skeletons, mappings.

The order of ``names`` is the channel order of the network output, so it must never change.
Skeletons are stored as pairs of names, so they read as anatomy and survive reordering.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class JointSet:
    """A named, ordered set of joints.

    Attributes:
        name: registry key, e.g. ``"human36m"``.
        names: joint names in channel order.
        skeleton_names: bones as (parent name, child name) pairs.
        root: name of the root joint that poses are made relative to.
        eval_joints: number of leading joints that benchmarks evaluate (e.g. 17 of Human3.6M's 18).
    """

    name: str
    names: tuple[str, ...]
    skeleton_names: tuple[tuple[str, str], ...]
    root: str = "Pelvis"
    eval_joints: int | None = None
    _index: dict[str, int] = field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if len(set(self.names)) != len(self.names):
            raise ValueError(f"joint set {self.name}: duplicate joint names")
        self._index.update({n: i for i, n in enumerate(self.names)})
        for a, b in self.skeleton_names:
            if a not in self._index or b not in self._index:
                raise ValueError(f"joint set {self.name}: bone ({a}, {b}) names an unknown joint")

    @property
    def num_joints(self) -> int:
        return len(self.names)

    def __len__(self) -> int:
        return len(self.names)

    def index(self, joint_name: str) -> int:
        """Channel index of a joint; ValueError listing the names if it is not in this set."""
        if joint_name not in self._index:
            raise ValueError(f"joint {joint_name!r} is not in joint set {self.name}; it has {list(self.names)}")
        return self._index[joint_name]

    @property
    def root_index(self) -> int:
        return self.index(self.root)

    @property
    def skeleton(self) -> tuple[tuple[int, int], ...]:
        """Bones as index pairs."""
        return tuple((self._index[a], self._index[b]) for a, b in self.skeleton_names)

    @property
    def flip_pairs(self) -> tuple[tuple[int, int], ...]:
        """Index pairs (left, right) of joints named ``L_x`` / ``R_x``."""
        pairs = []
        for i, n in enumerate(self.names):
            if n.startswith("L_") and "R_" + n[2:] in self._index:
                pairs.append((i, self._index["R_" + n[2:]]))
        return tuple(pairs)

    @property
    def flip_permutation(self) -> np.ndarray:
        """(J,) int index array that swaps every left joint with its right twin."""
        perm = np.arange(self.num_joints)
        for left, right in self.flip_pairs:
            perm[left], perm[right] = right, left
        return perm

    def side(self, joint_name: str) -> str:
        """'left', 'right' or 'centre' from the name prefix."""
        return "left" if joint_name.startswith("L_") else "right" if joint_name.startswith("R_") else "centre"


H36M_NAMES = (
    "Pelvis", "R_Hip", "R_Knee", "R_Ankle", "L_Hip", "L_Knee", "L_Ankle", "Torso", "Neck", "Nose", "Head",
    "L_Shoulder", "L_Elbow", "L_Wrist", "R_Shoulder", "R_Elbow", "R_Wrist", "Thorax",
)  # fmt: skip
MUCO_NAMES = (
    "Head_top", "Thorax", "R_Shoulder", "R_Elbow", "R_Wrist", "L_Shoulder", "L_Elbow", "L_Wrist", "R_Hip",
    "R_Knee", "R_Ankle", "L_Hip", "L_Knee", "L_Ankle", "Pelvis", "Spine", "Head", "R_Hand", "L_Hand", "R_Toe", "L_Toe",
)  # fmt: skip
MPII_NAMES = (
    "R_Ankle", "R_Knee", "R_Hip", "L_Hip", "L_Knee", "L_Ankle", "Pelvis", "Thorax", "Neck", "Head", "R_Wrist",
    "R_Elbow", "R_Shoulder", "L_Shoulder", "L_Elbow", "L_Wrist",
)  # fmt: skip
COCO_NAMES = (
    "Nose", "L_Eye", "R_Eye", "L_Ear", "R_Ear", "L_Shoulder", "R_Shoulder", "L_Elbow", "R_Elbow", "L_Wrist",
    "R_Wrist", "L_Hip", "R_Hip", "L_Knee", "R_Knee", "L_Ankle", "R_Ankle", "Thorax", "Pelvis",
)  # fmt: skip


def _limbs(shoulder_parent: str) -> tuple[tuple[str, str], ...]:
    bones = []
    for side in ("L_", "R_"):
        bones += [
            (shoulder_parent, side + "Shoulder"), (side + "Shoulder", side + "Elbow"), (side + "Elbow", side + "Wrist"),
            ("Pelvis", side + "Hip"), (side + "Hip", side + "Knee"), (side + "Knee", side + "Ankle"),
        ]  # fmt: skip
    return tuple(bones)


HUMAN36M = JointSet(
    "human36m",
    H36M_NAMES,
    (("Pelvis", "Torso"), ("Torso", "Neck"), ("Neck", "Nose"), ("Nose", "Head")) + _limbs("Neck"),
    eval_joints=17,
)
MUCO = JointSet(
    "muco",
    MUCO_NAMES,
    (("Head_top", "Head"), ("Head", "Thorax"), ("Thorax", "Spine"), ("Spine", "Pelvis"))
    + _limbs("Thorax")
    + (("R_Wrist", "R_Hand"), ("L_Wrist", "L_Hand"), ("R_Ankle", "R_Toe"), ("L_Ankle", "L_Toe")),
    eval_joints=17,
)
MUPOTS = JointSet(
    "mupots",
    MUCO_NAMES[:17],
    (("Head_top", "Head"), ("Head", "Thorax"), ("Thorax", "Spine"), ("Spine", "Pelvis")) + _limbs("Thorax"),
)
MPII = JointSet("mpii", MPII_NAMES, (("Pelvis", "Thorax"), ("Thorax", "Neck"), ("Neck", "Head")) + _limbs("Thorax"))
COCO = JointSet(
    "coco",
    COCO_NAMES,
    (("Nose", "L_Eye"), ("Nose", "R_Eye"), ("L_Eye", "L_Ear"), ("R_Eye", "R_Ear"), ("Thorax", "Nose"),
     ("Pelvis", "Thorax")) + _limbs("Thorax"),
)  # fmt: skip

JOINT_SETS: dict[str, JointSet] = {s.name: s for s in (HUMAN36M, MUCO, MUPOTS, MPII, COCO)}
_ALIASES = {"h36m": "human36m", "muco3dhp": "muco", "mupots3d": "mupots", "mscoco": "coco"}


def get_joint_set(name: str | JointSet) -> JointSet:
    """Look a joint set up by name (``human36m``/``h36m``, ``muco``, ``mupots``, ``mpii``, ``coco``)."""
    if isinstance(name, JointSet):
        return name
    key = name.lower().replace("-", "").replace("_", "").replace(".", "")
    key = _ALIASES.get(key, key)
    if key not in JOINT_SETS:
        raise ValueError(f"unknown joint set {name!r}; choose one of {sorted(JOINT_SETS)}")
    return JOINT_SETS[key]


def mapping_indices(source: str | JointSet, target: str | JointSet) -> np.ndarray:
    """For each target joint, the index of the same-named source joint, or -1 where it has none.

    Returns:
        (J_target,) int64.
    """
    src, dst = get_joint_set(source), get_joint_set(target)
    return np.array([src._index.get(n, -1) for n in dst.names], dtype=np.int64)


def map_joints(
    values: np.ndarray,
    source: str | JointSet,
    target: str | JointSet,
    fill: float = 0.0,
    axis: int | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Re-order per-joint values from one joint set to another by name.

    Args:
        values: (..., J_source, C) array, or (..., J_source) with ``axis=-1``.
        fill: value for target joints the source lacks.
        axis: the joint axis; default -2, or -1 for a 1-D array.

    Returns:
        The mapped array (joint axis now J_target) and a (J_target,) bool mask of joints the source has.
    """
    src = get_joint_set(source)
    values = np.asarray(values)
    if axis is None:
        axis = -1 if values.ndim == 1 else -2
    if values.shape[axis] != src.num_joints:
        raise ValueError(f"values have {values.shape[axis]} joints on axis {axis}, joint set {src.name} has {len(src)}")
    idx = mapping_indices(src, target)
    present = idx >= 0
    out = np.take(values, np.where(present, idx, 0), axis=axis)
    mask_shape = [1] * out.ndim
    mask_shape[axis] = len(idx)
    out = np.where(present.reshape(mask_shape), out, np.asarray(fill, dtype=out.dtype))
    return out, present
