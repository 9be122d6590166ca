"""Scenes for the synthetic data: rooms and outdoor grounds with procedural, cluttered textures, people
dressed as shaded primitives, blob shadows, and the final image.

A scene background is computed once per static camera (a room's walls, floor and ceiling, or a
ground plane with sky and a band of distant buildings and trees), with depth, so the people drawn
into it are occluded correctly and stand on the floor.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from .body import JOINT_INDEX, SEGMENT_INDEX, BodyShape
from .camera import Camera
from .capsule_raycast import Canvas, Light, draw_capsule, draw_ellipsoid

# ----------------------------------------------------------------------------------------------- textures


def _noise(rng: np.random.Generator, size: int, octaves: int = 5, persistence: float = 0.55) -> np.ndarray:
    """(size, size) float32 smooth value noise in [0, 1]: upsampled random grids at several scales."""
    out = np.zeros((size, size), np.float32)
    amp, total = 1.0, 0.0
    for o in range(octaves):
        cells = 2 ** (o + 2)
        grid = rng.random((cells, cells)).astype(np.float32)
        out += amp * cv2.resize(grid, (size, size), interpolation=cv2.INTER_CUBIC)
        total += amp
        amp *= persistence
    out /= total
    return np.clip((out - out.min()) / (np.ptp(out) + 1e-6), 0, 1)


def _random_color(rng: np.random.Generator, saturation=(0.2, 0.8), value=(0.3, 0.95)) -> np.ndarray:
    hsv = np.array([[[rng.uniform(0, 180), rng.uniform(*saturation) * 255, rng.uniform(*value) * 255]]], np.uint8)
    return cv2.cvtColor(hsv, cv2.COLOR_HSV2RGB)[0, 0].astype(np.float32)


_GROUND = np.array([[85, 120, 55], [105, 105, 105], [175, 155, 115], [110, 90, 65]], np.float32)
_CEILING = np.array([[225, 225, 220], [200, 200, 195], [235, 230, 215]], np.float32)


def _texture(rng: np.random.Generator, kind: str, size: int = 512) -> np.ndarray:
    """(size, size, 3) float32 RGB texture: floor (tiles/planks/carpet), wall (clutter), ground, band."""
    base = _random_color(rng, (0.05, 0.45), (0.35, 0.85))
    if kind in ("ground", "ceiling"):  # grass, asphalt, sand, earth; white-ish ceilings
        palette = _GROUND if kind == "ground" else _CEILING
        base = palette[rng.integers(len(palette))] * rng.uniform(0.85, 1.15, 3).astype(np.float32)
    noise = _noise(rng, size)[..., None]
    tex = base[None, None] * (0.75 + 0.5 * noise)
    if kind == "floor":
        style = rng.integers(3)
        yy, xx = np.mgrid[0:size, 0:size]
        if style == 0:  # tiles with grout lines
            step = int(rng.choice([32, 64]))
            grout = ((xx % step) < 2) | ((yy % step) < 2)
            tex[grout] *= 0.55
        elif style == 1:  # planks
            step = int(rng.choice([24, 32]))
            tex *= (0.85 + 0.3 * _noise(rng, size, 3) * ((yy // step) % 2 + 0.5))[..., None]
            tex[(yy % step) < 2] *= 0.6
    elif kind == "skyline":
        return _skyline(rng, size)
    elif kind == "wall":
        # Clutter: posters, shelves, doors, cables, round lamps.
        img = np.ascontiguousarray(tex)
        for _ in range(int(rng.integers(12, 30))):
            colour = tuple(float(v) for v in _random_color(rng))
            x, y = int(rng.integers(0, size)), int(rng.integers(0, size))
            w, h = int(rng.integers(size // 30, size // 5)), int(rng.integers(size // 30, size // 3))
            shape = rng.integers(4)
            if shape == 0:
                cv2.rectangle(img, (x, y), (x + w, y + h), colour, -1)
                cv2.rectangle(img, (x, y), (x + w, y + h), tuple(c * 0.5 for c in colour), 2)
            elif shape == 1:
                cv2.circle(img, (x, y), w // 2, colour, -1)
            elif shape == 2:
                cv2.line(img, (x, y), (x + w * 3, y + int(rng.integers(-h, h))), colour, int(rng.integers(1, 5)))
            else:
                patch = (_noise(rng, 64, 3)[..., None] * np.asarray(colour)[None, None]).astype(np.float32)
                patch = cv2.resize(patch, (w, h))
                ys, xs = slice(y, min(y + h, size)), slice(x, min(x + w, size))
                img[ys, xs] = patch[: ys.stop - y, : xs.stop - x]
        tex = img
    return np.clip(tex, 0, 255).astype(np.float32)


def _skyline(rng: np.random.Generator, size: int) -> np.ndarray:
    """(size, size, 4) float32: RGB of distant buildings and trees along the horizon, alpha 1 where they are.

    Rows run from the top of the band (0) to the horizon (size - 1); columns wrap around in azimuth.
    """
    img = np.zeros((size, size, 4), np.float32)
    x = 0
    while x < size:
        w = int(rng.integers(size // 40, size // 8))
        top = int(size * rng.uniform(0.05, 0.8))
        colour = (*(float(c) for c in _random_color(rng, (0.0, 0.35), (0.3, 0.75))), 1.0)
        if rng.random() < 0.35:  # a tree: a dark green crown on a trunk
            green = (float(rng.uniform(30, 70)), float(rng.uniform(70, 120)), float(rng.uniform(30, 60)), 1.0)
            cv2.ellipse(img, (x + w // 2, top + w // 2), (w // 2 + 2, w // 2 + 6), 0, 0, 360, green, -1)
            cv2.rectangle(img, (x + w // 2 - 2, top + w), (x + w // 2 + 2, size - 1), (80, 60, 40, 1.0), -1)
        else:  # a building with rows of windows
            cv2.rectangle(img, (x, top), (x + w, size - 1), colour, -1)
            for wy in range(top + 4, size - 4, 10):
                for wx in range(x + 3, x + w - 4, 8):
                    cv2.rectangle(img, (wx, wy), (wx + 3, wy + 4), (60, 70, 90, 1.0), -1)
        x += w + int(rng.integers(0, size // 20))
    img[..., :3] *= 0.8 + 0.4 * _noise(rng, size, 4)[..., None]
    return img


# ----------------------------------------------------------------------------------------------- backgrounds


@dataclass
class Scene:
    """A static setting for one or more cameras.

    Attributes:
        kind: "room" or "outdoor".
        half_size: (2,) room half extents along world x and y, mm (outdoor: the ground's).
        height: room height, mm.
        textures: name -> (S, S, 3) float32 RGB.
        texel_mm: mm per texel for each texture.
        light_world: (3,) unit vector toward the light, world frame.
        ambient: ambient light level.
    """

    kind: str
    half_size: np.ndarray
    height: float
    textures: dict
    texel_mm: dict
    light_world: np.ndarray
    ambient: float


def sample_scene(rng: np.random.Generator, kind: str = "room", half_size_mm: float = 7500.0) -> Scene:
    """A random room (walls with clutter, a tiled/wooden/carpet floor) or an outdoor ground with sky."""
    if kind not in ("room", "outdoor"):
        raise ValueError(f"scene kind must be 'room' or 'outdoor', got {kind!r}")
    light = np.array([rng.uniform(-0.5, 0.5), rng.uniform(-0.5, 0.5), 1.0])
    textures = {"floor": _texture(rng, "floor" if kind == "room" else "ground")}
    if kind == "room":
        textures.update({f"wall{i}": _texture(rng, "wall") for i in range(4)})
        textures["ceiling"] = _texture(rng, "ceiling")
        texel = {"floor": 8.0, "ceiling": 30.0, **{f"wall{i}": 2 * half_size_mm / 512 for i in range(4)}}
    else:
        textures["band"] = _skyline(rng, 512)
        texel = {"floor": 12.0}
    return Scene(
        kind=kind,
        half_size=np.array([half_size_mm, half_size_mm]) * rng.uniform(0.9, 1.1, 2),
        height=float(rng.uniform(3200, 4200)),
        textures=textures,
        texel_mm=texel,
        light_world=light / np.linalg.norm(light),
        ambient=float(rng.uniform(0.35, 0.55)),
    )


def _lookup(texture: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Bilinear lookup of (N,) texel coordinates -> (N, C); cv2.remap wants 2-D maps under 32767 wide."""
    n = len(x)
    if n == 0:
        return np.zeros((0, texture.shape[2]), np.float32)
    cols = 1024
    rows = -(-n // cols)
    mx = np.zeros(rows * cols, np.float32)
    my = np.zeros(rows * cols, np.float32)
    mx[:n], my[:n] = x, y
    out = cv2.remap(texture, mx.reshape(rows, cols), my.reshape(rows, cols), cv2.INTER_LINEAR, None, cv2.BORDER_WRAP)
    return out.reshape(-1, texture.shape[2])[:n]


def _sample_texture(texture: np.ndarray, u_mm: np.ndarray, v_mm: np.ndarray, texel_mm: float) -> np.ndarray:
    """Bilinear, tiled lookup of a texture at (N,) plane coordinates (mm) -> (N, 3)."""
    size = texture.shape[0]
    return _lookup(texture, np.mod(u_mm / texel_mm, size - 1), np.mod(v_mm / texel_mm, size - 1))


def render_background(scene: Scene, camera: Camera, max_side: int = 480) -> tuple[Canvas, np.ndarray]:
    """The scene seen by a camera, with depth.

    The scene is ray-cast at most ``max_side`` px wide and upsampled: its textures are smooth, and
    this makes a background cost the same at any image size.

    Returns:
        The canvas (owner -1 everywhere) and (H, W, 2) float32 world x, y of the floor point each
        pixel sees (NaN off the floor), for shadows.
    """
    full_w, full_h = camera.width, camera.height
    factor = max(full_w, full_h) / max_side
    if factor > 1.0:
        small = Camera(
            camera.R, camera.t, camera.f / factor, (camera.c + 0.5) / factor - 0.5,
            int(round(full_w / factor)), int(round(full_h / factor)),
        )  # fmt: skip
        canvas, floor_xy = render_background(scene, small, max_side)
        size = (full_w, full_h)
        color = cv2.resize(canvas.color, size, interpolation=cv2.INTER_LINEAR)
        depth = cv2.resize(canvas.depth, size, interpolation=cv2.INTER_LINEAR)
        floor_xy = cv2.resize(floor_xy, size, interpolation=cv2.INTER_NEAREST)
        return Canvas(color, depth, np.full((full_h, full_w), -1, np.int16)), floor_xy
    rays_cam = camera.rays().reshape(-1, 3).astype(np.float64)
    d = rays_cam @ camera.R  # camera -> world directions (R is orthonormal)
    o = camera.position
    h, w = camera.height, camera.width
    color = np.zeros((h * w, 3), np.float32)
    floor_xy = np.full((h * w, 2), np.nan, np.float32)
    with np.errstate(divide="ignore", invalid="ignore"):
        if scene.kind == "room":
            lo = np.array([-scene.half_size[0], -scene.half_size[1], 0.0])
            hi = np.array([scene.half_size[0], scene.half_size[1], scene.height])
            t_axes = np.where(d > 0, (hi - o) / d, (lo - o) / d)
            t_axes = np.where(np.abs(d) < 1e-9, np.inf, t_axes)
            face = np.argmin(t_axes, axis=1)
            t = t_axes[np.arange(len(d)), face]
            p = o + d * t[:, None]
            faces = {  # (mask, texture, u, v, brightness)
                "floor": (face == 2) & (d[:, 2] < 0),
                "ceiling": (face == 2) & (d[:, 2] >= 0),
                "wall0": (face == 0) & (d[:, 0] > 0),
                "wall1": (face == 0) & (d[:, 0] <= 0),
                "wall2": (face == 1) & (d[:, 1] > 0),
                "wall3": (face == 1) & (d[:, 1] <= 0),
            }
            shade = {"floor": 1.0, "ceiling": 0.8, "wall0": 0.92, "wall1": 0.85, "wall2": 0.95, "wall3": 0.88}
            for name, mask in faces.items():
                if not mask.any():
                    continue
                q = p[mask]
                if name in ("floor", "ceiling"):
                    u, v = q[:, 0], q[:, 1]
                elif name in ("wall0", "wall1"):
                    u, v = q[:, 1] + scene.half_size[1], scene.height - q[:, 2]
                else:
                    u, v = q[:, 0] + scene.half_size[0], scene.height - q[:, 2]
                tex = _sample_texture(scene.textures[name], u, v, scene.texel_mm[name])
                color[mask] = tex * shade[name] * (scene.ambient + 0.5)
            floor = faces["floor"]
        else:
            t = np.where(d[:, 2] < -1e-6, -o[2] / d[:, 2], np.inf)
            floor = np.isfinite(t) & (t < 80000)
            p = o + d * np.where(floor, t, 0.0)[:, None]
            tex = _sample_texture(scene.textures["floor"], p[floor, 0], p[floor, 1], scene.texel_mm["floor"])
            haze = np.clip(t[floor] / 80000.0, 0, 1)[:, None]
            color[floor] = tex * (1 - 0.6 * haze) + np.array([200, 210, 225], np.float32) * 0.6 * haze
            sky = ~floor
            elevation = np.arcsin(np.clip(d[sky, 2], -1, 1))
            azimuth = np.arctan2(d[sky, 1], d[sky, 0])
            gradient = np.clip(elevation / 0.6, 0, 1)[:, None]
            color[sky] = (1 - gradient) * np.array([215, 225, 235]) + gradient * np.array([90, 140, 210])
            band_tex = scene.textures["band"]
            size = band_tex.shape[0]
            bu = ((azimuth + np.pi) / (2 * np.pi) * 4 * size) % (size - 1)
            bv = (size - 1) * (1 - np.clip(elevation / 0.12, 0, 1))
            in_band = (elevation >= 0) & (elevation < 0.12)  # distant buildings and trees along the horizon
            band = _lookup(band_tex, bu, bv)
            alpha = np.where(in_band, band[:, 3], 0.0)[:, None]
            color[sky] = (1 - alpha) * color[sky] + alpha * band[:, :3] * 0.9
            t = np.where(floor, t, 1e6)
    depth = (t * rays_cam[:, 2]).astype(np.float32)
    floor_xy[floor] = p[floor, :2]
    canvas = Canvas(color.reshape(h, w, 3), depth.reshape(h, w), np.full((h, w), -1, np.int16))
    return canvas, floor_xy.reshape(h, w, 2)


def draw_shadow(canvas: Canvas, camera: Camera, floor_xy: np.ndarray, centre_xy: np.ndarray, radius: float) -> None:
    """Darken the floor under a person: a soft elliptical blob around ``centre_xy`` (world mm)."""
    ring = np.array([[np.cos(a), np.sin(a), 0.0] for a in np.linspace(0, 2 * np.pi, 9)]) * radius * 1.6
    ring[:, :2] += centre_xy
    cam_pts = camera.to_cam(ring)
    if (cam_pts[:, 2] <= 100).any():
        return
    uv = camera.project(cam_pts)[:, :2]
    x0, y0 = np.floor(uv.min(0)).astype(int)
    x1, y1 = np.ceil(uv.max(0)).astype(int) + 1
    x0, y0, x1, y1 = max(x0, 0), max(y0, 0), min(x1, camera.width), min(y1, camera.height)
    if x1 <= x0 or y1 <= y0:
        return
    xy = floor_xy[y0:y1, x0:x1]
    dist2 = ((xy - centre_xy.astype(np.float32)) ** 2).sum(-1) / radius**2
    darken = 1.0 - 0.45 * np.exp(-dist2 * 1.5)
    darken = np.where(np.isfinite(darken) & (canvas.owner[y0:y1, x0:x1] < 0), darken, 1.0)
    canvas.color[y0:y1, x0:x1] *= darken[..., None].astype(np.float32)


# ----------------------------------------------------------------------------------------------- people

SKIN_TONES = np.array([[255, 219, 172], [241, 194, 125], [224, 172, 105], [198, 134, 66], [141, 85, 36]], np.float32)
HAIR_COLOURS = np.array([[30, 25, 20], [70, 45, 25], [120, 80, 40], [200, 170, 110], [150, 150, 150]], np.float32)


@dataclass(frozen=True)
class Outfit:
    """Colours (RGB 0..255) of one person's skin, hair and clothes; sleeve and leg lengths; shirt stripes."""

    skin: np.ndarray
    hair: np.ndarray
    shirt: np.ndarray
    trousers: np.ndarray
    shoes: np.ndarray
    long_sleeves: bool
    long_trousers: bool
    stripes_mm: float | None


def sample_outfit(rng: np.random.Generator) -> Outfit:
    skin = SKIN_TONES[rng.integers(len(SKIN_TONES))] * rng.uniform(0.9, 1.05)
    return Outfit(
        skin=np.clip(skin, 0, 255),
        hair=HAIR_COLOURS[rng.integers(len(HAIR_COLOURS))],
        shirt=_random_color(rng, (0.1, 0.9), (0.25, 0.95)),
        trousers=_random_color(rng, (0.1, 0.6), (0.12, 0.6)),
        shoes=_random_color(rng, (0.0, 0.3), (0.05, 0.35)),
        long_sleeves=bool(rng.random() < 0.6),
        long_trousers=bool(rng.random() < 0.8),
        stripes_mm=float(rng.uniform(40, 90)) if rng.random() < 0.3 else None,
    )


@dataclass(frozen=True)
class Person:
    """One person in one frame: shape, clothes, posed joints (world mm) and segment rotations."""

    shape: BodyShape
    outfit: Outfit
    joints_world: np.ndarray  # (len(JOINTS), 3)
    segment_rot: np.ndarray  # (len(SEGMENTS), 3, 3)
    seated: bool = False


def draw_person(canvas: Canvas, camera: Camera, person: Person, owner: int, light: Light) -> None:
    """Draw a person as capsules (limbs, neck, feet) and ellipsoids (pelvis, chest, head, hair, nose, eyes)."""
    h, g = person.shape.stature, person.shape.girth
    j = camera.to_cam(person.joints_world)
    rot = np.einsum("ij,sjk->sik", camera.R, person.segment_rot)  # segment axes in the camera frame

    def p(name: str) -> np.ndarray:
        return j[JOINT_INDEX[name]]

    def axes(segment: str) -> np.ndarray:
        return rot[SEGMENT_INDEX[segment]]

    o = person.outfit
    arm_lower = o.shirt if o.long_sleeves else o.skin
    leg_lower = o.trousers if o.long_trousers else o.skin
    stripes = o.stripes_mm
    if person.seated:
        seat_top = person.joints_world[JOINT_INDEX["Pelvis"]] - np.array([0, 0, 0.075 * h])
        stool = np.array([0.55, 0.35, 0.2], np.float32) * 255
        seat = camera.to_cam(seat_top - np.array([0, 0, 30.0]))
        draw_ellipsoid(canvas, camera, seat, camera.R, np.array([230, 230, 35.0]), stool, -2, light)
        draw_capsule(canvas, camera, seat, camera.to_cam(seat_top * [1, 1, 0]), 30.0, stool * 0.7, -2, light)
    for side in ("L_", "R_"):
        draw_capsule(canvas, camera, p(side + "Hip"), p(side + "Knee"), 0.042 * h * g, o.trousers, owner, light)
        draw_capsule(canvas, camera, p(side + "Knee"), p(side + "Ankle"), 0.031 * h * g, leg_lower, owner, light)
        draw_capsule(canvas, camera, p(side + "Heel"), p(side + "Toe"), 0.022 * h * g, o.shoes, owner, light)
        draw_capsule(
            canvas, camera, p(side + "Shoulder"), p(side + "Elbow"), 0.026 * h * g, o.shirt, owner, light, stripes
        )
        draw_capsule(canvas, camera, p(side + "Elbow"), p(side + "Wrist"), 0.021 * h * g, arm_lower, owner, light)
        draw_capsule(canvas, camera, p(side + "Wrist"), p(side + "Hand"), 0.017 * h * g, o.skin, owner, light)
    pelvis_centre = 0.75 * p("Pelvis") + 0.25 * p("Spine")
    draw_ellipsoid(
        canvas, camera, pelvis_centre, axes("lumbar"), np.array([0.1, 0.065, 0.085]) * h * g, o.trousers, owner, light
    )
    chest_centre = 0.4 * p("Spine") + 0.6 * p("Thorax")
    draw_ellipsoid(
        canvas, camera, chest_centre, axes("chest"), np.array([0.098, 0.062, 0.135]) * h * g, o.shirt, owner, light
    )
    draw_capsule(canvas, camera, p("Thorax"), p("Neck"), 0.03 * h * g, o.skin, owner, light)
    head_axes = axes("neck")
    draw_ellipsoid(canvas, camera, p("Head"), head_axes, np.array([0.045, 0.055, 0.065]) * h, o.skin, owner, light)
    hair_centre = p("Head") + head_axes @ (np.array([0.0, -0.009, 0.012]) * h)
    draw_ellipsoid(canvas, camera, hair_centre, head_axes, np.array([0.047, 0.054, 0.062]) * h, o.hair, owner, light)
    draw_ellipsoid(
        canvas, camera, p("Nose"), head_axes, np.array([0.007, 0.01, 0.012]) * h, o.skin * 0.95, owner, light
    )
    for side in ("L_", "R_"):
        eye = p(side + "Eye") + head_axes @ (np.array([0.0, 0.004, 0.0]) * h)
        draw_ellipsoid(canvas, camera, eye, head_axes, np.full(3, 0.0065 * h), np.array([40, 30, 30.0]), owner, light)


def person_light(scene: Scene, camera: Camera) -> Light:
    """The scene's light in a camera's frame."""
    return Light(direction=camera.R @ scene.light_world, ambient=scene.ambient, diffuse=0.65)


def finish_image(canvas: Canvas, rng: np.random.Generator, noise_sd: float = 2.5) -> np.ndarray:
    """Soften edges (slight blur), add sensor noise, quantise: (H, W, 3) uint8 RGB."""
    img = cv2.GaussianBlur(canvas.color, (3, 3), 0.6)
    noise = np.empty(img.shape[:2], np.float32)
    cv2.setRNGSeed(int(rng.integers(2**31)))  # OpenCV's generator is several times faster than NumPy's here
    cv2.randn(noise, 0.0, float(noise_sd))
    img += noise[..., None]
    return np.clip(img, 0, 255, out=img).astype(np.uint8)


def silhouette_box(owner: np.ndarray, person: int) -> np.ndarray | None:
    """[x, y, w, h] px tight box of a person's visible pixels, or None if none are visible."""
    mask = owner == person
    if not mask.any():
        return None
    ys = np.flatnonzero(mask.any(axis=1))
    xs = np.flatnonzero(mask.any(axis=0))
    return np.array([xs[0], ys[0], xs[-1] - xs[0] + 1, ys[-1] - ys[0] + 1], dtype=np.float64)
