"""MuPoTS-3D evaluation against the official toolkit's rules and a literal re-implementation of its MATLAB files.

Hand-made cases pin each rule of the toolkit; ``toolkit_reference`` below re-implements the toolkit
(``mpii_mupots_multiperson_eval.m`` and ``util/``) loop by loop, in MATLAB's order and with its
1-based indices, independently of ``convnextpose.metrics.mupots``, and reads the same ``.mat``
prediction files the toolkit reads; the two must agree to 1e-6 on deliberately hard predictions.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy.io import loadmat

from convnextpose.config import load_config
from convnextpose.data import load_dataset
from convnextpose.data.mupots import mat_key, write_prediction_mat
from convnextpose.engine import Evaluator
from convnextpose.joints import MUPOTS
from convnextpose.metrics import evaluate_mupots, format_mupots
from convnextpose.metrics.mupots import (
    TOOLKIT_PARENTS,
    AnnotatedPerson,
    masked_pck,
    match_people,
    matching_scores,
    pck_and_auc,
    person_joint_errors,
    rescale_bones,
)

# ----------------------------------------------------------------------------------------------------
# A literal re-implementation of the toolkit. Lists hold MATLAB's 1-based numbers; every access
# subtracts 1 where it happens. Poses are MATLAB's (dims x joints) matrices.
# ----------------------------------------------------------------------------------------------------

O1 = [2, 16, 2, 3, 4, 2, 6, 7, 15, 9, 10, 15, 12, 13, 15, 15, 2]  # mpii_get_joints('relevant'), joint_parents_o1
SAFE_TRAVERSAL_ORDER = [15, 16, 2, 1, 17, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14]
JOINT_GROUPS = [  # mpii_get_pck_auc_joint_groups.m (MuPoTS)
    ("Head", [1]), ("Neck", [2]), ("Shou", [3, 6]), ("Elbow", [4, 7]), ("Wrist", [5, 8]),
    ("Hip", [9, 12]), ("Knee", [10, 13]), ("Ankle", [11, 14]),
]  # fmt: skip


def mat_norm(v):
    return np.sqrt(np.sum(np.asarray(v, dtype=np.float64) ** 2))


def ref_identity_matching(pose_2d, visibility, old_pose_2d, old_visibility, matching_threshold):
    """mpii_multiperson_get_identity_matching.m: returns 1-based matches, 0 = none."""
    matching = [0] * len(visibility)
    matched = [0] * len(old_visibility)
    for i in range(1, len(visibility) + 1):
        matching_score = [0] * len(old_visibility)
        for j in range(1, len(old_visibility) + 1):
            if matched[j - 1] > 0:
                continue
            diff = np.abs(pose_2d[i - 1] - old_pose_2d[j - 1])
            matches = (diff[0, :] < matching_threshold) & (diff[1, :] < matching_threshold)
            both = (visibility[i - 1] != 0) & (old_visibility[j - 1] != 0)
            matching_score[j - 1] = int(np.sum(matches[both]))
        if len(matching_score) == 0:  # max([]) is empty and `if(score>0)` is false
            continue
        score, value = max(matching_score), matching_score.index(max(matching_score)) + 1
        if score > 0:
            matching[i - 1] = value
            matched[matching[i - 1] - 1] = 1
    return matching


def ref_map_to_gt_bone_lengths(pred, gt, o1, traversal_order):
    """mpii_map_to_gt_bone_lengths.m on 3 x 17 matrices."""
    mapped_pose = pred.copy()
    for i in range(1, len(traversal_order) + 1):
        idx = traversal_order[i - 1]
        gt_bone_length = mat_norm(gt[:, idx - 1] - gt[:, o1[idx - 1] - 1])
        pred_bone_vector = pred[:, idx - 1] - pred[:, o1[idx - 1] - 1]
        with np.errstate(invalid="ignore", divide="ignore"):
            pred_bone_vector = pred_bone_vector * gt_bone_length / mat_norm(pred_bone_vector)
        mapped_pose[:, idx - 1] = mapped_pose[:, o1[idx - 1] - 1] + pred_bone_vector
    return mapped_pose


def ref_compute_3d_pck(error):
    """mpii_compute_3d_pck.m for one error_data entry: error is (nj, nf); returns the Total PCK and AUC (%)."""
    thresh = list(range(0, 151, 5))
    pck_thresh = 150
    nf = error.shape[1]
    total_curve, total_pck, joint_count = None, None, 0
    with np.errstate(invalid="ignore", divide="ignore"):
        for _name, group in JOINT_GROUPS:
            rows = [g - 1 for g in group]
            curve = np.array([np.float64(np.sum(error[rows, :] < t)) / (len(group) * nf) for t in thresh])
            joint_count += len(group)
            total_curve = curve * len(group) if total_curve is None else total_curve + curve * len(group)
            pck = 100 * np.float64(np.sum(error[rows, :] < pck_thresh)) / (len(group) * nf)
            total_pck = pck * len(group) if total_pck is None else total_pck + pck * len(group)
    total_pck = total_pck / joint_count
    total_curve = total_curve / joint_count
    return total_pck, 100 * np.sum(total_curve) / len(thresh)


def ref_visibility_mask_pck(error, joint_mask):
    """mpii_evaluate_multiperson_errors_visibility_mask.m with joints = 1:14: the Total PCK (fraction)."""
    joints = [j - 1 for j in range(1, 15)]
    jm = joint_mask[joints, :].astype(np.float64)
    masked_errors = error[joints, :].copy()
    masked_errors[np.isnan(masked_errors)] = 160
    masked_errors = masked_errors * jm
    with np.errstate(invalid="ignore", divide="ignore"):
        return 1 - np.float64(np.sum(masked_errors > 150)) / np.sum(jm)


def toolkit_reference(annotations, occlusion_labels, preds_2d_kpt, preds_3d_kpt, eval_mode):
    """mpii_mupots_multiperson_eval(eval_mode, is_relative=1) on {ts: annot.mat cells}, {ts: occlusion cells}.

    Returns per sequence ``(per_joint_error (17, n), occlusion_mask (17, n), annotated, undetected)``.
    """
    num_joints = len(O1)
    out = {}
    for ts in sorted(annotations):
        cells, occ = annotations[ts], occlusion_labels[ts]
        num_frames = cells.shape[0]
        undetected_people = annotated_people = 0
        per_joint_error, per_joint_occlusion_mask = [], []
        for i in range(1, num_frames + 1):
            valid_annotations = 0
            for k in range(1, cells.shape[1] + 1):
                if cells[i - 1, k - 1]["isValidFrame"]:
                    valid_annotations += 1
            annotated_people += valid_annotations
            if valid_annotations == 0:
                continue
            matching_joints = list(range(2, 15))
            cols = [j - 1 for j in matching_joints]
            gt_pose_2d, gt_pose_3d, gt_visibility, gt_pose_occlusion_labels = [], [], [], []
            for k in range(1, cells.shape[1] + 1):
                if cells[i - 1, k - 1]["isValidFrame"]:
                    gt_pose_2d.append(cells[i - 1, k - 1]["annot2"][:, cols])
                    gt_pose_3d.append(cells[i - 1, k - 1]["univ_annot3"])
                    gt_visibility.append(np.ones(len(matching_joints)))
                    gt_pose_occlusion_labels.append(occ[i - 1, k - 1])
            pred_2d_kpt = preds_2d_kpt[f"TS{ts}_img_{i - 1:06d}"]  # sprintf('TS%d_img_%06d', ts, i-1)
            pred_3d_kpt = preds_3d_kpt[f"TS{ts}_img_{i - 1:06d}"]
            num_pred = pred_2d_kpt.shape[0]
            pred_pose_2d, pred_pose_3d, pred_visibility = [], [], []
            for k in range(1, num_pred + 1):
                p2 = np.transpose(pred_2d_kpt[k - 1, :, :])[:, cols]
                pred_pose_2d.append(p2)
                pred_visibility.append(~((p2[0, :] == 0) & (p2[1, :] == 0)))
                p3 = np.transpose(pred_3d_kpt[k - 1, :, :])
                pred_pose_3d.append(p3 - np.tile(p3[:, 15 - 1 : 15], (1, 17)))
            matching = ref_identity_matching(gt_pose_2d, gt_visibility, pred_pose_2d, pred_visibility, 40)
            undetected_people += sum(m == 0 for m in matching)
            for k in range(1, valid_annotations + 1):
                P = gt_pose_3d[k - 1][:, :num_joints] - np.tile(gt_pose_3d[k - 1][:, 15 - 1 : 15], (1, num_joints))
                pred_considered = 0
                if matching[k - 1] != 0:
                    pred_p = pred_pose_3d[matching[k - 1] - 1][:, :num_joints]
                    pred_p = ref_map_to_gt_bone_lengths(pred_p, P, O1, SAFE_TRAVERSAL_ORDER[1:])
                    pred_considered = 1
                else:
                    pred_p = 100000 * np.ones(P.shape)
                    if eval_mode == 0:
                        pred_considered = 1
                if pred_considered == 1:
                    per_joint_error.append(np.sqrt(np.sum((pred_p - P) ** 2, axis=0)))
                    per_joint_occlusion_mask.append(np.asarray(gt_pose_occlusion_labels[k - 1]).reshape(-1))
        errors = np.array(per_joint_error).reshape(-1, 17).T
        masks = np.array(per_joint_occlusion_mask).reshape(-1, 17).T
        out[ts] = (errors, masks, annotated_people, undetected_people)
    return out


def reference_tables(annotations, occlusion_labels, preds_2d_kpt, preds_3d_kpt):
    """The toolkit's per-sequence figures (fractions), the mean over sequences and the pooled figures, per mode."""
    tables = {}
    for mode, eval_mode in (("all", 0), ("matched", 1)):
        seq = toolkit_reference(annotations, occlusion_labels, preds_2d_kpt, preds_3d_kpt, eval_mode)
        rows = {}
        for ts, (errors, masks, _annotated, _undetected) in seq.items():
            pck, auc = ref_compute_3d_pck(errors)
            rows[f"TS{ts}"] = {
                "pck": pck / 100, "auc": auc / 100,
                "pck_visible": ref_visibility_mask_pck(errors, 1 - masks),
                "pck_occluded": ref_visibility_mask_pck(errors, masks),
            }  # fmt: skip
        mean = {k: np.nanmean([r[k] for r in rows.values()]) for k in ("pck", "auc", "pck_visible", "pck_occluded")}
        all_errors = np.concatenate([s[0] for s in seq.values()], axis=1)
        all_masks = np.concatenate([s[1] for s in seq.values()], axis=1)
        pck, auc = ref_compute_3d_pck(all_errors)
        pooled = {"pck": pck / 100, "auc": auc / 100, "pck_visible": ref_visibility_mask_pck(all_errors, 1 - all_masks),
                  "pck_occluded": ref_visibility_mask_pck(all_errors, all_masks)}  # fmt: skip
        annotated = sum(s[2] for s in seq.values())
        tables[mode] = {"per_sequence": rows, "mean_over_sequences": mean, "pooled": pooled}
        tables["num_people"] = annotated
        if mode == "all":
            tables["num_matched"] = annotated - sum(s[3] for s in seq.values())
    return tables


def assert_same_figures(ours, reference):
    assert ours["num_people"] == reference["num_people"] and ours["num_matched"] == reference["num_matched"]
    for mode in ("all", "matched"):
        assert set(ours[mode]["per_sequence"]) == set(reference[mode]["per_sequence"])
        cells = [(ours[mode]["per_sequence"][s], r) for s, r in reference[mode]["per_sequence"].items()]
        cells += [(ours[mode][k], reference[mode][k]) for k in ("mean_over_sequences", "pooled")]
        for cell, expected in cells:
            for key, value in expected.items():
                assert cell[key] == pytest.approx(value, abs=1e-6, nan_ok=True), (mode, key)


# ----------------------------------------------------------------------------------------------------
# Hard predictions
# ----------------------------------------------------------------------------------------------------


def perturb(rng, joints_2d, joints_3d):
    """One predicted person from an annotated one: shifted, noisy, zeroed or swapped joints, scaled bones."""
    pred_2d = joints_2d.copy()
    shift = rng.choice([0.0, 10.0, 35.0, 40.0, 60.0, 150.0], size=2)  # 40 px exactly: the box's edge
    pred_2d += shift * rng.choice([-1.0, 1.0], size=2)
    pred_2d += rng.choice([0.0, 3.0, 25.0]) * rng.normal(size=pred_2d.shape)
    pred_2d[rng.random(17) < 0.12] = 0.0  # joints the predictor left at (0, 0)
    pred_3d = joints_3d + np.array([80.0, -40.0, 250.0]) + rng.choice([0.0, 20.0, 90.0]) * rng.normal(size=(17, 3))
    root = pred_3d[14].copy()
    pred_3d = root + rng.uniform(0.7, 1.3) * (pred_3d - root)  # scaled bones
    if rng.random() < 0.15:  # a zero-length bone: the toolkit's rescaling gives NaN
        child = int(rng.choice([j for j in range(17) if j != 14]))
        pred_3d[child] = pred_3d[TOOLKIT_PARENTS[child]]
    if rng.random() < 0.2:  # left/right swapped
        perm = MUPOTS.flip_permutation
        pred_2d, pred_3d = pred_2d[perm], pred_3d[perm]
    return pred_2d, pred_3d


def hard_predictions(rng, frame_people):
    """Predictions of one frame: dropped people, perturbed ones, false and near-duplicate predictions, shuffled."""
    preds = [perturb(rng, j2, j3) for j2, j3 in frame_people if rng.random() > 0.2]
    for _ in range(rng.integers(0, 3)):  # false predictions
        center = rng.uniform([0, 0], [1000, 600])
        preds.append((center + rng.normal(scale=60.0, size=(17, 2)), rng.normal(scale=300.0, size=(17, 3)) + 4000))
    if preds and rng.random() < 0.5:  # a near-duplicate of a prediction, with other 3D joints
        p2, p3 = preds[int(rng.integers(len(preds)))]
        preds.append((p2 + rng.normal(scale=2.0, size=p2.shape), p3 + rng.normal(scale=40.0, size=p3.shape)))
    order = rng.permutation(len(preds))
    pred_2d = np.array([preds[i][0] for i in order]).reshape(-1, 17, 2)
    pred_3d = np.array([preds[i][1] for i in order]).reshape(-1, 17, 3)
    return pred_2d, pred_3d


def random_scene(rng, sequences=(1, 2, 5), frames=4, people=4):
    """Toolkit-layout annotations ({ts: (frames, people) cells}) and the same people as AnnotatedPerson."""
    annotations, occlusion, people_list = {}, {}, []
    for ts in sequences:
        cells = np.empty((frames, people), dtype=object)
        occ = np.empty((frames, people), dtype=object)
        centers = rng.uniform([80, 80], [900, 500], size=(people, 2))
        centers[1] = centers[0] + [30.0, 10.0]  # two people close together: contested matches
        centers[-1] = [20.0, 20.0]  # one at the image corner, where zeroed predicted joints fall inside the box
        for f in range(frames):
            for k in range(people):
                joints_2d = np.round((centers[k] + rng.normal(scale=45.0, size=(17, 2))) * 2) / 2
                joints_3d = rng.normal(scale=300.0, size=(17, 3)) + [0.0, 0.0, 4500.0]
                valid = rng.random() > 0.15
                labels = (rng.random(17) < 0.3).astype(np.float64)
                cells[f, k] = {"annot2": joints_2d.T, "univ_annot3": joints_3d.T, "isValidFrame": valid}
                occ[f, k] = labels[None]
                people_list.append(AnnotatedPerson(ts, f, joints_2d, joints_3d, valid, labels > 0.5, person_idx=k))
        annotations[ts], occlusion[ts] = cells, occ
    return annotations, occlusion, people_list


@pytest.mark.parametrize("seed", range(4))
def test_equals_a_literal_toolkit_reimplementation_on_hard_predictions(tmp_path, seed):
    rng = np.random.default_rng(seed)
    annotations, occlusion, people = random_scene(rng)
    preds_2d, preds_3d = {}, {}
    for ts, cells in annotations.items():
        for f in range(cells.shape[0]):
            frame_people = [(c["annot2"].T, c["univ_annot3"].T) for c in cells[f]]
            preds_2d[(ts, f)], preds_3d[(ts, f)] = hard_predictions(rng, frame_people)
    # The toolkit reads the .mat files the evaluator writes.
    write_prediction_mat(tmp_path / "preds_2d_kpt_mupots.mat", {mat_key(*k): v for k, v in preds_2d.items()})
    write_prediction_mat(tmp_path / "preds_3d_kpt_mupots.mat", {mat_key(*k): v for k, v in preds_3d.items()})
    reference = reference_tables(
        annotations,
        occlusion,
        loadmat(tmp_path / "preds_2d_kpt_mupots.mat"),
        loadmat(tmp_path / "preds_3d_kpt_mupots.mat"),
    )
    ours = evaluate_mupots(people[::-1], preds_2d, preds_3d)  # any input order: person_idx fixes the matching order
    assert ours["matching"] == "toolkit"
    assert_same_figures(ours, reference)
    # The predictions were hard: people missed, figures that differ between the modes.
    assert 0 < ours["num_matched"] < ours["num_people"]
    assert ours["all"]["pooled"]["pck"] < ours["matched"]["pooled"]["pck"]
    # The package's earlier rule is a different metric, and the comparison sees it.
    earlier = evaluate_mupots(people, preds_2d, preds_3d, matching="mean_distance")
    assert earlier["matching"] == "mean_distance"
    with pytest.raises(AssertionError):
        assert_same_figures(earlier, reference)


def test_evaluator_on_generated_data_equals_the_toolkit(tmp_path, mupots_root):
    """The Evaluator's whole MuPoTS path (loader, annot.mat, occlusion.mat, .mat files) against the reference."""
    root = mupots_root
    dataset = load_dataset("mupots", root, "test")
    cfg = load_config(None, {"data.test_set": "mupots", "run.output_dir": str(tmp_path), "run.progress": False})
    evaluator = Evaluator(cfg, dataset=dataset)
    rng = np.random.default_rng(7)
    joints_img, joints_cam = [], []
    for record in dataset.records:  # one prediction per record: perturbed, or far away ("dropped")
        pred_2d, pred_3d = perturb(rng, np.asarray(record.joints_img)[:, :2], np.asarray(record.joints_cam))
        if rng.random() < 0.2:
            pred_2d = pred_2d + 1000.0
        joints_img.append(np.concatenate([pred_2d, pred_3d[:, 2:]], axis=1))
        joints_cam.append(pred_3d)
    evaluator.decode = lambda pred_hm, spec, dataset=None, joint_set=None: (np.array(joints_img), np.array(joints_cam))
    result = evaluator._score_mupots(np.zeros((len(dataset.records), 17, 3)), None, tmp_path)
    assert result["details"]["sources"] == {"universal_annotation": True, "occlusion_labels": True}
    folder = root / "data" / "MultiPersonTestSet"
    annotations, occlusion = {}, {}
    for ts in sorted({int(r.meta["sequence"][2:]) for r in dataset.records}):
        raw = loadmat(folder / f"TS{ts}" / "annot.mat")["annotations"]
        annotations[ts] = np.empty(raw.shape, dtype=object)
        for (f, k), cell in np.ndenumerate(raw):
            annotations[ts][f, k] = {
                "annot2": cell["annot2"][0, 0], "univ_annot3": cell["univ_annot3"][0, 0],
                "isValidFrame": bool(cell["isValidFrame"][0, 0][0, 0]),
            }  # fmt: skip
        occlusion[ts] = loadmat(folder / f"TS{ts}" / "occlusion.mat")["occlusion_labels"]
    reference = reference_tables(
        annotations,
        occlusion,
        loadmat(tmp_path / "preds_2d_kpt_mupots.mat"),
        loadmat(tmp_path / "preds_3d_kpt_mupots.mat"),
    )
    assert_same_figures(result["details"], reference)
    assert result["details"]["num_matched"] < result["details"]["num_people"]


# ----------------------------------------------------------------------------------------------------
# Hand-made cases, one per rule
# ----------------------------------------------------------------------------------------------------


def grid_person(center):
    """17 joints 20 px apart around ``center`` (px)."""
    offsets = np.stack(np.meshgrid(np.arange(-2, 3), np.arange(-2, 2)), -1).reshape(-1, 2)[:17] * 20.0
    return np.asarray(center, dtype=np.float64) + offsets


def test_one_joint_inside_the_box_matches_and_a_closer_prediction_outside_it_does_not():
    gt = grid_person([500.0, 300.0])[None]
    one_joint = gt[0] + 200.0
    one_joint[5] = gt[0, 5]  # only joint 6 (L_Shoulder) agrees
    closer = gt[0] + [30.0, 45.0]  # 54 px away on every joint, but |dy| >= 40: outside the box
    assert matching_scores(gt, np.stack([closer, one_joint])).tolist() == [[0, 1]]
    assert match_people(gt, np.stack([closer, one_joint])).tolist() == [1]
    assert match_people(gt, closer[None]).tolist() == [-1]
    # The box is per axis: 39 px in x and y (55 px away) is inside.
    assert matching_scores(gt, (gt[0] + [39.0, 39.0])[None]).tolist() == [[13]]


def test_the_box_is_strict_at_40_px():
    gt = grid_person([500.0, 300.0])[None]
    assert matching_scores(gt, (gt[0] + [40.0, 0.0])[None]).tolist() == [[0]]
    assert matching_scores(gt, (gt[0] + [0.0, -40.0])[None]).tolist() == [[0]]
    assert matching_scores(gt, (gt[0] + [39.999, -39.999])[None]).tolist() == [[13]]
    assert match_people(gt, (gt[0] + 40.0)[None]).tolist() == [-1]


def test_score_is_a_joint_count_over_thorax_to_left_ankle():
    gt = grid_person([500.0, 300.0])[None]
    pred = gt[0].copy()
    pred[[0, 14, 15, 16]] += 500.0  # head top, pelvis, spine, head do not take part
    assert matching_scores(gt, pred[None]).tolist() == [[13]]
    pred[[1, 13]] += 500.0  # thorax and left ankle do
    assert matching_scores(gt, pred[None]).tolist() == [[11]]


def test_ties_go_to_the_first_prediction_and_people_match_in_annotation_order(rng):
    gt = grid_person([500.0, 300.0])[None]
    shifted, exact = gt[0] + 30.0, gt[0].copy()  # both score 13
    assert match_people(gt, np.stack([shifted, exact])).tolist() == [0]
    # Person 1 takes the prediction that fits person 2 better; person 2 gets nothing.
    gt_2d = np.stack([grid_person([500.0, 300.0]), grid_person([520.0, 300.0])])
    gt_2d[0, 1] += 100.0
    pred_2d = np.stack([gt_2d[1], gt_2d[1] + 500.0])
    assert matching_scores(gt_2d, pred_2d)[:, 0].tolist() == [12, 13]
    assert match_people(gt_2d, pred_2d).tolist() == [0, -1]
    gt_3d = [toolkit_pose(rng), toolkit_pose(rng)]
    people = [AnnotatedPerson(1, 0, gt_2d[k], gt_3d[k], person_idx=k) for k in (1, 0)]  # given out of order
    result = evaluate_mupots(people, {(1, 0): pred_2d}, {(1, 0): np.stack([gt_3d[1], gt_3d[1]])})
    expected = pck_and_auc(person_joint_errors(gt_3d[1], gt_3d[0])[None])[0]
    assert result["num_matched"] == 1 and result["matched"]["pooled"]["pck"] == expected < 1.0


def test_joints_at_zero_zero_are_invisible():
    gt = grid_person([10.0, 10.0])[None] * 0.5  # a person within 30 px of the image corner
    assert matching_scores(gt, np.zeros((1, 17, 2))).tolist() == [[0]]
    pred = np.zeros((1, 17, 2))
    pred[0, 3] = [0.0, 1.0]  # only an exact (0, 0) is invisible
    assert matching_scores(gt, pred).tolist() == [[1]]
    nan = gt.copy()
    nan[0, 1:14] = np.nan
    assert matching_scores(gt, nan).tolist() == [[0]]


def toolkit_pose(rng):
    pose = rng.normal(scale=250.0, size=(17, 3))
    return pose - pose[14]


def test_rescaling_gives_true_lengths_keeps_directions_and_hangs_the_head_top_from_the_thorax(rng):
    names = MUPOTS.names
    assert names[TOOLKIT_PARENTS[0]] == "Thorax" and names[TOOLKIT_PARENTS[16]] == "Thorax"
    assert names[TOOLKIT_PARENTS[1]] == "Spine" and TOOLKIT_PARENTS[14] == 14
    gt, pred = toolkit_pose(rng), toolkit_pose(rng)
    out = rescale_bones(pred, gt)
    for child, parent in enumerate(TOOLKIT_PARENTS):
        if child == 14:
            continue
        assert np.linalg.norm(out[child] - out[parent]) == pytest.approx(np.linalg.norm(gt[child] - gt[parent]))
        bone, new = pred[child] - pred[parent], out[child] - out[parent]
        assert np.dot(bone, new) / np.linalg.norm(bone) / np.linalg.norm(new) == pytest.approx(1.0)
    # A wrong head does not move the head top: its bone starts at the thorax.
    wrong_head = gt.copy()
    wrong_head[16] += [0.0, 300.0, 0.0]
    errors = person_joint_errors(wrong_head + 1000.0, gt)
    assert errors[0] == pytest.approx(0.0, abs=1e-9) and errors[16] > 1.0
    assert np.allclose(rescale_bones(1.7 * gt, gt), gt)


def test_a_zero_length_predicted_bone_gives_nan_below_it(rng):
    gt = toolkit_pose(rng)
    pred = gt.copy()
    pred[15] = pred[14]  # spine on the pelvis
    errors = person_joint_errors(pred, gt)
    upper = [0, 1, 2, 3, 4, 5, 6, 7, 15, 16]  # rescaled from the spine, directly or not
    assert np.isnan(errors[upper]).all() and np.allclose(errors[[8, 9, 10, 11, 12, 13, 14]], 0.0, atol=1e-9)
    assert pck_and_auc(errors[None])[0] == pytest.approx(6 / 14)
    assert masked_pck(errors[None], np.ones((1, 17), bool)) == pytest.approx(6 / 14)


def test_14_joints_are_scored(rng):
    gt = toolkit_pose(rng)
    pred = gt.copy()
    pred[16] += [500.0, 0.0, 0.0]  # the head is joint 17: not scored
    assert pck_and_auc(person_joint_errors(pred, gt)[None])[0] == 1.0
    pred[13] += [0.0, 0.0, 500.0]  # the left ankle is joint 14: scored
    assert pck_and_auc(person_joint_errors(pred, gt)[None])[0] == pytest.approx(13 / 14)


def test_thresholds_are_strict_for_pck_and_auc_but_not_in_the_visibility_tables():
    errors = np.zeros((2, 17))
    errors[0, :14] = 150.0
    errors[1, :14] = 149.999
    pck, auc = pck_and_auc(errors)
    assert pck == pytest.approx(0.5)
    assert auc == pytest.approx((0 + 1 / 31) / 2)  # 150 mm is below no threshold, 149.999 mm below 150 only
    assert pck_and_auc(np.zeros((1, 17)))[1] == pytest.approx(30 / 31)  # a perfect pose misses at t = 0
    assert pck_and_auc(np.full((1, 17), 5.0))[1] == pytest.approx(29 / 31)  # 5 mm is not < 5
    mask = np.ones((2, 17), bool)
    assert masked_pck(errors, mask) == 1.0  # the visibility tables count `error > 150` as missed
    errors[1, 0] = np.nan
    assert pck_and_auc(errors)[0] == pytest.approx(13 / 28) and masked_pck(errors, mask) == pytest.approx(27 / 28)
    assert np.isnan(masked_pck(errors, np.zeros((2, 17), bool)))
    assert np.isnan(pck_and_auc(np.zeros((0, 17)))[0])


def test_all_versus_matched_per_sequence(rng):
    people, preds_2d, preds_3d = [], {}, {}
    # TS1 frame 0: two people predicted exactly (up to a global 3D shift); frame 1: one exact, one missed.
    # TS2 frame 0: one person with every bone 2x too long (undone by the rescaling) and one invalid one.
    for sequence, frame, specs in (
        (1, 0, ["exact", "exact"]),
        (1, 1, ["exact", "missing"]),
        (2, 0, ["long", "invalid"]),
    ):
        p2, p3 = [], []
        for k, spec in enumerate(specs):
            joints_3d = toolkit_pose(rng) + [0.0, 0.0, 4000.0]
            joints_2d = grid_person([150.0 + 300 * k, 200.0])
            occluded = np.zeros(17, bool)
            occluded[:4] = True
            people.append(AnnotatedPerson(sequence, frame, joints_2d, joints_3d, spec != "invalid", occluded, k))
            if spec in ("exact", "long"):
                p2.append(joints_2d + 2.0)
                p3.append(joints_3d + 50.0 if spec == "exact" else joints_3d[14] + 2.0 * (joints_3d - joints_3d[14]))
        preds_2d[(sequence, frame)] = np.array(p2).reshape(-1, 17, 2)
        preds_3d[(sequence, frame)] = np.array(p3).reshape(-1, 17, 3)
    result = evaluate_mupots(people, preds_2d, preds_3d)
    assert result["num_people"] == 5 and result["num_matched"] == 4
    all_ts1, matched_ts1 = result["all"]["per_sequence"]["TS1"], result["matched"]["per_sequence"]["TS1"]
    assert all_ts1["pck"] == pytest.approx(3 / 4) and matched_ts1["pck"] == 1.0
    assert all_ts1["num_people"] == 4 and all_ts1["num_joints"] == 4 * 14
    assert matched_ts1["auc"] >= 29 / 31 and all_ts1["auc"] == pytest.approx(3 / 4 * matched_ts1["auc"])
    assert result["all"]["per_sequence"]["TS2"]["pck"] == 1.0
    assert result["all"]["mean_over_sequences"]["pck"] == pytest.approx((0.75 + 1.0) / 2)
    assert result["all"]["pooled"]["pck"] == pytest.approx(4 / 5)
    assert all_ts1["pck_visible"] == pytest.approx(3 / 4) and all_ts1["num_joints_visible"] == 4 * 10
    assert result["eval_joints"] == list(MUPOTS.names[:14])
    table = format_mupots(result)
    assert "TS1" in table and "TS2" in table and " 75.0" in table and "toolkit matching" in table


def test_a_sequence_without_matches_is_nan_in_matched_mode_and_left_out_of_the_mean(rng):
    people = [AnnotatedPerson(s, 0, grid_person([300.0, 300.0]), toolkit_pose(rng), person_idx=0) for s in (1, 2)]
    preds_2d = {(1, 0): grid_person([300.0, 300.0])[None]}
    preds_3d = {(1, 0): people[0].joints_3d[None]}
    result = evaluate_mupots(people, preds_2d, preds_3d)
    assert np.isnan(result["matched"]["per_sequence"]["TS2"]["pck"])
    assert result["matched"]["mean_over_sequences"]["pck"] == 1.0
    assert result["all"]["mean_over_sequences"]["pck"] == pytest.approx(0.5)
    assert "pck_visible" not in result["all"]["pooled"]  # no occlusion labels given


def test_bad_arguments_are_refused():
    person = AnnotatedPerson(1, 0, grid_person([300.0, 300.0]), np.zeros((17, 3)))
    with pytest.raises(ValueError, match="17 MuPoTS joints"):
        evaluate_mupots([person], {}, {}, joint_set="human36m")
    with pytest.raises(ValueError, match="matching"):
        evaluate_mupots([person], {}, {}, matching="hungarian")
    with pytest.raises(ValueError, match=r"frame \(sequence 1, frame 0\): 3D predictions must be"):
        evaluate_mupots([person], {(1, 0): np.zeros((1, 17, 2))}, {(1, 0): np.zeros((1, 14, 3))})
    with pytest.raises(ValueError, match="1 2D predictions but 2 3D"):
        evaluate_mupots([person], {(1, 0): np.zeros((1, 17, 2))}, {(1, 0): np.zeros((2, 17, 3))})
