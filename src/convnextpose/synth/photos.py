"""Synthetic single photos with 2D keypoints in COCO format: MPII and MS COCO (DATA_FORMATS.md section 5).

MPII writes ``images/NNNNNNNNN.jpg`` and ``annotations/train.json`` (16 joints). COCO writes
``images/{train2017,val2017}/NNNNNNNNNNNN.jpg``, ``annotations/person_keypoints_{train,val}2017.json``
(17 joints) and ``bbox_root/bbox_root_coco_output.json`` for the val people.

Each photo is a fresh camera (focal 0.7-1.6 x width) in a room or outdoors with one to three people in
random poses. Keypoint visibility follows COCO: 2 visible, 1 hidden (by another person, an object or
the body itself, from the z-buffer), 0 outside the image (then x = y = 0). Boxes and areas are those
of the visible silhouette. People hidden entirely keep an annotation with ``num_keypoints`` 0, which
the loaders skip as the release does.

The simulated COCO ``bbox_root`` gives what a root-depth network assuming focal 1500 px and the
principal point at the image centre would report: depth scaled by 1500 / true focal, plus noise.
"""

from __future__ import annotations

import dataclasses
import functools
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..geometry import cam2pixel, process_boxes
from .body import format_indices
from .capsule_scene import Person, Scene, render_background, sample_scene, silhouette_box
from .common import (
    Actor,
    free_camera,
    joint_occlusion,
    joints_box,
    place_people,
    render_frame,
    rounded,
    run_tasks,
    sample_actor,
    sequence_rng,
    write_image,
    write_json_atomic,
)
from .motion import Motion, sample_static_pose

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


@dataclass(frozen=True)
class _PhotoTask:
    out_dir: Path
    seed: int
    tag: int
    index: int
    fmt: str
    size: tuple[int, int]
    people: tuple[int, int]
    file_name: str
    render: bool
    quality: int


@functools.lru_cache(maxsize=2)
def _scene(seed: int, tag: int, group: int) -> Scene:
    """Six photos share a scene (its textures are the slow part); cameras and people differ."""
    rng = sequence_rng(seed, tag, 10**6 + group)
    return sample_scene(rng, "room" if rng.random() < 0.6 else "outdoor")


def _photo(task: _PhotoTask) -> list[dict]:
    rng = sequence_rng(task.seed, task.tag, task.index)
    scene = _scene(task.seed, task.tag, task.index // 6)
    camera = free_camera(rng, task.size, distance=(2500.0, 7000.0))
    camera = dataclasses.replace(camera, f=np.full(2, task.size[0] * rng.uniform(0.7, 1.6)))
    spots = place_people(rng, camera, int(rng.integers(task.people[0], task.people[1] + 1)), gap_mm=(500.0, 1500.0))
    people = []
    for xy in spots:
        angles = sample_static_pose(rng)[None]
        actor: Actor = sample_actor(rng, Motion(angles, xy[None], np.array([rng.uniform(-np.pi, np.pi)])))
        joints, rot = actor.pose()
        people.append(Person(actor.shape, actor.outfit, joints[0], rot[0]))
    canvas = None
    if task.render:
        background, floor_xy = render_background(scene, camera)
        image, canvas = render_frame(background, floor_xy, scene, camera, people, rng)
        write_image(task.out_dir / task.file_name, image, task.quality)
    persons = []
    for pid, person in enumerate(people):
        cam_pts = camera.to_cam(person.joints_world[format_indices(task.fmt)])
        img_pts = cam2pixel(cam_pts, camera.f, camera.c)
        if canvas is not None:
            in_image, occluded = joint_occlusion(canvas, img_pts, pid)
            mask = canvas.owner == pid
            area = int(mask.sum())
        else:
            w, h = task.size
            in_image = (img_pts[:, 0] >= 0) & (img_pts[:, 0] < w) & (img_pts[:, 1] >= 0) & (img_pts[:, 1] < h)
            occluded, area = np.zeros(len(img_pts), bool), 0
        box = silhouette_box(canvas.owner, pid) if canvas is not None else None
        if box is None:
            box = joints_box(img_pts, *task.size)
            area = area or int(box[2] * box[3])
        v = np.where(in_image, np.where(occluded, 1, 2), 0)
        keypoints = np.concatenate([np.where(in_image[:, None], img_pts[:, :2], 0.0), v[:, None]], axis=1)
        persons.append(
            {"keypoints": keypoints, "bbox": box, "area": area, "camera": camera,
             "pelvis_cam": camera.to_cam(person.joints_world[0])}
        )  # fmt: skip
    return [{"file_name": task.file_name, "size": task.size, "persons": persons, "focal": camera.f.copy()}]


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
                 "bbox": rounded(person["bbox"], 2), "area": float(person["area"]),
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
    render: bool = True,
    workers: int = 1,
    jpeg_quality: int = 90,
    progress: bool = True,
) -> Path:
    """Write a synthetic MPII folder (``images/`` and ``annotations/train.json``, COCO format, 16 joints).

    Args:
        images: number of photos.
        image_size: int (square) or (width, height), px.
        people: (min, max) people per photo.
    """
    size = _size(image_size)
    out_dir = Path(out_dir)
    tasks = [
        _PhotoTask(out_dir, seed, 16, i, "mpii", size, tuple(people), f"images/{i + 1:09d}.jpg", render, jpeg_quality)
        for i in range(images)
    ]
    entries = [e for r in run_tasks(_photo, tasks, workers, progress, total=images, desc="MPII") for e in r]
    skeleton = ((1, 2), (2, 3), (4, 5), (5, 6), (3, 7), (4, 7), (7, 8), (8, 9), (9, 10), (11, 12), (12, 13),
                (13, 8), (14, 8), (14, 15), (15, 16))  # fmt: skip
    write_json_atomic(out_dir / "annotations" / "train.json", _coco_json(entries, 1, MPII_KEYPOINTS, skeleton))
    return out_dir


def generate_coco(
    out_dir: Path,
    *,
    seed: int = 0,
    images: int = 24,
    val_images: int | None = None,
    image_size: int | tuple[int, int] = (640, 480),
    people: tuple[int, int] = (1, 3),
    render: bool = True,
    bbox_root: bool = True,
    workers: int = 1,
    jpeg_quality: int = 90,
    progress: bool = True,
) -> Path:
    """Write a synthetic MS COCO folder: train2017 and val2017 images, keypoint JSONs, val ``bbox_root``.

    Args:
        images: train photos.
        val_images: val photos (default: half of ``images``, at least 1).
        image_size: int (square) or (width, height), px.
        people: (min, max) people per photo.
        bbox_root: write simulated boxes and roots for the val people (focal 1500 assumed).
    """
    size = _size(image_size)
    out_dir = Path(out_dir)
    val_images = max(1, images // 2) if val_images is None else int(val_images)
    splits = {"train2017": (images, 1), "val2017": (val_images, 500001)}
    det_rng = sequence_rng(seed, 17, 999)
    for split, (count, first_id) in splits.items():
        tasks = [
            _PhotoTask(out_dir, seed, 17 if split == "train2017" else 18, i, "coco", size, tuple(people),
                       f"images/{split}/{first_id + i:012d}.jpg", render, jpeg_quality)
            for i in range(count)
        ]  # fmt: skip
        entries = [e for r in run_tasks(_photo, tasks, workers, progress, total=count, desc=f"COCO {split}") for e in r]
        data = _coco_json(entries, first_id, COCO_KEYPOINTS, COCO_SKELETON)
        write_json_atomic(out_dir / "annotations" / f"person_keypoints_{split}.json", data)
        if split == "val2017" and bbox_root:
            detections = []
            persons = [p for e in entries for p in e["persons"]]
            for ann, person in zip(data["annotations"], persons):
                if ann["num_keypoints"] == 0:
                    continue
                detections.append(_simulated_root(det_rng, ann, person, size))
            write_json_atomic(out_dir / "bbox_root" / "bbox_root_coco_output.json", detections)
    return out_dir


def _simulated_root(rng: np.random.Generator, ann: dict, person: dict, size: tuple[int, int]) -> dict:
    """A root-depth network's output under the assumed focal 1500 px and centred principal point."""
    camera = person["camera"]
    pelvis = person["pelvis_cam"]
    u, v, _ = camera.project(pelvis)
    depth = pelvis[2] * ASSUMED_FOCAL / camera.f[0] * rng.uniform(0.9, 1.1)
    cx, cy = size[0] / 2.0, size[1] / 2.0
    root = [(u - cx) / ASSUMED_FOCAL * depth, (v - cy) / ASSUMED_FOCAL * depth, depth]
    box = np.asarray(ann["bbox"], dtype=np.float64)
    extended, valid = process_boxes(box + rng.normal(0, 0.03, 4) * box[[2, 3, 2, 3]], size[0], size[1])
    if not valid:
        extended, _ = process_boxes(box, size[0], size[1])
    return {
        "image_id": ann["image_id"],
        "root_cam": rounded(root, 4),
        "bbox": rounded(extended, 4),
        "ann_id": ann["id"],
    }
