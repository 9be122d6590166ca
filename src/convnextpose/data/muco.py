"""MuCo-3DHP, the multi-person training composites (DATA_FORMATS.md section 4).

Per image the person closest to the camera is used, plus every other person whose root is at least
500 mm from every other person's root both in the camera's X-Y plane and in 3D (the release's rule).
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from ..geometry import process_boxes
from ..joints import get_joint_set
from ._io import columns, file_names, join_paths, link_rows, note_skipped, read_coco, report_unlinked, require_files
from .records import PoseDataset, Problems, build_records

logger = logging.getLogger(__name__)

ANNOTATION_FILE = "data/MuCo-3DHP.json"
NUM_JOINTS = 21
ROOT = 14  # Pelvis
MIN_ROOT_DISTANCE_MM = 500.0
LAYOUT = """  MuCo/
    data/augmented_set/*.jpg, data/unaugmented_set/*.jpg   (file_name is relative to data/)
    data/MuCo-3DHP.json   images {id, file_name, width, height, f, c};
                          annotations {id, image_id, bbox, keypoints_cam 21x3 mm, keypoints_img 21x2 px}"""


def select_people(image_rows: np.ndarray, roots: np.ndarray, chunk: int = 65536) -> np.ndarray:
    """The release's person selection, vectorised over images.

    Args:
        image_rows: (N,) image of each annotation (annotations of one image in file order).
        roots: (N, 3) root joint, mm, camera frame.

    Returns:
        (N,) bool: the closest person of each image, and every person at least 500 mm (in X-Y and in
        3D) from every other person of the image.
    """
    n = len(image_rows)
    selected = np.zeros(n, bool)
    if not n:
        return selected
    order = np.argsort(image_rows, kind="stable")
    rows = image_rows[order]
    starts = np.flatnonzero(np.r_[True, rows[1:] != rows[:-1]])
    sizes = np.diff(np.r_[starts, n])
    slot = np.arange(n) - np.repeat(starts, sizes)  # position of each annotation inside its image
    group = np.repeat(np.arange(len(starts)), sizes)
    people = int(sizes.max())
    for lo in range(0, len(starts), chunk):
        in_chunk = (group >= lo) & (group < lo + chunk)
        g, s = group[in_chunk] - lo, slot[in_chunk]
        padded = np.full((min(chunk, len(starts) - lo), people, 3), np.nan)
        padded[g, s] = roots[order[in_chunk]]
        diff = padded[:, :, None] - padded[:, None, :]
        with np.errstate(invalid="ignore"):
            close = (np.linalg.norm(diff[..., :2], axis=-1) < MIN_ROOT_DISTANCE_MM) | (
                np.linalg.norm(diff, axis=-1) < MIN_ROOT_DISTANCE_MM
            )
        close[:, np.arange(people), np.arange(people)] = False
        picked = ~close.any(axis=2)
        depth = np.where(np.isnan(padded[..., 2]), np.inf, padded[..., 2])
        picked[np.arange(len(padded)), depth.argmin(axis=1)] = True
        selected[order[in_chunk]] = picked[g, s]
    return selected


def load_muco(root: str | Path, split: str = "train", aspect_ratio: float = 1.0, strict: bool = True) -> PoseDataset:
    """Load MuCo-3DHP (training only).

    Args:
        root: the ``MuCo`` folder.
        split: "train".
        aspect_ratio: network input width / height, for extending boxes.
        strict: raise on malformed records (listing all); False skips them with a warning.
    """
    root = Path(root)
    if split != "train":
        raise ValueError(f"MuCo-3DHP has a train split only, not {split!r}")
    path = root / ANNOTATION_FILE
    require_files("MuCo-3DHP", root, [path], LAYOUT)
    coco = read_coco(path)
    images, anns = coco.dataset["images"], coco.dataset["annotations"]
    problems = Problems("MuCo-3DHP")
    img_spec = {
        "id": ((), np.int64),
        "width": ((), np.int64),
        "height": ((), np.int64),
        "f": ((2,), float),
        "c": ((2,), float),
    }
    img, ok_img = columns(images, img_spec, path=path, kind="image", problems=problems)
    names, ok_names = file_names(images, path=path, kind="image", problems=problems)
    ok_img &= ok_names
    ann_spec = {
        "id": ((), np.int64), "image_id": ((), np.int64), "bbox": ((4,), float),
        "keypoints_cam": ((NUM_JOINTS, 3), float), "keypoints_img": ((NUM_JOINTS, 2), float),
    }  # fmt: skip
    ann, ok = columns(anns, ann_spec, path=path, kind="annotation", problems=problems)
    row, linked = link_rows(img["id"], ann["image_id"])
    report_unlinked(path, ann["id"], ann["image_id"], ok & ~linked, problems)
    ok &= linked & ok_img[row]
    problems.resolve(strict)
    good = np.flatnonzero(ok)
    chosen = good[select_people(row[good], ann["keypoints_cam"][good, ROOT])]
    note_skipped(skipped := {}, "person within 500 mm of another (the release's selection)", len(good) - len(chosen))
    r = row[chosen]
    bbox, valid = process_boxes(ann["bbox"][chosen], img["width"][r], img["height"][r], aspect_ratio)
    note_skipped(skipped, "box without area (the release skips these)", int((~valid).sum()))
    chosen, r, bbox = chosen[valid], r[valid], bbox[valid]
    cam = ann["keypoints_cam"][chosen]
    joints_img = np.concatenate([ann["keypoints_img"][chosen], cam[:, :, 2:]], axis=2)
    metas = [
        {"width": int(w), "height": int(h), "file_name": names[i]}
        for w, h, i in zip(img["width"][r].tolist(), img["height"][r].tolist(), r.tolist())
    ]
    records = build_records(
        join_paths(root / "data", [names[i] for i in r]), ann["image_id"][chosen], ann["id"][chosen], bbox, joints_img,
        np.ones((len(chosen), NUM_JOINTS)), cam, cam[:, ROOT], img["f"][r], img["c"][r], metas,
    )  # fmt: skip
    logger.info("MuCo-3DHP train: %d of %d people selected", len(records), len(anns))
    dataset = PoseDataset("muco", get_joint_set("muco"), True, root, records, split, {"aspect_ratio": aspect_ratio})
    dataset.problems, dataset.skipped = problems.items, skipped
    return dataset
