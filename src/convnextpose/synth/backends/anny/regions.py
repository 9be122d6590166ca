"""Body regions of Anny's mesh vertices (which part, how far along the limb, landmark heights), for painting outfits.

Every vertex gets a body part from its dominant skinning bone and its position along the limb in the rest pose, so
sleeve and trouser lengths, necklines, waistbands and hairlines (:func:`~convnextpose.synth.people.outfit.paint`)
follow each body's own proportions.
"""

from __future__ import annotations

import numpy as np


def _projection(points: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Parameter of each point's projection on segment a-b (0 at a, 1 at b), clipped to [-0.5, 1.5]."""
    d = b - a
    return np.clip(((points - a) @ d) / max(float(d @ d), 1e-9), -0.5, 1.5)


def body_regions(body, rest_vertices: np.ndarray, rest_bone_heads: np.ndarray) -> dict[str, np.ndarray]:
    """Per-vertex geometry for clothing cuts, from one body's rest pose (mm, body frame).

    Returns:
        dict of (V,) arrays: ``part`` (0 head, 1 neck, 2 torso, 3 arm, 4 leg, 5 foot, 6 eye), ``arm`` (0 shoulder,
        1 elbow, 2 wrist, >2 hand), ``leg`` (0 hip, 1 knee, 2 ankle, >2 foot), ``z`` and ``y`` of the vertex, plus
        scalar landmarks ``hip_z``, ``clav_z``, ``eye_z``, ``eye_y``, ``ear_z``, ``ankle_z``.
    """
    v = rest_vertices
    h = {n: rest_bone_heads[body.bone(n)] for n in ("upperleg01.L", "upperleg01.R", "clavicle.L", "clavicle.R",
                                                    "spine02", "foot.L", "foot.R")}  # fmt: skip
    part = np.full(len(v), 2, np.int8)
    mask = body.vertex_mask
    part[mask(("head", "neck03"))] = 0
    part[mask(("neck01", "neck02"))] = 1
    part[mask("eye")] = 6
    arm = np.full(len(v), -1.0, np.float32)
    leg = np.full(len(v), -1.0, np.float32)
    for s in ("L", "R"):
        sh, el, wr = (rest_bone_heads[body.bone(f"{n}.{s}")] for n in ("upperarm01", "lowerarm01", "wrist"))
        hip, kn, an = (rest_bone_heads[body.bone(f"{n}.{s}")] for n in ("upperleg01", "lowerleg01", "foot"))
        upper = mask("upperarm", s)
        lower = mask("lowerarm", s)
        hand = mask(("wrist", "finger", "metacarpal"), s)
        part[upper | lower | hand] = 3
        arm[upper] = _projection(v[upper], sh, el)
        arm[lower] = 1 + _projection(v[lower], el, wr)
        arm[hand] = 2.5
        thigh = mask("upperleg", s)
        shin = mask("lowerleg", s)
        foot = mask(("foot", "toe"), s)
        part[thigh | shin] = 4
        part[foot] = 5
        leg[thigh] = _projection(v[thigh], hip, kn)
        leg[shin] = 1 + _projection(v[shin], kn, an)
        leg[foot] = 2.5
    kp = body.keypoints(v, ("left_eye", "right_eye", "left_ear", "right_ear"))
    eye = 0.5 * (kp[0] + kp[1])
    ear = 0.5 * (kp[2] + kp[3])
    return {
        "part": part,
        "arm": arm,
        "leg": leg,
        "x": v[:, 0],
        "y": v[:, 1],
        "z": v[:, 2],
        "hip_z": float(0.5 * (h["upperleg01.L"][2] + h["upperleg01.R"][2])),
        "clav_z": float(0.5 * (h["clavicle.L"][2] + h["clavicle.R"][2])),
        "spine_y": float(h["spine02"][1]),
        "eye_z": float(eye[2]),
        "eye_y": float(eye[1]),
        "ear_z": float(ear[2]),
        "ear_y": float(ear[1]),
        "ankle_z": float(0.5 * (h["foot.L"][2] + h["foot.R"][2])),
    }
