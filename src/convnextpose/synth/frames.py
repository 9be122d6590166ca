"""Drawing complete frames: people of any body back-end, placed on the floor, a camera that sees them all, a room or
an outdoor ground around them, furniture, lights and image degradations.

:meth:`FrameSampler.sample_frame` draws a :class:`~convnextpose.synth.render.frame.Frame` (a complete scene
description) and :func:`~convnextpose.synth.render.frame.render_frame` turns it into pixels::

    sampler = FrameSampler(seed=0, bodies="anny")                     # or "capsule"
    frame = sampler.sample_frame(num_people=1, camera="h36m")
    full = render_frame(frame)                                       # 1000 x 1000
    crop = render_frame(frame, crop=frame.person_box(0, scale=1.25), out_size=(256, 256))
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np

from .backends import BodyBackend, get_backend
from .camera import Camera, check_preset, sample_camera
from .degrade import sample_degradation
from .people.library import random_pose_names
from .people.motion import moving_person
from .people.person import Person
from .people.sampling import sample_people
from .render.frame import Frame
from .scene import rooms
from .scene.backgrounds import Backgrounds
from .scene.lighting import sample_lighting
from .scene.textures import TexturePool


class FrameSampler:
    """Samples frames of synthetic people.

    Args:
        seed: seeds everything; the same seed and the same calls give the same frames.
        bodies: the body back-end, ``"capsule"`` or ``"anny"`` (or a :class:`~.backends.BodyBackend`).
        pose_variation: scale of the random variations around library poses (0 = exact library poses).
        batch_size: bodies posed per forward pass when refilling the pool of random people.
        backgrounds: real photos (a :class:`~.scene.backgrounds.Backgrounds` or its folder) behind the people
            instead of a generated room or outdoor ground.
    """

    def __init__(
        self,
        seed: int = 0,
        bodies: str | BodyBackend = "capsule",
        pose_variation: float = 1.0,
        batch_size: int = 16,
        backgrounds: Backgrounds | str | Path | None = None,
    ):
        self.rng = np.random.default_rng(seed)
        self.backend = get_backend(bodies)
        self.backgrounds = (
            backgrounds if backgrounds is None or isinstance(backgrounds, Backgrounds) else Backgrounds(backgrounds)
        )
        self.pose_variation = pose_variation
        self.batch_size = batch_size
        self.textures = TexturePool(np.random.default_rng(self.rng.integers(2**62)), per_kind=4)
        self._pool: list[Person] = []

    def random_pose_names(self, n: int) -> list[str]:
        """``n`` library pose names (see :func:`~.people.library.random_pose_names`)."""
        return random_pose_names(self.rng, n)

    def sample_people(self, n: int, poses: list[str] | None = None, variation: float | None = None) -> list[Person]:
        """``n`` random people in library poses (random poses from a pool filled in batches when ``poses`` is None).

        People come centred at the origin, facing -Y, with the floor at Z = 0; :meth:`sample_frame` places them.
        """
        scale = self.pose_variation if variation is None else variation
        if poses is None:
            while len(self._pool) < n:
                self._pool.extend(sample_people(self.backend, self.rng, self.random_pose_names(self.batch_size), scale))
            out, self._pool = self._pool[:n], self._pool[n:]
            return out
        if len(poses) != n:
            raise ValueError(f"got {len(poses)} pose names for {n} people")
        return sample_people(self.backend, self.rng, list(poses), scale)

    def sample_frame(
        self,
        num_people: int = 1,
        camera: str | Camera = "h36m",
        image_size: tuple[int, int] | None = None,
        poses: list[str] | None = None,
        people: list[Person] | None = None,
        outdoor_prob: float = 0.3,
        clutter: tuple[int, int] = (0, 6),
        degradation: float = 1.0,
        place: bool = True,
    ) -> Frame:
        """Draw a complete scene.

        Args:
            num_people: people in the frame (ignored when ``people`` is given).
            camera: a preset name (:data:`~.camera.CAMERA_PRESETS`: ``h36m``, ``mupots``, ``phone_floor``,
                ``phone_tripod``) or a fixed :class:`Camera` (people are then placed in its view).
            image_size: (width, height) overriding the preset's size.
            poses: library pose names, one per person (random when None).
            people: already sampled people (e.g. from :meth:`sample_people`), placed as they are.
            outdoor_prob: probability of an outdoor scene (grass/asphalt and a far backdrop) instead of a room.
            clutter: (min, max) furniture boxes in the scene.
            degradation: strength of the image degradations (0 disables them).
            place: give each person a random position and heading; False keeps ``people`` where they are.
        """
        rng = self.rng
        if people is None:
            people = self.sample_people(num_people, poses)
        preset = camera if isinstance(camera, str) else None
        placed = self._place_people(people) if place else list(people)
        tops = [float(p.points[:, 2].max()) for p in placed]
        centre = np.mean([p.position for p in placed], axis=0) if placed else np.zeros(2)
        target = np.array([centre[0], centre[1], 0.5 * (np.mean(tops) if tops else 1700.0)])
        if preset is not None:
            check_preset(preset)
            cam = self._frame_people(placed, preset, target, image_size)
        else:
            cam = camera
        outdoor = rng.random() < outdoor_prob
        backdrop = None
        if self.backgrounds is not None:  # a photo instead of a room: no walls, no furniture but the seats
            backdrop = self.backgrounds.sample(rng, cam.size)
            planes, boxes = rooms.floor_only(), rooms.seats(self.textures, placed)
        else:
            planes = rooms.room_planes(rng, self.textures, cam, placed, outdoor)
            boxes = rooms.seats(self.textures, placed) + rooms.clutter(rng, self.textures, cam, placed, planes, clutter)
        info = {"preset": preset or "custom", "outdoor": bool(outdoor), "poses": [p.pose_name for p in placed]}
        return Frame(
            people=placed,
            camera=cam,
            planes=planes,
            boxes=boxes,
            lighting=sample_lighting(rng, outdoor),
            degradation=sample_degradation(rng, degradation),
            info=info,
            backdrop=backdrop,
        )

    def _place_people(self, people: list[Person]) -> list[Person]:
        return [person.transformed(yaw, pos) for person, (yaw, pos) in zip(people, self.placements(people))]

    def placements(self, people: list[Person]) -> list[tuple[float, np.ndarray]]:
        """A random heading (degrees) and floor position (2,) mm for each person, keeping their footprints apart."""
        rng = self.rng
        placed: list[tuple[float, np.ndarray]] = []
        for person in people:
            for attempt in range(50):
                spread = 700.0 * np.sqrt(len(people)) * (1 + attempt / 25)
                pos = rng.uniform(-1, 1, 2) * spread if placed else np.zeros(2)
                ok = all(
                    np.linalg.norm(pos - q_pos) > 0.8 * (person.footprint + q.footprint) + 100
                    for q, (_, q_pos) in zip(people, placed)
                )
                if ok:
                    break
            placed.append((rng.uniform(-180, 180), pos))
        return placed

    def _frame_people(
        self, people: list[Person], preset: str, target: np.ndarray, image_size: tuple[int, int] | None
    ) -> Camera:
        """A preset camera that sees everyone: retries the random draw, then backs off until all boxes fit."""
        rng = self.rng
        best, best_score = None, -np.inf
        for attempt in range(12):
            scale = 1.0 + 0.15 * max(0, attempt - 6)
            cam = sample_camera(preset, rng, target, image_size)
            if scale > 1:
                pos = target + (cam.position - target) * np.array([scale, scale, 1.0])
                cam = Camera.look_at(pos, target, cam.f, cam.size, cam.c)
            score = min(fit_score(cam, p.points) for p in people) if people else 1.0
            if score > best_score:
                best, best_score = cam, score
            if score >= 0.97:
                break
        return best

    def sample_sequence(
        self,
        num_keys: int = 3,
        frames_per_transition: int = 12,
        poses: list[str] | None = None,
        camera: str | Camera = "h36m",
        image_size: tuple[int, int] | None = None,
        outdoor_prob: float = 0.3,
        clutter: tuple[int, int] = (0, 4),
        degradation: float = 1.0,
    ) -> list[Frame]:
        """A video-like sequence of one person moving smoothly through key poses (:mod:`.people.motion`).

        The body, clothes, room, camera and lights are shared by all frames; only the pose changes (and the
        degradation noise seed). Returns ``(num_keys - 1) * frames_per_transition + 1`` frames.
        """
        rng = self.rng
        names = list(poses) if poses is not None else self.random_pose_names(num_keys)
        times = np.arange((len(names) - 1) * frames_per_transition + 1) / frames_per_transition
        people = moving_person(self.backend, rng, names, np.arange(len(names), dtype=float), times,
                               0.5 * self.pose_variation)  # fmt: skip
        yaw = rng.uniform(-180, 180)
        people = [p.transformed(yaw, np.zeros(2)) for p in people]
        first = self.sample_frame(
            people=people[:1], camera=camera, image_size=image_size, outdoor_prob=outdoor_prob, clutter=clutter,
            degradation=degradation, place=False,
        )  # fmt: skip
        frames = [first]
        for person in people[1:]:
            deg = replace(first.degradation, seed=int(rng.integers(2**31)))
            frames.append(
                replace(first, people=[person], degradation=deg, info=dict(first.info, poses=[person.pose_name]))
            )
        return frames


def fit_score(cam: Camera, points: np.ndarray) -> float:
    """Fraction of a person's projected box inside the image (0 when behind the camera)."""
    pts = cam.to_cam(points[::7])
    if (pts[:, 2] <= 100).any():
        return 0.0
    uv = cam.project(pts)[:, :2]
    lo, hi = uv.min(0), uv.max(0)
    area = max((hi[0] - lo[0]) * (hi[1] - lo[1]), 1e-6)
    ilo = np.maximum(lo, 0)
    ihi = np.minimum(hi, [cam.width - 1, cam.height - 1])
    inter = max(ihi[0] - ilo[0], 0) * max(ihi[1] - ilo[1], 0)
    return float(inter / area)
