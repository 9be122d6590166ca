"""What people wear, for every body back-end: skin, clothing and hair, their colours and patterns.

:func:`sample_outfit` draws one person's look as body-independent choices: how far sleeves and trouser legs reach
(as a position along the limb: 0 at the shoulder or hip, 1 at the elbow or knee, 2 at the wrist or ankle), heights
of the waistband, neckline, shoes, socks and hairline relative to body landmarks, and two colours and a pattern
(solid, stripes, checks, plaid, heather, denim) per material. Each back-end paints the same outfit onto its own
surface with :func:`paint`, from each surface point's body region in the rest pose (Anny: per mesh vertex; the capsule
body: per pixel); :func:`material_albedo` evaluates the patterns per pixel on rest-pose coordinates, so they stay
crisp and follow the body when it moves.
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


@dataclass(frozen=True)
class Outfit:
    """One person's look, independent of the body it is painted on. Lengths in mm.

    Attributes:
        sleeve_end: where the top's sleeves end along the arm (0 shoulder, 1 elbow, 2 wrist).
        leg_end: where the trousers end along the leg (0 hip, 1 knee, 2 ankle).
        waist: height of the waistband above the hip joints.
        neck_front, neck_back: height of the neckline relative to the clavicles, at the front and the back.
        crop: how far above the waistband the top ends (0 for most tops).
        barefoot: no shoes or socks.
        shoe_top: height of the shoes' top edge relative to the ankle joints.
        sock_extra: how far socks show above the shoes (0: none).
        bald, long_hair: hair styles.
        hairline_front: height of the hairline above the eyes; hairline_back: below the ears.
        color1, color2: (M, 3) float32 sRGB in [0, 1], the two colours of each material's pattern.
        pattern: (M,) int8 pattern kind (SOLID, STRIPES, CHECKS, PLAID, HEATHER, DENIM).
        period: (M,) float32 pattern period in mm of rest-pose surface.
        duty: (M,) float32 fraction of a period in colour2 (stripes).
        angle: (M,) float32 degrees; stripe direction in the rest pose's X-Z plane (0 = horizontal bands).
        specular: (M,) float32 highlight scale (skin and shiny fabrics > cotton).
        styles: human-readable choices (sleeves, trousers, hair, ...).
    """

    sleeve_end: float
    leg_end: float
    waist: float
    neck_front: float
    neck_back: float
    crop: float
    barefoot: bool
    shoe_top: float
    sock_extra: float
    bald: bool
    long_hair: bool
    hairline_front: float
    hairline_back: float
    color1: np.ndarray
    color2: np.ndarray
    pattern: np.ndarray
    period: np.ndarray
    duty: np.ndarray
    angle: np.ndarray
    specular: np.ndarray
    styles: dict

    def tables(self) -> tuple[np.ndarray, ...]:
        """(color1, color2, pattern, period, duty, angle, specular), the arguments of :func:`material_albedo`
        after the material, then the highlight scale."""
        return self.color1, self.color2, self.pattern, self.period, self.duty, self.angle, self.specular


def _hsv(h: float, s: float, v: float) -> np.ndarray:
    return np.array(colorsys.hsv_to_rgb(h % 1.0, float(np.clip(s, 0, 1)), float(np.clip(v, 0, 1))), np.float32)


def _clothing_color(rng: np.random.Generator) -> np.ndarray:
    if rng.random() < 0.45:
        return np.clip(_NEUTRALS[rng.integers(len(_NEUTRALS))] * rng.uniform(0.85, 1.15), 0, 1)
    return _hsv(rng.random(), rng.uniform(0.2, 0.85), rng.uniform(0.2, 0.95))


def sample_outfit(rng: np.random.Generator, gender: float = 0.5) -> Outfit:
    """Random skin tone, clothing (top, bottom, shoes, socks), hair and their colours and patterns.

    Args:
        gender: 0 male, 1 female (blends in between): it only shifts the odds of long hair.
    """
    # Top: sleeves to a random length, a waistband, a neckline below the clavicles, occasionally a crop top.
    sleeve = rng.choice(["tank", "short", "elbow", "three_quarter", "long"], p=[0.1, 0.4, 0.1, 0.1, 0.3])
    sleeve_end = {"tank": 0.05, "short": rng.uniform(0.3, 0.55), "elbow": rng.uniform(0.85, 1.0),
                  "three_quarter": rng.uniform(1.4, 1.6), "long": rng.uniform(1.9, 2.02)}[sleeve]  # fmt: skip
    waist = rng.uniform(30, 130)
    neck_front = rng.uniform(-90, 10)
    neck_back = rng.uniform(-10, 35)
    crop = rng.uniform(60, 140) if rng.random() < 0.07 else 0.0
    # Bottom: trousers, capris, knee-length or shorts.
    length = rng.choice(["long", "capri", "knee", "shorts"], p=[0.55, 0.1, 0.15, 0.2])
    leg_end = {"long": 2.05, "capri": rng.uniform(1.4, 1.65), "knee": rng.uniform(0.95, 1.1),
               "shorts": rng.uniform(0.35, 0.65)}[length]  # fmt: skip
    # Shoes (and socks above low shoes), sometimes barefoot.
    barefoot = rng.random() < 0.08
    shoe_top = rng.uniform(-20, 60) if rng.random() < 0.85 else rng.uniform(100, 220)
    sock_extra = rng.uniform(20, 160) if (length != "long" and rng.random() < 0.6) else 0.0
    # Hair: a cap above a hairline from the forehead down to the nape (longer hair reaches the neck).
    bald = rng.random() < 0.06
    long_hair = rng.random() < (0.1 + 0.55 * gender)
    hairline_front = rng.uniform(35, 60)
    hairline_back = rng.uniform(40, 120) if long_hair else rng.uniform(-10, 30)

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

    styles = {"sleeve": str(sleeve), "legs": str(length), "barefoot": bool(barefoot), "bald": bool(bald),
              "long_hair": bool(long_hair), "skin_tone": float(tone)}  # fmt: skip
    return Outfit(
        float(sleeve_end), float(leg_end), float(waist), float(neck_front), float(neck_back), float(crop),
        bool(barefoot), float(shoe_top), float(sock_extra), bool(bald), bool(long_hair), float(hairline_front),
        float(hairline_back), color1, color2, pattern, period, duty, angle, specular, styles,
    )  # fmt: skip


def paint(outfit: Outfit, r: dict) -> np.ndarray:
    """The material of each surface point of a body in ``outfit``.

    Args:
        r: the points' body regions, from the body's rest pose (mm, body frame): (N,) arrays ``part`` (0 head,
            1 neck, 2 torso, 3 arm, 4 leg, 5 foot, 6 eye), ``arm`` (0 shoulder, 1 elbow, 2 wrist, >2 hand), ``leg``
            (0 hip, 1 knee, 2 ankle, >2 foot), ``x``, ``y``, ``z``; and the scalar heights and depths ``hip_z``,
            ``clav_z`` (clavicles), ``spine_y`` (mid spine), ``eye_z``, ``eye_y``, ``ear_z``, ``ear_y``, ``ankle_z``.

    Returns:
        (N,) int8 :data:`MATERIAL_NAMES` index.
    """
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
    return mat


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
        color1..angle: concatenated material tables (M, ...) of :class:`Outfit`.
    """
    c1, c2 = np.take(color1, material, axis=0), np.take(color2, material, axis=0)
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
