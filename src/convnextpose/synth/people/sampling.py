"""Drawing people with any body back-end: shapes, library poses with random variations, collision rejection, floor
contact, clothes.

A varied pose whose capsule proxies intersect (:mod:`.collision`) is redrawn, up to four times, then replaced by the
exact library pose. Poses name the body parts that rest on the floor (feet, hands, knees, elbows, seat): the body is
tilted about its left-right axis so two contact groups touch the floor together (planks, push-ups, downward dog),
then dropped onto the floor with the pelvis over the origin.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from .collision import CAPSULES, has_self_intersection
from .kinematics import tilt_matrix
from .library import POSE_LIBRARY, pose_params
from .limits import clamp_to_limits, vary_pose
from .outfit import Outfit, sample_outfit
from .person import Capsule, Person


def level_and_ground(
    surface: np.ndarray,
    skeleton: np.ndarray,
    groups: Mapping[str, np.ndarray],
    contacts: Sequence[str],
    hips: tuple[int, int],
) -> tuple[np.ndarray, np.ndarray, float]:
    """Tilt a body about its left-right axis so two contact groups touch the floor together, drop it onto the floor
    (lowest surface point at Z = 0) and centre the pelvis over the origin.

    Args:
        surface: (V, 3) surface points; skeleton: (J, 3) skeleton points; both body frame, mm.
        groups: body part name -> (V,) bool mask of its surface points.
        contacts: the parts on the floor (two of them are levelled).
        hips: skeleton indices of the two hip joints (the pelvis is their midpoint).

    Returns:
        float64 surface and skeleton points, and the tilt (radians).
    """
    verts, heads = surface.astype(np.float64), skeleton.astype(np.float64)
    total = 0.0
    if len(contacts) == 2:
        for _ in range(3):
            lows = []
            for group in contacts:
                sel = verts[groups[group]]
                lows.append(sel[np.argmin(sel[:, 2])])
            (ya, za), (yb, zb) = lows[0][1:], lows[1][1:]
            theta = np.arctan2(-(zb - za), yb - ya)
            theta = (theta + np.pi / 2) % np.pi - np.pi / 2
            rot = tilt_matrix(theta)
            verts, heads = verts @ rot.T, heads @ rot.T
            total += theta
    return (*ground(verts, heads, hips), total)


def ground(surface: np.ndarray, skeleton: np.ndarray, hips: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """Shift a body so its lowest surface point is at Z = 0 and its pelvis over the origin."""
    pelvis = 0.5 * (skeleton[hips[0]] + skeleton[hips[1]])
    shift = np.array([-pelvis[0], -pelvis[1], -surface[:, 2].min()])
    return surface + shift, skeleton + shift


def sample_people(
    backend, rng: np.random.Generator, names: Sequence[str], variation: float = 1.0, shapes: np.ndarray | None = None
) -> list[Person]:
    """New random people in library poses, centred at the origin, facing -Y, on the floor.

    Args:
        backend: a body back-end (:class:`~convnextpose.synth.backends.BodyBackend`).
        names: a library pose name per person.
        variation: scale of the random variations around the library poses (0 = exact library poses).
        shapes: the back-end's body shapes, one per person (random by default).
    """
    n = len(names)
    shapes = backend.sample_shapes(rng, n) if shapes is None else np.asarray(shapes)
    base = np.stack([pose_params(nm) for nm in names])
    params = vary_pose(base, rng, variation) if variation > 0 else clamp_to_limits(base)
    rest = backend.rest(shapes)
    posed = pose_without_intersections(backend, rng, rest, base, params, variation)
    return [dress(backend, rng, posed, k, rest, names[k], params[k]) for k in range(n)]


def pose_without_intersections(backend, rng, rest, base: np.ndarray, params: np.ndarray, variation: float):
    """Pose the bodies by ``params`` (modified in place), redrawing the variations of those whose capsule proxies
    intersect, up to four times, then falling back to the exact library pose ``base``."""
    todo = np.arange(len(params))
    batch = None
    for attempt in range(6):
        out = backend.pose(rest.take(todo), params[todo])
        bad = has_self_intersection(backend.proxy_segments(out), rest.radii[todo])
        batch = out if batch is None else backend.merge(batch, out, todo)
        if not bad.any():
            break
        todo = todo[bad]
        # Retry with fresh variations; the last attempt falls back to the exact library pose.
        params[todo] = vary_pose(base[todo], rng, variation) if attempt < 4 else clamp_to_limits(base[todo])
    return batch


def dress(backend, rng: np.random.Generator, posed, k: int, rest, name: str, params: np.ndarray) -> Person:
    """Person ``k`` of a posed batch in a library pose: on the floor, with joints, shadow capsules and a new outfit."""
    pose = POSE_LIBRARY[name]
    surface, skeleton = backend.posed_points(posed, k)
    surface, skeleton, tilt = level_and_ground(surface, skeleton, backend.groups, pose.contacts, backend.hips)
    outfit = sample_outfit(rng, gender=backend.gender(rest.shapes[k]))
    return make_person(backend, posed, k, rest, surface, skeleton, tilt, name, params, outfit, pose.seat)


def make_person(
    backend, posed, k: int, rest, surface: np.ndarray, skeleton: np.ndarray, tilt: float, name: str,
    params: np.ndarray, outfit: Outfit, seat: bool = False, body: bool = True,
) -> Person:  # fmt: skip
    """Person ``k`` of a posed batch from its levelled, grounded surface and skeleton points (body frame); without
    ``body`` only its joints (no surface to draw, no shadow casters: for annotations without images)."""
    capsules = []
    if body:
        segs = backend.segments(skeleton[None], surface[None])[0]
        capsules = [Capsule(segs[c].astype(np.float32), float(rest.radii[k, c])) for c in range(len(CAPSULES))]
    return Person(
        surface=backend.surface(posed, k, rest, surface, skeleton, tilt, outfit) if body else None,
        joints=backend.joints(skeleton, surface),
        capsules=capsules,
        shape=rest.shapes[k],
        outfit=outfit,
        pose_name=name,
        pose_params=params,
        footprint=float(np.linalg.norm(surface[:, :2], axis=1).max()),
        seat=seat,
    )
