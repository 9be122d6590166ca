"""Benchmark protocols: aggregation of the pure metrics per action (Human3.6M) and per sequence (MuPoTS-3D).

Human3.6M (DATA_FORMATS section 3): errors are taken on root-relative (Pelvis) camera coordinates
of the first 17 joints (Thorax excluded). Every figure is reported with three labelled metrics:

- ``mpjpe``: no alignment (protocol 2's metric).
- ``pa_mpjpe_rigid``: rigid Procrustes (rotation + translation), the release's protocol 1 metric, computed as
  the release's ``evaluate()`` does: the alignment is fitted on all joints of the set (the 18 Human3.6M
  joints, Thorax included), then the first 17 are scored.
- ``pa_mpjpe_similarity``: similarity Procrustes (+ scale), the field's usual PA-MPJPE / P-MPJPE, fitted and
  scored on the 17 joints.

"overall" pools all test samples (as the release does), it is not the mean of the action means.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from ..joints import HUMAN36M, JointSet, get_joint_set
from .functional import aligned_joint_errors, joint_errors
from .mupots import AnnotatedPerson, evaluate_mupots

H36M_ACTIONS: tuple[str, ...] = (
    "Directions", "Discussion", "Eating", "Greeting", "Phoning", "Posing", "Purchases", "Sitting",
    "SittingDown", "Smoking", "Photo", "Waiting", "Walking", "WalkDog", "WalkTogether",
)  # fmt: skip

H36M_METRICS: dict[str, str] = {
    "mpjpe": "MPJPE (no alignment)",
    "pa_mpjpe_rigid": "PA-MPJPE, rigid alignment fitted on all 18 joints, 17 scored (release protocol 1)",
    "pa_mpjpe_similarity": "PA-MPJPE, similarity alignment (field standard)",
}

__all__ = ["H36M_ACTIONS", "H36M_METRICS", "AnnotatedPerson", "evaluate_human36m", "evaluate_mupots", "h36m_action"]


def h36m_action(action_idx: int) -> str:
    """Action name of a Human3.6M ``action_idx`` (2..16)."""
    if not 2 <= int(action_idx) <= 16:
        raise ValueError(f"Human3.6M action_idx must be in 2..16, got {action_idx}")
    return H36M_ACTIONS[int(action_idx) - 2]


def root_relative(joints: np.ndarray, root: int) -> np.ndarray:
    """(N, J, 3) -> the same with the root joint subtracted."""
    joints = np.asarray(joints, dtype=np.float64)
    return joints - joints[:, root : root + 1]


def evaluate_human36m(
    pred_cam: np.ndarray,
    gt_cam: np.ndarray,
    action_idx: Sequence[int] | np.ndarray,
    protocol: int = 2,
    joint_set: str | JointSet = HUMAN36M,
) -> dict:
    """Human3.6M figures, overall and per action, with all three labelled metrics.

    Args:
        pred_cam: (N, J, 3) mm camera frame, absolute or root-relative (made root-relative here).
        gt_cam: (N, J, 3) mm.
        action_idx: (N,) Human3.6M action indices 2..16.
        protocol: 1 or 2; picks the ``headline`` metric (1: ``pa_mpjpe_rigid`` as the release, 2: ``mpjpe``).
        joint_set: the joint order; its first ``eval_joints`` (17) joints are scored.

    Returns:
        ``{"protocol", "headline", "num_samples", "overall": {metric: mm}, "per_action": {name: {metric: mm}},
        "metrics": {metric: label}}``; actions with no samples are absent.
    """
    if protocol not in (1, 2):
        raise ValueError(f"protocol must be 1 or 2, got {protocol}")
    joint_set = get_joint_set(joint_set)
    pred = root_relative(pred_cam, joint_set.root_index)
    gt = root_relative(gt_cam, joint_set.root_index)
    if pred.shape != gt.shape or pred.ndim != 3:
        raise ValueError(f"pred_cam and gt_cam must both be (N, J, 3), got {pred.shape} and {gt.shape}")
    actions = np.asarray(action_idx).reshape(-1)
    if len(actions) != len(pred):
        raise ValueError(f"{len(actions)} action indices for {len(pred)} samples")
    keep = joint_set.eval_joints or joint_set.num_joints
    # The release aligns rigidly on every joint it has (Thorax too), then drops the joints it does not score.
    fitted = np.isfinite(pred).all(axis=2) & np.isfinite(gt).all(axis=2)
    rigid = aligned_joint_errors(np.nan_to_num(pred), np.nan_to_num(gt), scale=False, mask=fitted)[:, :keep]
    rigid = np.where(fitted[:, :keep], rigid, np.nan)
    pred, gt = pred[:, :keep], gt[:, :keep]
    per_sample = {
        "mpjpe": joint_errors(pred, gt).mean(axis=1),
        "pa_mpjpe_rigid": rigid.mean(axis=1),
        "pa_mpjpe_similarity": aligned_joint_errors(pred, gt, scale=True).mean(axis=1),
    }
    per_action = {}
    for idx in sorted(set(actions.tolist())):
        selected = actions == idx
        per_action[h36m_action(idx)] = {k: float(v[selected].mean()) for k, v in per_sample.items()}
    return {
        "protocol": protocol,
        "headline": "pa_mpjpe_rigid" if protocol == 1 else "mpjpe",
        "num_samples": int(len(pred)),
        "overall": {k: float(v.mean()) if len(v) else float("nan") for k, v in per_sample.items()},
        "per_action": per_action,
        "metrics": dict(H36M_METRICS),
    }


def format_human36m(result: dict) -> str:
    """A fixed-width table of :func:`evaluate_human36m`'s result: actions as rows, metrics as columns (mm)."""
    columns = list(H36M_METRICS)
    headers = ["MPJPE", "PA-MPJPE rigid", "PA-MPJPE similarity"]
    name_width = max(12, *(len(a) for a in result["per_action"]))
    lines = [
        f"Human3.6M protocol {result['protocol']}, {result['num_samples']} samples, mm "
        f"(headline: {H36M_METRICS[result['headline']]})",
        f"{'action':<{name_width}}  " + "  ".join(f"{h:>19}" for h in headers),
    ]
    for action in [a for a in H36M_ACTIONS if a in result["per_action"]]:
        row = result["per_action"][action]
        lines.append(f"{action:<{name_width}}  " + "  ".join(f"{row[c]:>19.2f}" for c in columns))
    overall = result["overall"]
    lines.append(f"{'overall':<{name_width}}  " + "  ".join(f"{overall[c]:>19.2f}" for c in columns))
    return "\n".join(lines)


def _pct(value: float | None) -> str:
    return "   -" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{100 * value:5.1f}"


def format_mupots(result: dict) -> str:
    """A fixed-width table of :func:`evaluate_mupots`'s result: sequences as rows, 3DPCK / AUC in %."""
    split = any("pck_visible" in c for c in result["all"]["per_sequence"].values())
    cols = ["pck", "auc"] + (["pck_visible", "pck_occluded"] if split else [])
    header = "  ".join(f"{m}:{c}" for m in ("all", "matched") for c in cols)
    lines = [
        f"MuPoTS-3D: {result['num_people']} annotated people, {result['num_matched']} matched "
        f"({result['matching']} matching; 3DPCK@{result['pck_threshold_mm']:g} mm and AUC over "
        f"0:5:150 mm over {len(result['eval_joints'])} joints, %)",
        f"{'sequence':<10}  {header}",
    ]
    sequences = sorted(result["all"]["per_sequence"], key=lambda s: int(s[2:]))
    for sequence in sequences:
        cells = []
        for mode in ("all", "matched"):
            cell = result[mode]["per_sequence"].get(sequence, {})
            cells += [f"{_pct(cell.get(c)):>{len(mode) + len(c) + 1}}" for c in cols]
        lines.append(f"{sequence:<10}  " + "  ".join(cells))
    for label, key in (("mean", "mean_over_sequences"), ("pooled", "pooled")):
        cells = []
        for mode in ("all", "matched"):
            cell = result[mode][key]
            cells += [f"{_pct(cell.get(c)):>{len(mode) + len(c) + 1}}" for c in cols]
        lines.append(f"{label:<10}  " + "  ".join(cells))
    return "\n".join(lines)
