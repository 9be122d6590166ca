"""The scene's geometry: infinite textured planes (floor, walls, ceiling, backdrop) and textured boxes (furniture)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .textures import Texture


@dataclass
class Plane:
    """An infinite textured plane ``normal . X = offset`` (world mm); ``axes`` (2, 3) span the texture."""

    normal: np.ndarray
    offset: float
    axes: np.ndarray
    texture: Texture
    origin: np.ndarray
    clamp_t: bool = False  # sky backdrops: the texture's second axis does not repeat
    tint: np.ndarray | None = None


@dataclass
class Box:
    """A textured box on the floor: centre (3,) mm, half sizes (3,), yaw about Z (degrees)."""

    center: np.ndarray
    half: np.ndarray
    yaw_deg: float
    texture: Texture
    tint: np.ndarray | None = None

    @property
    def rotation(self) -> np.ndarray:
        """(3, 3) box-to-world rotation."""
        a = np.deg2rad(self.yaw_deg)
        return np.array([[np.cos(a), -np.sin(a), 0], [np.sin(a), np.cos(a), 0], [0, 0, 1.0]])

    def footprint_radius(self) -> float:
        return float(np.hypot(self.half[0], self.half[1]))
