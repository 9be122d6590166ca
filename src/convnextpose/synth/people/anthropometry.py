"""Bone lengths of synthetic bodies next to Human3.6M's mocap skeleton (for tests and documentation)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ...joints import get_joint_set

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
        rows = ["| bone | mean | std | min | max | H36M skeleton | ratio |", "|---|---|---|---|---|---|---|"]
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
