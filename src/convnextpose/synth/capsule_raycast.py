"""A small ray-casting renderer: shaded capsules and ellipsoids into a per-pixel depth buffer.

Each primitive is intersected analytically with the camera rays of the pixels inside its projected
bounding box, all pixels at once in NumPy, and written where it is nearer than what the z-buffer
holds. So occlusion between limbs, people and the scene is exact per pixel. Depth is camera Z in mm.
Rays pass through pixel centres at integer pixel coordinates (OpenCV's convention, the same as
``cam2pixel``), so an annotated joint projects onto the pixel that shows it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .camera import Camera

NEAR_MM = 100.0


@dataclass
class Canvas:
    """What a frame holds while it is drawn.

    Attributes:
        color: (H, W, 3) float32 RGB 0..255.
        depth: (H, W) float32 camera Z, mm (inf where nothing was drawn).
        owner: (H, W) int16: person id of the drawn surface, -1 for the scene.
    """

    color: np.ndarray
    depth: np.ndarray
    owner: np.ndarray

    @classmethod
    def empty(cls, height: int, width: int) -> Canvas:
        return cls(
            np.zeros((height, width, 3), np.float32),
            np.full((height, width), np.inf, np.float32),
            np.full((height, width), -1, np.int16),
        )

    def copy(self) -> Canvas:
        return Canvas(self.color.copy(), self.depth.copy(), self.owner.copy())


@dataclass
class Light:
    """Directional light plus ambient; ``direction`` points from the surface toward the light, camera frame."""

    direction: np.ndarray
    ambient: float = 0.45
    diffuse: float = 0.6


def _screen_box(camera: Camera, centres_cam: np.ndarray, radius: float) -> tuple[int, int, int, int] | None:
    """Pixel bounds (x0, y0, x1, y1) covering spheres of ``radius`` around points, or None if off-screen."""
    z = centres_cam[:, 2]
    if (z - radius).min() <= NEAR_MM:
        return None
    uv = camera.project(centres_cam)[:, :2]
    pad = radius * camera.f.max() / (z - radius) + 2
    x0 = int(np.floor((uv[:, 0] - pad).min()))
    y0 = int(np.floor((uv[:, 1] - pad).min()))
    x1 = int(np.ceil((uv[:, 0] + pad).max())) + 1
    y1 = int(np.ceil((uv[:, 1] + pad).max())) + 1
    x0, y0, x1, y1 = max(x0, 0), max(y0, 0), min(x1, camera.width), min(y1, camera.height)
    if x1 <= x0 or y1 <= y0:
        return None
    return x0, y0, x1, y1


def _shade_and_write(
    canvas: Canvas,
    box: tuple[int, int, int, int],
    t: np.ndarray,
    rays: np.ndarray,
    normals: np.ndarray,
    color: np.ndarray,
    owner: int,
    light: Light,
    stripes: tuple[np.ndarray, np.ndarray, float] | None = None,
) -> None:
    """z-test hits (finite t) against the canvas and write shaded colour, depth and owner."""
    x0, y0, x1, y1 = box
    z = t * rays[..., 2]
    depth = canvas.depth[y0:y1, x0:x1]
    hit = np.isfinite(z) & (z < depth) & (z > NEAR_MM)
    if not hit.any():
        return
    n = normals[hit]
    n /= np.linalg.norm(n, axis=-1, keepdims=True) + 1e-9
    lambert = np.clip(n @ light.direction, 0.0, None)
    facing = np.clip(-(n * rays[hit]).sum(-1), 0.0, 1.0)  # darken grazing angles a little (soft rim)
    shade = light.ambient * (0.75 + 0.25 * facing) + light.diffuse * lambert
    rgb = np.asarray(color, np.float32)[None] * shade[:, None]
    if stripes is not None:
        origin, axis, period = stripes
        points = rays[hit] * t[hit][:, None]
        band = np.sin(2 * np.pi * ((points - origin) @ axis) / period) > 0
        rgb *= np.where(band, 0.72, 1.0)[:, None]
    depth[hit] = z[hit]
    canvas.color[y0:y1, x0:x1][hit] = np.clip(rgb, 0, 255)
    canvas.owner[y0:y1, x0:x1][hit] = owner


def draw_capsule(
    canvas: Canvas,
    camera: Camera,
    a_cam: np.ndarray,
    b_cam: np.ndarray,
    radius: float,
    color: np.ndarray,
    owner: int,
    light: Light,
    stripes: float | None = None,
) -> None:
    """Ray-cast a capsule (segment ``a``-``b`` swept by a sphere of ``radius``), camera frame mm.

    Args:
        stripes: period (mm) of bands across the capsule's axis (a striped sleeve), or None.
    """
    box = _screen_box(camera, np.stack([a_cam, b_cam]), radius)
    if box is None:
        return
    d = camera.rays(box)
    ba = b_cam - a_cam
    oa = -a_cam
    baba = ba @ ba
    bard = d @ ba
    baoa = oa @ ba
    rdoa = d @ oa
    oaoa = oa @ oa
    qa = baba - bard * bard
    qb = baba * rdoa - baoa * bard
    qc = baba * oaoa - baoa * baoa - radius * radius * baba
    h = qb * qb - qa * qc
    inside = h >= 0
    with np.errstate(invalid="ignore", divide="ignore"):
        t_body = (-qb - np.sqrt(np.where(inside, h, 0.0))) / qa
        y = baoa + t_body * bard
        on_body = inside & (y > 0) & (y < baba)
        # End caps: the sphere at the end the body hit fell beyond.
        cap_centre = np.where((y <= 0)[..., None], a_cam, b_cam)
        oc = -cap_centre
        cb = (d * oc).sum(-1)
        cc = (oc * oc).sum(-1) - radius * radius
        ch = cb * cb - cc
        on_cap = inside & ~on_body & (ch > 0)
        t_cap = -cb - np.sqrt(np.where(on_cap, ch, 0.0))
    t = np.where(on_body, t_body, np.where(on_cap, t_cap, np.inf))
    points = d * np.where(np.isfinite(t), t, 0.0)[..., None]
    axis_point = a_cam + ba * np.clip(y / baba, 0.0, 1.0)[..., None]
    normals = np.where(on_body[..., None], points - axis_point, points - cap_centre)
    stripe_arg = None if stripes is None else (a_cam, ba / np.sqrt(baba), float(stripes))
    _shade_and_write(canvas, box, t, d, normals, color, owner, light, stripe_arg)


def draw_ellipsoid(
    canvas: Canvas,
    camera: Camera,
    centre_cam: np.ndarray,
    axes_cam: np.ndarray,
    radii: np.ndarray,
    color: np.ndarray,
    owner: int,
    light: Light,
) -> None:
    """Ray-cast an ellipsoid.

    Args:
        centre_cam: (3,) mm, camera frame.
        axes_cam: (3, 3) columns are the ellipsoid's unit axes in the camera frame.
        radii: (3,) semi-axes, mm.
    """
    radii = np.asarray(radii, dtype=np.float64)
    box = _screen_box(camera, centre_cam[None], float(radii.max()))
    if box is None:
        return
    d = camera.rays(box)
    to_local = axes_cam.T / radii[:, None]  # world vector -> unit-sphere coordinates
    o = to_local @ (-centre_cam)
    dl = d @ to_local.T
    qa = (dl * dl).sum(-1)
    qb = dl @ o
    qc = o @ o - 1.0
    disc = qb * qb - qa * qc
    hit = disc > 0
    t = np.where(hit, (-qb - np.sqrt(np.where(hit, disc, 0.0))) / qa, np.inf)
    local = o + dl * np.where(hit, t, 0.0)[..., None]
    normals = (local / radii) @ axes_cam.T  # gradient of the implicit surface, camera frame
    _shade_and_write(canvas, box, t, d, normals, color, owner, light)
