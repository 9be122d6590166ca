"""Synthetic Human3.6M in the release's preprocessed layout (DATA_FORMATS.md section 3), with either body back-end.

Writes, under ``out_dir``::

    images/s_SS_act_AA_subact_BB_ca_CC/s_SS_act_AA_subact_BB_ca_CC_NNNNNN.jpg   (NNNNNN = frame_idx + 1)
    annotations/Human36M_subjectS_data.json       {"images": [...], "annotations": [...]}
    annotations/Human36M_subjectS_camera.json     {cam_idx: {"R", "t", "f", "c"}}
    annotations/Human36M_subjectS_joint_3d.json   {action_idx: {subaction_idx: {frame_idx: 17x3 world mm}}}
    bbox_root/bbox_root_human36m_output.json      simulated detector boxes and roots for the test subjects

Two recordings:

- ``studio``: as Human3.6M was captured. A subject is one person in one closed room seen by four static cameras
  around the capture area; each (action, subaction) is one smooth motion through library key poses at 50 frames per
  second, the person turning and drifting slowly. Each camera's view of the room is drawn once.
- ``snapshots``: the most varied data. Each frame of an (action, subaction) is a new random person in a random
  library pose, turned to a random heading at the world origin and seen by every camera of the subject; each view
  draws its own room, furniture, lights and degradations (the four views are not one consistent room). The cameras
  are zoomed onto a 1.6 m wide, 2 m tall cylinder around the origin, so a small image keeps about as many pixels on
  the person as a 1000 px Human3.6M frame.

The action index is a label in both. Boxes are the person's visible-mask box (the projected joints' box with a 10 %
margin without images, or when nothing of the person is visible).
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from ...geometry import cam2pixel
from ..backends import default_recording
from ..camera import Camera, check_preset, sample_camera, zoomed_camera
from ..degrade import sample_degradation
from ..frames import FrameSampler
from ..people.library import POSE_LIBRARY, random_pose_names
from ..people.motion import moving_person
from ..people.outfit import sample_outfit
from ..people.person import Person
from ..render.frame import Frame
from ..render.lit_scene import LitScene, light_scene
from ..scene import rooms
from ..scene.lighting import sample_lighting
from ..scene.textures import FlatTextures
from . import common

ALL_SUBJECTS = (1, 5, 6, 7, 8, 9, 11)
TEST_SUBJECTS = (9, 11)
RECORDINGS = ("studio", "snapshots")
#: Radius and height (mm) of the region around the world origin the ``snapshots`` cameras are zoomed onto.
_ZOOM_RADIUS, _ZOOM_HEIGHT = 800.0, 2000.0


def image_name(subject: int, action: int, subaction: int, cam: int, frame_idx: int) -> str:
    """The release's relative image path of a frame."""
    folder = f"s_{subject:02d}_act_{action:02d}_subact_{subaction:02d}_ca_{cam:02d}"
    return f"{folder}/{folder}_{frame_idx + 1:06d}.jpg"


@dataclass(frozen=True)
class Human36mTask:
    """What one camera of one subject records (one worker task)."""

    out_dir: Path
    seed: int
    subject: int
    cam: int
    actions: tuple[int, ...]
    subactions: tuple[int, ...]
    frame_indices: tuple[int, ...]
    image_size: int
    recording: str
    camera_presets: tuple[str, ...]
    options: common.WriterOptions


@functools.lru_cache(maxsize=4)
def subject_cameras(seed: int, subject: int, image_size: int, presets: tuple[str, ...], recording: str) -> list[Camera]:
    """A subject's four static cameras; camera k uses ``presets[(k - 1) % len(presets)]``.

    ``studio``: evenly spread around the capture area (jittered), looking at it. ``snapshots``: at random azimuths,
    zoomed onto the person's region at the origin.
    """
    rng = common.sequence_rng(seed, 36, subject, 500)
    if recording == "snapshots":
        target = np.array([0.0, 0.0, 0.5 * _ZOOM_HEIGHT])
        return [
            zoomed_camera(sample_camera(presets[k % len(presets)], rng, target), _ZOOM_RADIUS, _ZOOM_HEIGHT, image_size)
            for k in range(4)
        ]
    start = rng.uniform(0, 360)
    return [
        sample_camera(presets[k % len(presets)], rng, np.array([0.0, 0.0, 900.0]), (image_size, image_size),
                      azimuth_deg=start + 90 * k + rng.uniform(-9, 9))
        for k in range(4)
    ]  # fmt: skip


@dataclass(frozen=True)
class _Studio:
    """A subject's room, lights, body and clothes (``studio`` recording)."""

    sampler: FrameSampler
    planes: list
    boxes: list
    lighting: object
    rest: object
    outfit: object


@functools.lru_cache(maxsize=2)
def _studio(task: Human36mTask) -> _Studio:
    """(The task's camera does not matter.)"""
    sampler = FrameSampler(seed=common.derived_seed(task.seed, 36, task.subject), bodies=task.options.bodies)
    rng, backend = sampler.rng, sampler.backend
    cameras = subject_cameras(task.seed, task.subject, task.image_size, task.camera_presets, "studio")
    textures = sampler.textures if task.options.render else FlatTextures()  # without images only the people count
    planes, boxes = rooms.studio(rng, textures, cameras)
    if task.options.backgrounds is not None:  # photos behind the person instead of the room
        planes, boxes = rooms.floor_only(), []
    lighting = sample_lighting(rng, outdoor=False)
    rest = backend.rest(backend.sample_shapes(rng, 1))
    outfit = sample_outfit(rng, gender=backend.gender(rest.shapes[0]))
    return _Studio(sampler, planes, boxes, lighting, rest, outfit)


_STANDING_POSES = tuple(sorted(name for name, pose in POSE_LIBRARY.items() if not pose.seat))


def _performance(task: Human36mTask, action: int, subaction: int) -> list[Person]:
    """The person of a ``studio`` sequence in each frame: moving through library key poses (no seated ones, since
    the studio has no chair), turning and drifting slowly."""
    studio = _studio(replace(task, cam=0))
    rng = common.sequence_rng(task.seed, 36, task.subject, action, subaction)
    times = np.asarray(task.frame_indices, np.float64) / common.FPS
    key_times = [0.0]
    while key_times[-1] < times[-1]:
        key_times.append(key_times[-1] + rng.uniform(1.5, 3.0))
    names = [n if n in _STANDING_POSES else _STANDING_POSES[int(rng.integers(len(_STANDING_POSES)))]
             for n in random_pose_names(rng, len(key_times))]  # fmt: skip
    people = moving_person(studio.sampler.backend, rng, names, np.array(key_times), times, 0.5, studio.rest,
                           studio.outfit, bodies=task.options.render)  # fmt: skip
    yaw = rng.uniform(-180, 180) + 35.0 * np.sin(2 * np.pi * rng.uniform(0.03, 0.1) * times + rng.uniform(0, 6.3))
    start, drift = rng.uniform(-400, 400, 2), 2 * np.pi * rng.uniform(0.02, 0.08) * times
    root = start + 150.0 * np.stack([np.sin(drift), np.cos(drift)], axis=1)
    return [p.transformed(float(a), xy) for p, a, xy in zip(people, yaw, root)]


def _snapshots(task: Human36mTask, action: int, subaction: int) -> list[Person]:
    """The people of a ``snapshots`` sequence: a new random person and pose per frame, at the origin."""
    sampler = FrameSampler(
        seed=common.derived_seed(task.seed, 36, task.subject, action, subaction), bodies=task.options.bodies
    )
    count = len(task.frame_indices)
    people = sampler.sample_people(count)
    yaws = common.sequence_rng(task.seed, 36, task.subject, action, subaction, 7).uniform(-180, 180, count)
    return [p.transformed(float(y), np.zeros(2)) for p, y in zip(people, yaws)]


def _views(
    task: Human36mTask, camera: Camera, action: int, subaction: int, people: list[Person]
) -> Iterator[tuple[Frame, LitScene | None]]:
    """The frames one camera sees of a sequence, each with its scene already lit when the scene is static."""
    keys = (task.seed, 36, task.subject, action, subaction, task.cam)
    if task.recording == "snapshots":
        view = FrameSampler(
            seed=common.derived_seed(*keys, 1), bodies=task.options.bodies, backgrounds=task.options.backgrounds
        )
        for person in people:
            frame = view.sample_frame(people=[person], camera=camera, place=False, degradation=task.options.degradation)
            yield frame, None
        return
    studio = _studio(replace(task, cam=0))
    backdrop, lit = _lit_studio(replace(task, actions=(), subactions=()))
    rng = common.sequence_rng(*keys)
    first = sample_degradation(rng, task.options.degradation)
    for person in people:
        degradation = replace(first, seed=int(rng.integers(2**31)))
        yield Frame([person], camera, studio.planes, studio.boxes, studio.lighting, degradation, backdrop=backdrop), lit


@functools.lru_cache(maxsize=1)
def _lit_studio(task: Human36mTask) -> tuple[np.ndarray | None, LitScene]:
    """A studio as the task's camera sees it, lit once (at up to :data:`common.STATIC_SCENE_SIDE` px, upsampled), and the
    camera's backdrop photo if the studio has photos for walls."""
    studio = _studio(replace(task, cam=0))
    camera = subject_cameras(task.seed, task.subject, task.image_size, task.camera_presets, "studio")[task.cam - 1]
    backdrop = None
    if task.options.backgrounds is not None:
        backdrop = task.options.backgrounds.sample(
            common.sequence_rng(task.seed, 36, task.subject, task.cam, 3), camera.size
        )
    lit = light_scene(camera, studio.planes, studio.boxes, studio.lighting, common.STATIC_SCENE_SIDE, backdrop=backdrop)
    return backdrop, lit


@functools.lru_cache(maxsize=2)
def _recorded(task: Human36mTask, action: int, subaction: int) -> tuple[Person, ...]:
    """The people of a sequence's frames (the same for every camera, so kept for the subject's next camera)."""
    recorded = _snapshots if task.recording == "snapshots" else _performance
    return tuple(recorded(task, action, subaction))


def camera_views(
    task: Human36mTask, action: int, subaction: int
) -> tuple[Camera, list[Person], Iterator[tuple[Frame, LitScene | None]]]:
    """What one camera of a subject records of a sequence: the camera, the people of its frames (the same for every
    camera) and, lazily, the frames it renders (with the static scene lit, or None)."""
    camera = subject_cameras(task.seed, task.subject, task.image_size, task.camera_presets, task.recording)
    camera = camera[task.cam - 1]
    people = list(_recorded(replace(task, cam=0), action, subaction))
    return camera, people, _views(task, camera, action, subaction, people)


def _render_camera(task: Human36mTask) -> list[dict]:
    """Render every frame one camera sees; returns one entry per image (ids are given later)."""
    entries = []
    for action in task.actions:
        for subaction in task.subactions:
            camera, people, views = camera_views(task, action, subaction)
            boxes = []
            for frame_idx in task.frame_indices:
                name = image_name(task.subject, action, subaction, task.cam, frame_idx)
                frame, lit = next(views)
                result = common.render_and_write(frame, task.out_dir / "images" / name, task.options.jpeg_quality, lit)
                boxes.append(result.mask_box(0))
            entries += _camera_entries(task, camera, action, subaction, people, boxes)
    return entries


def _annotate_subject(tasks: tuple[Human36mTask, ...]) -> list[dict]:
    """The entries of all cameras of one subject without images (each sequence's people are posed once)."""
    first = tasks[0]
    entries = []
    for action in first.actions:
        for subaction in first.subactions:
            people = list(_recorded(replace(first, cam=0), action, subaction))
            for task in tasks:
                camera = subject_cameras(task.seed, task.subject, task.image_size, task.camera_presets, task.recording)
                entries += _camera_entries(task, camera[task.cam - 1], action, subaction, people)
    return entries


def _camera_entries(
    task: Human36mTask,
    camera: Camera,
    action: int,
    subaction: int,
    people: list[Person],
    boxes: list[np.ndarray | None] | None = None,
) -> list[dict]:
    """One camera's records of a sequence's frames; a frame's box is its visible-mask box from ``boxes``, else the
    box of its projected joints."""
    joints_world = np.stack([p.joints["human36m"][:17] for p in people]).astype(np.float64)
    joints_cam = camera.to_cam(joints_world)
    joints_img = cam2pixel(joints_cam, camera.f, camera.c)
    fallback = common.joints_box(joints_img, camera.width, camera.height)
    entries = []
    for i, frame_idx in enumerate(task.frame_indices):
        box = boxes[i] if boxes is not None else None
        if box is None:
            box = fallback[i]
        entries.append(
            {"subject": task.subject, "file_name": image_name(task.subject, action, subaction, task.cam, frame_idx),
             "action_idx": action, "subaction_idx": subaction, "cam_idx": task.cam, "frame_idx": frame_idx,
             "bbox": box, "joints_world": joints_world[i], "root_cam": joints_cam[i, 0]}
        )  # fmt: skip
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
    bbox_root: bool = True,
    recording: str | None = None,
    camera_presets: tuple[str, ...] = ("h36m",),
    **options,
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
        image_size: square image side, px; the focal length scales with it (about 1145 px at 1000 px).
        bbox_root: also write simulated detector boxes and roots for subjects 9 and 11.
        recording: ``"studio"`` or ``"snapshots"`` (see the module); default the back-end's (capsule bodies:
            studio, Anny bodies: snapshots).
        camera_presets: camera k of a subject uses ``camera_presets[(k - 1) % len]`` (``h36m``, ``phone_tripod``,
            ``phone_floor``, ``mupots``, ``photo``).
        **options: :class:`~.common.WriterOptions` (``bodies``, ``degradation``, ``backgrounds``, ``render``,
            ``jpeg_quality``, ``workers``, ``progress``).

    Returns:
        ``out_dir``.
    """
    out_dir = Path(out_dir)
    opts = common.WriterOptions.parse(options)
    camera_presets = tuple(camera_presets)
    for preset in camera_presets:
        check_preset(preset)
    recording = recording or default_recording(opts.bodies)
    if recording not in RECORDINGS:
        raise ValueError(f"unknown recording {recording!r}; choose one of {RECORDINGS}")
    if bad := [a for a in actions if not 2 <= a <= 16]:
        raise ValueError(f"Human3.6M action indices are 2..16, got {bad}")
    if bad := [c for c in cameras if not 1 <= c <= 4]:
        raise ValueError(f"Human3.6M camera indices are 1..4, got {bad}")
    if frames < 1 or frame_stride < 1 or image_size < 64:
        raise ValueError("frames and frame_stride must be >= 1 and image_size >= 64")
    frame_indices = tuple(range(0, frames * frame_stride, frame_stride))
    tasks = [
        Human36mTask(out_dir, seed, s, c, tuple(actions), tuple(subactions), frame_indices, image_size, recording,
                     camera_presets, opts)
        for s in subjects
        for c in cameras
    ]  # fmt: skip
    total = len(tasks) * len(actions) * len(subactions) * frames
    if opts.render:  # one camera per worker task
        results = common.run_tasks(_render_camera, tasks, opts.workers, opts.progress, total=total, desc="Human3.6M")
    else:  # one subject per task: its people are posed once for all cameras
        by_task = [tuple(t for t in tasks if t.subject == s) for s in dict.fromkeys(subjects)]
        results = common.run_tasks(_annotate_subject, by_task, opts.workers, opts.progress, total, "Human3.6M")
    next_id = 1  # ids are global across subjects, as in the real annotations
    detections = []
    by_subject: dict[int, list[dict]] = {}
    for entries in results:
        for e in entries:
            by_subject.setdefault(e["subject"], []).append(e)
    with common.gc_paused():
        for subject, entries in by_subject.items():
            cams = subject_cameras(seed, subject, image_size, camera_presets, recording)
            rows = sorted(entries, key=lambda e: (e["action_idx"], e["subaction_idx"], e["cam_idx"], e["frame_idx"]))
            images, annotations, joints_3d = [], [], {}
            det_rng = common.sequence_rng(seed, 36, subject, 99)
            # Rounded for JSON in one call per subject (per record, the rounding costs more than the rest of the loop).
            boxes_json = common.rounded(np.stack([e["bbox"] for e in rows]), 2)
            joints_json = common.rounded(np.stack([e["joints_world"] for e in rows]), 3)
            for e, box_json, joints_world_json in zip(rows, boxes_json, joints_json):
                image_id = next_id
                next_id += 1
                images.append(
                    {"id": image_id, "file_name": e["file_name"], "width": image_size, "height": image_size,
                     "subject": subject, "action_idx": e["action_idx"], "subaction_idx": e["subaction_idx"],
                     "cam_idx": e["cam_idx"], "frame_idx": e["frame_idx"]}
                )  # fmt: skip
                annotations.append({"id": image_id, "image_id": image_id, "bbox": box_json})
                frames_of = joints_3d.setdefault(str(e["action_idx"]), {}).setdefault(str(e["subaction_idx"]), {})
                frames_of[str(e["frame_idx"])] = joints_world_json
                if bbox_root and subject in TEST_SUBJECTS:
                    detections.append(_simulated_detection(det_rng, image_id, e["bbox"], e["root_cam"], image_size))
            camera_json = {
                str(c): {
                    "R": common.rounded(cam.R, 8),
                    "t": common.rounded(cam.t, 4),
                    "f": common.rounded(cam.f, 4),
                    "c": common.rounded(cam.c, 4),
                }
                for c, cam in zip(range(1, 5), cams)
                if c in cameras
            }
            ann_dir = out_dir / "annotations"
            common.write_json_atomic(
                ann_dir / f"Human36M_subject{subject}_data.json", {"images": images, "annotations": annotations}
            )
            common.write_json_atomic(ann_dir / f"Human36M_subject{subject}_camera.json", camera_json)
            common.write_json_atomic(ann_dir / f"Human36M_subject{subject}_joint_3d.json", joints_3d)
    if detections:
        common.write_json_atomic(out_dir / "bbox_root" / "bbox_root_human36m_output.json", detections)
    return out_dir


def _simulated_detection(
    rng: np.random.Generator, image_id: int, box: np.ndarray, root_cam: np.ndarray, size: int
) -> dict:
    """What a detector + root-depth network would give: a jittered, already extended box and a noisy root."""
    extended = common.detector_box(rng, box, size, size)
    root = np.asarray(root_cam) + rng.normal(0, [25.0, 25.0, 80.0])
    return {"image_id": int(image_id), "bbox": common.rounded(extended, 4), "root_cam": common.rounded(root, 4)}
