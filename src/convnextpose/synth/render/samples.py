"""What every body surface shares (:class:`BodyPoints`), and the visible surface of the people in an image as every
people renderer (rasteriser, ray-caster) returns it (:class:`SurfaceSamples`)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


class BodyPoints:
    """World points on a posed body and named groups of them (``feet``, ``hands``, ``knees``, ``elbows``, ``seat``),
    for boxes, footprints and floor contact; a surface sets ``groups`` and ``points``."""

    groups: dict[str, np.ndarray]

    @property
    def points(self) -> np.ndarray:
        """(N, 3) world mm."""
        raise NotImplementedError

    def group_points(self, name: str) -> np.ndarray:
        """(K, 3) world points of a body part."""
        return self.points[self.groups[name]]


@dataclass
class SurfaceSamples:
    """One sample per pixel covered by a person, nearest surface only.

    Attributes:
        pixels: (K,) int64 linear pixel index ``y * width + x``.
        depth: (K,) float32 camera Z, mm.
        owner: (K,) int16 index of the person.
        albedo: (K, 3) float32 linear RGB.
        normals: (K, 3) float32 unit world normals.
        points: (K, 3) world mm of the surface point (for the view direction).
        specular: (K,) float32 highlight scale of the material.
    """

    pixels: np.ndarray
    depth: np.ndarray
    owner: np.ndarray
    albedo: np.ndarray
    normals: np.ndarray
    points: np.ndarray
    specular: np.ndarray

    @classmethod
    def empty(cls) -> SurfaceSamples:
        f32 = np.float32
        return cls(
            np.zeros(0, np.int64), np.zeros(0, f32), np.zeros(0, np.int16), np.zeros((0, 3), f32),
            np.zeros((0, 3), f32), np.zeros((0, 3)), np.zeros(0, f32),
        )  # fmt: skip

    def __len__(self) -> int:
        return len(self.pixels)
