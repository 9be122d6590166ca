"""MPII Human Pose (2D, training only) in the release's COCO-format conversion."""

from __future__ import annotations

import logging
from pathlib import Path

from ..joints import get_joint_set
from ._io import require_files
from .keypoints2d import read_keypoint_file, records_2d
from .records import PoseDataset, Problems

logger = logging.getLogger(__name__)

ANNOTATION_FILE = "annotations/train.json"
NUM_JOINTS = 16
LAYOUT = """  MPII/
    images/<file_name>
    annotations/train.json   COCO keypoints: images {id, file_name, width, height};
                             annotations {id, image_id, bbox, keypoints [x, y, v] x 16, num_keypoints}"""


def load_mpii(root: str | Path, split: str = "train", aspect_ratio: float = 1.0, strict: bool = True) -> PoseDataset:
    """Load MPII (training only). A joint is visible where its ``v > 0``.

    Args:
        root: the ``MPII`` folder.
        split: "train".
        aspect_ratio: network input width / height, for extending boxes.
        strict: raise on malformed records (listing all); False skips them with a warning.
    """
    root = Path(root)
    if split != "train":
        raise ValueError(f"MPII has a train split only, not {split!r}")
    path = root / ANNOTATION_FILE
    require_files("MPII", root, [path], LAYOUT)
    problems, skipped = Problems("MPII"), {}
    img, names, ann = read_keypoint_file(path, NUM_JOINTS, problems, skipped)
    problems.resolve(strict)
    vis = (ann["keypoints"][:, :, 2] > 0).astype(float)
    records = records_2d(root / "images", img, names, ann, ann["keypoints"], vis, aspect_ratio, skipped)
    dataset = PoseDataset("mpii", get_joint_set("mpii"), False, root, records, split, {"aspect_ratio": aspect_ratio})
    dataset.problems, dataset.skipped = problems.items, skipped
    logger.info("MPII train: %d records", len(records))
    return dataset
