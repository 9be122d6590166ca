"""Synthetic single photos with 2D keypoints in COCO format, with either body back-end: MPII and MS COCO
(DATA_FORMATS.md section 5).

MPII writes ``images/NNNNNNNNN.jpg`` and ``annotations/train.json`` (16 joints). COCO writes
``images/{train2017,val2017}/NNNNNNNNNNNN.jpg``, ``annotations/person_keypoints_{train,val}2017.json``
(17 joints) and ``bbox_root/bbox_root_coco_output.json`` for the val people.

Each photo is its own scene (six photos share a pool of textures): one to three people in random library poses, a hand-held ``photo`` camera (focal
0.7-1.6 x width, 2.5-7 m away) that sees them all, a room or an outdoor ground. Keypoint visibility follows COCO:
2 visible, 1 hidden (by another person, an object or the body itself, from the z-buffer), 0 outside the image (then
x = y = 0). Boxes and areas are those of the visible silhouette. People hidden entirely keep an annotation with
``num_keypoints`` 0, which the loaders skip as the release does.

The simulated COCO ``bbox_root`` gives what a root-depth network assuming focal 1500 px and the
principal point at the image centre would report: depth scaled by 1500 / true focal, plus noise.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..frames import FrameSampler
from ..render.frame import joint_visibility
from . import common

COCO_KEYPOINTS = (
    "nose", "left_eye", "right_eye", "left_ear", "right_ear", "left_shoulder", "right_shoulder", "left_elbow",
    "right_elbow", "left_wrist", "right_wrist", "left_hip", "right_hip", "left_knee", "right_knee", "left_ankle",
    "right_ankle",
)  # fmt: skip
COCO_SKELETON = (
    (16, 14), (14, 12), (17, 15), (15, 13), (12, 13), (6, 12), (7, 13), (6, 7), (6, 8), (7, 9), (8, 10), (9, 11),
    (2, 3), (1, 2), (1, 3), (2, 4), (3, 5), (4, 6), (5, 7),
)  # fmt: skip
MPII_KEYPOINTS = (
    "r_ankle", "r_knee", "r_hip", "l_hip", "l_knee", "l_ankle", "pelvis", "thorax", "upper_neck", "head_top",
    "r_wrist", "r_elbow", "r_shoulder", "l_shoulder", "l_elbow", "l_wrist",
)  # fmt: skip
ASSUMED_FOCAL = 1500.0


PHOTOS_PER_SCENE_POOL = 6  # photos drawn by one sampler: they share its texture pool (textures are slow to make)


@dataclass(frozen=True)
class _PhotoTask:
    """A group of photos drawn one after the other by one sampler."""

    out_dir: Path
    seed: int
    tag: int
    group: int
    fmt: str
    size: tuple[int, int]
    people: tuple[int, int]
    file_names: tuple[str, ...]
    options: common.WriterOptions


def _tasks(out_dir, seed, tag, fmt, size, people, file_names, options) -> list[_PhotoTask]:
    n = PHOTOS_PER_SCENE_POOL
    return [
        _PhotoTask(out_dir, seed, tag, g, fmt, size, tuple(people), tuple(file_names[g * n : (g + 1) * n]), options)
        for g in range(-(-len(file_names) // n))
    ]


def _photos(task: _PhotoTask) -> list[dict]:
    rng = common.sequence_rng(task.seed, task.tag, task.group)
    counts = rng.integers(task.people[0], task.people[1] + 1, len(task.file_names))
    sampler = FrameSampler(
        seed=common.derived_seed(task.seed, task.tag, 10**6 + task.group),
        bodies=task.options.bodies,
        backgrounds=task.options.backgrounds,
    )
    return [_photo(task, sampler, name, int(count)) for name, count in zip(task.file_names, counts)]


def _photo(task: _PhotoTask, sampler: FrameSampler, file_name: str, count: int) -> dict:
    people = sampler.sample_people(count, poses=sampler.random_pose_names(count))
    frame = sampler.sample_frame(
        people=people, camera="photo", image_size=task.size, outdoor_prob=0.4, degradation=task.options.degradation
    )
    camera = frame.camera
    joints = 17 if task.fmt == "coco" else 16
    img_pts = np.stack([camera.world_to_image(p.joints[task.fmt][:joints]) for p in frame.people])
    u, v, z = img_pts[..., 0], img_pts[..., 1], img_pts[..., 2]
    in_image = (u >= 0) & (u < camera.width) & (v >= 0) & (v < camera.height) & (z > 0)
    visible, result = in_image, None
    if task.options.render:
        result = common.render_and_write(frame, task.out_dir / file_name, task.options.jpeg_quality)
        visible = joint_visibility(img_pts, result.depth, result.instance, self_occlusion=True)
    persons = []
    for k, person in enumerate(frame.people):
        box = result.mask_box(k) if result is not None else None
        area = int(result.masks[k].sum()) if result is not None else 0
        if box is None:
            box = common.joints_box(img_pts[k], *task.size)
            area = area or int(box[2] * box[3])
        flags = np.where(in_image[k], np.where(visible[k], 2, 1), 0)
        keypoints = np.concatenate([np.where(in_image[k][:, None], img_pts[k, :, :2], 0.0), flags[:, None]], axis=1)
        pelvis_cam = camera.to_cam(person.joints["human36m"][0])
        persons.append({"keypoints": keypoints, "bbox": box, "area": area, "camera": camera, "pelvis_cam": pelvis_cam})
    return {"file_name": file_name, "size": task.size, "persons": persons}


def _size(image_size: int | tuple[int, int]) -> tuple[int, int]:
    size = (image_size, image_size) if isinstance(image_size, int) else tuple(int(s) for s in image_size)
    if len(size) != 2 or min(size) < 64:
        raise ValueError(f"image_size must be an int or (width, height), each >= 64, got {image_size}")
    return size


def _coco_json(entries: list[dict], first_id: int, keypoint_names: tuple[str, ...], skeleton) -> dict:
    images, annotations = [], []
    for k, entry in enumerate(entries):
        image_id = first_id + k
        w, h = entry["size"]
        images.append({"id": image_id, "file_name": Path(entry["file_name"]).name, "width": w, "height": h})
        for person in entry["persons"]:
            kp = person["keypoints"]
            annotations.append(
                {"id": first_id * 10 + len(annotations) + 1, "image_id": image_id, "category_id": 1, "iscrowd": 0,
                 "bbox": common.rounded(person["bbox"], 2), "area": float(person["area"]),
                 "keypoints": [float(x) if i % 3 != 2 else int(x) for i, x in enumerate(np.round(kp, 2).ravel())],
                 "num_keypoints": int((kp[:, 2] > 0).sum())}
            )  # fmt: skip
    category = {"id": 1, "name": "person", "supercategory": "person", "keypoints": list(keypoint_names),
                "skeleton": [list(b) for b in skeleton]}  # fmt: skip
    return {"images": images, "annotations": annotations, "categories": [category]}


def generate_mpii(
    out_dir: Path,
    *,
    seed: int = 0,
    images: int = 24,
    image_size: int | tuple[int, int] = (720, 540),
    people: tuple[int, int] = (1, 3),
    **options,
) -> Path:
    """Write a synthetic MPII folder (``images/`` and ``annotations/train.json``, COCO format, 16 joints).

    Args:
        images: number of photos.
        image_size: int (square) or (width, height), px.
        people: (min, max) people per photo.
        **options: :class:`~.common.WriterOptions` (``bodies``, ``degradation``, ``backgrounds``, ``render``,
            ``jpeg_quality``, ``workers``, ``progress``).
    """
    opts = common.WriterOptions.parse(options)
    size = _size(image_size)
    out_dir = Path(out_dir)
    names = [f"images/{i + 1:09d}.jpg" for i in range(images)]
    tasks = _tasks(out_dir, seed, 16, "mpii", size, people, names, opts)
    entries = [
        e for r in common.run_tasks(_photos, tasks, opts.workers, opts.progress, total=images, desc="MPII") for e in r
    ]
    skeleton = ((1, 2), (2, 3), (4, 5), (5, 6), (3, 7), (4, 7), (7, 8), (8, 9), (9, 10), (11, 12), (12, 13),
                (13, 8), (14, 8), (14, 15), (15, 16))  # fmt: skip
    common.write_json_atomic(out_dir / "annotations" / "train.json", _coco_json(entries, 1, MPII_KEYPOINTS, skeleton))
    return out_dir


def generate_coco(
    out_dir: Path,
    *,
    seed: int = 0,
    images: int = 24,
    val_images: int | None = None,
    image_size: int | tuple[int, int] = (640, 480),
    people: tuple[int, int] = (1, 3),
    bbox_root: bool = True,
    **options,
) -> Path:
    """Write a synthetic MS COCO folder: train2017 and val2017 images, keypoint JSONs, val ``bbox_root``.

    Args:
        images: train photos.
        val_images: val photos (default: half of ``images``, at least 1).
        image_size: int (square) or (width, height), px.
        people: (min, max) people per photo.
        bbox_root: write simulated boxes and roots for the val people (focal 1500 assumed).
        **options: :class:`~.common.WriterOptions` (``bodies``, ``degradation``, ``backgrounds``, ``render``,
            ``jpeg_quality``, ``workers``, ``progress``).
    """
    opts = common.WriterOptions.parse(options)
    size = _size(image_size)
    out_dir = Path(out_dir)
    val_images = max(1, images // 2) if val_images is None else int(val_images)
    splits = {"train2017": (images, 1), "val2017": (val_images, 500001)}
    det_rng = common.sequence_rng(seed, 17, 999)
    for split, (count, first_id) in splits.items():
        names = [f"images/{split}/{first_id + i:012d}.jpg" for i in range(count)]
        tag = 17 if split == "train2017" else 18
        tasks = _tasks(out_dir, seed, tag, "coco", size, people, names, opts)
        entries = [
            e
            for r in common.run_tasks(_photos, tasks, opts.workers, opts.progress, total=count, desc=f"COCO {split}")
            for e in r
        ]
        data = _coco_json(entries, first_id, COCO_KEYPOINTS, COCO_SKELETON)
        common.write_json_atomic(out_dir / "annotations" / f"person_keypoints_{split}.json", data)
        if split == "val2017" and bbox_root:
            detections = []
            persons = [p for e in entries for p in e["persons"]]
            for ann, person in zip(data["annotations"], persons):
                if ann["num_keypoints"] == 0:
                    continue
                detections.append(_simulated_root(det_rng, ann, person, size))
            common.write_json_atomic(out_dir / "bbox_root" / "bbox_root_coco_output.json", detections)
    return out_dir


def _simulated_root(rng: np.random.Generator, ann: dict, person: dict, size: tuple[int, int]) -> dict:
    """A root-depth network's output under the assumed focal 1500 px and centred principal point."""
    camera = person["camera"]
    pelvis = person["pelvis_cam"]
    u, v, _ = camera.project(pelvis)
    depth = pelvis[2] * ASSUMED_FOCAL / camera.f[0] * rng.uniform(0.9, 1.1)
    cx, cy = size[0] / 2.0, size[1] / 2.0
    root = [(u - cx) / ASSUMED_FOCAL * depth, (v - cy) / ASSUMED_FOCAL * depth, depth]
    extended = common.detector_box(rng, ann["bbox"], size[0], size[1])
    return {
        "image_id": ann["image_id"],
        "root_cam": common.rounded(root, 4),
        "bbox": common.rounded(extended, 4),
        "ann_id": ann["id"],
    }
