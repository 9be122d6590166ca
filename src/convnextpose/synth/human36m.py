"""Synthetic Human3.6M in the release's preprocessed layout (DATA_FORMATS.md section 3).

Writes, under ``out_dir``::

    images/s_SS_act_AA_subact_BB_ca_CC/s_SS_act_AA_subact_BB_ca_CC_NNNNNN.jpg   (NNNNNN = frame_idx + 1)
    annotations/Human36M_subjectS_data.json       {"images": [...], "annotations": [...]}
    annotations/Human36M_subjectS_camera.json     {cam_idx: {"R", "t", "f", "c"}}
    annotations/Human36M_subjectS_joint_3d.json   {action_idx: {subaction_idx: {frame_idx: 17x3 world mm}}}
    bbox_root/bbox_root_human36m_output.json      simulated detector boxes and roots for the test subjects

One subject is one person in one room seen by four static cameras; each (action, subaction) is one
smooth motion of 50 frames per second. Every camera of a subject shares the room, so its background
is drawn once.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..geometry import cam2pixel, process_boxes
from . import anny_bodies
from .body import format_indices
from .camera import Camera
from .capsule_scene import Person, Scene, render_background, sample_scene, silhouette_box
from .common import (
    FPS,
    joints_box,
    render_frame,
    ring_cameras,
    rounded,
    run_tasks,
    sample_actor,
    sequence_rng,
    write_image,
    write_json_atomic,
)
from .motion import H36M_ACTIONS, sample_motion

ALL_SUBJECTS = (1, 5, 6, 7, 8, 9, 11)
TEST_SUBJECTS = (9, 11)


def image_name(subject: int, action: int, subaction: int, cam: int, frame_idx: int) -> str:
    """The release's relative image path of a frame."""
    folder = f"s_{subject:02d}_act_{action:02d}_subact_{subaction:02d}_ca_{cam:02d}"
    return f"{folder}/{folder}_{frame_idx + 1:06d}.jpg"


@dataclass(frozen=True)
class _Task:
    out_dir: Path
    seed: int
    subject: int
    cam: int
    actions: tuple[int, ...]
    subactions: tuple[int, ...]
    frame_indices: tuple[int, ...]
    image_size: int
    render: bool
    quality: int
    bodies: str = "capsule"
    camera_presets: tuple[str, ...] = ("h36m",)
    degradation: float = 1.0


@functools.lru_cache(maxsize=4)
def _subject_setup(seed: int, subject: int, image_size: int) -> tuple[Scene, list[Camera]]:
    """A subject's room and its four cameras (cached: every camera task of the subject needs them)."""
    rng = sequence_rng(seed, 36, subject)
    scene = sample_scene(rng, "room")
    cameras = ring_cameras(rng, 4, (image_size, image_size))
    return scene, cameras


def _sequence(seed: int, subject: int, action: int, subaction: int, frame_indices: tuple[int, ...]):
    """(T, 17, 3) world joints and the posed people of one sequence (the same for every camera)."""
    rng = sequence_rng(seed, 36, subject, action, subaction)
    # One person per subject: shape and clothes are drawn from the subject's own generator.
    actor_rng = sequence_rng(seed, 36, subject, 0)
    times = np.asarray(frame_indices, dtype=np.float64) / FPS
    motion = sample_motion(rng, H36M_ACTIONS[action - 2], times, area_mm=1200.0)
    actor = sample_actor(actor_rng, motion)
    joints, rot = actor.pose()
    people = [Person(actor.shape, actor.outfit, joints[i], rot[i], motion.seated) for i in range(len(times))]
    return joints[:, format_indices("human36m")], people


def _render_camera(task: _Task) -> list[dict]:
    """Render every frame one camera sees; returns one entry per image (ids are given later)."""
    if task.bodies == "anny":
        return _render_camera_anny(task)
    scene, cameras = _subject_setup(task.seed, task.subject, task.image_size)
    camera = cameras[task.cam - 1]
    background = floor_xy = None
    if task.render:
        background, floor_xy = render_background(scene, camera)
    entries = []
    for action in task.actions:
        for subaction in task.subactions:
            joints_world, people = _sequence(task.seed, task.subject, action, subaction, task.frame_indices)
            joints_cam = camera.to_cam(joints_world)
            joints_img = cam2pixel(joints_cam, camera.f, camera.c)
            for i, frame_idx in enumerate(task.frame_indices):
                name = image_name(task.subject, action, subaction, task.cam, frame_idx)
                box = None
                if task.render:
                    noise_rng = sequence_rng(task.seed, 36, task.subject, action, subaction, task.cam, frame_idx)
                    image, canvas = render_frame(background, floor_xy, scene, camera, [people[i]], noise_rng)
                    write_image(task.out_dir / "images" / name, image, task.quality)
                    box = silhouette_box(canvas.owner, 0)
                if box is None:
                    box = joints_box(joints_img[i], camera.width, camera.height)
                entries.append(
                    _entry(name, action, subaction, task.cam, frame_idx, box, joints_world[i], joints_cam[i, 0])
                )
    return entries


def _entry(name, action, subaction, cam, frame_idx, box, joints_world, root_cam) -> dict:
    """One frame's record, as both renderers hand it to the annotation writer."""
    return {
        "file_name": name,
        "action_idx": action,
        "subaction_idx": subaction,
        "cam_idx": cam,
        "frame_idx": frame_idx,
        "bbox": box,
        "joints_world": joints_world,
        "root_cam": root_cam,
    }


def _render_camera_anny(task: _Task) -> list[dict]:
    """As :func:`_render_camera` with Anny people (see :mod:`.anny_bodies`)."""
    camera = anny_bodies.subject_cameras(task.seed, task.subject, task.image_size, task.camera_presets)[task.cam - 1]
    entries = []
    for action in task.actions:
        for subaction in task.subactions:
            people, joints_world = anny_bodies.h36m_sequence(
                task.seed, task.subject, action, subaction, len(task.frame_indices)
            )
            joints_cam = camera.to_cam(joints_world)
            joints_img = cam2pixel(joints_cam, camera.f, camera.c)
            views = None
            if task.render:
                views = anny_bodies.render_h36m_view(
                    task.seed, task.subject, action, subaction, task.cam, camera, people, task.degradation
                )
            for i, frame_idx in enumerate(task.frame_indices):
                name = image_name(task.subject, action, subaction, task.cam, frame_idx)
                box = None
                if views is not None:
                    image, box = next(views)
                    write_image(task.out_dir / "images" / name, image, task.quality)
                if box is None:
                    box = joints_box(joints_img[i], camera.width, camera.height)
                entries.append(
                    _entry(name, action, subaction, task.cam, frame_idx, box, joints_world[i], joints_cam[i, 0])
                )
    return entries


def generate_human36m(
    out_dir: Path,
    *,
    seed: int = 0,
    subjects: tuple[int, ...] = ALL_SUBJECTS,
    actions: tuple[int, ...] = (2, 14),
    subactions: tuple[int, ...] = (1,),
    cameras: tuple[int, ...] = (1, 2, 3, 4),
    frames: int = 4,
    frame_stride: int = 1,
    image_size: int = 1000,
    render: bool = True,
    bbox_root: bool = True,
    workers: int = 1,
    jpeg_quality: int = 90,
    progress: bool = True,
    bodies: str = "capsule",
    camera_presets: tuple[str, ...] = ("h36m",),
    degradation: float = 1.0,
) -> Path:
    """Write a synthetic Human3.6M folder.

    Args:
        out_dir: the dataset root (it gets ``images/``, ``annotations/``, ``bbox_root/``).
        subjects: subject numbers (any of 1, 5, 6, 7, 8, 9, 11 or others).
        actions: action indices 2..16 (Directions .. WalkTogether).
        subactions: subaction indices (1, 2 in the real data).
        cameras: camera indices 1..4.
        frames: frames per sequence.
        frame_stride: frame_idx step between written frames (64 keeps every frame through both the
            train and the test subsampling of the loader).
        image_size: square image side, px; the focal length scales with it (1145 px at 1000 px).
        render: False writes annotations only (no images), e.g. for indexing benchmarks.
        bbox_root: also write simulated detector boxes and roots for subjects 9 and 11.
        workers: processes for rendering.
        bodies: "capsule" (built-in shaded capsules, smooth motions) or "anny" (realistic Anny people, one random
            library pose per frame; needs ``pip install convnextpose[anny]``; see :mod:`.anny_bodies`).
        camera_presets: Anny only: camera k of a subject uses ``camera_presets[(k - 1) % len]``
            (``h36m``, ``phone_tripod``, ``phone_floor``, ``mupots``).
        degradation: Anny only: strength of the image degradations (0 = clean images).

    Returns:
        ``out_dir``.
    """
    out_dir = Path(out_dir)
    camera_presets = tuple(camera_presets)
    anny_bodies.check_bodies(bodies, camera_presets)
    bad = [a for a in actions if not 2 <= a <= 16]
    if bad:
        raise ValueError(f"Human3.6M action indices are 2..16, got {bad}")
    if bad := [c for c in cameras if not 1 <= c <= 4]:
        raise ValueError(f"Human3.6M camera indices are 1..4, got {bad}")
    if frames < 1 or frame_stride < 1 or image_size < 64:
        raise ValueError("frames and frame_stride must be >= 1 and image_size >= 64")
    frame_indices = tuple(range(0, frames * frame_stride, frame_stride))
    tasks = [
        _Task(
            out_dir,
            seed,
            s,
            c,
            tuple(actions),
            tuple(subactions),
            frame_indices,
            image_size,
            render,
            jpeg_quality,
            bodies,
            camera_presets,
            degradation,
        )
        for s in subjects
        for c in cameras
    ]
    total = len(tasks) * len(actions) * len(subactions) * frames
    results = run_tasks(_render_camera, tasks, workers, progress, total=total, desc="Human3.6M")
    next_id = 1  # ids are global across subjects, as in the real annotations
    detections = []
    by_subject: dict[int, list[tuple[_Task, list[dict]]]] = {}
    for task, entries in zip(tasks, results):
        by_subject.setdefault(task.subject, []).append((task, entries))
    for subject, groups in by_subject.items():
        if bodies == "anny":
            cams = anny_bodies.subject_cameras(seed, subject, image_size, camera_presets)
        else:
            _, cams = _subject_setup(seed, subject, image_size)
        rows = sorted(
            (e for _, entries in groups for e in entries),
            key=lambda e: (e["action_idx"], e["subaction_idx"], e["cam_idx"], e["frame_idx"]),
        )
        images, annotations, joints_3d = [], [], {}
        det_rng = sequence_rng(seed, 36, subject, 99)
        for e in rows:
            image_id = next_id
            next_id += 1
            images.append(
                {
                    "id": image_id,
                    "file_name": e["file_name"],
                    "width": image_size,
                    "height": image_size,
                    "subject": subject,
                    "action_idx": e["action_idx"],
                    "subaction_idx": e["subaction_idx"],
                    "cam_idx": e["cam_idx"],
                    "frame_idx": e["frame_idx"],
                }
            )
            annotations.append({"id": image_id, "image_id": image_id, "bbox": rounded(e["bbox"], 2)})
            frames_of = joints_3d.setdefault(str(e["action_idx"]), {}).setdefault(str(e["subaction_idx"]), {})
            frames_of[str(e["frame_idx"])] = rounded(e["joints_world"], 3)
            if bbox_root and subject in TEST_SUBJECTS:
                detections.append(_simulated_detection(det_rng, image_id, e["bbox"], e["root_cam"], image_size))
        camera_json = {
            str(c): {"R": rounded(cam.R, 8), "t": rounded(cam.t, 4), "f": rounded(cam.f, 4), "c": rounded(cam.c, 4)}
            for c, cam in zip(range(1, 5), cams)
            if c in cameras
        }
        ann_dir = out_dir / "annotations"
        write_json_atomic(
            ann_dir / f"Human36M_subject{subject}_data.json", {"images": images, "annotations": annotations}
        )
        write_json_atomic(ann_dir / f"Human36M_subject{subject}_camera.json", camera_json)
        write_json_atomic(ann_dir / f"Human36M_subject{subject}_joint_3d.json", joints_3d)
    if detections:
        write_json_atomic(out_dir / "bbox_root" / "bbox_root_human36m_output.json", detections)
    return out_dir


def _simulated_detection(
    rng: np.random.Generator, image_id: int, box: np.ndarray, root_cam: np.ndarray, size: int
) -> dict:
    """What a detector + root-depth network would give: a jittered, already extended box and a noisy root."""
    box = np.asarray(box, dtype=np.float64)
    jitter = box + rng.normal(0, 0.03, 4) * box[[2, 3, 2, 3]]
    extended, valid = process_boxes(jitter, size, size)
    if not valid:
        extended, _ = process_boxes(box, size, size)
    root = np.asarray(root_cam) + rng.normal(0, [25.0, 25.0, 80.0])
    return {"image_id": int(image_id), "bbox": rounded(extended, 4), "root_cam": rounded(root, 4)}
