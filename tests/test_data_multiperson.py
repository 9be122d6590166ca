"""MuCo-3DHP and MuPoTS-3D: loaders against the raw JSON, the person selection rule, .mat files, bad inputs."""

from __future__ import annotations

import json

import numpy as np
import pytest
from scipy.io import loadmat

from conftest import annotations_copy, release_box
from convnextpose.data import DatasetError, TrainSamples, load_dataset
from convnextpose.data.check import check_dataset
from convnextpose.data.muco import select_people


def release_selection(anns):
    """The release's loop: the closest person, plus those >= 500 mm (X-Y and 3D) from all others."""
    roots = [np.array(a["keypoints_cam"][14]) for a in anns]
    closest = int(np.argmin([r[2] for r in roots]))
    chosen = [closest]
    for i in range(len(anns)):
        if i == closest:
            continue
        if all(
            np.linalg.norm(roots[i][:2] - roots[j][:2]) >= 500 and np.linalg.norm(roots[i] - roots[j]) >= 500
            for j in range(len(anns))
            if j != i
        ):
            chosen.append(i)
    return {anns[i]["id"] for i in chosen}


def test_muco_loader_matches_the_raw_annotations(muco_root):
    raw = json.loads((muco_root / "data" / "MuCo-3DHP.json").read_text())
    images = {im["id"]: im for im in raw["images"]}
    by_image = {}
    for ann in raw["annotations"]:
        by_image.setdefault(ann["image_id"], []).append(ann)
    expected = set().union(*(release_selection(anns) for anns in by_image.values()))
    dataset = load_dataset("muco", muco_root, "train")
    assert dataset.joint_set.num_joints == 21 and dataset.has_depth
    assert {r.ann_id for r in dataset} == expected
    anns = {a["id"]: a for a in raw["annotations"]}
    for record in dataset:
        ann, im = anns[record.ann_id], images[record.image_id]
        cam = np.array(ann["keypoints_cam"])
        # The file's pixels are the projection of its camera coordinates with the image's f and c.
        projected = cam[:, :2] / cam[:, 2:] * im["f"] + im["c"]
        assert np.allclose(projected, ann["keypoints_img"], atol=0.01)
        assert np.allclose(record.joints_img[:, :2], ann["keypoints_img"]) and np.allclose(
            record.joints_img[:, 2], cam[:, 2]
        )
        assert np.allclose(record.joints_cam, cam) and np.allclose(record.root_cam, cam[14])
        assert np.allclose(record.bbox, release_box(ann["bbox"], im["width"], im["height"]))
        assert np.allclose(record.focal, im["f"]) and np.allclose(record.princpt, im["c"])
        assert record.image_path == muco_root / "data" / im["file_name"] and record.image_path.is_file()
        assert im["file_name"].split("/")[0] in ("augmented_set", "unaugmented_set")


def test_selection_rule_on_hand_made_scenes():
    rows = np.array([0, 0, 0, 1, 1, 2, 2, 2])
    roots = np.array(
        [
            [0, 0, 5000], [300, 0, 6000], [2000, 0, 5500],  # image 0: person 1 is 300 mm (X-Y) from the closest
            [0, 0, 4000], [100, 50, 9000],  # image 1: far apart in depth but 112 mm apart in X-Y: dropped
            [0, 0, 3000], [3000, 0, 3000], [-3000, 0, 3000],  # image 2: all far apart: all kept
        ],
        dtype=float,
    )  # fmt: skip
    assert select_people(rows, roots).tolist() == [True, False, True, True, False, True, True, True]
    shuffled = np.random.default_rng(0).permutation(len(rows))
    assert np.array_equal(select_people(rows[shuffled], roots[shuffled]), select_people(rows, roots)[shuffled])


def test_mupots_loader_matches_the_raw_annotations_and_mat_files(mupots_root):
    raw = json.loads((mupots_root / "data" / "MuPoTS-3D.json").read_text())
    images = {im["id"]: im for im in raw["images"]}
    anns = {a["id"]: a for a in raw["annotations"]}
    dataset = load_dataset("mupots", mupots_root, "test")
    assert len(dataset) == len(raw["annotations"]) and dataset.joint_set.num_joints == 17
    assert {r.meta["sequence"] for r in dataset} == {"TS1", "TS7"}
    assert {r.meta["is_valid"] for r in dataset} <= {0, 1} and any(r.meta["is_valid"] for r in dataset)
    mats = {}
    for record in dataset:
        ann, im = anns[record.ann_id], images[record.image_id]
        fx, fy, cx, cy = im["intrinsic"]
        assert np.allclose(record.focal, [fx, fy]) and np.allclose(record.princpt, [cx, cy])
        assert np.allclose(record.joints_cam, ann["keypoints_cam"]) and np.allclose(
            record.joints_img[:, :2], ann["keypoints_img"]
        )
        assert np.allclose(record.bbox, release_box(ann["bbox"], im["width"], im["height"]))
        assert record.meta["is_valid"] == ann["is_valid"]
        sequence, frame = im["file_name"].split("/")
        assert record.meta["mat_key"] == f"{sequence}_{frame[:-4]}" and record.image_path.is_file()
        if sequence not in mats:
            folder = mupots_root / "data" / "MultiPersonTestSet" / sequence
            mats[sequence] = (
                loadmat(folder / "annot.mat")["annotations"],
                loadmat(folder / "occlusion.mat")["occlusion_labels"],
            )
        annots, occlusion = mats[sequence]
        entry = annots[int(frame[4:10]), record.meta["person_idx"]][0, 0]
        assert np.allclose(entry["annot2"].T, ann["keypoints_img"]) and np.allclose(
            entry["annot3"].T, ann["keypoints_cam"]
        )
        assert int(entry["isValidFrame"][0, 0]) == ann["is_valid"]
        assert occlusion[int(frame[4:10]), record.meta["person_idx"]].shape == (1, 17)
        # The universal skeleton keeps the pelvis and every bone direction, with fixed bone lengths.
        univ, pose = entry["univ_annot3"].T, np.array(ann["keypoints_cam"])
        assert np.allclose(univ[14], pose[14])
        for a, b in dataset.joint_set.skeleton:
            d_univ, d_pose = univ[b] - univ[a], pose[b] - pose[a]
            assert np.dot(d_univ, d_pose) / np.linalg.norm(d_univ) / np.linalg.norm(d_pose) == pytest.approx(
                1, abs=1e-3
            )


def test_mupots_with_detected_boxes_and_roots(mupots_root):
    # The generator writes the release code's name only.
    assert not (mupots_root / "bbox_root" / "bbox_mupots_output.json").exists()
    entries = json.loads((mupots_root / "bbox_root" / "bbox_root_mupots_output.json").read_text())
    dataset = load_dataset("mupots", mupots_root, "test", use_gt_info=False)
    assert len(dataset) == len(entries) > 0
    for record, entry in zip(dataset, entries):
        assert record.image_id == entry["image_id"] and record.ann_id == -1
        assert np.allclose(record.bbox, entry["bbox"]) and np.allclose(record.root_cam, entry["root_cam"])
        assert record.meta["detection"] and not record.joints_vis.any()


def test_mupots_detections_under_either_name(mupots_root, tmp_path):
    root = annotations_copy(mupots_root, tmp_path / "mupots")
    release, readme = (
        root / "bbox_root" / "bbox_root_mupots_output.json",
        root / "bbox_root" / "bbox_mupots_output.json",
    )
    expected = len(load_dataset("mupots", root, "test", use_gt_info=False))
    release.rename(readme)  # the dataset README's name only
    assert len(load_dataset("mupots", root, "test", use_gt_info=False)) == expected
    assert "test, detections" in [s.name for s in check_dataset(root, "mupots", image_sample=0).splits]
    entries = json.loads(readme.read_text())
    release.write_text(json.dumps(entries, indent=2))  # both, same detections written differently
    assert len(load_dataset("mupots", root, "test", use_gt_info=False)) == expected
    release.write_text(json.dumps(entries[1:]))  # both, different
    with pytest.raises(DatasetError, match="bbox_root_mupots_output.json and .*bbox_mupots_output.json both exist"):
        load_dataset("mupots", root, "test", use_gt_info=False)
    report = check_dataset(root, "mupots", image_sample=0)
    assert not report.ok and any("different detections" in p for p in report.problems)
    assert len(load_dataset("mupots", root, "test", use_gt_info=False, bbox_root_file=release)) == expected - 1
    release.unlink()
    readme.unlink()
    with pytest.raises(FileNotFoundError, match="bbox_root_mupots_output.json"):
        load_dataset("mupots", root, "test", use_gt_info=False)


def test_mixing_muco_onto_human36m_joints(muco_root):
    muco = load_dataset("muco", muco_root, "train")
    samples = TrainSamples([muco], "human36m", input_size=(64, 64), augment=False)
    item = samples[0]
    names = samples.joint_set.names
    # Human3.6M's Torso, Neck and Nose have no MuCo joint of the same name.
    missing = [i for i, n in enumerate(names) if n not in muco.joint_set.names]
    assert sorted(names[i] for i in missing) == ["Neck", "Nose", "Torso"]
    assert (item["target_vis"][missing] == 0).all() and item["has_depth"].item() == 1.0


def test_bad_multiperson_records_are_listed(muco_root, mupots_root, tmp_path):
    root = annotations_copy(muco_root, tmp_path / "muco")
    path = root / "data" / "MuCo-3DHP.json"
    data = json.loads(path.read_text())
    data["annotations"][0]["keypoints_cam"] = data["annotations"][0]["keypoints_cam"][:20]
    data["annotations"][2]["keypoints_img"][3][0] = float("nan")
    data["annotations"][3]["image_id"] = 999999
    path.write_text(json.dumps(data))
    with pytest.raises(DatasetError) as info:
        load_dataset("muco", root, "train")
    message = str(info.value)
    assert "3 malformed record(s)" in message and "MuCo-3DHP.json" in message
    assert f"annotation id {data['annotations'][0]['id']}: 'keypoints_cam' has 20 joints, expected 21" in message
    assert f"annotation id {data['annotations'][2]['id']}: 'keypoints_img' has NaN" in message
    assert "image_id 999999 is not in 'images'" in message
    assert len(load_dataset("muco", root, "train", strict=False).problems) == 3
    root = annotations_copy(mupots_root, tmp_path / "mupots")
    (root / "data" / "MuPoTS-3D.json").write_text('{"images": [], "annotations": ')
    with pytest.raises(DatasetError, match="MuPoTS-3D.json: malformed JSON"):
        load_dataset("mupots", root, "test")
    (root / "data" / "MuPoTS-3D.json").unlink()
    with pytest.raises(FileNotFoundError, match="MuPoTS-3D.json") as info:
        load_dataset("mupots", root, "test")
    assert "MultiPersonTestSet/TS1..TS20" in str(info.value)
    with pytest.raises(ValueError, match=r"split\(s\) \[.test.\], not .train."):
        load_dataset("mupots", root, "train")
