"""Body back-ends: where the synthetic people's bodies come from, behind one interface.

- ``capsule``: built-in articulated bodies of shaded capsules and ellipsoids (no extra dependencies; fast).
- ``anny``: realistic adults from the Anny parametric body (NAVER Labs; the optional extra
  ``pip install convnextpose[anny]``), posed by linear blend skinning.

Both are posed by the same anatomical pose parameters (:mod:`~convnextpose.synth.people.limits`), draw the same
library poses with the same collision rejection, wear the same outfits and give joints for every joint set of
:mod:`convnextpose.joints` defined the same way, so the cheap back-end draws the same distribution of people.
"""

from __future__ import annotations

import importlib.util
from typing import Protocol

import numpy as np

from .anny import INSTALL_HINT

BODIES = ("capsule", "anny")


class BodyBackend(Protocol):
    """What :mod:`convnextpose.synth.people` asks of a body back-end (all lengths mm, body frame: X the person's
    left, Y backwards, Z up).

    Attributes:
        name: ``"capsule"`` or ``"anny"``.
        default_recording: the Human3.6M recording its datasets use unless told (``studio`` or ``snapshots``).
        groups: body part (``feet``, ``hands``, ``knees``, ``elbows``, ``seat``) -> mask of its surface points.
        hips: indices of the two hip joints among the skeleton points.
    """

    name: str
    default_recording: str
    groups: dict[str, np.ndarray]
    hips: tuple[int, int]

    def sample_shapes(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """(n, S) random adult body shapes."""

    def gender(self, shape: np.ndarray) -> float:
        """0 male .. 1 female, of one shape."""

    def rest(self, shapes: np.ndarray):
        """The rest state of a batch of bodies: ``shapes``, capsule proxy ``radii`` (B, C) and ``take(index)``."""

    def pose(self, rest, params: np.ndarray):
        """A batch posed by (B, P) pose parameters."""

    def merge(self, batch, update, index: np.ndarray):
        """``batch`` with rows ``index`` replaced by ``update``."""

    def proxy_segments(self, posed) -> np.ndarray:
        """(B, C, 2, 3) capsule proxies of a posed batch."""

    def segments(self, skeleton: np.ndarray, surface: np.ndarray) -> np.ndarray:
        """(..., C, 2, 3) capsule proxies from skeleton and surface points."""

    def posed_points(self, posed, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Body ``k``'s surface points (V, 3) and skeleton points (J, 3)."""

    def joints(self, skeleton: np.ndarray, surface: np.ndarray) -> dict[str, np.ndarray]:
        """Joint set name -> (J, 3) float32 joints."""

    def surface(self, posed, k: int, rest, points: np.ndarray, skeleton: np.ndarray, tilt: float, outfit):
        """What the renderer draws for body ``k``, from its levelled points (``tilt`` radians about X)."""


def require_anny() -> None:
    """ImportError with the install hint when the optional ``anny`` package is missing."""
    if importlib.util.find_spec("anny") is None:
        raise ImportError(f"bodies='anny': {INSTALL_HINT}")


def check_bodies(bodies: str) -> None:
    """ValueError for an unknown back-end name; ImportError when Anny is asked for but not installed."""
    if bodies not in BODIES:
        raise ValueError(f"unknown bodies {bodies!r}; choose one of {BODIES}")
    if bodies == "anny":
        require_anny()


def _backend_class(bodies: str) -> type:
    if bodies == "anny":
        from .anny.backend import AnnyBackend

        return AnnyBackend
    from .capsule import CapsuleBackend

    return CapsuleBackend


def default_recording(bodies: str) -> str:
    """The Human3.6M recording a back-end's datasets use unless told (without loading the back-end)."""
    check_bodies(bodies)
    return _backend_class(bodies).default_recording


_BACKENDS: dict[str, BodyBackend] = {}


def get_backend(bodies: str | BodyBackend) -> BodyBackend:
    """A process-wide back-end by name (``capsule`` or ``anny``; Anny loads once), or ``bodies`` itself."""
    if not isinstance(bodies, str):
        return bodies
    check_bodies(bodies)
    if bodies not in _BACKENDS:
        _BACKENDS[bodies] = _backend_class(bodies)()
    return _BACKENDS[bodies]
