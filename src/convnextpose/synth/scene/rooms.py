"""Rooms and outdoor grounds around the people: floor, walls, ceiling or a far backdrop, furniture and seats.

Walls are placed from one camera's point of view: the back wall behind the people as that camera sees them, sometimes
a side wall, never between the camera and the people. Furniture stands around the people, mostly behind or beside
them, and rarely low in front (it hides legs, not everyone).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from ..camera import Camera
from ..people.person import Person
from . import textures as T
from .surfaces import Box, Plane
from .textures import Texture, TexturePool


def floor_only() -> list[Plane]:
    """An untextured floor: under a backdrop photo it is not drawn, only shadowed."""
    grey = Texture(np.full((4, 4, 3), 0.5, np.float32), 1000.0)
    return [Plane(np.array([0.0, 0.0, 1.0]), 0.0, np.array([[1.0, 0, 0], [0, 1.0, 0]]), grey, np.zeros(3))]


def room_planes(
    rng: np.random.Generator, tex: TexturePool, cam: Camera, people: list[Person], outdoor: bool
) -> list[Plane]:
    """A textured floor, and a wall behind the people as this camera sees them (sometimes a side wall) and a ceiling, or
    an outdoor ground with a far backdrop."""
    floor_kinds = T.OUTDOOR_FLOORS if outdoor else T.FLOORS
    kind = list(floor_kinds)[int(rng.integers(len(floor_kinds)))]
    floor_tex = tex.get(("out_" if outdoor else "") + kind, floor_kinds[kind])
    a = rng.uniform(0, np.pi)
    floor = Plane(
        normal=np.array([0.0, 0.0, 1.0]),
        offset=0.0,
        axes=np.array([[np.cos(a), np.sin(a), 0], [-np.sin(a), np.cos(a), 0]]),
        texture=floor_tex,
        origin=np.append(rng.uniform(-5000, 5000, 2), 0.0),
        tint=np.exp(rng.normal(0, 0.08, 3)).astype(np.float32),
    )
    planes = [floor]
    group = np.mean([p.position for p in people], axis=0) if people else np.zeros(2)
    reach = max((np.linalg.norm(p.position - group) + p.footprint for p in people), default=500.0)
    cam_xy = cam.position[:2]
    to_cam = cam_xy - group
    dist_cam = np.linalg.norm(to_cam)
    toward = to_cam / max(dist_cam, 1e-6)
    if outdoor:
        d = reach + rng.uniform(12000, 40000)
        planes.append(_wall(rng, toward, group, d, tex.get("backdrop", T.outdoor_backdrop), clamp=True))
        return planes
    # Back wall behind the people (as seen from the camera), optionally a side wall, and a ceiling.
    angle = rng.normal(0, 0.35)
    c, s = np.cos(angle), np.sin(angle)
    normal = np.array([c * toward[0] - s * toward[1], s * toward[0] + c * toward[1]])
    wall_kind = list(T.WALLS)[int(rng.integers(len(T.WALLS)))]
    wall_tex = tex.get("wall_" + wall_kind, T.WALLS[wall_kind])
    planes.append(_wall(rng, normal, group, reach + rng.uniform(600, 4000), wall_tex))
    if rng.random() < 0.6:
        side = np.array([-normal[1], normal[0]]) * (1 if rng.random() < 0.5 else -1)
        offset = reach + rng.uniform(800, 4000)
        # Keep the camera inside the room: the wall must have the camera on its inner side with a margin.
        if (cam_xy - group) @ (-side) < offset - 300:
            side_kind = wall_kind if rng.random() < 0.6 else list(T.WALLS)[int(rng.integers(len(T.WALLS)))]
            planes.append(_wall(rng, side, group, offset, tex.get("wall_" + side_kind, T.WALLS[side_kind])))
    ceiling_h = rng.uniform(2500, 3400)
    if cam.position[2] < ceiling_h - 200:
        planes.append(
            Plane(
                normal=np.array([0.0, 0.0, -1.0]),
                offset=-ceiling_h,
                axes=np.array([[1.0, 0, 0], [0, 1.0, 0]]),
                texture=tex.get("ceiling", _ceiling),
                origin=np.zeros(3),
            )
        )
    return planes


def _wall(
    rng: np.random.Generator, normal_xy: np.ndarray, group: np.ndarray, distance: float, texture, clamp: bool = False
) -> Plane:
    """A vertical plane ``distance`` mm behind ``group`` (opposite to ``normal_xy``), facing along ``normal_xy``."""
    n = np.array([normal_xy[0], normal_xy[1], 0.0])
    n /= np.linalg.norm(n)
    point = np.array([group[0], group[1], 0.0]) - n * distance
    along = np.array([-n[1], n[0], 0.0])
    return Plane(
        normal=n,
        offset=float(n @ point),
        axes=np.stack([along, np.array([0.0, 0.0, 1.0])]),
        texture=texture,
        origin=point + along * rng.uniform(-3000, 3000),
        clamp_t=clamp,
        tint=np.exp(rng.normal(0, 0.06, 3)).astype(np.float32),
    )


def seats(tex: TexturePool, people: list[Person]) -> list[Box]:
    """A box seat under each seated person's buttocks."""
    boxes = []
    for p in people:
        if not p.seat:
            continue
        # The seat top sits under the lowest buttock/thigh vertex near the hips.
        seat_v = p.surface.group_points("seat")
        hips = p.joints["human36m"][[1, 4]]
        centre = hips.mean(0)
        near = np.linalg.norm(seat_v[:, :2] - centre[:2], axis=1) < 200
        top = float(seat_v[near, 2].min()) if near.any() else float(seat_v[:, 2].min())
        forward = p.joints["human36m"][2] + p.joints["human36m"][5] - 2 * centre  # towards the knees
        yaw = np.rad2deg(np.arctan2(forward[1], forward[0]))
        c = centre[:2] + 0.15 * forward[:2]
        half = np.array([220.0, 220.0, top / 2])
        boxes.append(Box(np.array([c[0], c[1], top / 2]), half, yaw, tex.get("furniture", T.furniture)))
    return boxes


def clutter(
    rng: np.random.Generator,
    textures: TexturePool,
    cam: Camera,
    people: list[Person],
    planes: list[Plane],
    count: tuple[int, int],
) -> list[Box]:
    """Furniture boxes (cabinets, tables, crates, shelves, stools) around the people, mostly behind or beside them."""
    n = int(rng.integers(count[0], count[1] + 1)) if count[1] > 0 else 0
    boxes: list[Box] = []
    group = np.mean([p.position for p in people], axis=0) if people else np.zeros(2)
    cam_xy = cam.position[:2]
    for _ in range(n):
        kind = rng.choice(["cabinet", "table", "crate", "shelf", "stool"])
        size = {
            "cabinet": (rng.uniform(400, 1200), rng.uniform(300, 600), rng.uniform(600, 1200)),
            "table": (rng.uniform(600, 1600), rng.uniform(500, 900), rng.uniform(700, 780)),
            "crate": (rng.uniform(300, 600), rng.uniform(300, 600), rng.uniform(250, 600)),
            "shelf": (rng.uniform(600, 1400), rng.uniform(250, 450), rng.uniform(1400, 2200)),
            "stool": (rng.uniform(300, 450), rng.uniform(300, 450), rng.uniform(400, 650)),
        }[kind]
        half = np.array(size) / 2
        radius = float(np.hypot(half[0], half[1]))
        for _try in range(20):
            # Anywhere around the group, mostly behind or beside it, rarely between the camera and the people.
            ang = rng.uniform(0, 2 * np.pi)
            dist = rng.uniform(800, 4500)
            pos = group + dist * np.array([np.cos(ang), np.sin(ang)])
            clear_people = all(np.linalg.norm(pos - p.position) > p.footprint + radius + 150 for p in people)
            clear_cam = np.linalg.norm(pos - cam_xy) > radius + 600
            clear_walls = all(
                (pl.normal[:2] @ pos - pl.offset) > radius + 50 for pl in planes if abs(pl.normal[2]) < 0.5
            )
            along = (pos - cam_xy) @ (group - cam_xy) / max(np.linalg.norm(group - cam_xy), 1e-6)
            between = along < np.linalg.norm(group - cam_xy)
            if between and (along < 1500 or rng.random() > 0.25):
                continue
            if clear_people and clear_cam and clear_walls:
                break
        else:
            continue
        if between:  # an occluder between the camera and the people stays low: it hides legs, not everyone
            kind = "crate" if kind in ("cabinet", "shelf") else kind
            half[2] = min(half[2], rng.uniform(150, 400))
        tex = textures.get("furniture", T.furniture)
        tint = np.exp(rng.normal(0, 0.1, 3)).astype(np.float32)
        yaw = rng.uniform(0, 180)
        if kind == "table":
            top = 25.0
            boxes.append(
                Box(
                    np.array([pos[0], pos[1], half[2] * 2 - top / 2]),
                    np.array([half[0], half[1], top / 2]),
                    yaw,
                    tex,
                    tint,
                )
            )
            a = np.deg2rad(yaw)
            rot = np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
            for sx in (-1, 1):
                for sy in (-1, 1):
                    leg = pos + rot @ np.array([sx * (half[0] - 40), sy * (half[1] - 40)])
                    boxes.append(
                        Box(
                            np.array([leg[0], leg[1], half[2] - top / 2]),
                            np.array([20.0, 20.0, half[2] - top / 2]),
                            yaw,
                            tex,
                            tint,
                        )
                    )
        else:
            boxes.append(Box(np.array([pos[0], pos[1], half[2]]), half, yaw, tex, tint))
    return boxes


def _ceiling(rng: np.random.Generator):
    tex = T.painted_wall(rng, 256)
    img = np.broadcast_to(tex.image[len(tex.image) // 2], tex.image.shape).copy()
    return replace(tex, image=img * 1.05, size_mm=2000.0)


def studio(
    rng: np.random.Generator, tex: TexturePool, cameras: list[Camera], half_size: float = 7500.0
) -> tuple[list[Plane], list[Box]]:
    """A closed room around a capture area at the world origin, the same for every camera inside it: a textured
    floor, four walls about ``half_size`` mm from the centre, a ceiling, and a few pieces of furniture along the
    walls, at least 1.2 m from every camera."""
    kind = list(T.FLOORS)[int(rng.integers(len(T.FLOORS)))]
    planes = [
        Plane(
            normal=np.array([0.0, 0.0, 1.0]),
            offset=0.0,
            axes=np.array([[1.0, 0, 0], [0, 1.0, 0]]),
            texture=tex.get(kind, T.FLOORS[kind]),
            origin=np.append(rng.uniform(-5000, 5000, 2), 0.0),
            tint=np.exp(rng.normal(0, 0.08, 3)).astype(np.float32),
        )
    ]
    wall_kind = list(T.WALLS)[int(rng.integers(len(T.WALLS)))]
    texture = tex.get("wall_" + wall_kind, T.WALLS[wall_kind])  # one wallpaper for the room's four walls
    for normal in ((1.0, 0.0), (-1.0, 0.0), (0.0, 1.0), (0.0, -1.0)):
        planes.append(_wall(rng, np.array(normal), np.zeros(2), half_size * rng.uniform(0.9, 1.1), texture))
    height = rng.uniform(3200, 4200)
    planes.append(
        Plane(np.array([0.0, 0.0, -1.0]), -height, np.array([[1.0, 0, 0], [0, 1.0, 0]]), tex.get("ceiling", _ceiling),
              np.zeros(3))
    )  # fmt: skip
    boxes = []
    for _ in range(int(rng.integers(2, 6))):
        angle = rng.uniform(0, 2 * np.pi)
        half = np.array([rng.uniform(200, 600), rng.uniform(150, 300), rng.uniform(300, 1100)])
        centre = 0.82 * half_size * np.array([np.cos(angle), np.sin(angle)])
        if any(np.linalg.norm(centre - cam.position[:2]) < 1200 + half[0] for cam in cameras):
            continue
        boxes.append(Box(np.array([*centre, half[2]]), half, np.rad2deg(angle) + 90.0, tex.get("furniture", T.furniture),
                         np.exp(rng.normal(0, 0.1, 3)).astype(np.float32)))  # fmt: skip
    return planes, boxes
