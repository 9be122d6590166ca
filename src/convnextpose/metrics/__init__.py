"""Pose metrics: pure functions (:mod:`.functional`) and benchmark protocols (:mod:`.protocols`).

Units: inputs in mm, root-relative; ``mpjpe``/``pa_mpjpe`` return mm, ``pck3d``/``auc`` fractions in [0, 1].
"""

from .functional import AUC_THRESHOLDS_MM, aligned_joint_errors, auc, joint_errors, mpjpe, pa_mpjpe, pck3d
from .mupots import AnnotatedPerson, evaluate_mupots, match_people, rescale_bones
from .protocols import H36M_ACTIONS, H36M_METRICS, evaluate_human36m, format_human36m, format_mupots

__all__ = [
    "AUC_THRESHOLDS_MM",
    "H36M_ACTIONS",
    "H36M_METRICS",
    "AnnotatedPerson",
    "aligned_joint_errors",
    "auc",
    "evaluate_human36m",
    "evaluate_mupots",
    "format_human36m",
    "format_mupots",
    "joint_errors",
    "match_people",
    "mpjpe",
    "pa_mpjpe",
    "pck3d",
    "rescale_bones",
]
