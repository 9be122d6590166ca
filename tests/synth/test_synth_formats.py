"""Every format with every body back-end: the release's layout, ``data check``, the loaders, and annotations that land
on the rendered people (Anny cases skip when the optional ``anny`` extra is not installed)."""

from __future__ import annotations

import importlib.util
import json

import cv2
import numpy as np
import pytest

from conftest import assert_h36m_release_layout
from convnextpose.cli import main as cli_main
from convnextpose.data import load_dataset
from convnextpose.data.check import check_dataset
from convnextpose.synth import backends, generate_dataset
from convnextpose.synth.render import render_frame
from convnextpose.synth.writers import human36m, multiperson
from convnextpose.synth.writers.common import WriterOptions

ANNY = pytest.mark.skipif(importlib.util.find_spec("anny") is None, reason="needs the optional anny extra")
BODIES = ["capsule", pytest.param("anny", marks=[ANNY, pytest.mark.slow])]  # Anny: slow (its model cache)
TINY = {
    "human36m": {"subjects": (1, 9), "actions": (2,), "cameras": (1, 2), "frames": 2, "frame_stride": 64,
                 "image_size": 128},
    "muco": {"images": 2, "image_size": 192, "people": (2, 2)},
    "mupots": {"sequences": (1, 7), "frames": 2, "image_size": 128, "people": (2, 2)},
    "mpii": {"images": 2, "image_size": 128},
    "coco": {"images": 2, "val_images": 2, "image_size": 128},
}  # fmt: skip
SPLITS = {"human36m": ("train", "test"), "muco": ("train",), "mupots": ("test",), "mpii": ("train",),
          "coco": ("train", "test")}  # fmt: skip
_ROOTS: dict = {}


def _generated(fmt: str, bodies: str, factory) -> object:
    if (fmt, bodies) not in _ROOTS:
        out = factory.mktemp(f"{bodies}_{fmt}")
        _ROOTS[fmt, bodies] = generate_dataset(fmt, out, seed=0, bodies=bodies, progress=False, **TINY[fmt])
    return _ROOTS[fmt, bodies]


@pytest.mark.parametrize("bodies", BODIES)
@pytest.mark.parametrize("fmt", sorted(TINY))
def test_format_passes_the_check_and_loads(fmt, bodies, tmp_path_factory):
    root = _generated(fmt, bodies, tmp_path_factory)
    report = check_dataset(root, fmt, image_sample=2)
    assert report.ok, report.to_markdown()
    for split in SPLITS[fmt]:
        options = {"subsample": 1, "subjects": (1,) if split == "train" else (9,)} if fmt == "human36m" else {}
        data = load_dataset(fmt, root, split, **options)  # strict: any malformed record raises
        assert len(data) > 0 and all(r.image_path.is_file() for r in data)
        assert np.isfinite(np.stack([r.joints_img for r in data])).all()
        if data.has_depth:  # ground truth roots are in front of the camera
            assert (np.stack([r.root_cam for r in data])[:, 2] > 500).all()


@pytest.mark.parametrize("bodies", BODIES)
def test_human36m_layout_and_joints_on_the_rendered_person(bodies, tmp_path_factory):
    root = _generated("human36m", bodies, tmp_path_factory)
    assert_h36m_release_layout(root)  # the checks the raw converter's output passes too
    for subject in (1, 9):
        data = json.loads((root / "annotations" / f"Human36M_subject{subject}_data.json").read_text())
        assert len(data["images"]) == len(data["annotations"]) == 1 * 2 * 2  # actions x cameras x frames
        cams = json.loads((root / "annotations" / f"Human36M_subject{subject}_camera.json").read_text())
        assert sorted(cams) == ["1", "2"] and all(set(c) == {"R", "t", "f", "c"} for c in cams.values())
        rot = np.array(cams["1"]["R"])
        assert np.allclose(rot @ rot.T, np.eye(3), atol=1e-6)
        assert 4000 < np.linalg.norm(rot.T @ np.array(cams["1"]["t"])) < 7000  # a Human3.6M rig's distance
    assert (root / "bbox_root" / "bbox_root_human36m_output.json").is_file()
    records = load_dataset("human36m", root, "train", subjects=(1,), subsample=1)
    recording = backends.default_recording(bodies)
    for cam in (1, 2):
        options = WriterOptions(bodies=bodies)
        task = human36m.Human36mTask(root, 0, 1, cam, (2,), (1,), (0, 64), 128, recording, ("h36m",), options)
        _, _, views = human36m.camera_views(task, 2, 1)
        for frame_idx, (frame, lit) in zip((0, 64), views):
            result = render_frame(frame, scene=lit)
            record = next(r for r in records if r.meta["cam_idx"] == cam and r.meta["frame_idx"] == frame_idx)
            # The file on disk is this render (JPEG aside).
            written = cv2.imread(str(record.image_path))[:, :, ::-1].astype(np.float32)
            assert np.abs(written - result.rgb).mean() < 6.0
            # The loader's joints (world joints and the written camera) fall on the person's mask ...
            assert _on_mask(record.joints_img[:17, :2], result.masks[0]).mean() >= 0.9
            # ... and agree with the renderer's own projection; the box is the mask's.
            np.testing.assert_allclose(record.joints_img[:17, :2], result.joints_img["human36m"][0, :17, :2], atol=0.05)
            raw = next(a for a in _annotations(root, 1) if a["image_id"] == record.image_id)["bbox"]
            np.testing.assert_allclose(raw, result.mask_box(0), atol=0.01)


@pytest.mark.parametrize("bodies", BODIES)
def test_muco_joints_land_on_the_people(bodies, tmp_path_factory):
    root = _generated("muco", bodies, tmp_path_factory)
    data = load_dataset("muco", root, "train")
    # Every person is loaded, or skipped for a reason the release also skips on (e.g. a tiny box).
    assert len(data) + sum(data.skipped.values()) == 4, data.skipped
    ann = json.loads((root / "data" / "MuCo-3DHP.json").read_text())
    for index in range(2):
        frame = multiperson.muco_frame(multiperson.MucoTask(root, 0, index, 192, (2, 2), WriterOptions(bodies=bodies)))
        result = render_frame(frame)
        people = [a for a in ann["annotations"] if a["image_id"] == index + 1]
        assert len(people) == 2
        for k, person in enumerate(people):
            visible = result.joints_vis["muco"][k]
            assert _on_mask(np.asarray(person["keypoints_img"])[visible], result.masks[k]).mean() >= 0.9


def test_bodies_option_errors(tmp_path, monkeypatch):
    with pytest.raises(ValueError, match="unknown bodies"):
        generate_dataset("human36m", tmp_path / "a", bodies="mesh", render=False)
    real_find_spec = backends.importlib.util.find_spec
    monkeypatch.setattr(
        backends.importlib.util, "find_spec", lambda name, *a: None if name == "anny" else real_find_spec(name, *a)
    )
    with pytest.raises(ImportError, match=r"pip install convnextpose\[anny\]"):
        generate_dataset("mupots", tmp_path / "d", bodies="anny", render=False)
    with pytest.raises(SystemExit, match=r"pip install convnextpose\[anny\]"):
        cli_main(["data", "synth", "--out", str(tmp_path / "e"), "--format", "coco", "--bodies", "anny"])


def _annotations(root, subject: int) -> list[dict]:
    return json.loads((root / "annotations" / f"Human36M_subject{subject}_data.json").read_text())["annotations"]


def _on_mask(points: np.ndarray, mask: np.ndarray, dilate: int = 3) -> np.ndarray:
    """(N,) bool: each (u, v) point lies on the mask grown by ``dilate`` px."""
    grown = cv2.dilate(mask.astype(np.uint8), np.ones((2 * dilate + 1, 2 * dilate + 1), np.uint8)) > 0
    u = np.clip(np.round(points[:, 0]).astype(int), 0, mask.shape[1] - 1)
    v = np.clip(np.round(points[:, 1]).astype(int), 0, mask.shape[0] - 1)
    inside = (points[:, 0] >= 0) & (points[:, 0] < mask.shape[1]) & (points[:, 1] >= 0) & (points[:, 1] < mask.shape[0])
    return inside & grown[v, u]
