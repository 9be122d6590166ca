"""Synthetic MuCo-3DHP (training composites) and MuPoTS-3D (test sequences), DATA_FORMATS.md section 4, with either
body back-end.

MuCo writes::

    data/augmented_set/NNNNNN.jpg, data/unaugmented_set/NNNNNN.jpg
    data/MuCo-3DHP.json      images {id, file_name, width, height, f, c};
                             annotations {id, image_id, bbox, keypoints_cam 21x3 mm, keypoints_img 21x2 px}

MuPoTS writes::

    data/MultiPersonTestSet/TS<k>/img_NNNNNN.jpg
    data/MultiPersonTestSet/TS<k>/annot.mat       annotations{frame, person}: annot2 2x17 px, annot3 3x17 mm,
                                                  univ_annot3 3x17 mm, isValidFrame
    data/MultiPersonTestSet/TS<k>/occlusion.mat   occlusion_labels{frame, person}: 1x17, 1 = occluded
    data/MuPoTS-3D.json      images {id, file_name, width, height, intrinsic [fx, fy, cx, cy]};
                             annotations {id, image_id, bbox, keypoints_cam 17x3, keypoints_img 17x2, is_valid}
    bbox_root/bbox_root_mupots_output.json   simulated detector boxes and roots of the valid people

A MuCo image is its own scene: 2-4 people in random library poses placed apart on the floor, a ``mupots`` camera that
sees them all, a room or outdoor ground; boxes are the visible-mask boxes. A MuPoTS sequence is one static camera
and scene (TS1-5 indoor rooms, TS6-20 outdoor grounds, as in the real set) with 2-3 people each moving through
library key poses at 30 frames per second; they occlude each other through the z-buffer, and boxes are the projected
joints' extent plus 10 % (the full person, occluded parts included). Its "universal" skeleton rescales every bone to
the length it has on a reference body of stature 1750 mm, walking out from the pelvis.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from ...joints import get_joint_set
from ..frames import FrameSampler
from ..people.library import POSE_LIBRARY, random_pose_names
from ..people.motion import moving_person
from ..render.frame import Frame, joint_visibility
from ..render.lit_scene import light_scene
from . import common

MUCO_JOINTS = 21
MUPOTS_JOINTS = 17
MUPOTS_FPS = 30.0
_STANDING_POSES = tuple(sorted(name for name, pose in POSE_LIBRARY.items() if not pose.seat))


# ------------------------------------------------------------------------------------------------ MuCo


@dataclass(frozen=True)
class MucoTask:
    """One MuCo composite (one worker task)."""

    out_dir: Path
    seed: int
    index: int
    image_size: int
    people: tuple[int, int]
    options: common.WriterOptions


def muco_frame(task: MucoTask) -> Frame:
    """The scene of one composite (its own people, camera, room and lights)."""
    rng = common.sequence_rng(task.seed, 77, 1000 + task.index)
    sampler = FrameSampler(
        seed=common.derived_seed(task.seed, 77, 2000 + task.index),
        bodies=task.options.bodies,
        backgrounds=task.options.backgrounds,
    )
    count = int(rng.integers(task.people[0], task.people[1] + 1))
    return sampler.sample_frame(
        num_people=count,
        camera="mupots",
        image_size=(task.image_size, task.image_size),
        degradation=task.options.degradation,
    )


def _muco_image(task: MucoTask) -> list[dict]:
    """Render one composite and return its image entry (with its people)."""
    frame = muco_frame(task)
    cam = frame.camera
    folder = "augmented_set" if task.index % 2 else "unaugmented_set"
    name = f"{folder}/{task.index:06d}.jpg"
    result = None
    if task.options.render:
        result = common.render_and_write(frame, task.out_dir / "data" / name, task.options.jpeg_quality)
    persons = []
    for k, person in enumerate(frame.people):
        cam_pts = cam.to_cam(person.joints["muco"])
        img_pts = cam.project(cam_pts)
        box = result.mask_box(k) if result is not None else None
        if box is None:
            box = common.joints_box(img_pts, cam.width, cam.height)
        persons.append({"keypoints_cam": cam_pts, "keypoints_img": img_pts[:, :2], "bbox": box})
    return [{"file_name": name, "camera": cam, "persons": persons}]


def generate_muco(
    out_dir: Path,
    *,
    seed: int = 0,
    images: int = 16,
    image_size: int = 768,
    people: tuple[int, int] = (2, 4),
    **options,
) -> Path:
    """Write a synthetic MuCo-3DHP folder (``data/MuCo-3DHP.json`` and composite images).

    Args:
        out_dir: the ``MuCo`` folder.
        images: number of composite images.
        image_size: square side, px.
        people: (min, max) people per image.
        **options: :class:`~.common.WriterOptions` (``bodies``, ``degradation``, ``backgrounds``, ``render``,
            ``jpeg_quality``, ``workers``, ``progress``).
    """
    opts = common.WriterOptions.parse(options)
    if images < 1 or image_size < 64 or not 1 <= people[0] <= people[1]:
        raise ValueError("need images >= 1, image_size >= 64 and 1 <= people[0] <= people[1]")
    tasks = [MucoTask(Path(out_dir), seed, i, image_size, tuple(people), opts) for i in range(images)]
    results = common.run_tasks(_muco_image, tasks, opts.workers, opts.progress, total=images, desc="MuCo")
    image_list, ann_list = [], []
    for image_id, (entry,) in enumerate(results, start=1):
        cam = entry["camera"]
        image_list.append(
            {"id": image_id, "file_name": entry["file_name"], "width": cam.width, "height": cam.height,
             "f": common.rounded(cam.f, 4), "c": common.rounded(cam.c, 4)}
        )  # fmt: skip
        for person in entry["persons"]:
            ann_list.append(
                {"id": len(ann_list) + 1, "image_id": image_id, "category_id": 1, "bbox": common.rounded(person["bbox"], 2),
                 "keypoints_cam": common.rounded(person["keypoints_cam"], 3), "keypoints_img": common.rounded(person["keypoints_img"], 3)}
            )  # fmt: skip
    categories = [{"id": 1, "name": "person"}]
    common.write_json_atomic(
        Path(out_dir) / "data" / "MuCo-3DHP.json",
        {"images": image_list, "annotations": ann_list, "categories": categories},
    )
    return Path(out_dir)


# ---------------------------------------------------------------------------------------------- MuPoTS


@dataclass(frozen=True)
class _MupotsTask:
    out_dir: Path
    seed: int
    sequence: int
    frames: int
    height: int
    people: tuple[int, int]
    options: common.WriterOptions


def _mupots_size(sequence: int, height: int) -> tuple[int, int]:
    """(width, height): TS1-5 are square indoor frames, TS6-20 16:9 outdoor ones (as 2048^2 and 1920x1080)."""
    return (height, height) if sequence <= 5 else (int(round(height * 16 / 9)), height)


def _mupots_sequence(task: _MupotsTask) -> list[dict]:
    sampler = FrameSampler(
        seed=common.derived_seed(task.seed, 88, task.sequence),
        bodies=task.options.bodies,
        backgrounds=task.options.backgrounds,
    )
    rng = sampler.rng
    times = np.arange(task.frames) / MUPOTS_FPS
    tracks = []
    for _ in range(int(rng.integers(task.people[0], task.people[1] + 1))):
        key_times = [0.0]
        while key_times[-1] < times[-1]:
            key_times.append(key_times[-1] + rng.uniform(1.5, 3.0))
        names = [n if n in _STANDING_POSES else _STANDING_POSES[int(rng.integers(len(_STANDING_POSES)))]
                 for n in random_pose_names(rng, len(key_times))]  # fmt: skip
        tracks.append(moving_person(sampler.backend, rng, names, np.array(key_times), times, 0.5))
    placements = sampler.placements([track[0] for track in tracks])
    people = [
        [track[f].transformed(*placement) for track, placement in zip(tracks, placements)] for f in range(task.frames)
    ]
    first = sampler.sample_frame(
        people=people[0], camera="mupots", image_size=_mupots_size(task.sequence, task.height),
        outdoor_prob=0.0 if task.sequence <= 5 else 1.0, place=False, degradation=task.options.degradation,
    )  # fmt: skip
    camera = first.camera
    lit = (
        light_scene(camera, first.planes, first.boxes, first.lighting, common.STATIC_SCENE_SIDE)
        if task.options.render
        else None
    )
    frames = []
    for f in range(task.frames):
        frame = first if f == 0 else replace(first, people=people[f], degradation=replace(
            first.degradation, seed=int(rng.integers(2**31))))  # fmt: skip
        name = f"TS{task.sequence}/img_{f:06d}.jpg"
        cam_pts = np.stack([camera.to_cam(p.joints["muco"][:MUPOTS_JOINTS]) for p in frame.people])
        img_pts = camera.project(cam_pts)
        u, v, z = img_pts[..., 0], img_pts[..., 1], img_pts[..., 2]
        in_image = (u >= 0) & (u < camera.width) & (v >= 0) & (v < camera.height) & (z > 0)
        occluded = ~in_image
        if task.options.render:
            path = task.out_dir / "data" / "MultiPersonTestSet" / name
            result = common.render_and_write(frame, path, task.options.jpeg_quality, lit)
            occluded = ~joint_visibility(img_pts, result.depth, result.instance, self_occlusion=True)
        persons = []
        for k in range(len(frame.people)):
            persons.append(
                {"keypoints_cam": cam_pts[k], "keypoints_img": img_pts[k, :, :2],
                 "bbox": common.joints_box(img_pts[k], camera.width, camera.height),
                 "is_valid": int(in_image[k, 14] and in_image[k].sum() >= 10), "occluded": occluded[k],
                 "univ": universal_skeleton(cam_pts[k])}
            )  # fmt: skip
        frames.append({"file_name": name, "camera": camera, "persons": persons})
    return frames


def universal_skeleton(joints_cam: np.ndarray, stature: float = 1750.0) -> np.ndarray:
    """Rescale each bone of a (17, 3) MuPoTS pose to a reference body's length, from the pelvis out.

    Returns:
        (17, 3) mm, the same pelvis position and bone directions.
    """
    joint_set = get_joint_set("mupots")
    reference = _reference_pose(stature)
    out = joints_cam.copy()
    root = joint_set.root_index
    done = {root}
    bones = list(joint_set.skeleton)
    while len(done) < joint_set.num_joints:
        progressed = False
        for a, b in bones:
            parent, child = (
                (a, b) if a in done and b not in done else (b, a) if b in done and a not in done else (None, None)
            )
            if parent is None:
                continue
            direction = joints_cam[child] - joints_cam[parent]
            length = np.linalg.norm(reference[child] - reference[parent])
            out[child] = out[parent] + direction / max(np.linalg.norm(direction), 1e-9) * length
            done.add(child)
            progressed = True
        if not progressed:
            break
    return out


@functools.lru_cache(maxsize=2)
def _reference_pose(stature: float) -> np.ndarray:
    """(17, 3) MuPoTS joints of a capsule body of ``stature`` standing in the library's standing pose."""
    from ..backends.capsule import CapsuleBackend
    from ..people.library import pose_params

    backend = CapsuleBackend()
    posed = backend.pose(backend.rest(np.array([[stature, 1.0, 0.0]])), pose_params("standing")[None])
    return backend.joints(posed.points[0], posed.points[0])["muco"][:MUPOTS_JOINTS].astype(np.float64)


def generate_mupots(
    out_dir: Path,
    *,
    seed: int = 0,
    sequences: tuple[int, ...] = (1, 2, 6, 7),
    frames: int = 6,
    image_size: int = 540,
    people: tuple[int, int] = (2, 3),
    mat_files: bool = True,
    bbox_root: bool = True,
    **options,
) -> Path:
    """Write a synthetic MuPoTS-3D folder.

    Args:
        out_dir: the ``MuPoTS`` folder.
        sequences: which of TS1..TS20 (1-5 indoor, 6-20 outdoor).
        frames: frames per sequence (30 fps).
        image_size: frame height, px (TS1-5 square, TS6-20 16:9).
        people: (min, max) people per sequence.
        mat_files: write ``annot.mat`` and ``occlusion.mat`` per sequence (as the MATLAB evaluation reads them).
        bbox_root: write simulated detector boxes and roots (``bbox_root/bbox_root_mupots_output.json``).
        **options: :class:`~.common.WriterOptions` (``bodies``, ``degradation``, ``backgrounds``, ``render``,
            ``jpeg_quality``, ``workers``, ``progress``).
    """
    opts = common.WriterOptions.parse(options)
    if bad := [s for s in sequences if not 1 <= s <= 20]:
        raise ValueError(f"MuPoTS sequences are TS1..TS20, got {bad}")
    if frames < 1 or image_size < 64 or not 1 <= people[0] <= people[1]:
        raise ValueError("need frames >= 1, image_size >= 64 and 1 <= people[0] <= people[1]")
    out_dir = Path(out_dir)
    tasks = [_MupotsTask(out_dir, seed, s, frames, image_size, tuple(people), opts) for s in sequences]
    results = common.run_tasks(
        _mupots_sequence, tasks, opts.workers, opts.progress, total=len(tasks) * frames, desc="MuPoTS"
    )
    images, annotations, detections = [], [], []
    det_rng = common.sequence_rng(seed, 88, 999)
    for task, frames_of in zip(tasks, results):
        for entry in frames_of:
            cam = entry["camera"]
            image_id = len(images) + 1
            images.append(
                {"id": image_id, "file_name": entry["file_name"], "width": cam.width, "height": cam.height,
                 "intrinsic": common.rounded([cam.f[0], cam.f[1], cam.c[0], cam.c[1]], 4)}
            )  # fmt: skip
            for person in entry["persons"]:
                annotations.append(
                    {"id": len(annotations) + 1, "image_id": image_id, "category_id": 1, "bbox": common.rounded(person["bbox"], 2),
                     "keypoints_cam": common.rounded(person["keypoints_cam"], 3),
                     "keypoints_img": common.rounded(person["keypoints_img"], 3), "is_valid": person["is_valid"]}
                )  # fmt: skip
                if bbox_root and person["is_valid"]:
                    extended = common.detector_box(det_rng, person["bbox"], cam.width, cam.height, fallback=False)
                    if extended is not None:
                        root = person["keypoints_cam"][14] + det_rng.normal(0, [30.0, 30.0, 150.0])
                        detections.append(
                            {
                                "image_id": image_id,
                                "bbox": common.rounded(extended, 4),
                                "root_cam": common.rounded(root, 4),
                            }
                        )
        if mat_files and frames_of:
            _write_mat_files(out_dir / "data" / "MultiPersonTestSet" / f"TS{task.sequence}", frames_of)
    common.write_json_atomic(
        out_dir / "data" / "MuPoTS-3D.json",
        {"images": images, "annotations": annotations, "categories": [{"id": 1, "name": "person"}]},
    )
    if bbox_root:
        common.write_json_atomic(out_dir / "bbox_root" / "bbox_root_mupots_output.json", detections)
    return out_dir


def _write_mat_files(folder: Path, frames_of: list[dict]) -> None:
    """annot.mat / occlusion.mat: MATLAB cell arrays {frame, person} as the benchmark's toolkit reads them."""
    from scipy.io import savemat

    folder.mkdir(parents=True, exist_ok=True)
    n_people = max(len(e["persons"]) for e in frames_of)
    annots = np.empty((len(frames_of), n_people), dtype=object)
    occlusion = np.empty((len(frames_of), n_people), dtype=object)
    for f, entry in enumerate(frames_of):
        for p, person in enumerate(entry["persons"]):
            annots[f, p] = {
                # Rounded as in the JSON, so both files hold the same numbers.
                "annot2": np.round(np.asarray(person["keypoints_img"], np.float64), 3).T,
                "annot3": np.round(np.asarray(person["keypoints_cam"], np.float64), 3).T,
                "univ_annot3": np.round(np.asarray(person["univ"], np.float64), 3).T,
                "isValidFrame": np.array([[float(person["is_valid"])]]),
            }
            occlusion[f, p] = np.asarray(person["occluded"], np.float64)[None]
    for name, key, value in (("annot.mat", "annotations", annots), ("occlusion.mat", "occlusion_labels", occlusion)):
        tmp = folder / (name + ".tmp")
        with open(tmp, "wb") as f:
            savemat(f, {key: value}, format="5", do_compression=True)
        tmp.replace(folder / name)
