"""Human3.6M in the release's preprocessed layout (DATA_FORMATS.md section 3).

Protocol 1 trains on S1, 5, 6, 7, 8, 9 and tests on S11; protocol 2 trains on S1, 5, 6, 7, 8 and tests
on S9, 11. Frames are subsampled (every 5th for training, every 64th for testing). The 17 annotated
joints get an 18th, Thorax, the mean of the shoulders. Test boxes and roots are the ground truth
(``use_gt_info``) or a detector's from ``bbox_root_human36m_output.json``, keyed by image id; those
boxes are already extended, so they are used as they are.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from pathlib import Path

import numpy as np

from ..geometry import cam2pixel, process_boxes, world2cam
from ..joints import get_joint_set
from ._io import (
    columns,
    field_array,
    file_names,
    join_paths,
    link_rows,
    note_skipped,
    read_json,
    report_unlinked,
    require_files,
)
from .records import DatasetError, PoseDataset, Problems, build_records

logger = logging.getLogger(__name__)

ACTIONS = (
    "Directions", "Discussion", "Eating", "Greeting", "Phoning", "Posing", "Purchases", "Sitting", "SittingDown",
    "Smoking", "Photo", "Waiting", "Walking", "WalkDog", "WalkTogether",
)  # fmt: skip
PROTOCOL_SUBJECTS = {1: {"train": (1, 5, 6, 7, 8, 9), "test": (11,)}, 2: {"train": (1, 5, 6, 7, 8), "test": (9, 11)}}
SUBSAMPLE = {"train": 5, "test": 64}
BBOX_ROOT_FILE = "bbox_root/bbox_root_human36m_output.json"
ANNOTATED_JOINTS = 17
LAYOUT = """  Human36M/
    images/s_09_act_02_subact_01_ca_01/s_09_act_02_subact_01_ca_01_000001.jpg  (frame_idx + 1)
    annotations/Human36M_subject<S>_data.json      {"images": [...], "annotations": [...]}
    annotations/Human36M_subject<S>_camera.json    {cam_idx: {"R", "t", "f", "c"}}
    annotations/Human36M_subject<S>_joint_3d.json  {action_idx: {subaction_idx: {frame_idx: 17x3 mm}}}
    bbox_root/bbox_root_human36m_output.json       (only to test with detected boxes and roots)"""
_IMAGE_INT_KEYS = ("id", "subject", "action_idx", "subaction_idx", "cam_idx", "frame_idx", "width", "height")


def action_name(action_idx: int) -> str:
    """Action name of an ``action_idx`` (2..16), as in the image path's ``act_`` digits."""
    if not 2 <= action_idx <= 16:
        raise ValueError(f"Human3.6M action_idx must be 2..16, got {action_idx}")
    return ACTIONS[action_idx - 2]


def annotation_files(root: Path, subject: int) -> dict[str, Path]:
    return {
        kind: Path(root) / "annotations" / f"Human36M_subject{subject}_{kind}.json"
        for kind in ("data", "camera", "joint_3d")
    }


def load_human36m(
    root: str | Path,
    split: str = "train",
    protocol: int = 2,
    use_gt_info: bool = True,
    bbox_root_file: str | Path | None = None,
    subsample: int | None = None,
    subjects: tuple[int, ...] | None = None,
    aspect_ratio: float = 1.0,
    strict: bool = True,
    cache: bool | None = None,
) -> PoseDataset:
    """Load a Human3.6M split.

    Args:
        root: the ``Human36M`` folder.
        split: "train" or "test".
        protocol: 1 or 2 (which subjects form each split).
        use_gt_info: test with ground-truth boxes and roots; False reads ``bbox_root_file``.
        bbox_root_file: detector boxes and roots; default ``<root>/bbox_root/bbox_root_human36m_output.json``.
        subsample: keep frames with ``frame_idx % subsample == 0`` (default 5 train, 64 test).
        subjects: override the protocol's subjects.
        aspect_ratio: network input width / height, for extending ground-truth boxes.
        strict: raise on malformed records (listing all of them); False skips them with a warning.
        cache: keep each subject's parsed annotations in ``$CONVNEXTPOSE_CACHE`` (default
            ``~/.cache/convnextpose``), keyed by the files' paths, sizes and modification times and by
            the options, so a reload skips the JSON parsing. None (default) caches subjects whose
            data file is over 16 MB (the real ones; small files parse in moments anyway).

    Returns:
        A :class:`PoseDataset` with 18 joints (the 17 annotated plus Thorax).
    """
    root = Path(root)
    if split not in ("train", "test"):
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    if protocol not in PROTOCOL_SUBJECTS:
        raise ValueError(f"Human3.6M protocol must be 1 or 2, got {protocol!r}")
    subjects = tuple(subjects) if subjects is not None else PROTOCOL_SUBJECTS[protocol][split]
    ratio = SUBSAMPLE[split] if subsample is None else int(subsample)
    if ratio < 1:
        raise ValueError(f"subsample must be >= 1, got {subsample}")
    use_detections = split == "test" and not use_gt_info
    files = {s: annotation_files(root, s) for s in subjects}
    needed = [p for f in files.values() for p in f.values()]
    if use_detections:
        bbox_root_file = Path(bbox_root_file) if bbox_root_file is not None else root / BBOX_ROOT_FILE
        needed.append(bbox_root_file)
    require_files("Human3.6M", root, needed, LAYOUT)

    problems = Problems("Human3.6M")
    skipped: dict[str, int] = {}
    parts = [_cached_subject(root, s, files[s], ratio, aspect_ratio, problems, skipped, cache) for s in subjects]
    parts = [p for p in parts if p is not None and len(p["image_ids"])]
    joint_set = get_joint_set("human36m")
    if not parts:
        problems.resolve(strict)
        return PoseDataset(
            "human36m", joint_set, True, root, [], split, _options(protocol, ratio, use_gt_info, subjects)
        )
    merged = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
    if use_detections:
        boxes, roots, found = _read_bbox_root(bbox_root_file, merged["image_ids"], problems)
        merged["ok"] &= found
        merged["bbox"] = boxes
        merged["root_cam"] = roots
    problems.resolve(strict)
    keep = np.flatnonzero(merged["ok"])
    vis = np.ones((len(keep), joint_set.num_joints), np.float32)
    records = build_records(
        join_paths(root / "images", merged["file_name"][keep].tolist()), merged["image_ids"][keep],
        merged["ann_ids"][keep], merged["bbox"][keep], merged["joints_img"][keep], vis, merged["joints_cam"][keep],
        merged["root_cam"][keep], merged["focal"][keep], merged["princpt"][keep], _metas(merged, keep),
    )  # fmt: skip
    dataset = PoseDataset(
        "human36m", joint_set, True, root, records, split, _options(protocol, ratio, use_gt_info, subjects)
    )
    dataset.problems = problems.items
    dataset.skipped = skipped
    logger.info("Human3.6M %s (protocol %d, subjects %s): %d records", split, protocol, list(subjects), len(records))
    return dataset


def _options(protocol: int, ratio: int, use_gt_info: bool, subjects: tuple[int, ...]) -> dict:
    return {"protocol": protocol, "subsample": ratio, "use_gt_info": use_gt_info, "subjects": list(subjects)}


CACHE_VERSION = 1
CACHE_MIN_BYTES = 16 * 2**20


def cache_dir() -> Path:
    """Where parsed annotations are cached: ``$CONVNEXTPOSE_CACHE`` or ``~/.cache/convnextpose``."""
    env = os.environ.get("CONVNEXTPOSE_CACHE")
    base = Path(env) if env else Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "convnextpose"
    return base / "human36m"


def _cached_subject(
    root: Path,
    subject: int,
    files: dict[str, Path],
    ratio: int,
    aspect: float,
    problems: Problems,
    skipped: dict,
    cache: bool | None,
) -> dict | None:
    """:func:`_load_subject`, through an .npz cache of its result when ``cache`` says so."""
    if cache is None:
        cache = files["data"].stat().st_size >= CACHE_MIN_BYTES
    if not cache:
        return _load_subject(root, subject, files, ratio, aspect, problems, skipped)
    stamp = [(str(p.resolve()), p.stat().st_size, p.stat().st_mtime_ns) for p in files.values()]
    key = hashlib.sha1(json.dumps([CACHE_VERSION, stamp, ratio, aspect]).encode()).hexdigest()[:20]
    path = cache_dir() / f"subject{subject}_{key}.npz"
    if path.is_file():
        try:
            with np.load(path, allow_pickle=False) as data:
                part = {k: data[k] for k in data.files if not k.startswith("skipped:")}
                for k in data.files:
                    if k.startswith("skipped:"):
                        note_skipped(skipped, k[len("skipped:") :], int(data[k]))
            logger.debug("Human3.6M subject %d: annotations from cache %s", subject, path)
            return part or None
        except (OSError, ValueError, KeyError) as exc:
            logger.warning("ignoring unreadable annotation cache %s (%s)", path, exc)
    before, own_skips = len(problems), {}
    part = _load_subject(root, subject, files, ratio, aspect, problems, own_skips)
    for reason, count in own_skips.items():
        note_skipped(skipped, reason, count)
    if len(problems) == before:  # only well-formed subjects are cached, so problems are always reported
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(path.name + ".tmp")
            with open(tmp, "wb") as f:
                np.savez(f, **(part or {}), **{f"skipped:{k}": v for k, v in own_skips.items()})
            tmp.replace(path)
        except OSError as exc:
            logger.warning("could not write the annotation cache %s (%s)", path, exc)
    return part


def _load_subject(
    root: Path, subject: int, files: dict[str, Path], ratio: int, aspect: float, problems: Problems, skipped: dict
) -> dict | None:
    """Parse one subject's three files into stacked arrays of the kept (subsampled) annotations."""
    data_path, cam_path, joint_path = files["data"], files["camera"], files["joint_3d"]
    data = read_json(data_path)
    if (
        not isinstance(data, dict)
        or not isinstance(data.get("images"), list)
        or not isinstance(data.get("annotations"), list)
    ):
        raise DatasetError(f"{data_path}: expected an object with lists 'images' and 'annotations'")
    images, anns = data["images"], data["annotations"]
    cols, ok_img = columns(
        images, {k: ((), np.int64) for k in _IMAGE_INT_KEYS}, path=data_path, kind="image", problems=problems
    )
    _, names_ok = file_names(images, path=data_path, kind="image", problems=problems)
    ok_img &= names_ok
    spec = {"id": ((), np.int64), "image_id": ((), np.int64), "bbox": ((4,), np.float64)}
    ann_cols, ok_ann = columns(anns, spec, path=data_path, kind="annotation", problems=problems)
    ann_ids, img_of_ann, boxes = ann_cols["id"], ann_cols["image_id"], ann_cols["bbox"]
    row, linked = link_rows(cols["id"], img_of_ann)
    report_unlinked(data_path, ann_ids, img_of_ann, ok_ann & ~linked, problems)
    ok_ann &= linked
    ok_ann[ok_ann] &= ok_img[row[ok_ann]]
    wrong_subject = ok_ann & (cols["subject"][row] != subject)
    for i in np.flatnonzero(wrong_subject):
        problems.add(data_path, f"annotation id {ann_ids[i]}", f"image belongs to subject {cols['subject'][row[i]]}")
    ok_ann &= ~wrong_subject
    # Subsample frames first: most of the work below is per kept annotation (bad ones are reported already).
    kept = np.flatnonzero(ok_ann & (cols["frame_idx"][row] % ratio == 0))
    ok_ann, row, ann_ids, img_of_ann, boxes = ok_ann[kept], row[kept], ann_ids[kept], img_of_ann[kept], boxes[kept]
    if not len(kept):
        return None

    cameras = _read_cameras(cam_path, problems)
    joints_3d = read_json(joint_path)
    if not isinstance(joints_3d, dict):
        raise DatasetError(f"{joint_path}: expected {{action_idx: {{subaction_idx: {{frame_idx: 17x3}}}}}}")
    act, sub, frame, cam = (cols[k][row] for k in ("action_idx", "subaction_idx", "frame_idx", "cam_idx"))
    items = []
    for i in range(len(row)):
        entry = {"id": int(ann_ids[i])}
        try:
            entry["joints"] = joints_3d[str(act[i])][str(sub[i])][str(frame[i])]
        except (KeyError, TypeError):
            if ok_ann[i]:
                problems.add(
                    joint_path,
                    f"annotation id {ann_ids[i]}",
                    f"no joints for action {act[i]} subaction {sub[i]} frame {frame[i]}",
                )
                ok_ann[i] = False
        items.append(entry)
    valid_items = [it for it, ok in zip(items, ok_ann) if ok]
    world = np.full((len(items), ANNOTATED_JOINTS, 3), np.nan)
    if valid_items:
        values, ok_j = field_array(
            valid_items, "joints", (ANNOTATED_JOINTS, 3), path=joint_path, kind="annotation", problems=problems
        )
        idx = np.flatnonzero(ok_ann)
        world[idx] = values
        ok_ann[idx[~ok_j]] = False
    missing_cam = ok_ann & ~np.isin(cam, list(cameras))
    for i in np.flatnonzero(missing_cam):
        problems.add(cam_path, f"annotation id {ann_ids[i]}", f"camera {cam[i]} is not in the camera file")
    ok_ann &= ~missing_cam
    cam_ids = sorted(cameras)
    cam_row = (
        np.searchsorted(cam_ids, np.where(ok_ann, cam, cam_ids[0] if cam_ids else 0))
        if cam_ids
        else np.zeros(len(cam), int)
    )
    params = {
        k: np.stack([cameras[c][k] for c in cam_ids]) if cam_ids else np.zeros((1, 3, 3)) for k in ("R", "t", "f", "c")
    }
    rot, trans = params["R"][cam_row], params["t"][cam_row]
    focal, princpt = params["f"][cam_row], params["c"][cam_row]
    joints_cam = world2cam(world, rot, trans)
    thorax = (joints_cam[:, 11] + joints_cam[:, 14]) / 2.0  # L_Shoulder, R_Shoulder
    joints_cam = np.concatenate([joints_cam, thorax[:, None]], axis=1)
    joints_img = cam2pixel(joints_cam, focal, princpt)
    width, height = cols["width"][row], cols["height"][row]
    bbox, valid_box = process_boxes(boxes, width, height, aspect)
    note_skipped(skipped, "box without area (the release skips these)", int((ok_ann & ~valid_box).sum()))
    ok = ok_ann & valid_box
    names = np.array([str(images[r].get("file_name", "")) for r in row.tolist()])
    return {
        "image_ids": img_of_ann, "ann_ids": ann_ids, "bbox": bbox, "joints_img": joints_img, "joints_cam": joints_cam,
        "root_cam": joints_cam[:, 0], "focal": focal, "princpt": princpt, "ok": ok, "file_name": names,
        "subject": np.full(len(row), subject), "action_idx": act, "subaction_idx": sub, "cam_idx": cam,
        "frame_idx": frame, "width": width, "height": height,
    }  # fmt: skip


def _metas(merged: dict[str, np.ndarray], keep: np.ndarray) -> list[dict]:
    """Per-record metadata (subject, action, camera, frame, image size) of the kept rows."""
    keys = ("subject", "action_idx", "subaction_idx", "cam_idx", "frame_idx", "width", "height")
    columns_ = [merged[k][keep].tolist() for k in keys]
    out = []
    for values in zip(*columns_):
        meta = dict(zip(keys, values))
        a = meta["action_idx"]
        meta["action_name"] = ACTIONS[a - 2] if 2 <= a <= 16 else str(a)
        out.append(meta)
    return out


def _read_cameras(path: Path, problems: Problems) -> dict[int, dict[str, np.ndarray]]:
    """``{cam_idx: {"R": (3, 3), "t": (3,), "f": (2,), "c": (2,)}}`` of the well-formed cameras."""
    raw = read_json(path)
    if not isinstance(raw, dict):
        raise DatasetError(f"{path}: expected an object {{cam_idx: {{'R', 't', 'f', 'c'}}}}")
    cameras = {}
    shapes = {"R": (3, 3), "t": (3,), "f": (2,), "c": (2,)}
    for key, value in raw.items():
        try:
            cam_idx = int(key)
        except ValueError:
            problems.add(path, f"camera {key!r}", "key is not an integer camera index")
            continue
        if not isinstance(value, dict):
            problems.add(path, f"camera {key}", "is not an object with 'R', 't', 'f', 'c'")
            continue
        params = {}
        for name, shape in shapes.items():
            try:
                array = np.asarray(value[name], dtype=np.float64)
            except KeyError:
                problems.add(path, f"camera {key}", f"missing key {name!r}")
                break
            except (ValueError, TypeError):
                problems.add(path, f"camera {key}", f"{name!r} is not numeric")
                break
            if array.shape != shape or not np.isfinite(array).all():
                problems.add(path, f"camera {key}", f"{name!r} must be finite with shape {shape}, got {array.shape}")
                break
            params[name] = array
        else:
            cameras[cam_idx] = params
    return cameras


def _read_bbox_root(path: Path, image_ids: np.ndarray, problems: Problems) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Boxes (N, 4) and roots (N, 3) of a detector file for each image id, and which were found."""
    entries = read_json(path)
    if not isinstance(entries, list):
        raise DatasetError(f"{path}: expected a list of {{'image_id', 'bbox', 'root_cam'}}")
    ids, ok_i = field_array(entries, "image_id", (), path=path, kind="entry", problems=problems, dtype=np.int64)
    boxes, ok_b = field_array(entries, "bbox", (4,), path=path, kind="entry", problems=problems)
    roots, ok_r = field_array(entries, "root_cam", (3,), path=path, kind="entry", problems=problems)
    good = ok_i & ok_b & ok_r
    lookup = {int(i): k for k, i in enumerate(ids) if good[k]}
    rows = np.array([lookup.get(int(i), -1) for i in image_ids], dtype=np.int64)
    found = rows >= 0
    for i in np.flatnonzero(~found)[:50]:
        problems.add(path, f"image id {image_ids[i]}", "has no box/root entry")
    if (~found).sum() > 50:
        problems.add(path, "...", f"{int((~found).sum()) - 50} more test images have no entry")
    safe = np.where(found, rows, 0)
    if not len(entries):
        return np.full((len(image_ids), 4), np.nan), np.full((len(image_ids), 3), np.nan), found
    return boxes[safe], roots[safe], found
