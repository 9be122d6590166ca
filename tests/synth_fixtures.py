"""Tiny synthetic datasets for the data tests, generated once per test session.

Test modules wrap :func:`generated` in a fixture; the folders are cached here, so every module of the
session shares one generation per format.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from convnextpose.synth import generate_dataset

# Small but complete: every Human3.6M subject (so both protocols load), two cameras, frames 0 and 5.
TINY = {
    "human36m": {"actions": (2,), "cameras": (1, 2), "frames": 2, "frame_stride": 5, "image_size": 160},
    "muco": {"images": 6, "image_size": 192},
    "mupots": {"sequences": (1, 7), "frames": 2, "image_size": 192},
    "mpii": {"images": 6, "image_size": 192},
    "coco": {"images": 6, "image_size": 192},
}
_CACHE: dict[str, Path] = {}


def generated(fmt: str, factory: pytest.TempPathFactory) -> Path:
    """The session's tiny ``fmt`` folder (generated on first use, seed 0)."""
    if fmt not in _CACHE:
        out = factory.mktemp(f"synth_{fmt}")
        _CACHE[fmt] = generate_dataset(fmt, out, seed=0, progress=False, **TINY[fmt])
    return _CACHE[fmt]


def annotations_copy(src: Path, dst: Path) -> Path:
    """A writable copy of a dataset folder with image folders linked, for corrupting annotations."""
    dst.mkdir(parents=True, exist_ok=True)
    for item in src.iterdir():
        if item.is_dir() and item.name in ("images", "MultiPersonTestSet", "augmented_set", "unaugmented_set"):
            (dst / item.name).symlink_to(item, target_is_directory=True)
        elif item.is_dir():
            annotations_copy(item, dst / item.name)
        else:
            shutil.copy2(item, dst / item.name)
    return dst


H36M_IMAGE_KEYS = {
    "id",
    "file_name",
    "width",
    "height",
    "subject",
    "action_idx",
    "subaction_idx",
    "cam_idx",
    "frame_idx",
}
# Keys the release's conversion script (tool/Human36M/h36m2coco.py) also writes; the loader does not need them.
H36M_OPTIONAL_IMAGE_KEYS = {"action_name"}
H36M_OPTIONAL_ANNOTATION_KEYS = {"keypoints_vis"}


def assert_h36m_release_layout(root: Path) -> None:
    """The release's Human3.6M layout, whoever wrote it: files, keys, names, shapes, global ids."""
    import json
    import re

    import cv2
    import numpy as np

    ids = []
    data_files = sorted((root / "annotations").glob("Human36M_subject*_data.json"))
    assert data_files, f"no Human36M_subject*_data.json under {root}"
    for data_file in data_files:
        subject = int(re.fullmatch(r"Human36M_subject(\d+)_data\.json", data_file.name).group(1))
        data, cams, joints = (
            json.loads((root / "annotations" / f"Human36M_subject{subject}_{k}.json").read_text())
            for k in ("data", "camera", "joint_3d")
        )
        assert set(data) == {"images", "annotations"} and len(data["images"]) == len(data["annotations"])
        for im in data["images"]:
            assert H36M_IMAGE_KEYS <= set(im) <= H36M_IMAGE_KEYS | H36M_OPTIONAL_IMAGE_KEYS and im["subject"] == subject
            m = re.fullmatch(r"(s_(\d\d)_act_(\d\d)_subact_(\d\d)_ca_(\d\d))/\1_(\d{6})\.jpg", im["file_name"])
            assert m, im["file_name"]
            assert [int(g) for g in m.groups()[1:]] == [
                subject, im["action_idx"], im["subaction_idx"], im["cam_idx"], im["frame_idx"] + 1
            ]  # fmt: skip
            image = cv2.imread(str(root / "images" / im["file_name"]))
            assert image is not None and image.shape == (im["height"], im["width"], 3)
            assert str(im["cam_idx"]) in cams
            frame = joints[str(im["action_idx"])][str(im["subaction_idx"])][str(im["frame_idx"])]
            assert np.array(frame).shape == (17, 3)
            ids.append(im["id"])
        for ann in data["annotations"]:
            assert {"id", "image_id", "bbox"} <= set(ann) <= {"id", "image_id", "bbox"} | H36M_OPTIONAL_ANNOTATION_KEYS
            assert len(ann["bbox"]) == 4
        for cam in cams.values():
            assert set(cam) == {"R", "t", "f", "c"}
            rot = np.array(cam["R"])
            assert rot.shape == (3, 3) and np.allclose(rot @ rot.T, np.eye(3), atol=1e-6)
            assert np.array(cam["t"]).shape == (3,) and len(cam["f"]) == 2 and len(cam["c"]) == 2
    assert len(set(ids)) == len(ids)  # image ids are global across subjects
