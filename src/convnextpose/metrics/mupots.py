"""MuPoTS-3D evaluation in Python: the benchmark toolkit's 3DPCK / AUC procedure (DATA_FORMATS section 4).

Per frame, every valid annotated person is matched to at most one prediction by 2D distance; the
matched prediction is made root-relative (Pelvis), its bones are rescaled to the ground-truth bone
lengths walking out from the root, and per-joint 3D errors are taken against the ground truth (the
"universal", height-normalised annotation where it is available). Two modes are reported:

- ``all``: every valid annotated person counts; an unmatched one has every joint missed.
- ``matched``: only people that were matched to a prediction.

Matching (documented choice, since only the threshold is fixed by the toolkit): for each annotated
person in annotation order, the score of a prediction is the mean 2D distance (px) over the joints
Thorax .. L_Ankle; the closest prediction not yet taken is chosen, and the person counts as matched
when that mean distance is below ``match_threshold_px`` (40 px).

Joints scored: the 15 joints of the toolkit's joint groups (head top, neck, shoulders, elbows,
wrists, hips, knees, ankles, head); Pelvis (the root, error 0 by construction) and Spine are left
out unless ``eval_joints`` says otherwise.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from ..joints import MUPOTS, JointSet, get_joint_set
from .functional import AUC_THRESHOLDS_MM, pck_curve_from_errors

#: Joints whose 2D distance decides the matching: Thorax .. L_Ankle of the 17 MuPoTS joints.
MATCH_JOINTS: tuple[str, ...] = MUPOTS.names[1:14]
#: Joints scored by default: the toolkit's joint groups, i.e. all but Pelvis and Spine.
EVAL_JOINTS: tuple[str, ...] = tuple(n for n in MUPOTS.names if n not in ("Pelvis", "Spine"))
MATCH_THRESHOLD_PX = 40.0
PCK_THRESHOLD_MM = 150.0


@dataclass
class AnnotatedPerson:
    """One annotated person of one MuPoTS frame.

    Attributes:
        sequence: 1..20 (TS<k>).
        frame: frame index within the sequence.
        joints_2d: (17, 2) px.
        joints_3d: (17, 3) mm, camera frame (or the universal annotation); root-relativity is applied here.
        valid: whether the toolkit evaluates this person in this frame.
        occluded: optional (17,) bool, True where the joint is occluded (``occlusion.mat``).
    """

    sequence: int
    frame: int
    joints_2d: np.ndarray
    joints_3d: np.ndarray
    valid: bool = True
    occluded: np.ndarray | None = None


def bone_parents(joint_set: str | JointSet = MUPOTS) -> np.ndarray:
    """Parent index of every joint in the skeleton tree rooted at the joint set's root (root -> itself).

    Returns:
        (J,) int64; ValueError if a joint is not connected to the root.
    """
    joint_set = get_joint_set(joint_set)
    root = joint_set.root_index
    parents = np.full(joint_set.num_joints, -1, dtype=np.int64)
    parents[root] = root
    adjacency: dict[int, list[int]] = defaultdict(list)
    for a, b in joint_set.skeleton:
        adjacency[a].append(b)
        adjacency[b].append(a)
    frontier = [root]
    while frontier:
        current = frontier.pop(0)
        for neighbour in adjacency[current]:
            if parents[neighbour] < 0:
                parents[neighbour] = current
                frontier.append(neighbour)
    if (parents < 0).any():
        missing = [joint_set.names[i] for i in np.flatnonzero(parents < 0)]
        raise ValueError(f"joint set {joint_set.name}: joints {missing} are not connected to the root")
    return parents


def _walk_order(parents: np.ndarray) -> list[int]:
    """Joints ordered so every parent comes before its children."""
    root = int(np.flatnonzero(parents == np.arange(len(parents)))[0])
    order, frontier = [], [root]
    while frontier:
        current = frontier.pop(0)
        order.append(current)
        frontier.extend(int(c) for c in np.flatnonzero(parents == current) if c != current)
    return order


def rescale_bones(pred: np.ndarray, gt: np.ndarray, parents: np.ndarray | None = None) -> np.ndarray:
    """Give ``pred`` the bone lengths of ``gt``, keeping its bone directions, walking out from the root.

    Args:
        pred, gt: (J, 3) or (N, J, 3) mm, root-relative.
        parents: (J,) from :func:`bone_parents` (default: the MuPoTS tree).

    Returns:
        Array like ``pred``: the root stays where it is; each child is its (already moved) parent
        plus the predicted bone direction times the true bone length. A zero-length predicted
        bone keeps the child on its parent.
    """
    parents = bone_parents() if parents is None else np.asarray(parents)
    pred = np.asarray(pred, dtype=np.float64)
    gt = np.asarray(gt, dtype=np.float64)
    out = pred.copy()
    for joint in _walk_order(parents)[1:]:
        parent = parents[joint]
        bone = pred[..., joint, :] - pred[..., parent, :]
        length = np.linalg.norm(bone, axis=-1, keepdims=True)
        true_length = np.linalg.norm(gt[..., joint, :] - gt[..., parent, :], axis=-1, keepdims=True)
        direction = np.divide(bone, length, out=np.zeros_like(bone), where=length > 0)
        out[..., joint, :] = out[..., parent, :] + direction * true_length
    return out


def match_people(
    gt_2d: np.ndarray,
    pred_2d: np.ndarray,
    threshold_px: float = MATCH_THRESHOLD_PX,
    joints: Sequence[int] | None = None,
) -> np.ndarray:
    """Match annotated people to predictions by 2D distance (see the module docstring).

    Args:
        gt_2d: (G, J, 2) px.
        pred_2d: (P, J, 2) px.
        threshold_px: largest mean distance (exclusive) that still counts as a match.
        joints: joint indices used for the distance (default Thorax .. L_Ankle).

    Returns:
        (G,) int64: the matched prediction's index, or -1.
    """
    gt_2d = np.asarray(gt_2d, dtype=np.float64).reshape(-1, *np.shape(gt_2d)[-2:])
    pred_2d = np.asarray(pred_2d, dtype=np.float64)
    matches = np.full(len(gt_2d), -1, dtype=np.int64)
    if pred_2d.size == 0 or len(gt_2d) == 0:
        return matches
    pred_2d = pred_2d.reshape(-1, *gt_2d.shape[1:])
    joints = list(range(1, 14)) if joints is None else list(joints)
    diff = gt_2d[:, None, joints, :] - pred_2d[None, :, joints, :]
    distance = np.linalg.norm(diff, axis=-1).mean(axis=-1)  # (G, P)
    taken = np.zeros(len(pred_2d), dtype=bool)
    for g in range(len(gt_2d)):
        candidates = np.where(taken, np.inf, distance[g])
        best = int(np.argmin(candidates))
        if np.isfinite(candidates[best]) and candidates[best] < threshold_px:
            matches[g] = best
            taken[best] = True
    return matches


def _summary(errors: np.ndarray, occluded: np.ndarray | None) -> dict:
    """PCK / AUC of a (K,) array of joint errors (inf = missed), with the visible/occluded split."""
    out: dict = {"num_joints": int(errors.size)}
    if errors.size == 0:
        out.update(pck=float("nan"), auc=float("nan"))
        return out
    curve = pck_curve_from_errors(errors)
    out["pck"] = float((errors <= PCK_THRESHOLD_MM).mean())
    out["auc"] = float(curve.mean())
    if occluded is not None:
        for name, selector in (("visible", ~occluded), ("occluded", occluded)):
            part = errors[selector]
            out[f"pck_{name}"] = float((part <= PCK_THRESHOLD_MM).mean()) if part.size else float("nan")
            out[f"auc_{name}"] = float(pck_curve_from_errors(part).mean()) if part.size else float("nan")
            out[f"num_joints_{name}"] = int(part.size)
    return out


def evaluate_mupots(
    people: Iterable[AnnotatedPerson],
    predictions_2d: Mapping[tuple[int, int], np.ndarray],
    predictions_3d: Mapping[tuple[int, int], np.ndarray],
    joint_set: str | JointSet = MUPOTS,
    match_threshold_px: float = MATCH_THRESHOLD_PX,
    eval_joints: Sequence[str] = EVAL_JOINTS,
) -> dict:
    """3DPCK@150 mm and AUC for MuPoTS-3D, per sequence and overall, in both modes.

    Args:
        people: the annotated people of every test frame (invalid ones are skipped).
        predictions_2d: (sequence, frame) -> (P, 17, 2) px of every predicted person in the frame.
        predictions_3d: (sequence, frame) -> (P, 17, 3) mm, camera frame (absolute or root-relative).
        joint_set: joint order of both (MuPoTS, 17 joints).
        match_threshold_px: see :func:`match_people`.
        eval_joints: names of the joints that are scored.

    Returns:
        ``{"all": table, "matched": table, "num_people": int, "num_matched": int, ...}`` where a
        table is ``{"per_sequence": {"TS1": {...}, ...}, "mean_over_sequences": {...}, "pooled": {...}}``
        and each cell holds ``pck`` and ``auc`` (fractions) and, where occlusion labels exist,
        ``pck_visible``/``pck_occluded`` and the AUC split alike. ``mean_over_sequences`` averages
        the per-sequence figures (the benchmark tables' "Avg"); ``pooled`` pools all joints.
    """
    joint_set = get_joint_set(joint_set)
    parents = bone_parents(joint_set)
    root = joint_set.root_index
    scored = np.array([joint_set.index(n) for n in eval_joints], dtype=np.int64)
    collected: dict[str, dict[int, list]] = {"all": defaultdict(list), "matched": defaultdict(list)}
    occlusion: dict[str, dict[int, list]] = {"all": defaultdict(list), "matched": defaultdict(list)}
    have_occlusion = True
    by_frame: dict[tuple[int, int], list[AnnotatedPerson]] = defaultdict(list)
    for person in people:
        if person.valid:
            by_frame[(int(person.sequence), int(person.frame))].append(person)
    num_people = num_matched = 0
    for key in sorted(by_frame):
        frame_people = by_frame[key]
        pred_2d = np.asarray(predictions_2d.get(key, np.zeros((0, joint_set.num_joints, 2))), dtype=np.float64)
        pred_3d = np.asarray(predictions_3d.get(key, np.zeros((0, joint_set.num_joints, 3))), dtype=np.float64)
        if len(pred_2d) != len(pred_3d):
            raise ValueError(f"frame {key}: {len(pred_2d)} 2D predictions but {len(pred_3d)} 3D predictions")
        gt_2d = np.stack([np.asarray(p.joints_2d, dtype=np.float64)[:, :2] for p in frame_people])
        matches = match_people(gt_2d, pred_2d, match_threshold_px)
        for person, match in zip(frame_people, matches):
            num_people += 1
            gt = np.asarray(person.joints_3d, dtype=np.float64)
            gt = gt - gt[root]
            if match >= 0:
                num_matched += 1
                pred = pred_3d[match] - pred_3d[match][root]
                errors = np.linalg.norm(rescale_bones(pred, gt, parents) - gt, axis=-1)[scored]
            else:
                errors = np.full(len(scored), np.inf)
            occluded = None if person.occluded is None else np.asarray(person.occluded, dtype=bool)[scored]
            have_occlusion &= occluded is not None
            modes = ("all", "matched") if match >= 0 else ("all",)
            for mode in modes:
                collected[mode][int(person.sequence)].append(errors)
                occlusion[mode][int(person.sequence)].append(occluded)
    result: dict = {
        "num_people": num_people,
        "num_matched": num_matched,
        "match_threshold_px": float(match_threshold_px),
        "pck_threshold_mm": PCK_THRESHOLD_MM,
        "auc_thresholds_mm": AUC_THRESHOLDS_MM.tolist(),
        "eval_joints": list(eval_joints),
    }
    for mode in ("all", "matched"):
        per_sequence, pooled_errors, pooled_occ = {}, [], []
        for sequence in sorted(collected[mode]):
            errors = np.concatenate(collected[mode][sequence])
            occ = np.concatenate(occlusion[mode][sequence]) if have_occlusion else None
            per_sequence[f"TS{sequence}"] = _summary(errors, occ)
            pooled_errors.append(errors)
            pooled_occ.append(occ)
        table: dict = {"per_sequence": per_sequence}
        keys = sorted({k for cell in per_sequence.values() for k in cell if not k.startswith("num_")})
        table["mean_over_sequences"] = {
            k: float(np.nanmean([cell.get(k, np.nan) for cell in per_sequence.values()])) for k in keys
        }
        table["pooled"] = _summary(
            np.concatenate(pooled_errors) if pooled_errors else np.zeros(0),
            np.concatenate(pooled_occ) if pooled_errors and have_occlusion else None,
        )
        result[mode] = table
    return result
