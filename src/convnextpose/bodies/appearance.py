"""Skin, clothing and hair for Anny bodies: per-face materials with procedural patterns.

Anny ships no colour textures, so clothing is painted onto the body: every vertex gets a body region (skin, top,
bottom, shoes, socks, hair, eyes, brows) from its dominant skinning bone and its position along the limb in the rest
pose (sleeve and trouser lengths, necklines, waistbands, hairlines), and every material has two colours and a pattern
(stripes, checks, plaid, heather, denim) evaluated per pixel on rest-pose coordinates, so patterns stay crisp and
follow the body when it moves.
"""

from __future__ import annotations

import colorsys
from dataclasses import dataclass

import numpy as np

SKIN, TOP, BOTTOM, SHOES, SOCKS, HAIR, EYES, BROWS = range(8)
MATERIAL_NAMES = ("skin", "top", "bottom", "shoes", "socks", "hair", "eyes", "brows")
NUM_MATERIALS = len(MATERIAL_NAMES)
SOLID, STRIPES, CHECKS, PLAID, HEATHER, DENIM = range(6)

#: Hand-picked sRGB skin tones from very light to very dark (approximate, not measured reflectances).
SKIN_TONES = np.array(
    [
        (247, 224, 206), (241, 203, 178), (232, 190, 160), (218, 168, 132), (198, 142, 105),
        (172, 118, 84), (142, 94, 64), (113, 72, 49), (88, 56, 40), (66, 44, 33),
    ], np.float32,
) / 255.0  # fmt: skip
HAIR_COLORS = np.array(
    [(22, 18, 16), (45, 32, 24), (80, 56, 36), (125, 90, 55), (190, 155, 100), (130, 58, 30), (150, 148, 142),
     (205, 203, 198)], np.float32,
) / 255.0  # fmt: skip
_HAIR_WEIGHTS = np.array([0.3, 0.25, 0.15, 0.1, 0.08, 0.04, 0.05, 0.03])
_NEUTRALS = np.array(
    [(20, 20, 22), (235, 235, 230), (128, 128, 128), (70, 72, 75), (180, 180, 178), (30, 38, 70), (200, 185, 150),
     (150, 130, 90), (85, 90, 55), (95, 65, 45)], np.float32,
) / 255.0  # fmt: skip


@dataclass
class Appearance:
    """One person's look.

    Attributes:
        vertex_material: (V,) int8 material of each vertex (:data:`MATERIAL_NAMES`); the renderer interpolates the
            materials' indicator functions across faces, so region borders cut through triangles smoothly.
        face_material: (F,) int8 majority material of each face.
        color1, color2: (M, 3) float32 sRGB in [0, 1], the two colours of each material's pattern.
        pattern: (M,) int8 pattern kind (SOLID, STRIPES, CHECKS, PLAID, HEATHER, DENIM).
        period: (M,) float32 pattern period in mm of rest-pose surface.
        duty: (M,) float32 fraction of a period in colour2 (stripes).
        angle: (M,) float32 degrees; stripe direction in the rest pose's X-Z plane (0 = horizontal bands).
        specular: (M,) float32 highlight scale (skin and shiny fabrics > cotton).
        styles: human-readable choices (sleeves, trousers, hair, ...).
    """

    vertex_material: np.ndarray
    face_material: np.ndarray
    color1: np.ndarray
    color2: np.ndarray
    pattern: np.ndarray
    period: np.ndarray
    duty: np.ndarray
    angle: np.ndarray
    specular: np.ndarray
    styles: dict


def _hsv(h: float, s: float, v: float) -> np.ndarray:
    return np.array(colorsys.hsv_to_rgb(h % 1.0, float(np.clip(s, 0, 1)), float(np.clip(v, 0, 1))), np.float32)


def _clothing_color(rng: np.random.Generator) -> np.ndarray:
    if rng.random() < 0.45:
        return np.clip(_NEUTRALS[rng.integers(len(_NEUTRALS))] * rng.uniform(0.85, 1.15), 0, 1)
    return _hsv(rng.random(), rng.uniform(0.2, 0.85), rng.uniform(0.2, 0.95))


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


def sample_appearance(
    rng: np.random.Generator, body, rest_vertices: np.ndarray, rest_bone_heads: np.ndarray, gender: float = 0.5
) -> Appearance:
    """Random skin tone, clothing (top, bottom, shoes, socks), hair and their colours and patterns for one body.

    Args:
        body: the :class:`~convnextpose.bodies.anny_model.AnnyBody` (for skinning bones and keypoints).
        rest_vertices: (V, 3) mm, this person's rest pose; rest_bone_heads: (J, 3) mm.
        gender: Anny's gender phenotype (0 male, 1 female): it only shifts the odds of long hair.
    """
    r = body_regions(body, rest_vertices, rest_bone_heads)
    part, arm, leg, x, y, z = r["part"], r["arm"], r["leg"], r["x"], r["y"], r["z"]
    mat = np.full(len(part), SKIN, np.int8)
    styles: dict[str, str | float] = {}

    # Top: torso above the waistband, sleeves to a random length, a neckline below the clavicles.
    sleeve = rng.choice(["tank", "short", "elbow", "three_quarter", "long"], p=[0.1, 0.4, 0.1, 0.1, 0.3])
    sleeve_end = {"tank": 0.05, "short": rng.uniform(0.3, 0.55), "elbow": rng.uniform(0.85, 1.0),
                  "three_quarter": rng.uniform(1.4, 1.6), "long": rng.uniform(1.9, 2.02)}[sleeve]  # fmt: skip
    waist = r["hip_z"] + rng.uniform(30, 130)
    neck_front = r["clav_z"] + rng.uniform(-90, 10)
    neck_back = r["clav_z"] + rng.uniform(-10, 35)
    front = np.clip((y - r["spine_y"] + 60) / 120, 0, 1)  # 0 behind, 1 in front
    neckline = neck_back + (neck_front - neck_back) * (1 - front)
    top_bottom = waist + (rng.uniform(60, 140) if rng.random() < 0.07 else 0.0)  # crop tops show the midriff
    torso = part == 2
    mat[torso & (z > top_bottom) & (z < neckline)] = TOP
    mat[(part == 3) & (arm < sleeve_end)] = TOP
    if sleeve == "tank":
        mat[(part == 3) & (arm < 0.2)] = SKIN
    # Bottom: trousers, capris, knee-length or shorts.
    length = rng.choice(["long", "capri", "knee", "shorts"], p=[0.55, 0.1, 0.15, 0.2])
    leg_end = {"long": 2.05, "capri": rng.uniform(1.4, 1.65), "knee": rng.uniform(0.95, 1.1),
               "shorts": rng.uniform(0.35, 0.65)}[length]  # fmt: skip
    mat[torso & (z <= waist)] = BOTTOM
    mat[(part == 4) & (leg < leg_end)] = BOTTOM
    # Shoes (and socks above low shoes), sometimes barefoot.
    barefoot = rng.random() < 0.08
    shoe_top = r["ankle_z"] + rng.uniform(-20, 60) if rng.random() < 0.85 else r["ankle_z"] + rng.uniform(100, 220)
    sock_top = shoe_top + (rng.uniform(20, 160) if (length != "long" and rng.random() < 0.6) else 0.0)
    if not barefoot:
        low = (part == 4) | (part == 5)
        mat[low & (z < sock_top) & (mat != BOTTOM)] = SOCKS
        mat[(part == 5) | (low & (z < shoe_top))] = SHOES
    # Hair cap: above a hairline that runs from the forehead down to the nape (longer hair reaches the neck).
    bald = rng.random() < 0.06
    long_hair = rng.random() < (0.1 + 0.55 * gender)
    hairline_front = r["eye_z"] + rng.uniform(35, 60)
    hairline_back = r["ear_z"] - (rng.uniform(40, 120) if long_hair else rng.uniform(-10, 30))
    back = np.clip((y - (r["eye_y"] + 40)) / max(r["ear_y"] + 40 - (r["eye_y"] + 40), 1.0), 0, 1)
    hairline = hairline_front + (hairline_back - hairline_front) * back
    if not bald:
        head_or_neck = (part == 0) | ((part == 1) & long_hair & (y > r["ear_y"]))
        mat[head_or_neck & (z > hairline)] = HAIR
    brows = (part == 0) & (np.abs(x) > 12) & (np.abs(x) < 55) & (y < r["eye_y"] + 8)
    mat[brows & (z > r["eye_z"] + 14) & (z < r["eye_z"] + 24)] = BROWS
    mat[part == 6] = EYES

    faces = body.faces
    m0, m1, m2 = mat[faces[:, 0]], mat[faces[:, 1]], mat[faces[:, 2]]
    face_material = np.where(m1 == m2, m1, m0).astype(np.int8)

    color1 = np.zeros((NUM_MATERIALS, 3), np.float32)
    color2 = np.zeros((NUM_MATERIALS, 3), np.float32)
    pattern = np.zeros(NUM_MATERIALS, np.int8)
    period = np.full(NUM_MATERIALS, 40.0, np.float32)
    duty = np.full(NUM_MATERIALS, 0.5, np.float32)
    angle = np.zeros(NUM_MATERIALS, np.float32)
    specular = np.full(NUM_MATERIALS, 0.3, np.float32)

    tone = rng.uniform(0, len(SKIN_TONES) - 1)
    lo = int(np.floor(tone))
    skin = SKIN_TONES[lo] + (tone - lo) * (SKIN_TONES[min(lo + 1, len(SKIN_TONES) - 1)] - SKIN_TONES[lo])
    skin = np.clip(skin * rng.uniform(0.95, 1.05, 3), 0, 1)
    color1[SKIN], color2[SKIN], pattern[SKIN], period[SKIN], specular[SKIN] = skin, skin * 0.93, HEATHER, 3.0, 1.0
    hair = np.clip(HAIR_COLORS[rng.choice(len(HAIR_COLORS), p=_HAIR_WEIGHTS)] * rng.uniform(0.85, 1.15), 0, 1)
    color1[HAIR], color2[HAIR], pattern[HAIR], period[HAIR], angle[HAIR] = hair, hair * 0.7, STRIPES, 4.0, 90
    specular[HAIR] = 0.8
    color1[BROWS], color2[BROWS], specular[BROWS] = hair * 0.8, hair * 0.8, 0.2
    color1[EYES], color2[EYES], specular[EYES] = (0.12, 0.09, 0.07), (0.12, 0.09, 0.07), 2.0

    for m in (TOP, BOTTOM):
        c1 = _clothing_color(rng)
        c2 = _clothing_color(rng) if rng.random() < 0.7 else np.clip(c1 * rng.uniform(0.4, 0.8), 0, 1)
        kind = rng.choice([SOLID, STRIPES, CHECKS, PLAID, HEATHER], p=[0.5, 0.2, 0.08, 0.07, 0.15])
        if m == BOTTOM:
            kind = rng.choice([SOLID, HEATHER, STRIPES], p=[0.7, 0.25, 0.05])
            if rng.random() < 0.4:
                kind, c1 = DENIM, _hsv(rng.uniform(0.58, 0.63), rng.uniform(0.3, 0.65), rng.uniform(0.2, 0.6))
                c2 = np.clip(c1 * 1.3 + 0.05, 0, 1)
        color1[m], color2[m], pattern[m] = c1, c2, kind
        period[m] = rng.uniform(8, 60) if kind in (STRIPES, CHECKS, PLAID) else 4.0
        duty[m] = rng.uniform(0.2, 0.6)
        angle[m] = rng.choice([0.0, 90.0, 45.0], p=[0.75, 0.2, 0.05])
        specular[m] = rng.uniform(0.05, 0.5)
    shoe = _clothing_color(rng) if rng.random() < 0.5 else _NEUTRALS[rng.choice([0, 1, 2, 9])]
    color1[SHOES], color2[SHOES], specular[SHOES] = shoe, np.clip(shoe * 0.6, 0, 1), rng.uniform(0.2, 1.0)
    sock = _NEUTRALS[rng.choice([0, 1, 2])] if rng.random() < 0.8 else _clothing_color(rng)
    color1[SOCKS], color2[SOCKS], pattern[SOCKS], period[SOCKS] = sock, sock * 0.9, HEATHER, 3.0

    styles.update(
        sleeve=str(sleeve), legs=str(length), barefoot=bool(barefoot), bald=bool(bald), long_hair=bool(long_hair)
    )
    styles["skin_tone"] = float(tone)
    return Appearance(mat, face_material, color1, color2, pattern, period, duty, angle, specular, styles)


def _hash_noise(cells: np.ndarray) -> np.ndarray:
    """Deterministic pseudo-random values in [0, 1) per integer 3D cell (K, 3)."""
    h = np.sin(cells @ np.array([12.9898, 78.233, 37.719])) * 43758.5453
    return h - np.floor(h)


def _smooth_square(u: np.ndarray, duty: np.ndarray, edge: float = 0.06) -> np.ndarray:
    """1 inside the first ``duty`` of each unit period of u, 0 elsewhere, with soft edges."""
    f = u - np.floor(u)
    rise = np.clip(f / edge, 0, 1)
    fall = np.clip((duty - f) / edge, 0, 1)
    return np.minimum(rise, fall)


def material_albedo(
    material: np.ndarray,
    rest_points: np.ndarray,
    color1: np.ndarray,
    color2: np.ndarray,
    pattern: np.ndarray,
    period: np.ndarray,
    duty: np.ndarray,
    angle: np.ndarray,
) -> np.ndarray:
    """sRGB albedo (K, 3) of surface samples.

    Args:
        material: (K,) index into the material tables (already offset per person when several are concatenated).
        rest_points: (K, 3) mm, rest-pose position of each sample (pattern coordinates).
        color1..angle: concatenated material tables (M, ...) of :class:`Appearance`.
    """
    c1, c2 = color1[material], color2[material]
    kind, per, dut = pattern[material], period[material], duty[material]
    a = np.deg2rad(angle[material])
    x, z = rest_points[:, 0], rest_points[:, 2]
    along = (z * np.cos(a) + x * np.sin(a)) / per
    across = (x * np.cos(a) - z * np.sin(a)) / per
    mix = np.zeros(len(material), np.float32)
    stripes = kind == STRIPES
    mix[stripes] = _smooth_square(along[stripes], dut[stripes])
    checks = kind == CHECKS
    mix[checks] = ((np.floor(along[checks]) + np.floor(across[checks])) % 2).astype(np.float32)
    plaid = kind == PLAID
    mix[plaid] = 0.5 * (_smooth_square(along[plaid], dut[plaid]) + _smooth_square(across[plaid], dut[plaid]))
    albedo = c1 * (1 - mix[:, None]) + c2 * mix[:, None]
    grain = _hash_noise(np.floor(rest_points / 2.5))
    heather = (kind == HEATHER) | (kind == DENIM)
    albedo[heather] = c1[heather] + (c2[heather] - c1[heather]) * grain[heather, None] * 0.6
    denim = kind == DENIM
    if denim.any():
        twill = _smooth_square((x[denim] + z[denim]) / 3.0, np.full(denim.sum(), 0.5), edge=0.25)
        albedo[denim] *= (0.88 + 0.18 * twill)[:, None]
    # A faint weave on every fabric keeps large flat areas from looking like plastic.
    albedo *= (0.96 + 0.08 * grain)[:, None]
    return np.clip(albedo, 0, 1)
