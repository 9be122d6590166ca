"""Human3.6M: the generated folder's exact layout, the loader against an independent projection, bad inputs."""

from __future__ import annotations

import json

import cv2
import numpy as np
import pytest

from conftest import H36M_IMAGE_KEYS as IMAGE_KEYS
from conftest import annotations_copy, assert_h36m_release_layout, shared_path
from convnextpose.data import DatasetError, TestSamples, TrainSamples, load_dataset
from convnextpose.data.human36m import _read_bbox_root
from convnextpose.data.records import Problems
from convnextpose.image import ImageError

SUBJECTS = (1, 5, 6, 7, 8, 9, 11)


def _read(root, subject, kind):
    return json.loads((root / "annotations" / f"Human36M_subject{subject}_{kind}.json").read_text())


def release_box(box, width, height, aspect=1.0):
    """The release's process_bbox, written out in plain Python."""
    x, y, w, h = box
    x1, y1 = max(0.0, x), max(0.0, y)
    x2, y2 = min(width - 1.0, x1 + max(0.0, w - 1)), min(height - 1.0, y1 + max(0.0, h - 1))
    w, h = x2 - x1, y2 - y1
    cx, cy = x1 + w / 2, y1 + h / 2
    if w > aspect * h:
        h = w / aspect
    elif w < aspect * h:
        w = h * aspect
    return np.array([cx - w * 1.25 / 2, cy - h * 1.25 / 2, w * 1.25, h * 1.25])


def three_point_crop(box, size):
    """Image -> crop affine from three point pairs (centre, right edge mid, bottom edge mid)."""
    cx, cy = box[0] + box[2] / 2, box[1] + box[3] / 2
    src = np.float32([[cx, cy], [cx + box[2] / 2, cy], [cx, cy + box[3] / 2]])
    dst = np.float32([[size / 2, size / 2], [size, size / 2], [size / 2, size]])
    return cv2.getAffineTransform(src, dst)


def expected_joints(root, subject):
    """ann id -> (joints_cam (18, 3), joints_img (18, 3), box, image dict), from the raw JSON with NumPy."""
    data, cams, joints = (_read(root, subject, k) for k in ("data", "camera", "joint_3d"))
    images = {im["id"]: im for im in data["images"]}
    out = {}
    for ann in data["annotations"]:
        im = images[ann["image_id"]]
        cam = cams[str(im["cam_idx"])]
        world = np.array(joints[str(im["action_idx"])][str(im["subaction_idx"])][str(im["frame_idx"])])
        cam_pts = world @ np.array(cam["R"]).T + np.array(cam["t"])
        cam_pts = np.vstack([cam_pts, (cam_pts[11] + cam_pts[14]) / 2])
        u = cam_pts[:, 0] / cam_pts[:, 2] * cam["f"][0] + cam["c"][0]
        v = cam_pts[:, 1] / cam_pts[:, 2] * cam["f"][1] + cam["c"][1]
        out[ann["id"]] = (cam_pts, np.stack([u, v, cam_pts[:, 2]], 1), np.array(ann["bbox"]), im)
    return out


def test_generated_folder_has_the_release_layout(h36m_root):
    assert_h36m_release_layout(h36m_root)
    for s in SUBJECTS:
        data, cams, joints = (_read(h36m_root, s, k) for k in ("data", "camera", "joint_3d"))
        assert len(data["images"]) == len(data["annotations"]) == 1 * 2 * 2  # actions x cameras x frames
        assert all(set(im) == IMAGE_KEYS for im in data["images"])
        assert all(set(ann) == {"id", "image_id", "bbox"} for ann in data["annotations"])
        assert set(cams) == {"1", "2"}
        for cam in cams.values():
            rot = np.array(cam["R"])
            # Cameras like Human3.6M's: 4.5-6.5 m from the capture area's centre, focal ~1145 px at 1000 px.
            assert 4000 < np.linalg.norm(rot.T @ np.array(cam["t"])) < 7000
            assert cam["f"][0] == pytest.approx(1145 * 160 / 1000, rel=0.03)
        assert set(joints) == {"2"} and set(joints["2"]) == {"1"} and set(joints["2"]["1"]) == {"0", "5"}


def test_loader_matches_an_independent_projection(h36m_root):
    dataset = load_dataset("human36m", h36m_root, "train", protocol=2, subsample=1)
    assert dataset.joint_set.num_joints == 18 and dataset.has_depth
    assert len(dataset) == 5 * 4
    expected = {}
    for s in (1, 5, 6, 7, 8):
        expected.update(expected_joints(h36m_root, s))
    for record in dataset:
        cam_pts, img_pts, raw_box, im = expected[record.ann_id]
        assert np.allclose(record.joints_cam, cam_pts, atol=1e-6)
        assert np.allclose(record.joints_img, img_pts, atol=1e-6)
        assert np.allclose(record.root_cam, cam_pts[0])
        assert np.allclose(record.bbox, release_box(raw_box, im["width"], im["height"]))
        assert record.image_path == h36m_root / "images" / im["file_name"]
        assert record.meta["subject"] == im["subject"] and record.meta["action_name"] == "Directions"
        assert record.joints_vis.shape == (18,) and record.joints_vis.all()
    # The body is really where the annotation says: the projected pelvis lies inside the drawn silhouette box.
    for record in dataset.records[:4]:
        _, img_pts, raw_box, _ = expected[record.ann_id]
        assert raw_box[0] <= img_pts[0, 0] <= raw_box[0] + raw_box[2]
        assert raw_box[1] <= img_pts[0, 1] <= raw_box[1] + raw_box[3]


def test_protocols_and_frame_subsampling(h36m_root):
    train2 = load_dataset("human36m", h36m_root, "train", protocol=2)
    assert {r.meta["subject"] for r in train2} == {1, 5, 6, 7, 8}
    assert {r.meta["frame_idx"] for r in train2} == {0, 5}  # every 5th frame
    test2 = load_dataset("human36m", h36m_root, "test", protocol=2)
    assert {r.meta["subject"] for r in test2} == {9, 11}
    assert {r.meta["frame_idx"] for r in test2} == {0}  # every 64th frame
    train1 = load_dataset("human36m", h36m_root, "train", protocol=1, subsample=1)
    test1 = load_dataset("human36m", h36m_root, "test", protocol=1, subsample=1)
    assert {r.meta["subject"] for r in train1} == {1, 5, 6, 7, 8, 9} and {r.meta["subject"] for r in test1} == {11}
    with pytest.raises(ValueError, match="protocol"):
        load_dataset("human36m", h36m_root, "train", protocol=3)
    with pytest.raises(ValueError, match="unknown option"):
        load_dataset("human36m", h36m_root, "train", protcol=1)


def test_bbox_root_boxes_and_roots_are_used_as_given(h36m_root):
    dataset = load_dataset("human36m", h36m_root, "test", protocol=2, use_gt_info=False, subsample=1)
    entries = {
        e["image_id"]: e for e in json.loads((h36m_root / "bbox_root" / "bbox_root_human36m_output.json").read_text())
    }
    assert len(dataset) == 2 * 4
    for record in dataset:
        assert np.allclose(record.bbox, entries[record.image_id]["bbox"])  # already extended: used unchanged
        assert np.allclose(record.root_cam, entries[record.image_id]["root_cam"])
        assert not np.allclose(record.root_cam, record.joints_cam[0])  # a detector's root, not the truth


def test_targets_and_crops_agree_with_an_independent_computation(h36m_root):
    dataset = load_dataset("human36m", h36m_root, "test", protocol=2, subsample=1)
    samples = TrainSamples([dataset], "human36m", input_size=(64, 64), augment=False)
    tests = TestSamples(dataset, input_size=(64, 64))
    expected = {**expected_joints(h36m_root, 9), **expected_joints(h36m_root, 11)}
    for index in (0, 5):
        record = dataset[index]
        _, img_pts, raw_box, im = expected[record.ann_id]
        trans = three_point_crop(release_box(raw_box, im["width"], im["height"]), 64)
        crop_xy = img_pts[:, :2] @ trans[:, :2].T + trans[:, 2]
        z = ((img_pts[:, 2] - img_pts[0, 2]) / 1000 + 1) / 2 * 32
        target = np.concatenate([crop_xy / 8, z[:, None]], 1)
        inside = (target[:, :2] >= 0).all(1) & (target[:, :2] < 8).all(1) & (z >= 0) & (z < 32)
        item = samples[index]
        assert np.allclose(item["target"].numpy(), target, atol=1e-4)
        assert np.array_equal(item["target_vis"].numpy(), inside.astype(np.float32))
        assert item["has_depth"].item() == 1.0
        bgr = cv2.imread(str(record.image_path))
        crop = cv2.warpAffine(bgr, trans, (64, 64), flags=cv2.INTER_LINEAR)[:, :, ::-1] / 255.0
        crop = (crop - [0.485, 0.456, 0.406]) / [0.229, 0.224, 0.225]
        assert np.abs(item["image"].numpy().transpose(1, 2, 0) - crop).max() < 0.05
        test_item = tests[index]
        assert test_item["index"] == index
        assert np.abs(test_item["image"].numpy().transpose(1, 2, 0) - crop).max() < 0.05


def test_missing_files_name_the_file_and_the_layout(h36m_root, tmp_path):
    root = annotations_copy(h36m_root, tmp_path / "h36m")
    (root / "annotations" / "Human36M_subject6_camera.json").unlink()
    with pytest.raises(FileNotFoundError, match="Human36M_subject6_camera.json") as info:
        load_dataset("human36m", root, "train", protocol=2)
    assert "annotations/Human36M_subject<S>_data.json" in str(info.value)
    with pytest.raises(FileNotFoundError, match="dataset folder not found"):
        load_dataset("human36m", tmp_path / "nowhere", "train")
    with pytest.raises(FileNotFoundError, match="bbox_root_human36m_output.json"):
        load_dataset(
            "human36m",
            root,
            "test",
            use_gt_info=False,
            bbox_root_file=tmp_path / "none" / "bbox_root_human36m_output.json",
        )


def test_malformed_json_names_file_and_position(h36m_root, tmp_path):
    root = annotations_copy(h36m_root, tmp_path / "h36m")
    path = root / "annotations" / "Human36M_subject9_data.json"
    path.write_text(path.read_text()[:-40])
    with pytest.raises(DatasetError, match=r"Human36M_subject9_data.json: malformed JSON at line 1 column \d+"):
        load_dataset("human36m", root, "test")


def test_bad_records_are_listed_together_or_skipped_with_a_report(h36m_root, tmp_path):
    root = annotations_copy(h36m_root, tmp_path / "h36m")
    joint_path = root / "annotations" / "Human36M_subject1_joint_3d.json"
    joints = json.loads(joint_path.read_text())
    joints["2"]["1"]["0"] = joints["2"]["1"]["0"][:16]  # wrong joint count
    joint_path.write_text(json.dumps(joints))
    data_path = root / "annotations" / "Human36M_subject5_data.json"
    data = json.loads(data_path.read_text())
    data["annotations"][1]["bbox"][0] = float("nan")
    del data["images"][2]["cam_idx"]
    data_path.write_text(json.dumps(data))
    with pytest.raises(DatasetError) as info:
        load_dataset("human36m", root, "train", protocol=2, subsample=1)
    message = str(info.value)
    assert "4 malformed record(s)" in message  # the 16-joint frame is seen by two cameras: two annotations
    bad_ids = [
        a["id"] for a in json.loads((root / "annotations" / "Human36M_subject1_data.json").read_text())["annotations"]
    ]
    assert (
        f"Human36M_subject1_joint_3d.json: annotation id {bad_ids[0]}: 'joints' has 16 joints, expected 17" in message
    )
    assert f"Human36M_subject5_data.json: annotation id {data['annotations'][1]['id']}: 'bbox' has NaN" in message
    assert f"image id {data['images'][2]['id']}: missing key 'cam_idx'" in message
    # strict=False keeps every good record and reports the bad ones.
    dataset = load_dataset("human36m", root, "train", protocol=2, subsample=1, strict=False)
    assert len(dataset) == 20 - 2 - 1 - 1
    assert len(dataset.problems) == 4


def test_unreadable_images_are_named_when_loaded(h36m_root, tmp_path):
    dataset = load_dataset("human36m", h36m_root, "test", protocol=2, subsample=1)
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"\xff\xd8 not really a jpeg")
    dataset.records[0].image_path = broken
    dataset.records[1].image_path = tmp_path / "gone.jpg"
    samples = TrainSamples([dataset], "human36m", input_size=(64, 64))
    with pytest.raises(ImageError, match="broken.jpg"):
        samples[0]
    with pytest.raises(FileNotFoundError, match="gone.jpg"):
        TestSamples(dataset, (64, 64))[1]


def test_real_bbox_root_files_are_read():
    path = shared_path("data", "bbox_root", "bbox_root_human36m_protocol2_output.json")
    entries = json.loads(path.read_text())
    ids = np.array([entries[i]["image_id"] for i in (0, 10, 500)])
    problems = Problems("Human3.6M")
    boxes, roots, found = _read_bbox_root(path, np.r_[ids, -7], problems)
    assert found.tolist() == [True, True, True, False] and len(problems) == 1 and "image id -7" in problems.items[0]
    for k, i in enumerate((0, 10, 500)):
        assert np.allclose(boxes[k], entries[i]["bbox"]) and np.allclose(roots[k], entries[i]["root_cam"])
    assert 4000 < np.median(roots[:3, 2]) < 7000  # real roots: 4.5-6.5 m, as the synthetic cameras


def test_annotation_cache_gives_the_same_records_and_follows_file_changes(h36m_root, tmp_path, monkeypatch):
    monkeypatch.setenv("CONVNEXTPOSE_CACHE", str(tmp_path / "cache"))
    root = annotations_copy(h36m_root, tmp_path / "h36m")
    plain = load_dataset("human36m", root, "train", subsample=1, cache=False)
    first = load_dataset("human36m", root, "train", subsample=1, cache=True)
    cached = sorted((tmp_path / "cache" / "human36m").glob("subject*.npz"))
    assert len(cached) == 5
    again = load_dataset("human36m", root, "train", subsample=1, cache=True)
    for a, b, c in zip(plain, first, again):
        assert a.image_path == b.image_path == c.image_path and a.meta == c.meta and a.ann_id == c.ann_id
        assert np.array_equal(a.joints_img, c.joints_img) and np.array_equal(a.bbox, c.bbox)
    # Another subsampling is another cache entry; a changed file is parsed again.
    assert len(load_dataset("human36m", root, "train", subsample=5, cache=True)) == len(plain)
    path = root / "annotations" / "Human36M_subject1_joint_3d.json"
    joints = json.loads(path.read_text())
    joints["2"]["1"]["0"][0] = [0.0, 0.0, float("nan")]
    path.write_text(json.dumps(joints))
    with pytest.raises(DatasetError, match="NaN"):
        load_dataset("human36m", root, "train", subsample=1, cache=True)
