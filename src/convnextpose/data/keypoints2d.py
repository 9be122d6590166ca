"""Shared reading of COCO-format 2D keypoint files (MPII and MS COCO, DATA_FORMATS.md section 5).

``keypoints`` is a flat [x, y, v] list; annotations that are crowds or have ``num_keypoints == 0`` are
skipped, as the release does. 2D-only records have Z = 0, zero camera coordinates and a nominal
camera (focal 1500 px, principal point at the image centre), the one the release assumes for COCO.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..geometry import process_boxes
from ._io import columns, file_names, join_paths, link_rows, note_skipped, read_coco, report_unlinked
from .records import Problems, build_records

NOMINAL_FOCAL = 1500.0


def read_keypoint_file(
    path: Path, num_joints: int, problems: Problems, skipped: dict[str, int]
) -> tuple[dict[str, np.ndarray], list[str], dict[str, np.ndarray]]:
    """Images and usable annotations of a COCO keypoint file.

    Returns:
        Image columns (id, width, height), image file names, and annotation columns (id, image_id,
        bbox, keypoints (N, J, 3), row = image row) of the well-formed, non-crowd annotations with
        keypoints.
    """
    coco = read_coco(path)
    images, anns = coco.dataset["images"], coco.dataset["annotations"]
    img_spec = {"id": ((), np.int64), "width": ((), np.int64), "height": ((), np.int64)}
    img, ok_img = columns(images, img_spec, path=path, kind="image", problems=problems)
    names, ok_names = file_names(images, path=path, kind="image", problems=problems)
    img["ok"] = ok_img & ok_names
    ann_spec = {
        "id": ((), np.int64), "image_id": ((), np.int64), "bbox": ((4,), float), "keypoints": ((num_joints * 3,), float),
    }  # fmt: skip
    ann, ok = columns(anns, ann_spec, path=path, kind="annotation", problems=problems)
    crowd = np.array([bool(a.get("iscrowd", 0)) for a in anns], bool)
    has_points = np.array([a.get("num_keypoints", 1) != 0 for a in anns], bool)
    row, linked = link_rows(img["id"], ann["image_id"])
    report_unlinked(path, ann["id"], ann["image_id"], ok & ~linked, problems)
    ok &= linked & img["ok"][row]
    note_skipped(skipped, "crowd annotation", int((ok & crowd).sum()))
    note_skipped(skipped, "num_keypoints == 0", int((ok & ~crowd & ~has_points).sum()))
    keep = np.flatnonzero(ok & ~crowd & has_points)
    out = {k: v[keep] for k, v in ann.items()}
    out["keypoints"] = out["keypoints"].reshape(-1, num_joints, 3)
    out["row"] = row[keep]
    return img, names, out


def records_2d(
    image_dir: Path,
    img: dict[str, np.ndarray],
    names: list[str],
    ann: dict[str, np.ndarray],
    joints_img: np.ndarray,
    joints_vis: np.ndarray,
    aspect_ratio: float,
    skipped: dict[str, int],
) -> list:
    """Records of 2D annotations with processed boxes (boxes without area are skipped, as the release)."""
    r = ann["row"]
    width, height = img["width"][r], img["height"][r]
    bbox, valid = process_boxes(ann["bbox"], width, height, aspect_ratio)
    note_skipped(skipped, "box without area (the release skips these)", int((~valid).sum()))
    keep = np.flatnonzero(valid)
    r, n = r[keep], len(keep)
    joints = np.concatenate([joints_img[keep, :, :2], np.zeros((n, joints_img.shape[1], 1))], axis=2)
    size = np.stack([img["width"][r], img["height"][r]], axis=1).astype(float)
    metas = [{"width": int(w), "height": int(h), "file_name": names[i]} for (w, h), i in zip(size.tolist(), r.tolist())]
    return build_records(
        join_paths(image_dir, [names[i] for i in r]), ann["image_id"][keep], ann["id"][keep], bbox[keep], joints,
        joints_vis[keep], np.zeros((n, joints.shape[1], 3)), np.zeros((n, 3)), np.full((n, 2), NOMINAL_FOCAL),
        size / 2.0, metas,
    )  # fmt: skip
