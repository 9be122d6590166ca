"""A posed, dressed person of any body back-end, placed in the world (mm, Z up, floor at Z = 0)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from .kinematics import yaw_matrix
from .outfit import Outfit


@dataclass
class Capsule:
    """A segment swept by a sphere: end points (2, 3) world mm and radius (mm). People's soft shadows are cast by
    their collision capsules (:mod:`.collision`)."""

    ends: np.ndarray
    radius: float


@dataclass
class Person:
    """One posed, dressed person placed in the world (mm, Z up, floor at Z = 0).

    Attributes:
        surface: what the renderer draws, in the world: a :class:`~convnextpose.synth.render.raster.MeshSurface`
            (Anny) or a :class:`~convnextpose.synth.render.raycast.CapsuleSurface` (capsule bodies); None for a
            person made for annotations only (no images).
        joints: joint set name (``human36m``, ``muco``, ``mpii``, ``coco``; :mod:`convnextpose.joints` order) ->
            (J, 3) float32 world mm.
        capsules: soft-shadow casters in the world.
        shape: the back-end's body shape parameters; outfit: what the person wears.
        pose_name: library name; pose_params: (P,) degrees.
        footprint: radius (mm) of the body's floor footprint around ``position``; position: (2,) floor x, y mm.
        seat: the pose sits on a seat (the scene puts a box under the person).
    """

    surface: Any
    joints: dict[str, np.ndarray]
    capsules: list[Capsule]
    shape: np.ndarray
    outfit: Outfit
    pose_name: str
    pose_params: np.ndarray
    footprint: float
    position: np.ndarray = field(default_factory=lambda: np.zeros(2))
    seat: bool = False

    @property
    def joints_h36m(self) -> np.ndarray:
        """(18, 3) float32 world mm, Human3.6M order."""
        return self.joints["human36m"]

    @property
    def joints_muco(self) -> np.ndarray:
        """(21, 3) float32 world mm, MuCo-3DHP order."""
        return self.joints["muco"]

    @property
    def points(self) -> np.ndarray:
        """(N, 3) world points of the body's surface (for boxes, heights and footprints)."""
        return self.surface.points

    def transformed(self, yaw_deg: float, position: np.ndarray) -> Person:
        """This person turned by ``yaw_deg`` about the vertical axis and moved to floor position (x, y) mm."""
        rot = yaw_matrix(yaw_deg)
        shift = np.array([position[0], position[1], 0.0], np.float32)

        def move(p: np.ndarray) -> np.ndarray:
            return (p @ rot.T + shift).astype(np.float32)

        ends = move(np.stack([c.ends for c in self.capsules])) if self.capsules else []
        return replace(
            self,
            surface=self.surface.moved(rot, shift) if self.surface is not None else None,
            joints={k: move(v) for k, v in self.joints.items()},
            capsules=[Capsule(e, c.radius) for e, c in zip(ends, self.capsules)],
            position=np.asarray(position[:2], np.float64),
        )
