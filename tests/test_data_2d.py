"""MPII and MS COCO: COCO-format keypoints against the raw JSON, Thorax/Pelvis, the bbox_root test split."""

from __future__ import annotations

import json

import numpy as np
import pytest

from conftest import annotations_copy, release_box
from convnextpose.data import DatasetError, TrainSamples, load_dataset


def _usable(raw):
    return {a["id"]: a for a in raw["annotations"] if not a.get("iscrowd") and a["num_keypoints"] > 0}


def test_mpii_matches_the_raw_keypoints(mpii_root):
    raw = json.loads((mpii_root / "annotations" / "train.json").read_text())
    images = {im["id"]: im for im in raw["images"]}
    usable = _usable(raw)
    dataset = load_dataset("mpii", mpii_root, "train")
    assert not dataset.has_depth and dataset.joint_set.num_joints == 16
    assert {r.ann_id for r in dataset} == set(usable)
    assert sum(a["num_keypoints"] == 0 for a in raw["annotations"]) == dataset.skipped.get("num_keypoints == 0", 0)
    for record in dataset:
        ann, im = usable[record.ann_id], images[record.image_id]
        kp = np.array(ann["keypoints"]).reshape(16, 3)
        assert np.allclose(record.joints_img[:, :2], kp[:, :2]) and (record.joints_img[:, 2] == 0).all()
        assert np.array_equal(record.joints_vis, (kp[:, 2] > 0).astype(np.float32))
        assert np.allclose(record.bbox, release_box(ann["bbox"], im["width"], im["height"]))
        assert record.image_path == mpii_root / "images" / im["file_name"] and record.image_path.is_file()
    # Keypoints are really on the people: visible ones lie inside the visible silhouette's box.
    for ann in usable.values():
        kp = np.array(ann["keypoints"]).reshape(16, 3)
        x, y, w, h = ann["bbox"]
        seen = kp[kp[:, 2] == 2]
        assert (
            (seen[:, 0] >= x - 1) & (seen[:, 0] <= x + w + 1) & (seen[:, 1] >= y - 1) & (seen[:, 1] <= y + h + 1)
        ).all()


def test_coco_train_appends_thorax_and_pelvis_visible_only_with_both_parents(coco_root):
    raw = json.loads((coco_root / "annotations" / "person_keypoints_train2017.json").read_text())
    usable = _usable(raw)
    dataset = load_dataset("coco", coco_root, "train")
    assert dataset.joint_set.names[17:] == ("Thorax", "Pelvis")
    assert {r.ann_id for r in dataset} == set(usable)
    for record in dataset:
        kp = np.array(usable[record.ann_id]["keypoints"]).reshape(17, 3)
        assert np.allclose(record.joints_img[:17, :2], kp[:, :2])
        assert np.allclose(record.joints_img[17, :2], (kp[5, :2] + kp[6, :2]) / 2)
        assert np.allclose(record.joints_img[18, :2], (kp[11, :2] + kp[12, :2]) / 2)
        assert record.joints_vis[17] == float(kp[5, 2] > 0 and kp[6, 2] > 0)
        assert record.joints_vis[18] == float(kp[11, 2] > 0 and kp[12, 2] > 0)


def test_coco_thorax_needs_both_shoulders(coco_root, tmp_path):
    root = annotations_copy(coco_root, tmp_path / "coco")
    path = root / "annotations" / "person_keypoints_train2017.json"
    data = json.loads(path.read_text())
    target = next(a for a in data["annotations"] if a["num_keypoints"] > 0)
    target["keypoints"][5 * 3 + 2] = 0  # hide the left shoulder
    path.write_text(json.dumps(data))
    record = next(r for r in load_dataset("coco", root, "train") if r.ann_id == target["id"])
    assert record.joints_vis[5] == 0 and record.joints_vis[17] == 0


def test_coco_test_uses_bbox_root_with_focal_1500_and_centred_principal_point(coco_root):
    entries = json.loads((coco_root / "bbox_root" / "bbox_root_coco_output.json").read_text())
    raw = json.loads((coco_root / "annotations" / "person_keypoints_val2017.json").read_text())
    images = {im["id"]: im for im in raw["images"]}
    anns = {a["id"]: a for a in raw["annotations"]}
    dataset = load_dataset("coco", coco_root, "test")
    assert len(dataset) == len(entries) > 0
    for record, entry in zip(dataset, entries):
        im = images[entry["image_id"]]
        assert np.allclose(record.bbox, entry["bbox"]) and np.allclose(record.root_cam, entry["root_cam"])
        assert np.allclose(record.focal, 1500) and np.allclose(record.princpt, [im["width"] / 2, im["height"] / 2])
        assert np.allclose(
            record.joints_img[:17, :2], np.array(anns[entry["ann_id"]]["keypoints"]).reshape(17, 3)[:, :2]
        )


def test_2d_sets_train_without_depth(mpii_root, coco_root):
    sets = [load_dataset("mpii", mpii_root), load_dataset("coco", coco_root)]
    samples = TrainSamples(sets, "mpii", input_size=(64, 64), augment=False)
    assert len(samples) == sum(len(s) for s in sets)
    item = samples[len(samples) - 1]  # a COCO record mapped onto MPII's joints
    assert item["has_depth"].item() == 0.0
    names = samples.joint_set.names
    assert item["target_vis"][names.index("Neck")] == 0 and item["target_vis"][names.index("Head")] == 0


def test_bad_coco_files(coco_root, tmp_path):
    root = annotations_copy(coco_root, tmp_path / "coco")
    path = root / "annotations" / "person_keypoints_train2017.json"
    data = json.loads(path.read_text())
    data["annotations"][0]["keypoints"] = data["annotations"][0]["keypoints"][:-3]
    del data["annotations"][1]["bbox"]
    path.write_text(json.dumps(data))
    with pytest.raises(DatasetError) as info:
        load_dataset("coco", root, "train")
    assert f"annotation id {data['annotations'][0]['id']}: 'keypoints' has shape (48,), expected (51,)" in str(
        info.value
    )
    assert f"annotation id {data['annotations'][1]['id']}: missing key 'bbox'" in str(info.value)
    path.write_text(json.dumps({"images": []}))
    with pytest.raises(DatasetError, match="missing or non-list top-level key 'annotations'"):
        load_dataset("coco", root, "train")
    (root / "bbox_root" / "bbox_root_coco_output.json").unlink()
    with pytest.raises(FileNotFoundError, match="bbox_root_coco_output.json"):
        load_dataset("coco", root, "test")
