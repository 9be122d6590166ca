"""MS COCO keypoints: train2017 (2D training) and val2017 tested with a root-depth network's boxes.

Training annotations hold 17 joints; Thorax (mean of the shoulders) and Pelvis (mean of the hips) are
appended, each visible only where both of its parents are. The test split is one record per entry
of ``bbox_root_coco_output.json`` (box used as given, root from the file), with focal 1500 px and the
principal point at the image centre, as the release; its joints come from the annotation named by
the entry's ``ann_id`` where there is one (else zero, invisible).
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from ..joints import get_joint_set
from ._io import columns, join_paths, link_rows, read_json, require_files
from .keypoints2d import NOMINAL_FOCAL, read_keypoint_file, records_2d
from .records import DatasetError, PoseDataset, Problems, build_records

logger = logging.getLogger(__name__)

SPLITS = {"train": "train2017", "test": "val2017"}
BBOX_ROOT_FILE = "bbox_root/bbox_root_coco_output.json"
NUM_ANNOTATED = 17
LAYOUT = """  MSCOCO/
    images/train2017/*.jpg, images/val2017/*.jpg
    annotations/person_keypoints_train2017.json, annotations/person_keypoints_val2017.json
    bbox_root/bbox_root_coco_output.json   (test: [{image_id, ann_id, bbox, root_cam}])"""


def add_thorax_pelvis(keypoints: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(N, 17, 3) COCO [x, y, v] -> (N, 19, 2) px and (N, 19) visibility with Thorax and Pelvis appended."""
    xy, vis = keypoints[..., :2], keypoints[..., 2] > 0
    pairs = ((5, 6), (11, 12))  # shoulders -> Thorax, hips -> Pelvis
    extra_xy = np.stack([(xy[:, a] + xy[:, b]) / 2 for a, b in pairs], axis=1)
    extra_vis = np.stack([vis[:, a] & vis[:, b] for a, b in pairs], axis=1)
    return np.concatenate([xy, extra_xy], axis=1), np.concatenate([vis, extra_vis], axis=1).astype(float)


def load_coco(
    root: str | Path,
    split: str = "train",
    bbox_root_file: str | Path | None = None,
    aspect_ratio: float = 1.0,
    strict: bool = True,
) -> PoseDataset:
    """Load MS COCO keypoints.

    Args:
        root: the ``MSCOCO`` folder.
        split: "train" (train2017) or "test" (val2017 with detected boxes and roots).
        bbox_root_file: test boxes and roots; default ``<root>/bbox_root/bbox_root_coco_output.json``.
        aspect_ratio: network input width / height, for extending training boxes.
        strict: raise on malformed records (listing all); False skips them with a warning.
    """
    root = Path(root)
    if split not in SPLITS:
        raise ValueError(f"MS COCO split must be 'train' or 'test', got {split!r}")
    path = root / "annotations" / f"person_keypoints_{SPLITS[split]}.json"
    image_dir = root / "images" / SPLITS[split]
    needed = [path]
    if split == "test":
        bbox_root_file = Path(bbox_root_file) if bbox_root_file is not None else root / BBOX_ROOT_FILE
        needed.append(bbox_root_file)
    require_files("MS COCO", root, needed, LAYOUT)
    problems, skipped = Problems("MS COCO"), {}
    img, names, ann = read_keypoint_file(path, NUM_ANNOTATED, problems, skipped)
    xy, vis = add_thorax_pelvis(ann["keypoints"])
    if split == "train":
        problems.resolve(strict)
        joints = np.concatenate([xy, np.zeros(xy.shape[:2] + (1,))], axis=2)
        records = records_2d(image_dir, img, names, ann, joints, vis, aspect_ratio, skipped)
    else:
        records = _test_records(bbox_root_file, image_dir, img, names, ann, xy, vis, problems)
        problems.resolve(strict)
    dataset = PoseDataset("coco", get_joint_set("coco"), False, root, records, split, {"aspect_ratio": aspect_ratio})
    dataset.problems, dataset.skipped = problems.items, skipped
    logger.info("MS COCO %s: %d records", split, len(records))
    return dataset


def _test_records(bbox_root_file, image_dir, img, names, ann, xy, vis, problems: Problems) -> list:
    entries = read_json(bbox_root_file)
    if not isinstance(entries, list):
        raise DatasetError(f"{bbox_root_file}: expected a list of {{'image_id', 'ann_id', 'bbox', 'root_cam'}}")
    spec = {"image_id": ((), np.int64), "bbox": ((4,), float), "root_cam": ((3,), float)}
    det, ok = columns(entries, spec, path=bbox_root_file, kind="entry", problems=problems)
    row, linked = link_rows(img["id"], det["image_id"])
    for i in np.flatnonzero(ok & ~linked):
        problems.add(bbox_root_file, f"entry {i}", f"image_id {det['image_id'][i]} is not in the val2017 annotations")
    ok &= linked & img["ok"][row]
    keep = np.flatnonzero(ok)
    r, n = row[keep], len(keep)
    ann_ids = np.array([int(entries[i].get("ann_id", -1)) for i in keep], np.int64)
    ann_row, found = link_rows(ann["id"], ann_ids)
    joints = np.zeros((n, xy.shape[1], 3))
    joints[found, :, :2] = xy[ann_row[found]]
    joints_vis = np.where(found[:, None], vis[ann_row], 0.0)
    size = np.stack([img["width"][r], img["height"][r]], axis=1).astype(float)
    metas = [
        {"width": int(w), "height": int(h), "file_name": names[i], "detection": True}
        for (w, h), i in zip(size.tolist(), r.tolist())
    ]
    return build_records(
        join_paths(image_dir, [names[i] for i in r]), det["image_id"][keep], ann_ids, det["bbox"][keep], joints, joints_vis,
        np.zeros((n, xy.shape[1], 3)), det["root_cam"][keep], np.full((n, 2), NOMINAL_FOCAL), size / 2.0, metas,
    )  # fmt: skip
