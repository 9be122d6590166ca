"""MuPoTS-3D, the multi-person test sequences (DATA_FORMATS.md section 4).

Records carry what the benchmark's evaluation needs: ``meta["sequence"]`` (TS1..TS20),
``meta["frame_name"]`` (img_000000), ``meta["mat_key"]`` (TS1_img_000000, the key of the prediction
.mat files), ``meta["is_valid"]`` and ``meta["person_idx"]`` (the person's column in ``annot.mat``).
Joints are the 17 annotated ones (the ``mupots`` joint set, the first 17 of MuCo's). The MATLAB
files of the official evaluation (ground truth per sequence, the release's predictions) are read and
written at the end of this module.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Mapping
from pathlib import Path, PurePosixPath

import numpy as np

from ..atomic import atomic_path
from ..geometry import process_boxes
from ..joints import get_joint_set
from ._io import (
    columns,
    file_names,
    join_paths,
    link_rows,
    note_skipped,
    read_coco,
    read_json,
    report_unlinked,
    require_files,
)
from .records import DatasetError, PoseDataset, Problems, build_records

logger = logging.getLogger(__name__)

ANNOTATION_FILE = "data/MuPoTS-3D.json"
IMAGE_DIR = "data/MultiPersonTestSet"
#: Detected boxes and roots: the release code's name (``MuPoTS.py``, preferred), then the dataset README's.
BBOX_ROOT_FILES = ("bbox_root/bbox_root_mupots_output.json", "bbox_root/bbox_mupots_output.json")
BBOX_ROOT_FILE = BBOX_ROOT_FILES[0]
NUM_JOINTS = 17
ROOT = 14  # Pelvis
LAYOUT = """  MuPoTS/
    data/MultiPersonTestSet/TS1..TS20/img_000000.jpg (+ annot.mat, occlusion.mat)
    data/MuPoTS-3D.json   images {id, file_name "TS1/img_000000.jpg", width, height, intrinsic [fx, fy, cx, cy]};
                          annotations {id, image_id, bbox, keypoints_cam 17x3 mm, keypoints_img 17x2 px, is_valid}
    bbox_root/bbox_root_mupots_output.json   (only to test with detected boxes and roots; the README's name
                                              bbox_root/bbox_mupots_output.json is read too)"""


def _frame_meta(file_name: str, width: int, height: int) -> dict:
    parts = PurePosixPath(file_name)
    sequence, frame = parts.parent.name, parts.stem
    return {
        "sequence": sequence,
        "frame_name": frame,
        "mat_key": f"{sequence}_{frame}",  # = mat_key(k, n) for TS<k>/img_<n>
        "width": width,
        "height": height,
    }


def find_bbox_root_file(root: str | Path) -> Path:
    """The detections file of a MuPoTS folder, under either name of :data:`BBOX_ROOT_FILES`.

    Returns:
        The file that exists; the preferred name when both exist with the same detections, or when
        neither exists (the caller's missing-file error then names it).

    Raises:
        DatasetError: both files exist and hold different detections.
    """
    paths = [Path(root) / name for name in BBOX_ROOT_FILES]
    present = [p for p in paths if p.is_file()]
    if len(present) == 2 and present[0].read_bytes() != present[1].read_bytes():
        if read_json(present[0]) != read_json(present[1]):
            raise DatasetError(
                f"{present[0]} and {present[1]} both exist and hold different detections: keep one "
                f"(the release's code reads {BBOX_ROOT_FILES[0]}) or pass bbox_root_file"
            )
    return present[0] if present else paths[0]


def load_mupots(
    root: str | Path,
    split: str = "test",
    use_gt_info: bool = True,
    bbox_root_file: str | Path | None = None,
    aspect_ratio: float = 1.0,
    strict: bool = True,
) -> PoseDataset:
    """Load MuPoTS-3D (test only).

    Args:
        root: the ``MuPoTS`` folder.
        use_gt_info: one record per annotated person with its ground-truth box and root; False: one
            record per detection of ``bbox_root_file`` (box used as given, joints zero, ann_id -1).
        bbox_root_file: default :func:`find_bbox_root_file` (``<root>/bbox_root/bbox_root_mupots_output.json``
            or ``bbox_mupots_output.json``).
        aspect_ratio: network input width / height, for extending ground-truth boxes.
        strict: raise on malformed records (listing all); False skips them with a warning.
    """
    root = Path(root)
    if split != "test":
        raise ValueError(f"MuPoTS-3D has a test split only, not {split!r}")
    path = root / ANNOTATION_FILE
    needed = [path]
    if not use_gt_info:
        bbox_root_file = Path(bbox_root_file) if bbox_root_file is not None else find_bbox_root_file(root)
        needed.append(bbox_root_file)
    require_files("MuPoTS-3D", root, needed, LAYOUT)
    coco = read_coco(path)
    images, anns = coco.dataset["images"], coco.dataset["annotations"]
    problems = Problems("MuPoTS-3D")
    img_spec = {"id": ((), np.int64), "width": ((), np.int64), "height": ((), np.int64), "intrinsic": ((4,), float)}
    img, ok_img = columns(images, img_spec, path=path, kind="image", problems=problems)
    names, ok_names = file_names(images, path=path, kind="image", problems=problems)
    ok_img &= ok_names
    skipped: dict[str, int] = {}
    if use_gt_info:
        ann_spec = {
            "id": ((), np.int64), "image_id": ((), np.int64), "bbox": ((4,), float), "is_valid": ((), np.int64),
            "keypoints_cam": ((NUM_JOINTS, 3), float), "keypoints_img": ((NUM_JOINTS, 2), float),
        }  # fmt: skip
        ann, ok = columns(anns, ann_spec, path=path, kind="annotation", problems=problems)
        row, linked = link_rows(img["id"], ann["image_id"])
        report_unlinked(path, ann["id"], ann["image_id"], ok & ~linked, problems)
        ok &= linked & ok_img[row]
        problems.resolve(strict)
        # Column of each person in annot.mat: its order among the image's annotations.
        order = np.argsort(row, kind="stable")
        starts = np.r_[True, row[order][1:] != row[order][:-1]]
        person_idx = np.empty(len(row), np.int64)
        person_idx[order] = np.arange(len(row)) - np.maximum.accumulate(np.where(starts, np.arange(len(row)), 0))
        keep = np.flatnonzero(ok)
        r = row[keep]
        bbox, valid = process_boxes(ann["bbox"][keep], img["width"][r], img["height"][r], aspect_ratio)
        note_skipped(skipped, "box without area (the release skips these)", int((~valid).sum()))
        keep, r, bbox = keep[valid], r[valid], bbox[valid]
        cam = ann["keypoints_cam"][keep]
        joints_img = np.concatenate([ann["keypoints_img"][keep], cam[:, :, 2:]], axis=2)
        vis = np.ones((len(keep), NUM_JOINTS))
        root_cam, image_ids, ann_ids = cam[:, ROOT], ann["image_id"][keep], ann["id"][keep]
        extra = [{"is_valid": int(v), "person_idx": int(p)} for v, p in zip(ann["is_valid"][keep], person_idx[keep])]
    else:
        problems.resolve(strict)
        entries = read_json(bbox_root_file)
        if not isinstance(entries, list):
            raise DatasetError(f"{bbox_root_file}: expected a list of {{'image_id', 'bbox', 'root_cam'}}")
        det_spec = {"image_id": ((), np.int64), "bbox": ((4,), float), "root_cam": ((3,), float)}
        det, ok = columns(entries, det_spec, path=bbox_root_file, kind="entry", problems=problems)
        row, linked = link_rows(img["id"], det["image_id"])
        for i in np.flatnonzero(ok & ~linked):
            problems.add(bbox_root_file, f"entry {i}", f"image_id {det['image_id'][i]} is not in {path.name}")
        ok &= linked & ok_img[row]
        problems.resolve(strict)
        keep = np.flatnonzero(ok)
        r, bbox, root_cam = row[keep], det["bbox"][keep], det["root_cam"][keep]
        cam = np.zeros((len(keep), NUM_JOINTS, 3))
        joints_img, vis = cam.copy(), np.zeros((len(keep), NUM_JOINTS))
        image_ids, ann_ids = det["image_id"][keep], np.full(len(keep), -1)
        extra = [{"detection": True} for _ in keep]
    intrinsic = img["intrinsic"][r]
    metas = [
        {**_frame_meta(names[i], int(img["width"][i]), int(img["height"][i])), **e} for i, e in zip(r.tolist(), extra)
    ]
    records = build_records(
        join_paths(root / IMAGE_DIR, [names[i] for i in r]), image_ids, ann_ids, bbox, joints_img, vis, cam, root_cam,
        intrinsic[:, :2], intrinsic[:, 2:], metas,
    )  # fmt: skip
    options = {"use_gt_info": use_gt_info, "aspect_ratio": aspect_ratio}
    dataset = PoseDataset("mupots", get_joint_set("mupots"), True, root, records, split, options)
    dataset.problems, dataset.skipped = problems.items, skipped
    logger.info("MuPoTS-3D test: %d records (%s)", len(records), "ground truth" if use_gt_info else "detections")
    return dataset


# --------------------------------------------------------------------------- the toolkit's MATLAB files
#
# The official MATLAB evaluation reads per-sequence ground truth (``TS<k>/annot.mat``, ``occlusion.mat``)
# and the release's predictions, ``preds_2d_kpt_mupots.mat`` / ``preds_3d_kpt_mupots.mat``: one variable
# per image, named ``TS<k>_img_<6-digit frame>``, holding a (people, J, 2) array of px or a (people, J, 3)
# array of camera-frame mm.

_FRAME_PATH = re.compile(r"TS(\d+)[/\\]img_(\d+)\.\w+$")
_MATLAB_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,62}$")


def mat_key(sequence: int, frame: int) -> str:
    """The variable name of one image in the prediction files: ``mat_key(3, 12) == "TS3_img_000012"``."""
    return f"TS{int(sequence)}_img_{int(frame):06d}"


def sequence_and_frame(image_path: str | os.PathLike, meta: dict | None = None) -> tuple[int, int]:
    """(sequence, frame) of a MuPoTS image, from meta ``sequence`` and ``frame_name``/``frame`` or the path.

    The path form is ``.../TS<k>/img_<frame>.jpg``.

    Raises:
        ValueError: neither says (the message shows the path form expected).
    """
    meta = meta or {}
    frame = meta.get("frame", meta.get("frame_name"))
    if "sequence" in meta and frame is not None:
        sequence = meta["sequence"]
        sequence = sequence if isinstance(sequence, int) else int(str(sequence).removeprefix("TS"))
        frame = frame if isinstance(frame, int) else int(str(frame).removeprefix("img_"))
        return sequence, frame
    match = _FRAME_PATH.search(str(image_path))
    if not match:
        raise ValueError(
            f"cannot read the MuPoTS sequence and frame from {image_path!r} (expected .../TS<k>/img_<n>.jpg)"
        )
    return int(match.group(1)), int(match.group(2))


def read_annotation_mats(sequence_dir: str | os.PathLike) -> tuple[dict, dict] | None:
    """The toolkit's per-sequence files, where present: ``annot.mat`` and ``occlusion.mat``.

    Returns:
        ``(universal, occluded)``: dicts keyed by (frame, person column) of (17, 3) mm universal
        (height-normalised) joints and (17,) bool occlusion labels; None when ``annot.mat`` is absent.
        ``occluded`` is empty when ``occlusion.mat`` is absent.
    """
    from scipy.io import loadmat

    folder = Path(sequence_dir)
    if not (folder / "annot.mat").is_file():
        return None
    cells = loadmat(folder / "annot.mat", squeeze_me=False, struct_as_record=True)["annotations"]
    universal = {}
    for (frame, person), cell in np.ndenumerate(cells):
        if cell is None or not getattr(cell, "dtype", None) or cell.dtype.names is None or cell.size == 0:
            continue
        if "univ_annot3" in cell.dtype.names:
            universal[(frame, person)] = np.asarray(cell["univ_annot3"][0, 0], dtype=np.float64).reshape(3, -1).T
    occluded = {}
    if (folder / "occlusion.mat").is_file():
        labels = loadmat(folder / "occlusion.mat", squeeze_me=False)["occlusion_labels"]
        for (frame, person), cell in np.ndenumerate(labels):
            if cell is not None and np.size(cell):
                occluded[(frame, person)] = np.asarray(cell, dtype=np.float64).reshape(-1) > 0.5
    return universal, occluded


def write_prediction_mat(path: str | os.PathLike, predictions: Mapping[str, np.ndarray]) -> Path:
    """Write ``{name: (people, J, C) array}`` as a MATLAB v5 ``.mat`` file (float64, atomically).

    Args:
        path: output file, e.g. ``preds_3d_kpt_mupots.mat``.
        predictions: per image name (a valid MATLAB identifier such as :func:`mat_key`), an array of
            shape (people, J, 2) (px) or (people, J, 3) (mm); a (J, C) array is taken as one person.
            An image with nobody gives a (0, J, C) array.

    Raises:
        ValueError: a name MATLAB cannot use, or an array that is not (people, J, C).
    """
    from scipy.io import savemat

    arrays: dict[str, np.ndarray] = {}
    for name, values in predictions.items():
        if not _MATLAB_NAME.match(name):
            raise ValueError(f"{name!r} is not a MATLAB variable name (a letter, then letters, digits, _; <= 63)")
        array = np.asarray(values, dtype=np.float64)
        if array.ndim == 2:
            array = array[None]
        if array.ndim != 3 or array.shape[2] not in (2, 3):
            raise ValueError(f"{name}: expected (people, J, 2 or 3), got shape {array.shape}")
        arrays[name] = array
    with atomic_path(path) as tmp:
        savemat(str(tmp), arrays, appendmat=False)
    return Path(path)


def read_prediction_mat(path: str | os.PathLike) -> dict[str, np.ndarray]:
    """A file of :func:`write_prediction_mat` as ``{name: (people, J, C) float64}``."""
    from scipy.io import loadmat

    raw = loadmat(str(path))
    return {k: np.asarray(v, dtype=np.float64) for k, v in raw.items() if not k.startswith("__")}
