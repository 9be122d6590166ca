"""Painting an :class:`~convnextpose.synth.people.outfit.Outfit` onto an Anny body: a material per mesh vertex.

Anny ships no colour textures, so clothing is painted onto the body: every vertex gets a body region (skin, top,
bottom, shoes, socks, hair, eyes, brows) from its dominant skinning bone and its position along the limb in the rest
pose (sleeve and trouser lengths, necklines, waistbands, hairlines). The renderer interpolates the materials'
indicator functions across faces, so region borders cut through triangles smoothly.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ...people.outfit import BOTTOM, BROWS, EYES, HAIR, SHOES, SKIN, SOCKS, TOP, Outfit


@dataclass
class Appearance:
    """One Anny person's look: an outfit and where on the mesh each of its materials is.

    Attributes:
        vertex_material: (V,) int8 material of each vertex (:data:`~.outfit.MATERIAL_NAMES`).
        face_material: (F,) int8 majority material of each face.
        outfit: the colours, patterns and styles.
    """

    vertex_material: np.ndarray
    face_material: np.ndarray
    outfit: Outfit


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


def paint(outfit: Outfit, body, rest_vertices: np.ndarray, rest_bone_heads: np.ndarray) -> Appearance:
    """Where each material of ``outfit`` lies on one Anny body.

    Args:
        body: the :class:`~.model.AnnyBody` (for skinning bones and keypoints).
        rest_vertices: (V, 3) mm, this person's rest pose; rest_bone_heads: (J, 3) mm.
    """
    r = body_regions(body, rest_vertices, rest_bone_heads)
    part, arm, leg, x, y, z = r["part"], r["arm"], r["leg"], r["x"], r["y"], r["z"]
    o = outfit
    mat = np.full(len(part), SKIN, np.int8)
    # Top: torso above the waistband, sleeves to their length, a neckline below the clavicles.
    waist = r["hip_z"] + o.waist
    neck_front = r["clav_z"] + o.neck_front
    neck_back = r["clav_z"] + o.neck_back
    front = np.clip((y - r["spine_y"] + 60) / 120, 0, 1)  # 0 behind, 1 in front
    neckline = neck_back + (neck_front - neck_back) * (1 - front)
    top_bottom = waist + o.crop  # crop tops show the midriff
    torso = part == 2
    mat[torso & (z > top_bottom) & (z < neckline)] = TOP
    mat[(part == 3) & (arm < o.sleeve_end)] = TOP
    if o.sleeve_end < 0.2:  # a tank top: bare shoulders
        mat[(part == 3) & (arm < 0.2)] = SKIN
    # Bottom: trousers, capris, knee-length or shorts.
    mat[torso & (z <= waist)] = BOTTOM
    mat[(part == 4) & (leg < o.leg_end)] = BOTTOM
    # Shoes (and socks above low shoes), sometimes barefoot.
    shoe_top = r["ankle_z"] + o.shoe_top
    sock_top = shoe_top + o.sock_extra
    if not o.barefoot:
        low = (part == 4) | (part == 5)
        mat[low & (z < sock_top) & (mat != BOTTOM)] = SOCKS
        mat[(part == 5) | (low & (z < shoe_top))] = SHOES
    # Hair cap: above a hairline that runs from the forehead down to the nape (longer hair reaches the neck).
    hairline_front = r["eye_z"] + o.hairline_front
    hairline_back = r["ear_z"] - o.hairline_back
    back = np.clip((y - (r["eye_y"] + 40)) / max(r["ear_y"] + 40 - (r["eye_y"] + 40), 1.0), 0, 1)
    hairline = hairline_front + (hairline_back - hairline_front) * back
    if not o.bald:
        head_or_neck = (part == 0) | ((part == 1) & o.long_hair & (y > r["ear_y"]))
        mat[head_or_neck & (z > hairline)] = HAIR
    brows = (part == 0) & (np.abs(x) > 12) & (np.abs(x) < 55) & (y < r["eye_y"] + 8)
    mat[brows & (z > r["eye_z"] + 14) & (z < r["eye_z"] + 24)] = BROWS
    mat[part == 6] = EYES

    faces = body.faces
    m0, m1, m2 = mat[faces[:, 0]], mat[faces[:, 1]], mat[faces[:, 2]]
    face_material = np.where(m1 == m2, m1, m0).astype(np.int8)
    return Appearance(mat, face_material, outfit)
