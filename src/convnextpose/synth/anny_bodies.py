"""Anny bodies for the dataset writers (``bodies="anny"``): people, cameras and images from :mod:`.frames`.

Only the body source and the renderer change; the writers in :mod:`.human36m` and :mod:`.multiperson` write the same
files as with the capsule bodies. Here:

- Human3.6M: each subject has four static cameras drawn from camera presets (``h36m`` by default; phone presets
  too) and zoomed onto a 1.6 m wide, 2 m tall cylinder around the world origin, where the person stands, so a small
  image keeps most of its pixels on the person. Each frame of an (action, subaction) is a new random library pose
  (everyday, fitness, stretching, yoga; not a motion), turned to a random heading at the origin and seen by every
  camera of the subject. Each view draws its own room, lights and image degradations.
- MuCo-3DHP: each image is an independent :meth:`AnnyScene.sample_frame` with several people and a ``mupots``
  camera.

World joints are the Anny person's Human3.6M / MuCo joints (mm, Z up, floor at Z = 0), so the files' projections
land on the rendered bodies.
"""

from __future__ import annotations

import functools

import numpy as np

from . import backends
from .camera import Camera, check_preset, sample_camera, zoomed_camera
from .common import sequence_rng
from .frames import FrameSampler
from .render.frame import render_frame

#: Radius and height (mm) of the region around the world origin the Human3.6M cameras are zoomed onto.
_ZOOM_RADIUS, _ZOOM_HEIGHT = 800.0, 2000.0


def check_bodies(bodies: str, camera_presets: tuple[str, ...] = ()) -> None:
    """Validate the ``bodies`` option (and Anny camera presets); raises ValueError / ImportError."""
    if bodies == "anny":
        for preset in camera_presets:
            check_preset(preset)
    backends.check_bodies(bodies)


def _zoomed_preset_camera(rng: np.random.Generator, preset: str, image_size: int) -> Camera:
    """A preset camera looking at the world origin, zoomed onto the person's region (see :func:`.camera.zoomed_camera`)."""
    full = sample_camera(preset, rng, np.array([0.0, 0.0, 0.5 * _ZOOM_HEIGHT]))
    return zoomed_camera(full, _ZOOM_RADIUS, _ZOOM_HEIGHT, image_size)


@functools.lru_cache(maxsize=4)
def subject_cameras(seed: int, subject: int, image_size: int, presets: tuple[str, ...]) -> list[Camera]:
    """A subject's four cameras; camera k uses ``presets[(k - 1) % len(presets)]``."""
    rng = sequence_rng(seed, 36, subject, 500)
    return [_zoomed_preset_camera(rng, presets[k % len(presets)], image_size) for k in range(4)]


def _scene(seed: int) -> FrameSampler:
    return FrameSampler(seed=seed, bodies="anny")


def _seed(*keys: int) -> int:
    return int(sequence_rng(*keys).integers(2**62))


def mask_box(mask: np.ndarray) -> np.ndarray | None:
    """Tight [x, y, w, h] of a boolean mask, or None when it is empty."""
    ys, xs = np.nonzero(mask)
    if len(xs) == 0:
        return None
    return np.array([xs.min(), ys.min(), xs.max() - xs.min() + 1, ys.max() - ys.min() + 1], np.float64)


def h36m_sequence(seed: int, subject: int, action: int, subaction: int, count: int) -> tuple[list, np.ndarray]:
    """The ``count`` people (one per frame, at the origin) of a sequence and their (count, 17, 3) world joints."""
    scene = _scene(_seed(seed, 36, subject, action, subaction))
    people = scene.sample_people(count)
    yaws = sequence_rng(seed, 36, subject, action, subaction, 7).uniform(-180, 180, count)
    people = [p.transformed(float(y), np.zeros(2)) for p, y in zip(people, yaws)]
    joints = np.stack([p.joints_h36m[:17] for p in people]).astype(np.float64)
    return people, joints


def h36m_view_frames(
    seed: int,
    subject: int,
    action: int,
    subaction: int,
    cam_idx: int,
    camera: Camera,
    people: list,
    degradation: float = 1.0,
):
    """Yield the :class:`~convnextpose.synth.render.frame.Frame` of each person of a sequence seen by one camera (each view
    draws its own room, lights and degradations)."""  # fmt: skip
    scene = _scene(_seed(seed, 36, subject, action, subaction, cam_idx, 1))
    for person in people:
        yield scene.sample_frame(people=[person], camera=camera, place=False, degradation=degradation)


def render_h36m_view(
    seed: int,
    subject: int,
    action: int,
    subaction: int,
    cam_idx: int,
    camera: Camera,
    people: list,
    degradation: float = 1.0,
):
    """Yield (rgb, tight mask box or None) for each person of a sequence seen by one camera."""  # fmt: skip
    for frame in h36m_view_frames(seed, subject, action, subaction, cam_idx, camera, people, degradation):
        result = render_frame(frame)
        yield result.rgb, mask_box(result.masks[0])


def muco_frame(
    seed: int, index: int, image_size: int, people: tuple[int, int], preset: str = "mupots", degradation: float = 1.0
):
    """The :class:`~convnextpose.synth.render.frame.Frame` of MuCo-style image ``index``."""  # fmt: skip
    rng = sequence_rng(seed, 77, 1000 + index)
    scene = _scene(_seed(seed, 77, 2000 + index))
    count = int(rng.integers(people[0], people[1] + 1))
    return scene.sample_frame(num_people=count, camera=preset, image_size=(image_size, image_size),
                              degradation=degradation)  # fmt: skip


def muco_image(
    seed: int,
    index: int,
    image_size: int,
    people: tuple[int, int],
    render: bool,
    preset: str = "mupots",
    degradation: float = 1.0,
):
    """One MuCo-style composite: (rgb or None, camera, persons with keypoints_cam / keypoints_img / bbox)."""  # fmt: skip
    frame = muco_frame(seed, index, image_size, people, preset, degradation)
    cam = frame.camera
    rgb = masks = None
    if render:
        result = render_frame(frame)
        rgb, masks = result.rgb, result.masks
    persons = []
    for k, person in enumerate(frame.people):
        cam_pts = cam.to_cam(person.joints_muco)
        img_pts = cam.project(cam_pts)
        box = mask_box(masks[k]) if masks is not None else None
        if box is None:
            box = _clip_box(img_pts, cam.width, cam.height)
        persons.append({"keypoints_cam": cam_pts, "keypoints_img": img_pts[:, :2], "bbox": box})
    return rgb, cam, persons


def _clip_box(img_pts: np.ndarray, width: int, height: int) -> np.ndarray:
    from .common import joints_box

    return joints_box(img_pts, width, height)
