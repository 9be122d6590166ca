"""People moving over time: smooth transitions through library key poses, for any body back-end.

A sequence draws one body and one outfit, varies each key pose (rejecting intersecting variations as
:func:`~.sampling.sample_people` does) and interpolates the pose parameters between keys with smoothstep easing
(the elevation planes along the shorter arc). Each key's floor contacts give its tilt, eased between keys the same
way; every frame is then dropped onto the floor with the pelvis over the origin, so feet can slide during large
transitions (standing to plank). Only the keys are checked for intersections.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .kinematics import tilt_matrix
from .library import POSE_LIBRARY, pose_params
from .limits import PARAM_NAMES, clamp_to_limits, vary_pose
from .outfit import Outfit, sample_outfit
from .person import Person
from .sampling import ground, level_and_ground, make_person, pose_without_intersections

_PLANES = np.array([n.endswith("_plane") for n in PARAM_NAMES])


def smoothstep(t: np.ndarray) -> np.ndarray:
    """Ease-in/ease-out 3t^2 - 2t^3, so transitions between key poses start and stop smoothly."""
    t = np.clip(t, 0.0, 1.0)
    return t * t * (3 - 2 * t)


def ease(
    key_values: np.ndarray, key_times: np.ndarray, times: np.ndarray, wrap: np.ndarray | None = None
) -> np.ndarray:
    """Values (T, ...) at ``times`` moving from key to key with smoothstep easing (held before the first and after
    the last key).

    Args:
        key_values: (K, ...) at increasing ``key_times`` (K,).
        wrap: bool mask over the last axis of angles (degrees) that take the shorter arc between keys.
    """
    key_values = np.asarray(key_values, np.float64)
    key_times = np.asarray(key_times, np.float64)
    times = np.asarray(times, np.float64)
    if len(key_times) == 1:
        return np.repeat(key_values, len(times), axis=0)
    k = np.clip(np.searchsorted(key_times, times, side="right") - 1, 0, len(key_times) - 2)
    u = smoothstep((times - key_times[k]) / (key_times[k + 1] - key_times[k]))
    delta = key_values[k + 1] - key_values[k]
    if wrap is not None:
        delta = np.where(wrap, (delta + 180.0) % 360.0 - 180.0, delta)
    return key_values[k] + u.reshape((-1,) + (1,) * (delta.ndim - 1)) * delta


def moving_person(
    backend,
    rng: np.random.Generator,
    names: Sequence[str],
    key_times: np.ndarray,
    times: np.ndarray,
    variation: float = 0.5,
    rest=None,
    outfit: Outfit | None = None,
    bodies: bool = True,
) -> list[Person]:
    """One person moving through library key poses: a :class:`Person` per time, at the origin, facing -Y.

    Args:
        backend: a body back-end.
        names: key pose names; key_times: (K,) seconds (increasing); times: (T,) seconds of the frames.
        variation: scale of the random variations of the key poses.
        rest: the back-end's rest state of one body (a new random body by default); outfit: what it wears (random
            by default); bodies: False makes people with joints only (for annotations without images).
    """
    if rest is None:
        rest = backend.rest(backend.sample_shapes(rng, 1))
    base = np.stack([pose_params(nm) for nm in names])
    keys = vary_pose(base, rng, variation) if variation > 0 else clamp_to_limits(base)
    one = np.zeros(len(names), np.int64)
    key_rest = rest.take(one)
    posed_keys = pose_without_intersections(backend, rng, key_rest, base, keys, variation)
    tilts = []
    for k, name in enumerate(names):
        surface, skeleton = backend.posed_points(posed_keys, k)
        tilts.append(level_and_ground(surface, skeleton, backend.groups, POSE_LIBRARY[name].contacts, backend.hips)[2])
    params = clamp_to_limits(ease(keys, key_times, times, wrap=_PLANES))
    frame_tilts = ease(np.array(tilts), key_times, times)
    frame_rest = rest.take(np.zeros(len(times), np.int64))
    posed = backend.pose(frame_rest, params)
    outfit = outfit if outfit is not None else sample_outfit(rng, gender=backend.gender(rest.shapes[0]))
    key_index = np.clip(np.searchsorted(key_times, times, side="right") - 1, 0, len(names) - 1)
    people = []
    for f in range(len(times)):
        rot = tilt_matrix(frame_tilts[f])
        surface, skeleton = backend.posed_points(posed, f)
        surface, skeleton = ground(
            surface.astype(np.float64) @ rot.T, skeleton.astype(np.float64) @ rot.T, backend.hips
        )
        name = names[key_index[f]]
        people.append(
            make_person(
                backend, posed, f, frame_rest, surface, skeleton, frame_tilts[f], name, params[f], outfit, body=bodies
            )
        )
    return people
