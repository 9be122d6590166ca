"""MuPoTS-3D evaluation exactly as the benchmark's MATLAB toolkit computes it (DATA_FORMATS section 4).

Each function follows one file of the toolkit (``mpii_mupots_multiperson_eval.m`` and its ``util/``
folder) and names it. The procedure, in the toolkit's 1-based joint numbers (the MuPoTS order: 1 head
top, 2 thorax/neck, 3-5 right arm, 6-8 left arm, 9-11 right leg, 12-14 left leg, 15 pelvis, 16 spine,
17 head):

1. Per frame, the valid annotated people, in annotation order, are matched greedily to predictions
   (:func:`match_people`): a prediction scores the *number* of joints 2..14 whose ``|dx| < 40`` px
   and ``|dy| < 40`` px; the highest score wins (the first prediction on a tie) and any score above 0
   is a match. A predicted joint at exactly (0, 0) is invisible and never counts.
2. A matched prediction and its ground truth (the "universal" ``univ_annot3``) are made
   Pelvis-relative, and the prediction's bones are rescaled to the ground truth's lengths in the
   toolkit's bone order (:func:`rescale_bones`); the head top hangs from the thorax, and a
   zero-length predicted bone gives NaN (the joint and those below it count as missed).
3. Per-joint errors (:func:`person_joint_errors`); an unmatched person has every joint missed.
4. Per sequence (:func:`pck_and_auc`): over the first 14 joints (head top .. left ankle), 3DPCK is
   the fraction with ``error < 150`` mm and AUC the mean of that fraction over 0:5:150 mm, both strict.
   The visible/occluded split (:func:`masked_pck`) counts ``error > 150`` as missed (so exactly
   150 mm is correct there) with NaN as 160 mm, over the same 14 joints.

Modes: ``all`` (every valid annotated person; the toolkit's ``EVALUATION_MODE = 0``) and
``matched`` (matched people only, ``EVALUATION_MODE = 1``). The toolkit prints a table per sequence;
``mean_over_sequences`` (the papers' "Avg") and ``pooled`` are computed here from the same errors.

The package's earlier matching (nearest prediction by mean 2D distance below the threshold) stays
available as ``matching="mean_distance"``; it is not the toolkit's and is off by default.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np

from ..joints import MUPOTS, JointSet, get_joint_set
from .functional import AUC_THRESHOLDS_MM

#: Joints 2:14 (Thorax .. L_Ankle) that the identity matching compares (``matching_joints``), 0-based.
MATCH_JOINTS = np.arange(1, 14)
#: Parent of every joint: ``joint_parents_o1`` of ``mpii_get_joints('relevant')`` (1-based there), 0-based.
TOOLKIT_PARENTS = np.array([2, 16, 2, 3, 4, 2, 6, 7, 15, 9, 10, 15, 12, 13, 15, 15, 2]) - 1
#: Bones in the order they are rescaled: ``safe_traversal_order(2:end)`` of the evaluation script, 0-based.
TRAVERSAL_ORDER = np.array([16, 2, 1, 17, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14]) - 1
#: The 14 joints of the joint groups of ``mpii_get_pck_auc_joint_groups.m`` (head top .. left ankle).
SCORED_JOINTS = np.arange(14)
EVAL_JOINTS: tuple[str, ...] = MUPOTS.names[:14]
ROOT = 14  # Pelvis
MATCH_THRESHOLD_PX = 40.0
PCK_THRESHOLD_MM = 150.0
#: What the visibility-mask tables count a NaN error as (missed).
NAN_ERROR_MM = 160.0
MATCHING_METHODS = ("toolkit", "mean_distance")
PROCEDURE = "MuPoTS-3D toolkit (mpii_mupots_multiperson_eval.m, is_relative = 1)"


@dataclass
class AnnotatedPerson:
    """One annotated person of one MuPoTS frame.

    Attributes:
        sequence: 1..20 (TS<k>).
        frame: frame index within the sequence.
        joints_2d: (17, 2) px (``annot2``).
        joints_3d: (17, 3) mm, the universal annotation (``univ_annot3``) or the camera frame; made
            Pelvis-relative here.
        valid: whether the toolkit evaluates this person in this frame (``isValidFrame``).
        occluded: optional (17,) bool, True where the joint is occluded (``occlusion.mat``).
        person_idx: the person's column in ``annot.mat``; a frame's people are matched in this order
            (stable: people with equal values keep the order they are given in).
    """

    sequence: int
    frame: int
    joints_2d: np.ndarray
    joints_3d: np.ndarray
    valid: bool = True
    occluded: np.ndarray | None = None
    person_idx: int = -1


def prediction_visibility(pred_2d: np.ndarray) -> np.ndarray:
    """Which predicted joints take part in the matching: all but those at exactly (0, 0).

    Follows ``mpii_mupots_multiperson_eval.m`` (``pred_visibility = ~(x == 0 & y == 0)``); the
    annotated joints are all visible there.

    Args:
        pred_2d: (P, J, 2) px.

    Returns:
        (P, J) bool.
    """
    pred_2d = np.asarray(pred_2d, dtype=np.float64)
    return ~((pred_2d[..., 0] == 0) & (pred_2d[..., 1] == 0))


def matching_scores(gt_2d: np.ndarray, pred_2d: np.ndarray, threshold_px: float = MATCH_THRESHOLD_PX) -> np.ndarray:
    """Score of every (annotated person, prediction) pair: the number of joints 2..14 that agree.

    Follows ``mpii_multiperson_get_identity_matching.m``: a joint agrees when ``|dx| < threshold``
    **and** ``|dy| < threshold`` (a per-axis box, strict) and the predicted joint is visible
    (:func:`prediction_visibility`). NaN coordinates never agree.

    Args:
        gt_2d: (G, 17, 2) px.
        pred_2d: (P, 17, 2) px.
        threshold_px: half the box side (the toolkit passes 40).

    Returns:
        (G, P) int64 in 0..13.
    """
    gt = np.asarray(gt_2d, dtype=np.float64)[:, None, MATCH_JOINTS]
    pred = np.asarray(pred_2d, dtype=np.float64)[None, :, MATCH_JOINTS]
    diff = np.abs(gt - pred)
    agree = (diff[..., 0] < threshold_px) & (diff[..., 1] < threshold_px)
    agree &= prediction_visibility(pred)
    return agree.sum(axis=-1).astype(np.int64)


def _match_toolkit(scores: np.ndarray) -> np.ndarray:
    """Greedy matching of ``mpii_multiperson_get_identity_matching.m`` on (G, P) scores."""
    matches = np.full(scores.shape[0], -1, dtype=np.int64)
    taken = np.zeros(scores.shape[1], dtype=bool)
    for g in range(scores.shape[0]):
        candidates = np.where(taken, 0, scores[g])  # taken predictions keep score 0, as in the toolkit
        if candidates.size and candidates.max() > 0:
            matches[g] = int(np.argmax(candidates))  # argmax: the first of equal scores, like MATLAB's max
            taken[matches[g]] = True
    return matches


def _match_mean_distance(gt_2d: np.ndarray, pred_2d: np.ndarray, threshold_px: float) -> np.ndarray:
    """The package's earlier rule (not the toolkit's): nearest untaken prediction by mean 2D distance < threshold."""
    distance = np.linalg.norm(gt_2d[:, None, MATCH_JOINTS] - pred_2d[None, :, MATCH_JOINTS], axis=-1).mean(axis=-1)
    matches = np.full(len(gt_2d), -1, dtype=np.int64)
    taken = np.zeros(len(pred_2d), dtype=bool)
    for g in range(len(gt_2d)):
        candidates = np.where(taken | np.isnan(distance[g]), np.inf, distance[g])
        best = int(np.argmin(candidates)) if candidates.size else -1
        if best >= 0 and candidates[best] < threshold_px:
            matches[g] = best
            taken[best] = True
    return matches


def match_people(
    gt_2d: np.ndarray,
    pred_2d: np.ndarray,
    threshold_px: float = MATCH_THRESHOLD_PX,
    method: str = "toolkit",
) -> np.ndarray:
    """Match a frame's annotated people to its predictions.

    ``method="toolkit"`` follows ``mpii_multiperson_get_identity_matching.m``: the annotated people
    in order each take the untaken prediction with the highest :func:`matching_scores` (the first on
    a tie); a score above 0 is a match. ``"mean_distance"`` is the package's earlier rule, kept to
    compare with older figures: the nearest untaken prediction by mean distance over joints 2..14,
    matched when below ``threshold_px``.

    Args:
        gt_2d: (G, 17, 2) px, in annotation order.
        pred_2d: (P, 17, 2) px.
        threshold_px: the toolkit's 40.
        method: "toolkit" or "mean_distance".

    Returns:
        (G,) int64: the matched prediction's index, or -1.
    """
    if method not in MATCHING_METHODS:
        raise ValueError(f"matching method must be one of {MATCHING_METHODS}, got {method!r}")
    gt_2d = np.asarray(gt_2d, dtype=np.float64).reshape(-1, MUPOTS.num_joints, 2)
    pred_2d = np.asarray(pred_2d, dtype=np.float64).reshape(-1, MUPOTS.num_joints, 2)
    if method == "mean_distance":
        return _match_mean_distance(gt_2d, pred_2d, threshold_px)
    return _match_toolkit(matching_scores(gt_2d, pred_2d, threshold_px))


def rescale_bones(pred: np.ndarray, gt: np.ndarray) -> np.ndarray:
    """Give ``pred`` the bone lengths of ``gt``, keeping its bone directions.

    Follows ``mpii_map_to_gt_bone_lengths.m`` with the parents of ``mpii_get_joints('relevant')``
    (:data:`TOOLKIT_PARENTS`: the head top's and the head's parent is the thorax) in the order
    :data:`TRAVERSAL_ORDER`: each joint becomes its parent's new position plus its predicted bone
    scaled to the true length. The root is not moved. A zero-length predicted bone divides 0 by 0:
    that joint, and every joint rescaled from it, is NaN, as in MATLAB.

    Args:
        pred, gt: (..., 17, 3) mm, Pelvis-relative.

    Returns:
        (..., 17, 3) float64.
    """
    pred = np.asarray(pred, dtype=np.float64)
    gt = np.asarray(gt, dtype=np.float64)
    out = pred.copy()
    with np.errstate(invalid="ignore", divide="ignore"):
        for joint in TRAVERSAL_ORDER:
            parent = TOOLKIT_PARENTS[joint]
            true_length = np.linalg.norm(gt[..., joint, :] - gt[..., parent, :], axis=-1)[..., None]
            bone = pred[..., joint, :] - pred[..., parent, :]
            length = np.linalg.norm(bone, axis=-1)[..., None]
            out[..., joint, :] = out[..., parent, :] + bone * true_length / length
    return out


def person_joint_errors(pred_3d: np.ndarray | None, gt_3d: np.ndarray) -> np.ndarray:
    """Per-joint 3D errors of one annotated person, as in ``mpii_mupots_multiperson_eval.m``.

    Both poses are made Pelvis-relative (``is_relative = 1``), the prediction is rescaled
    (:func:`rescale_bones`) and the Euclidean distance taken per joint.

    Args:
        pred_3d: (17, 3) mm of the matched prediction, absolute or root-relative; None when unmatched.
        gt_3d: (17, 3) mm.

    Returns:
        (17,) float64 mm: NaN where the rescaling gave NaN, inf for every joint of an unmatched
        person (the toolkit puts it 100 m away; either way every joint is missed).
    """
    if pred_3d is None:
        return np.full(MUPOTS.num_joints, np.inf)
    gt = np.asarray(gt_3d, dtype=np.float64)
    pred = np.asarray(pred_3d, dtype=np.float64)
    gt = gt - gt[ROOT]
    pred = pred - pred[ROOT]
    return np.linalg.norm(rescale_bones(pred, gt) - gt, axis=-1)


def pck_and_auc(errors: np.ndarray) -> tuple[float, float]:
    """3DPCK and AUC of a set of people, as ``mpii_compute_3d_pck.m`` computes its "Total" column.

    Over the joints of ``mpii_get_pck_auc_joint_groups.m`` (the first 14), PCK is the fraction with
    ``error < 150`` mm and AUC the mean over the thresholds 0:5:150 mm of the fraction with
    ``error < t``; both comparisons are strict and a NaN error is never below a threshold.

    Args:
        errors: (N, 17) mm per person and joint.

    Returns:
        (pck, auc) as fractions in [0, 1]; NaN for N = 0 (the toolkit's 0 / 0).
    """
    scored = np.asarray(errors, dtype=np.float64).reshape(-1, MUPOTS.num_joints)[:, SCORED_JOINTS].reshape(-1)
    if scored.size == 0:
        return float("nan"), float("nan")
    pck = float((scored < PCK_THRESHOLD_MM).mean())
    curve = (scored[None, :] < AUC_THRESHOLDS_MM[:, None]).mean(axis=1)
    return pck, float(curve.mean())


def masked_pck(errors: np.ndarray, mask: np.ndarray) -> float:
    """3DPCK over the masked joints, as ``mpii_evaluate_multiperson_errors_visibility_mask.m``.

    Over the first 14 joints where ``mask`` is set: ``1 - (number with error > 150 mm) / (number
    masked)``, a NaN error counting as 160 mm. Unlike :func:`pck_and_auc`, an error of exactly
    150 mm is correct here: the toolkit's visible/occluded tables compare with ``>``.

    Args:
        errors: (N, 17) mm.
        mask: (N, 17) bool (e.g. the occlusion labels, or their negation).

    Returns:
        A fraction in [0, 1]; NaN when nothing is masked (the toolkit's 0 / 0).
    """
    errors = np.asarray(errors, dtype=np.float64).reshape(-1, MUPOTS.num_joints)[:, SCORED_JOINTS]
    mask = np.asarray(mask, dtype=bool).reshape(-1, MUPOTS.num_joints)[:, SCORED_JOINTS]
    if not mask.any():
        return float("nan")
    missed = np.where(np.isnan(errors), NAN_ERROR_MM, errors) > PCK_THRESHOLD_MM
    return float(1.0 - (missed & mask).sum() / mask.sum())


def summarise_people(errors: np.ndarray, occluded: np.ndarray | None) -> dict:
    """One table cell: ``pck``, ``auc`` and, with occlusion labels, ``pck_visible`` / ``pck_occluded``.

    Args:
        errors: (N, 17) mm of the people evaluated (e.g. one sequence's).
        occluded: (N, 17) bool, or None without occlusion labels.

    Returns:
        Fractions (NaN where nothing is evaluated), with ``num_people`` and ``num_joints`` (14 per
        person) and, with labels, ``num_joints_visible`` / ``num_joints_occluded``.
    """
    errors = np.asarray(errors, dtype=np.float64).reshape(-1, MUPOTS.num_joints)
    pck, auc = pck_and_auc(errors)
    cell: dict = {"pck": pck, "auc": auc, "num_people": len(errors), "num_joints": len(errors) * len(SCORED_JOINTS)}
    if occluded is not None:
        occluded = np.asarray(occluded, dtype=bool).reshape(-1, MUPOTS.num_joints)
        cell["pck_visible"] = masked_pck(errors, ~occluded)
        cell["pck_occluded"] = masked_pck(errors, occluded)
        cell["num_joints_visible"] = int((~occluded[:, SCORED_JOINTS]).sum())
        cell["num_joints_occluded"] = int(occluded[:, SCORED_JOINTS].sum())
    return cell


def _frame_predictions(key: tuple[int, int], preds_2d: Mapping, preds_3d: Mapping) -> tuple[np.ndarray, np.ndarray]:
    """A frame's (P, 17, 2) and (P, 17, 3) predictions (none when the frame has no entry), checked."""
    empty = (np.zeros((0, MUPOTS.num_joints, 2)), np.zeros((0, MUPOTS.num_joints, 3)))
    pred_2d = np.asarray(preds_2d.get(key, empty[0]), dtype=np.float64)
    pred_3d = np.asarray(preds_3d.get(key, empty[1]), dtype=np.float64)
    for name, array, dims in (("2D", pred_2d, 2), ("3D", pred_3d, 3)):
        if array.ndim != 3 or array.shape[1:] != (MUPOTS.num_joints, dims):
            raise ValueError(
                f"frame (sequence {key[0]}, frame {key[1]}): {name} predictions must be "
                f"(people, {MUPOTS.num_joints}, {dims}), got shape {array.shape}"
            )
    if len(pred_2d) != len(pred_3d):
        raise ValueError(f"frame {key}: {len(pred_2d)} 2D predictions but {len(pred_3d)} 3D predictions")
    return pred_2d, pred_3d


def _finite_mean(values: list[float]) -> float:
    finite = [v for v in values if not np.isnan(v)]
    return float(np.mean(finite)) if finite else float("nan")


def _table(errors: dict[int, list], occluded: dict[int, list] | None) -> dict:
    per_sequence = {}
    for sequence in sorted(errors):
        occ = np.asarray(occluded[sequence], dtype=bool) if occluded is not None else None
        per_sequence[f"TS{sequence}"] = summarise_people(np.asarray(errors[sequence]), occ)
    keys = [k for k in ("pck", "auc", "pck_visible", "pck_occluded") if any(k in c for c in per_sequence.values())]
    everyone = [e for sequence in sorted(errors) for e in errors[sequence]]
    pooled_occ = None if occluded is None else [o for s in sorted(errors) for o in occluded[s]]
    return {
        "per_sequence": per_sequence,
        "mean_over_sequences": {k: _finite_mean([c[k] for c in per_sequence.values()]) for k in keys},
        "pooled": summarise_people(np.asarray(everyone), None if pooled_occ is None else np.asarray(pooled_occ)),
    }


def evaluate_mupots(
    people: Iterable[AnnotatedPerson],
    predictions_2d: Mapping[tuple[int, int], np.ndarray],
    predictions_3d: Mapping[tuple[int, int], np.ndarray],
    joint_set: str | JointSet = MUPOTS,
    match_threshold_px: float = MATCH_THRESHOLD_PX,
    matching: str = "toolkit",
) -> dict:
    """3DPCK@150 mm and AUC for MuPoTS-3D by the toolkit's procedure (module docstring), in both modes.

    Args:
        people: the annotated people of every test frame (invalid ones are skipped).
        predictions_2d: (sequence, frame) -> (P, 17, 2) px of every predicted person in the frame; a
            frame without an entry has no predictions.
        predictions_3d: (sequence, frame) -> (P, 17, 3) mm, camera frame (absolute or root-relative).
        joint_set: joint order of both: MuPoTS's 17 joints (the toolkit is defined on them only).
        match_threshold_px: the matching box's half side (the toolkit's 40 px).
        matching: "toolkit" (default) or "mean_distance" (the package's earlier rule, see :func:`match_people`).

    Returns:
        ``{"procedure", "matching", "all": table, "matched": table, "num_people", "num_matched",
        "match_threshold_px", "pck_threshold_mm", "auc_thresholds_mm", "eval_joints"}``; a table is
        ``{"per_sequence": {"TS1": cell, ...}, "mean_over_sequences": {...}, "pooled": cell}`` with
        cells of :func:`summarise_people` (fractions). ``mean_over_sequences`` averages the sequences'
        figures (the papers' "Avg"), leaving out sequences where a figure is NaN (e.g. no matched
        person); ``pooled`` pools every evaluated person. The visible/occluded figures are there when
        every evaluated person has occlusion labels.
    """
    if get_joint_set(joint_set).names != MUPOTS.names:
        raise ValueError(f"the MuPoTS-3D toolkit scores the 17 MuPoTS joints {MUPOTS.names}, not {joint_set}")
    if matching not in MATCHING_METHODS:
        raise ValueError(f"matching must be one of {MATCHING_METHODS}, got {matching!r}")
    by_frame: dict[tuple[int, int], list[AnnotatedPerson]] = defaultdict(list)
    for person in people:
        if person.valid:
            by_frame[(int(person.sequence), int(person.frame))].append(person)
    errors: dict[str, dict[int, list]] = {"all": defaultdict(list), "matched": defaultdict(list)}
    occluded: dict[str, dict[int, list]] = {"all": defaultdict(list), "matched": defaultdict(list)}
    have_labels = True
    num_people = num_matched = 0
    for key in sorted(by_frame):
        frame_people = sorted(by_frame[key], key=lambda p: p.person_idx)
        pred_2d, pred_3d = _frame_predictions(key, predictions_2d, predictions_3d)
        gt_2d = np.stack([np.asarray(p.joints_2d, dtype=np.float64)[:, :2] for p in frame_people])
        matches = match_people(gt_2d, pred_2d, match_threshold_px, matching)
        for person, match in zip(frame_people, matches):
            num_people += 1
            num_matched += int(match >= 0)
            person_errors = person_joint_errors(pred_3d[match] if match >= 0 else None, person.joints_3d)
            have_labels &= person.occluded is not None
            labels = None if person.occluded is None else np.asarray(person.occluded, dtype=bool).reshape(-1)
            sequence = int(person.sequence)
            errors["all"][sequence].append(person_errors)
            occluded["all"][sequence].append(labels)
            # Every sequence with annotated people has a row in both modes (NaN when nobody matched).
            errors["matched"].setdefault(sequence, [])
            occluded["matched"].setdefault(sequence, [])
            if match >= 0:
                errors["matched"][sequence].append(person_errors)
                occluded["matched"][sequence].append(labels)
    result: dict = {
        "procedure": PROCEDURE,
        "matching": matching,
        "num_people": num_people,
        "num_matched": num_matched,
        "match_threshold_px": float(match_threshold_px),
        "pck_threshold_mm": PCK_THRESHOLD_MM,
        "auc_thresholds_mm": AUC_THRESHOLDS_MM.tolist(),
        "eval_joints": list(EVAL_JOINTS),
    }
    for mode in ("all", "matched"):
        result[mode] = _table(errors[mode], occluded[mode] if have_labels else None)
    return result
