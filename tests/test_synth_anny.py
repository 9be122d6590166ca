"""``convnextpose data synth --bodies anny``: the real Human3.6M and MuCo layouts with Anny people."""

from __future__ import annotations

import json

import cv2
import numpy as np
import pytest

from convnextpose.cli import main as cli_main
from convnextpose.data import load_dataset
from convnextpose.data.check import check_dataset
from convnextpose.synth import anny_bodies, backends, generate_dataset
from convnextpose.synth.render.frame import render_frame

anny = pytest.importorskip("anny")


def _on_mask(points: np.ndarray, mask: np.ndarray, dilate: int = 4) -> np.ndarray:
    """(N,) bool: each (u, v) point lies on the mask grown by ``dilate`` px."""
    grown = cv2.dilate(mask.astype(np.uint8), np.ones((2 * dilate + 1, 2 * dilate + 1), np.uint8)) > 0
    u = np.clip(np.round(points[:, 0]).astype(int), 0, mask.shape[1] - 1)
    v = np.clip(np.round(points[:, 1]).astype(int), 0, mask.shape[0] - 1)
    inside = (points[:, 0] >= 0) & (points[:, 0] < mask.shape[1]) & (points[:, 1] >= 0) & (points[:, 1] < mask.shape[0])
    return inside & grown[v, u]


@pytest.fixture(scope="module")
def anny_h36m(tmp_path_factory):
    root = tmp_path_factory.mktemp("anny") / "Human36M"
    argv = ["data", "synth", "--out", str(root), "--format", "human36m", "--bodies", "anny", "--subjects", "1,9"]
    argv += ["--actions", "2", "--frames", "2", "--cameras", "1,2", "--image-size", "192", "--workers", "1"]
    argv += ["--camera-presets", "h36m,phone_tripod"]
    assert cli_main(argv) == 0
    return root


def test_anny_human36m_passes_the_check_and_loads(anny_h36m):
    report = check_dataset(anny_h36m, "human36m", image_sample=4)
    assert report.ok, report.to_markdown()
    train = load_dataset("human36m", anny_h36m, "train", subjects=(1,), subsample=1)
    test = load_dataset("human36m", anny_h36m, "test", subjects=(9,), subsample=1)
    assert len(train) == len(test) == 4
    cams = json.loads((anny_h36m / "annotations" / "Human36M_subject1_camera.json").read_text())
    assert sorted(cams) == ["1", "2"]
    # Camera 2 is a phone on a tripod: a wider lens than the Human3.6M camera, so a shorter focal at the same zoom
    # is not guaranteed; it is at least a different camera.
    assert not np.allclose(cams["1"]["R"], cams["2"]["R"])


def test_anny_human36m_joints_land_on_the_rendered_person(anny_h36m):
    records = load_dataset("human36m", anny_h36m, "train", subjects=(1,), subsample=1)
    cameras = anny_bodies.subject_cameras(0, 1, 192, ("h36m", "phone_tripod"))
    people, _ = anny_bodies.h36m_sequence(0, 1, 2, 1, 2)
    for cam_idx in (1, 2):
        frames = list(anny_bodies.h36m_view_frames(0, 1, 2, 1, cam_idx, cameras[cam_idx - 1], people))
        for frame_no, frame in enumerate(frames):
            result = render_frame(frame)
            record = next(r for r in records if r.meta["cam_idx"] == cam_idx and r.meta["frame_idx"] == frame_no)
            # The file on disk is this render (JPEG aside).
            written = cv2.imread(str(record.image_path))[:, :, ::-1].astype(np.float32)
            assert np.abs(written - result.rgb).mean() < 6.0
            # Loader joints (world joints + written camera JSON) fall on the person's mask.
            hits = _on_mask(record.joints_img[:17, :2], result.masks[0])
            assert hits.mean() >= 0.9, (cam_idx, frame_no, hits)
            # And agree with the renderer's own projection.
            np.testing.assert_allclose(record.joints_img[:17, :2], result.joints_img["human36m"][0, :17, :2], atol=0.05)


def test_anny_muco_passes_the_check_loads_and_joints_land_on_people(tmp_path):
    root = generate_dataset(
        "muco", tmp_path / "MuCo", images=2, image_size=256, people=(2, 2), bodies="anny", workers=1, progress=False
    )
    report = check_dataset(root, "muco", image_sample=2)
    assert report.ok, report.to_markdown()
    data = load_dataset("muco", root, "train")
    # Every person is loaded, or skipped for a reason the release also skips on (e.g. a tiny box).
    assert len(data) >= 2 and len(data) + sum(data.skipped.values()) == 4, data.skipped
    ann = json.loads((root / "data" / "MuCo-3DHP.json").read_text())
    for index in range(2):
        result = render_frame(anny_bodies.muco_frame(0, index, 256, (2, 2)))
        people = [a for a in ann["annotations"] if a["image_id"] == index + 1]
        for k, person in enumerate(people):
            points = np.asarray(person["keypoints_img"])
            visible = result.joints_vis["muco"][k]
            assert _on_mask(points[visible], result.masks[k]).mean() >= 0.9


def test_bodies_option_errors(tmp_path, monkeypatch):
    with pytest.raises(ValueError, match="unknown bodies"):
        generate_dataset("human36m", tmp_path / "a", bodies="mesh", render=False)
    with pytest.raises(ValueError, match="camera preset"):
        generate_dataset("human36m", tmp_path / "b", bodies="anny", camera_presets=("dslr",), render=False)
    with pytest.raises(ValueError, match="unknown option"):
        generate_dataset("mpii", tmp_path / "c", bodies="anny")
    real_find_spec = backends.importlib.util.find_spec
    monkeypatch.setattr(
        backends.importlib.util, "find_spec", lambda name, *a: None if name == "anny" else real_find_spec(name, *a)
    )
    with pytest.raises(ImportError, match=r"pip install convnextpose\[anny\]"):
        generate_dataset("muco", tmp_path / "d", bodies="anny", render=False)
