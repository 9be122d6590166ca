"""Synthetic MuCo-3DHP (training composites) and MuPoTS-3D (test sequences), DATA_FORMATS.md section 4.

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
    bbox_root/bbox_mupots_output.json   simulated detector boxes and roots of the valid people

Several people share a scene; they occlude each other through the z-buffer. Boxes are the projected
joints' extent plus 10% (the full person, occluded parts included). MuPoTS sequences TS1-5 are indoor
rooms and TS6-20 outdoor grounds, as in the real set; its "universal" skeleton rescales every bone to
the length it has on a reference body of stature 1750 mm, walking out from the pelvis.
"""

from __future__ import annotations

import dataclasses
import functools
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..geometry import cam2pixel, process_boxes
from ..joints import get_joint_set
from . import anny_bodies
from .body import BodyShape, format_indices, forward_kinematics, rest_angles
from .capsule_scene import Person, render_background, sample_scene
from .common import (
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
from .motion import H36M_ACTIONS, sample_motion

MUCO_JOINTS = 21
MUPOTS_JOINTS = 17
MUPOTS_FPS = 30.0
_STANDING = tuple(a for a in H36M_ACTIONS if a not in ("Sitting",))


# ------------------------------------------------------------------------------------------------ MuCo


@dataclass(frozen=True)
class _MucoTask:
    out_dir: Path
    seed: int
    index: int
    image_size: int
    people: tuple[int, int]
    render: bool
    quality: int
    bodies: str = "capsule"
    degradation: float = 1.0


def _muco_image(task: _MucoTask) -> list[dict]:
    """Render one composite and return its image entry (with its people)."""
    if task.bodies == "anny":
        return _muco_image_anny(task)
    scene_rng = sequence_rng(
        task.seed, 77, task.index // 8
    )  # eight images share a scene, as composites share backgrounds
    scene = sample_scene(scene_rng, "room")
    rng = sequence_rng(task.seed, 77, 1000 + task.index)
    camera = free_camera(rng, (task.image_size, task.image_size))
    spots = place_people(rng, camera, int(rng.integers(task.people[0], task.people[1] + 1)))
    people = []
    for xy in spots:
        motion = sample_motion(rng, _STANDING[rng.integers(len(_STANDING))], np.array([rng.uniform(0, 30)]))
        motion = dataclasses.replace(motion, root_xy=xy[None], seated=False)
        actor = sample_actor(rng, motion)
        joints, rot = actor.pose()
        people.append(Person(actor.shape, actor.outfit, joints[0], rot[0]))
    folder = "augmented_set" if task.index % 2 else "unaugmented_set"
    name = f"{folder}/{task.index:06d}.jpg"
    if task.render:
        background, floor_xy = render_background(scene, camera)
        image, _ = render_frame(background, floor_xy, scene, camera, people, rng)
        write_image(task.out_dir / "data" / name, image, task.quality)
    persons = []
    for person in people:
        cam_pts = camera.to_cam(person.joints_world[format_indices("muco")])
        img_pts = cam2pixel(cam_pts, camera.f, camera.c)
        persons.append(
            {
                "keypoints_cam": cam_pts,
                "keypoints_img": img_pts[:, :2],
                "bbox": joints_box(img_pts, camera.width, camera.height),
            }
        )
    return [{"file_name": name, "camera": camera, "persons": persons}]


def _muco_image_anny(task: _MucoTask) -> list[dict]:
    """As :func:`_muco_image` with Anny people and a ``mupots`` camera (see :mod:`.anny_bodies`)."""
    image, camera, persons = anny_bodies.muco_image(
        task.seed, task.index, task.image_size, task.people, task.render, degradation=task.degradation
    )
    folder = "augmented_set" if task.index % 2 else "unaugmented_set"
    name = f"{folder}/{task.index:06d}.jpg"
    if image is not None:
        write_image(task.out_dir / "data" / name, image, task.quality)
    return [{"file_name": name, "camera": camera, "persons": persons}]


def generate_muco(
    out_dir: Path,
    *,
    seed: int = 0,
    images: int = 16,
    image_size: int = 768,
    people: tuple[int, int] = (2, 4),
    render: bool = True,
    workers: int = 1,
    jpeg_quality: int = 90,
    progress: bool = True,
    bodies: str = "capsule",
    degradation: float = 1.0,
) -> Path:
    """Write a synthetic MuCo-3DHP folder (``data/MuCo-3DHP.json`` and composite images).

    Args:
        out_dir: the ``MuCo`` folder.
        images: number of composite images.
        image_size: square side, px.
        people: (min, max) people per image.
        render: False writes the annotation file only.
        workers: processes for rendering.
        bodies: "capsule" or "anny" (realistic Anny people seen by a ``mupots`` camera, each image its own scene;
            needs ``pip install convnextpose[anny]``).
        degradation: Anny only: strength of the image degradations (0 = clean images).
    """
    if images < 1 or image_size < 64 or not 1 <= people[0] <= people[1]:
        raise ValueError("need images >= 1, image_size >= 64 and 1 <= people[0] <= people[1]")
    anny_bodies.check_bodies(bodies)
    tasks = [
        _MucoTask(Path(out_dir), seed, i, image_size, tuple(people), render, jpeg_quality, bodies, degradation)
        for i in range(images)
    ]
    results = run_tasks(_muco_image, tasks, workers, progress, total=images, desc="MuCo")
    image_list, ann_list = [], []
    for image_id, (entry,) in enumerate(results, start=1):
        cam = entry["camera"]
        image_list.append(
            {"id": image_id, "file_name": entry["file_name"], "width": cam.width, "height": cam.height,
             "f": rounded(cam.f, 4), "c": rounded(cam.c, 4)}
        )  # fmt: skip
        for person in entry["persons"]:
            ann_list.append(
                {"id": len(ann_list) + 1, "image_id": image_id, "category_id": 1, "bbox": rounded(person["bbox"], 2),
                 "keypoints_cam": rounded(person["keypoints_cam"], 3), "keypoints_img": rounded(person["keypoints_img"], 3)}
            )  # fmt: skip
    categories = [{"id": 1, "name": "person"}]
    write_json_atomic(
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
    render: bool
    quality: int


def _mupots_size(sequence: int, height: int) -> tuple[int, int]:
    """(width, height): TS1-5 are square indoor frames, TS6-20 16:9 outdoor ones (as 2048^2 and 1920x1080)."""
    return (height, height) if sequence <= 5 else (int(round(height * 16 / 9)), height)


def _mupots_sequence(task: _MupotsTask) -> list[dict]:
    rng = sequence_rng(task.seed, 88, task.sequence)
    indoor = task.sequence <= 5
    scene = sample_scene(rng, "room" if indoor else "outdoor")
    camera = free_camera(rng, _mupots_size(task.sequence, task.height), distance=(4000.0, 6500.0))
    count = int(rng.integers(task.people[0], task.people[1] + 1))
    spots = place_people(rng, camera, count, area_mm=1500.0, gap_mm=(1300.0, 1800.0))
    times = np.arange(task.frames) / MUPOTS_FPS
    actors = []
    for xy in spots:
        action = _STANDING[rng.integers(len(_STANDING))]
        motion = sample_motion(rng, action, times, area_mm=350.0, centre_xy=tuple(xy))
        actors.append(sample_actor(rng, motion))
    posed = [actor.pose() for actor in actors]
    background = floor_xy = None
    if task.render:
        background, floor_xy = render_background(scene, camera)
    frames = []
    for f in range(task.frames):
        people = [Person(a.shape, a.outfit, joints[f], rot[f]) for a, (joints, rot) in zip(actors, posed)]
        name = f"TS{task.sequence}/img_{f:06d}.jpg"
        canvas = None
        if task.render:
            image, canvas = render_frame(
                background, floor_xy, scene, camera, people, sequence_rng(task.seed, 88, task.sequence, f)
            )
            write_image(task.out_dir / "data" / "MultiPersonTestSet" / name, image, task.quality)
        persons = []
        for pid, person in enumerate(people):
            cam_pts = camera.to_cam(person.joints_world[format_indices("mupots")])
            img_pts = cam2pixel(cam_pts, camera.f, camera.c)
            occluded = np.zeros(MUPOTS_JOINTS, bool)
            in_image = (
                (img_pts[:, 0] >= 0)
                & (img_pts[:, 0] < camera.width)
                & (img_pts[:, 1] >= 0)
                & (img_pts[:, 1] < camera.height)
            )
            if canvas is not None:
                in_image, occluded = joint_occlusion(canvas, img_pts, pid)
            persons.append(
                {
                    "keypoints_cam": cam_pts,
                    "keypoints_img": img_pts[:, :2],
                    "bbox": joints_box(img_pts, camera.width, camera.height),
                    "is_valid": int(in_image[14] and in_image.sum() >= 10),
                    "occluded": occluded | ~in_image,
                    "univ": universal_skeleton(cam_pts),
                }
            )
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
    joints, _ = forward_kinematics(BodyShape(stature), rest_angles()[None], np.zeros((1, 3)), np.zeros(1))
    return joints[0, format_indices("mupots")]


def generate_mupots(
    out_dir: Path,
    *,
    seed: int = 0,
    sequences: tuple[int, ...] = (1, 2, 6, 7),
    frames: int = 6,
    image_size: int = 540,
    people: tuple[int, int] = (2, 3),
    render: bool = True,
    mat_files: bool = True,
    bbox_root: bool = True,
    workers: int = 1,
    jpeg_quality: int = 90,
    progress: bool = True,
) -> Path:
    """Write a synthetic MuPoTS-3D folder.

    Args:
        out_dir: the ``MuPoTS`` folder.
        sequences: which of TS1..TS20 (1-5 indoor, 6-20 outdoor).
        frames: frames per sequence (30 fps).
        image_size: frame height, px (TS1-5 square, TS6-20 16:9).
        people: (min, max) people per sequence.
        render: False writes annotations only.
        mat_files: write ``annot.mat`` and ``occlusion.mat`` per sequence (as the MATLAB evaluation reads them).
        bbox_root: write simulated detector boxes and roots (``bbox_root/bbox_mupots_output.json``).
    """
    if bad := [s for s in sequences if not 1 <= s <= 20]:
        raise ValueError(f"MuPoTS sequences are TS1..TS20, got {bad}")
    if frames < 1 or image_size < 64 or not 1 <= people[0] <= people[1]:
        raise ValueError("need frames >= 1, image_size >= 64 and 1 <= people[0] <= people[1]")
    out_dir = Path(out_dir)
    tasks = [_MupotsTask(out_dir, seed, s, frames, image_size, tuple(people), render, jpeg_quality) for s in sequences]
    results = run_tasks(_mupots_sequence, tasks, workers, progress, total=len(tasks) * frames, desc="MuPoTS")
    images, annotations, detections = [], [], []
    det_rng = sequence_rng(seed, 88, 999)
    for task, frames_of in zip(tasks, results):
        for entry in frames_of:
            cam = entry["camera"]
            image_id = len(images) + 1
            images.append(
                {"id": image_id, "file_name": entry["file_name"], "width": cam.width, "height": cam.height,
                 "intrinsic": rounded([cam.f[0], cam.f[1], cam.c[0], cam.c[1]], 4)}
            )  # fmt: skip
            for person in entry["persons"]:
                annotations.append(
                    {"id": len(annotations) + 1, "image_id": image_id, "category_id": 1, "bbox": rounded(person["bbox"], 2),
                     "keypoints_cam": rounded(person["keypoints_cam"], 3),
                     "keypoints_img": rounded(person["keypoints_img"], 3), "is_valid": person["is_valid"]}
                )  # fmt: skip
                if bbox_root and person["is_valid"]:
                    box = (
                        np.asarray(person["bbox"])
                        + det_rng.normal(0, 0.03, 4) * np.asarray(person["bbox"])[[2, 3, 2, 3]]
                    )
                    extended, valid = process_boxes(box, cam.width, cam.height)
                    if valid:
                        root = person["keypoints_cam"][14] + det_rng.normal(0, [30.0, 30.0, 150.0])
                        detections.append(
                            {"image_id": image_id, "bbox": rounded(extended, 4), "root_cam": rounded(root, 4)}
                        )
        if mat_files and frames_of:
            _write_mat_files(out_dir / "data" / "MultiPersonTestSet" / f"TS{task.sequence}", frames_of)
    write_json_atomic(
        out_dir / "data" / "MuPoTS-3D.json",
        {"images": images, "annotations": annotations, "categories": [{"id": 1, "name": "person"}]},
    )
    if bbox_root:
        write_json_atomic(out_dir / "bbox_root" / "bbox_mupots_output.json", detections)
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
