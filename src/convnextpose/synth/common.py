"""Pieces every synthetic format shares: posing people over time, cameras, rendering a frame, writing files."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from ..atomic import atomic_open
from .body import JOINT_INDEX, BodyShape, forward_kinematics, lowest_point, sample_shape
from .camera import Camera
from .capsule_raycast import Canvas
from .capsule_scene import Outfit, Person, Scene, draw_person, draw_shadow, finish_image, person_light, sample_outfit
from .motion import Motion

FPS = 50.0  # Human3.6M's frame rate; frame_idx / FPS is the time of a frame


def sequence_rng(seed: int, *keys: int) -> np.random.Generator:
    """A generator for one sequence or item, independent of the others and of the worker that draws it."""
    return np.random.default_rng([int(seed), *(int(k) for k in keys)])


@dataclass(frozen=True)
class Actor:
    """A person with fixed shape and clothes, posed by a motion."""

    shape: BodyShape
    outfit: Outfit
    motion: Motion

    def pose(self) -> tuple[np.ndarray, np.ndarray]:
        """Joints (T, K, 3) world mm with the feet on the floor, and segment rotations (T, S, 3, 3)."""
        root = np.concatenate([self.motion.root_xy, np.zeros((len(self.motion.root_xy), 1))], axis=1)
        joints, rot = forward_kinematics(self.shape, self.motion.angles, root, self.motion.yaw)
        joints[..., 2] -= lowest_point(self.shape, joints)[:, None]
        return joints, rot


def sample_actor(rng: np.random.Generator, motion: Motion) -> Actor:
    return Actor(shape=sample_shape(rng), outfit=sample_outfit(rng), motion=motion)


def ring_cameras(
    rng: np.random.Generator,
    count: int,
    size: tuple[int, int],
    focal_1000: float = 1145.0,
    distance_mm: tuple[float, float] = (4500.0, 6500.0),
    target: Sequence[float] = (0.0, 0.0, 1000.0),
) -> list[Camera]:
    """Static cameras around the capture area, as Human3.6M's: roughly at the corners, 1.2-1.8 m high.

    Args:
        count: number of cameras (evenly spread in azimuth, jittered).
        size: (width, height) px; the focal length scales with the width (``focal_1000`` at 1000 px).
    """
    width, height = size
    scale = width / 1000.0
    start = rng.uniform(0, 2 * np.pi)
    cameras = []
    for k in range(count):
        azimuth = start + 2 * np.pi * k / count + rng.uniform(-0.15, 0.15)
        dist = rng.uniform(*distance_mm)
        position = np.array([dist * np.cos(azimuth), dist * np.sin(azimuth), rng.uniform(1200, 1800)])
        aim = np.asarray(target, float) + rng.uniform(-300, 300, 3) * [1, 1, 0.3]
        f = focal_1000 * scale * rng.uniform(0.98, 1.02, 2)
        c = np.array([width / 2.0, height / 2.0]) + rng.uniform(-10, 10, 2) * scale
        cameras.append(Camera.look_at(position, aim, f, (width, height), c))
    return cameras


def free_camera(rng: np.random.Generator, size: tuple[int, int], distance=(3500.0, 6000.0)) -> Camera:
    """A camera on a ring around the scene centre, 1.0-2.0 m high, focal 0.9-1.4 x image width."""
    width, height = size
    azimuth = rng.uniform(0, 2 * np.pi)
    dist = rng.uniform(*distance)
    position = np.array([dist * np.cos(azimuth), dist * np.sin(azimuth), rng.uniform(1000, 2000)])
    target = np.array([*rng.uniform(-300, 300, 2), rng.uniform(800, 1100)])
    focal = width * rng.uniform(0.9, 1.4)
    c = np.array([width / 2.0, height / 2.0]) + rng.uniform(-0.01, 0.01, 2) * width
    return Camera.look_at(position, target, focal, (width, height), c)


def place_people(
    rng: np.random.Generator, camera: Camera, count: int, area_mm: float = 1800.0, gap_mm=(400.0, 1200.0)
) -> list[np.ndarray]:
    """Floor positions (2,) of people whose pelvis is in view, at least a random gap in ``gap_mm`` apart.

    MuCo's composites let people stand close (some closer than the 500 mm of its selection rule).
    """
    spots: list[np.ndarray] = []
    for _ in range(200):
        if len(spots) == count:
            break
        xy = rng.uniform(-area_mm, area_mm, 2)
        if any(np.linalg.norm(xy - s) < rng.uniform(*gap_mm) for s in spots):
            continue
        pelvis = camera.to_cam(np.array([xy[0], xy[1], 950.0]))
        if pelvis[2] < 1500:
            continue
        u, v, _ = camera.project(pelvis)
        if 0.1 * camera.width < u < 0.9 * camera.width and 0.15 * camera.height < v < 0.85 * camera.height:
            spots.append(xy)
    return spots


def render_frame(
    background: Canvas,
    floor_xy: np.ndarray,
    scene: Scene,
    camera: Camera,
    people: Iterable[Person],
    rng: np.random.Generator,
) -> tuple[np.ndarray, Canvas]:
    """Draw people (ids 0, 1, ...) with blob shadows into a copy of a background.

    Returns:
        The image (H, W, 3) uint8 RGB and the canvas (depth and owner buffers) it came from.
    """
    canvas = background.copy()
    light = person_light(scene, camera)
    people = list(people)
    for person in people:
        draw_shadow(
            canvas, camera, floor_xy, person.joints_world[JOINT_INDEX["Pelvis"], :2], 0.2 * person.shape.stature
        )
    for pid, person in enumerate(people):
        draw_person(canvas, camera, person, pid, light)
    return finish_image(canvas, rng), canvas


def joint_occlusion(
    canvas: Canvas, joints_img: np.ndarray, person: int, tolerance_mm: float = 150.0
) -> tuple[np.ndarray, np.ndarray]:
    """Which projected joints are inside the image, and which of those something else hides.

    A joint is occluded where the visible surface at its pixel belongs to another person or object,
    or is its own body but more than ``tolerance_mm`` in front of the joint (self-occlusion).

    Args:
        joints_img: (J, 3) u, v px and camera Z mm.

    Returns:
        in_image (J,) bool and occluded (J,) bool.
    """
    h, w = canvas.owner.shape
    u = np.round(joints_img[:, 0]).astype(np.int64)
    v = np.round(joints_img[:, 1]).astype(np.int64)
    in_image = (u >= 0) & (u < w) & (v >= 0) & (v < h) & (joints_img[:, 2] > 0)
    occluded = np.zeros(len(joints_img), dtype=bool)
    uu, vv = u[in_image], v[in_image]
    owner = canvas.owner[vv, uu]
    depth = canvas.depth[vv, uu]
    occluded[in_image] = (owner != person) | (depth < joints_img[in_image, 2] - tolerance_mm)
    return in_image, occluded


def joints_box(joints_img: np.ndarray, width: int, height: int, margin: float = 0.1) -> np.ndarray:
    """[x, y, w, h] around projected joints with a margin, clipped to the image (fallback box)."""
    x0, y0 = joints_img[:, :2].min(0)
    x1, y1 = joints_img[:, :2].max(0)
    mx, my = (x1 - x0) * margin, (y1 - y0) * margin
    x0, y0 = max(x0 - mx, 0.0), max(y0 - my, 0.0)
    x1, y1 = min(x1 + mx, width - 1.0), min(y1 + my, height - 1.0)
    return np.array([x0, y0, max(x1 - x0, 1.0), max(y1 - y0, 1.0)])


def write_image(path: Path, image: np.ndarray, quality: int = 90) -> None:
    """Write RGB uint8 as JPEG (or PNG by suffix), creating folders."""
    path.parent.mkdir(parents=True, exist_ok=True)
    params = [cv2.IMWRITE_JPEG_QUALITY, int(quality)] if path.suffix.lower() in (".jpg", ".jpeg") else []
    if not cv2.imwrite(str(path), image[:, :, ::-1], params):
        raise OSError(f"could not write image {path}")


def write_json_atomic(path: Path, data: object) -> None:
    """Write JSON through a temporary file in the same folder and rename it into place."""
    with atomic_open(path) as handle:
        json.dump(data, handle, separators=(",", ":"))


def rounded(array: np.ndarray, decimals: int = 3) -> list:
    """A JSON-ready nested list with rounded floats (keeps files small and diffs stable)."""
    return np.round(np.asarray(array, dtype=np.float64), decimals).tolist()


def run_tasks(
    function: Callable, tasks: list, workers: int = 1, progress: bool = True, total: int | None = None, desc: str = ""
) -> list:
    """Run ``function(task)`` over tasks, optionally in a process pool, in task order.

    Each result may be a list; ``total`` counts their items for the progress bar (images).
    """
    from tqdm import tqdm

    results = []
    with tqdm(total=total or len(tasks), desc=desc, unit="img", disable=not progress, leave=False) as bar:
        if workers <= 1 or len(tasks) <= 1:
            for task in tasks:
                results.append(function(task))
                bar.update(len(results[-1]) if total else 1)
        else:
            import multiprocessing as mp

            ctx = mp.get_context("spawn" if os.name == "nt" else "fork")
            with ctx.Pool(min(workers, len(tasks))) as pool:
                for result in pool.imap(function, tasks):
                    results.append(result)
                    bar.update(len(result) if total else 1)
    return results
