"""Pinhole cameras for the synthetic scenes and the camera presets (DATA_FORMATS.md section 3 conventions).

World frame: mm, Z up, floor at Z = 0. Camera frame: ``X_cam = R X_world + t`` (t in mm), x right, y down, z forward;
pixels ``u = X/Z fx + cx``, ``v = Y/Z fy + cy`` with pixel centres at integer coordinates.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np


@dataclass(frozen=True)
class Camera:
    """A pinhole camera.

    Attributes:
        rotation: (3, 3) world-to-camera rotation R.
        translation: (3,) mm, t in ``X_cam = R X_world + t``.
        focal: (fx, fy) px.
        princpt: (cx, cy) px.
        width, height: image size in pixels.
    """

    rotation: np.ndarray
    translation: np.ndarray
    focal: tuple[float, float]
    princpt: tuple[float, float]
    width: int
    height: int

    @classmethod
    def look_at(
        cls,
        position: np.ndarray,
        target: np.ndarray,
        focal: float | tuple[float, float],
        image_size: tuple[int, int],
        princpt: tuple[float, float] | None = None,
        roll_deg: float = 0.0,
    ) -> Camera:
        """Camera at ``position`` (mm, world) looking at ``target`` with world Z up, rolled by ``roll_deg``.

        Args:
            image_size: (width, height) px.
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
        f = (float(focal), float(focal)) if np.isscalar(focal) else (float(focal[0]), float(focal[1]))
        c = princpt if princpt is not None else ((width - 1) / 2.0, (height - 1) / 2.0)
        return cls(rotation, -rotation @ position, f, (float(c[0]), float(c[1])), width, height)

    @property
    def position(self) -> np.ndarray:
        """(3,) camera centre in world mm."""
        return -self.rotation.T @ self.translation

    @property
    def size(self) -> tuple[int, int]:
        return self.width, self.height

    def world2cam(self, points_world: np.ndarray) -> np.ndarray:
        """(..., 3) world mm -> camera mm."""
        return np.asarray(points_world, np.float64) @ self.rotation.T + self.translation

    def project(self, points_cam: np.ndarray) -> np.ndarray:
        """(..., 3) camera mm -> (..., 3) u, v px and Z mm."""
        p = np.asarray(points_cam, np.float64)
        z = p[..., 2:3]
        uv = p[..., :2] / np.where(np.abs(z) < 1e-9, 1e-9, z) * np.asarray(self.focal) + np.asarray(self.princpt)
        return np.concatenate([uv, z], axis=-1)

    def crop(self, box: tuple[int, int, int, int], out_size: tuple[int, int] | None = None) -> Camera:
        """The camera that renders only ``box`` = (x0, y0, w, h) px of this image, optionally resampled to
        ``out_size`` = (width, height); a pixel (u, v) of the crop is ``(x0 + u * w / W_out, y0 + v * h / H_out)``
        up to the half-pixel offset of resampling (pixel centres are kept aligned)."""
        x0, y0, w, h = (int(v) for v in box)
        if w <= 0 or h <= 0:
            raise ValueError(f"crop box must have positive size, got {box}")
        out_w, out_h = (w, h) if out_size is None else (int(out_size[0]), int(out_size[1]))
        sx, sy = out_w / w, out_h / h
        cx = (self.princpt[0] - x0 + 0.5) * sx - 0.5
        cy = (self.princpt[1] - y0 + 0.5) * sy - 0.5
        return replace(
            self, focal=(self.focal[0] * sx, self.focal[1] * sy), princpt=(cx, cy), width=out_w, height=out_h
        )

    def pixel_rays(self, xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
        """(K, 3) camera-frame ray directions with z = 1 through pixel centres (xs, ys)."""
        x = (np.asarray(xs, np.float64) - self.princpt[0]) / self.focal[0]
        y = (np.asarray(ys, np.float64) - self.princpt[1]) / self.focal[1]
        return np.stack([x, y, np.ones_like(x)], axis=-1)

    def to_dict(self) -> dict:
        """Human3.6M-style camera record: R, t (mm), f, c, plus the image size."""
        return {
            "R": self.rotation.tolist(),
            "t": self.translation.tolist(),
            "f": list(self.focal),
            "c": list(self.princpt),
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
}  # fmt: skip


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
    if preset not in CAMERA_PRESETS:
        raise ValueError(f"unknown camera preset {preset!r}; presets: {sorted(CAMERA_PRESETS)}")
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
    princpt = ((width - 1) / 2 + rng.uniform(-jitter, jitter), (height - 1) / 2 + rng.uniform(-jitter, jitter))
    roll = rng.normal(0, 1.0 if preset.startswith("phone") else 0.3)
    return Camera.look_at(position, look, focal, (width, height), princpt=princpt, roll_deg=roll)
