"""The synthetic data's pinhole camera and its presets (DATA_FORMATS.md section 3 conventions).

World frame: mm, Z up, floor at Z = 0 (Human3.6M's). Camera frame: ``X_cam = R X_world + t`` (t in mm), x right,
y down, z forward; pixels ``u = X/Z fx + cx``, ``v = Y/Z fy + cy`` with pixel centres at integer coordinates, so an
annotated joint projects onto the pixel that shows it. The maps themselves are :mod:`convnextpose.geometry`'s; the
field names ``R``, ``t``, ``f``, ``c`` are the release's, as written to ``Human36M_subjectS_camera.json``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from ..geometry import cam2pixel, world2cam


@dataclass(frozen=True, eq=False)
class Camera:
    """A pinhole camera.

    Attributes:
        R: (3, 3) world-to-camera rotation.
        t: (3,) mm, in ``X_cam = R X_world + t``.
        f: (2,) focal lengths (fx, fy), px.
        c: (2,) principal point (cx, cy), px.
        width, height: image size, px.
    """

    R: np.ndarray
    t: np.ndarray
    f: np.ndarray
    c: np.ndarray
    width: int
    height: int

    def __post_init__(self) -> None:
        for name, shape in (("R", (3, 3)), ("t", (3,)), ("f", (2,)), ("c", (2,))):
            value = np.array(getattr(self, name), dtype=np.float64)
            if value.shape != shape:
                raise ValueError(f"camera {name} must have shape {shape}, got {value.shape}")
            object.__setattr__(self, name, value)
        object.__setattr__(self, "width", int(self.width))
        object.__setattr__(self, "height", int(self.height))

    @classmethod
    def look_at(
        cls,
        position: np.ndarray,
        target: np.ndarray,
        focal: float | tuple[float, float] | np.ndarray,
        image_size: tuple[int, int],
        c: tuple[float, float] | np.ndarray | None = None,
        roll_deg: float = 0.0,
    ) -> Camera:
        """A camera at ``position`` (world mm) looking at ``target`` with world Z up, rolled by ``roll_deg``.

        Args:
            focal: one focal length for both axes, or (fx, fy), px.
            image_size: (width, height) px.
            c: principal point; the image centre ``((W - 1) / 2, (H - 1) / 2)`` by default.
        """
        position = np.asarray(position, np.float64)
        forward = np.asarray(target, np.float64) - position
        forward /= np.linalg.norm(forward)
        right = np.cross(forward, [0.0, 0.0, 1.0])
        if np.linalg.norm(right) < 1e-6:  # looking straight up or down
            right = np.array([1.0, 0.0, 0.0])
        right /= np.linalg.norm(right)
        down = np.cross(forward, right)
        if roll_deg:
            a = np.deg2rad(roll_deg)
            right, down = np.cos(a) * right + np.sin(a) * down, -np.sin(a) * right + np.cos(a) * down
        rotation = np.stack([right, down, forward])
        width, height = int(image_size[0]), int(image_size[1])
        f = np.broadcast_to(np.asarray(focal, np.float64), (2,))
        c = ((width - 1) / 2.0, (height - 1) / 2.0) if c is None else c
        return cls(rotation, -rotation @ position, f, c, width, height)

    @property
    def position(self) -> np.ndarray:
        """(3,) camera centre, world mm."""
        return -self.R.T @ self.t

    @property
    def size(self) -> tuple[int, int]:
        """(width, height) px."""
        return self.width, self.height

    def to_cam(self, points_world: np.ndarray) -> np.ndarray:
        """(..., 3) world mm -> camera mm."""
        points = np.asarray(points_world, np.float64)
        flat = points.reshape(-1, 3)
        return world2cam(flat, self.R, self.t).reshape(points.shape)

    def project(self, points_cam: np.ndarray) -> np.ndarray:
        """(..., 3) camera mm -> (..., 3): u, v px and Z mm."""
        points = np.asarray(points_cam, np.float64)
        return cam2pixel(points.reshape(-1, 3), self.f, self.c).reshape(points.shape)

    def world_to_image(self, points_world: np.ndarray) -> np.ndarray:
        """(..., 3) world mm -> (..., 3): u, v px and camera Z mm."""
        return self.project(self.to_cam(points_world))

    def crop(self, box: tuple[int, int, int, int], out_size: tuple[int, int] | None = None) -> Camera:
        """The camera that renders only ``box`` = (x0, y0, w, h) px of this image, optionally resampled to
        ``out_size`` = (width, height); a pixel (u, v) of the crop is ``(x0 + u * w / W_out, y0 + v * h / H_out)``
        up to the half-pixel offset of resampling (pixel centres are kept aligned)."""
        x0, y0, w, h = (int(v) for v in box)
        if w <= 0 or h <= 0:
            raise ValueError(f"crop box must have positive size, got {box}")
        out_w, out_h = (w, h) if out_size is None else (int(out_size[0]), int(out_size[1]))
        scale = np.array([out_w / w, out_h / h])
        c = (self.c - [x0, y0] + 0.5) * scale - 0.5
        return replace(self, f=self.f * scale, c=c, width=out_w, height=out_h)

    def pixel_rays(self, xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
        """(K, 3) camera-frame ray directions with z = 1 through pixel centres (xs, ys)."""
        x = (np.asarray(xs, np.float64) - self.c[0]) / self.f[0]
        y = (np.asarray(ys, np.float64) - self.c[1]) / self.f[1]
        return np.stack([x, y, np.ones_like(x)], axis=-1)

    def rays(self, box: tuple[int, int, int, int] | None = None) -> np.ndarray:
        """(h, w, 3) unit ray directions through the pixel centres of ``box`` = (x0, y0, x1, y1) (end exclusive;
        the whole image by default), camera frame."""
        x0, y0, x1, y1 = box if box is not None else (0, 0, self.width, self.height)
        x = (np.arange(x0, x1) - self.c[0]) / self.f[0]
        y = (np.arange(y0, y1) - self.c[1]) / self.f[1]
        inv_norm = 1.0 / np.sqrt(x[None, :] ** 2 + (y[:, None] ** 2 + 1.0))  # of (x, y, 1), separable
        d = np.empty((y1 - y0, x1 - x0, 3))
        np.multiply(x[None, :], inv_norm, out=d[..., 0])
        np.multiply(y[:, None], inv_norm, out=d[..., 1])
        d[..., 2] = inv_norm
        return d

    def to_dict(self) -> dict:
        """The release's camera record (R, t mm, f, c) plus the image size."""
        return {
            "R": self.R.tolist(),
            "t": self.t.tolist(),
            "f": self.f.tolist(),
            "c": self.c.tolist(),
            "width": self.width,
            "height": self.height,
        }


#: Camera presets: image size (w, h), focal range (px, or horizontal FOV in degrees when ``fov`` is set), distance to
#: the people (mm), camera height (mm), and how far the look-at target is from the people's centre (mm).
CAMERA_PRESETS: dict[str, dict] = {
    # Human3.6M: 1000x1000 (some views 1000x1002), fx ~ 1145, 4 cameras at ~1.5-1.8 m, 4.5-6.5 m from the subject.
    "h36m": {"size": (1000, 1000), "focal": (1120, 1170), "distance": (4500, 6500), "height": (1300, 1800),
             "jitter": 450, "princpt_jitter": 5},
    # MuPoTS-3D / MuCo-3DHP style: 2048x2048, fx ~ 1500, group of people 3-8 m away.
    "mupots": {"size": (2048, 2048), "focal": (1400, 1600), "distance": (3000, 8000), "height": (900, 1800),
               "jitter": 300, "princpt_jitter": 20},
    # Phone on the floor leaning on something, portrait, main camera (~26 mm equivalent, 60-75 deg horizontal FOV).
    "phone_floor": {"size": (720, 1280), "fov": (60, 75), "distance": (1800, 4000), "height": (40, 300),
                    "jitter": 150, "princpt_jitter": 8},
    # Phone on a tripod or a shelf.
    "phone_tripod": {"size": (720, 1280), "fov": (60, 75), "distance": (2000, 4500), "height": (800, 1600),
                     "jitter": 200, "princpt_jitter": 8},
    # A photo taken by hand (MPII, COCO): landscape, focal 0.7-1.6 x the image width, 2.5-7 m away, 1-2 m high.
    "photo": {"size": (640, 480), "fov": (34.7, 71.1), "distance": (2500, 7000), "height": (1000, 2000),
              "jitter": 300, "princpt_jitter": 6},
}  # fmt: skip


def check_preset(preset: str) -> None:
    """ValueError naming the presets when ``preset`` is not one."""
    if preset not in CAMERA_PRESETS:
        raise ValueError(f"unknown camera preset {preset!r}; presets: {sorted(CAMERA_PRESETS)}")


def sample_camera(
    preset: str,
    rng: np.random.Generator,
    target: np.ndarray,
    image_size: tuple[int, int] | None = None,
    azimuth_deg: float | None = None,
    distance: float | None = None,
) -> Camera:
    """Random camera of a preset looking at ``target`` (mm, world; e.g. the people's mid-height centre).

    Args:
        image_size: overrides the preset's (width, height); the focal length scales with the width.
        azimuth_deg: direction from the target to the camera around the vertical axis (random if None).
        distance: horizontal distance to the target in mm (random in the preset's range if None).
    """
    check_preset(preset)
    cfg = CAMERA_PRESETS[preset]
    width, height = cfg["size"]
    if "fov" in cfg:
        fov = np.deg2rad(rng.uniform(*cfg["fov"]))
        focal = (width / 2) / np.tan(fov / 2)
    else:
        focal = rng.uniform(*cfg["focal"])
    if image_size is not None:
        focal *= image_size[0] / width
        width, height = int(image_size[0]), int(image_size[1])
    azimuth = np.deg2rad(rng.uniform(0, 360) if azimuth_deg is None else azimuth_deg)
    dist = rng.uniform(*cfg["distance"]) if distance is None else float(distance)
    cam_height = rng.uniform(*cfg["height"])
    target = np.asarray(target, np.float64)
    position = target + np.array([np.cos(azimuth) * dist, np.sin(azimuth) * dist, 0.0])
    position[2] = cam_height
    look = target + np.append(rng.uniform(-1, 1, 2) * cfg["jitter"], rng.uniform(-0.5, 0.5) * cfg["jitter"])
    jitter = cfg["princpt_jitter"] * width / cfg["size"][0]
    c = ((width - 1) / 2 + rng.uniform(-jitter, jitter), (height - 1) / 2 + rng.uniform(-jitter, jitter))
    roll = rng.normal(0, 1.0 if preset.startswith("phone") else 0.3)
    return Camera.look_at(position, look, focal, (width, height), c=c, roll_deg=roll)


def zoomed_camera(camera: Camera, radius_mm: float, height_mm: float, image_size: int) -> Camera:
    """``camera`` cropped to the square around an upright cylinder (``radius_mm``, ``height_mm``) standing on the
    world origin and resampled to ``image_size`` px: the camera of that crop (same pose, larger focal, shifted
    principal point), so a small image keeps most of its pixels on a person standing there."""
    angles = np.linspace(0, 2 * np.pi, 16, endpoint=False)
    ring = np.stack([np.cos(angles), np.sin(angles)], 1) * radius_mm
    points = np.concatenate([np.column_stack([ring, np.full(16, z)]) for z in (0.0, 0.5 * height_mm, height_mm)])
    uv = camera.world_to_image(points)[:, :2]
    (x0, y0), (x1, y1) = uv.min(0), uv.max(0)
    side = max(x1 - x0, y1 - y0)
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    box = (int(np.floor(cx - side / 2)), int(np.floor(cy - side / 2)), int(np.ceil(side)), int(np.ceil(side)))
    return camera.crop(box, (image_size, image_size))
