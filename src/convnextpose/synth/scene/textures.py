"""Procedural, seamless textures for floors, walls, outdoor backdrops and furniture (no downloads).

Each generator returns a :class:`Texture`: a periodic tile in linear RGB and its size in the world. Noise is value
noise upsampled from a periodic random grid, so every tile wraps without seams.
"""

from __future__ import annotations

import colorsys
from dataclasses import dataclass

import cv2
import numpy as np

from .lighting import srgb_to_linear


@dataclass
class Texture:
    """A periodic texture tile (linear RGB float32) with a cached mip pyramid, ``size_mm`` wide in the world."""

    image: np.ndarray
    size_mm: float
    _levels: list[np.ndarray] | None = None

    def levels(self) -> list[np.ndarray]:
        if self._levels is None:
            levels = [self.image]
            while min(levels[-1].shape[:2]) > 8 and len(levels) < 7:
                levels.append(cv2.resize(levels[-1], None, fx=0.5, fy=0.5, interpolation=cv2.INTER_AREA))
            self._levels = levels
        return self._levels

    def sample(self, s_mm: np.ndarray, t_mm: np.ndarray, footprint_mm: np.ndarray, clamp_t: bool = False) -> np.ndarray:
        """Bilinear lookup at world coordinates (mm along the tile's two axes) with a mip level per sample chosen
        from ``footprint_mm`` (the size of one pixel on the surface), so distant floors do not shimmer.

        Returns (K, 3) linear RGB.
        """
        levels = self.levels()
        size = self.image.shape[0]
        texel_mm = self.size_mm / size
        level = np.clip(np.log2(np.maximum(footprint_mm / texel_mm, 1.0)), 0, len(levels) - 1).astype(np.int64)
        out = np.empty((len(s_mm), 3), np.float32)
        for lv in np.flatnonzero(np.bincount(level, minlength=len(levels))):
            sel = np.flatnonzero(level == lv)
            img = levels[lv]
            h, w = img.shape[:2]
            mx = (s_mm[sel] / self.size_mm * w - 0.5).astype(np.float32)
            my = (t_mm[sel] / self.size_mm * h - 0.5).astype(np.float32)
            if clamp_t:
                my = np.clip(my, 0, h - 1)
            out[sel] = _remap_flat(img, mx, my)
        return out


def _remap_flat(image: np.ndarray, mx: np.ndarray, my: np.ndarray, cols: int = 4096) -> np.ndarray:
    """Bilinear, wrapping lookup of (K,) float32 coordinates; maps are folded into rows because OpenCV limits an
    image side to 32767 pixels."""
    k = len(mx)
    rows = -(-k // cols)
    pad = rows * cols - k
    mx2 = np.pad(mx, (0, pad)).reshape(rows, cols)
    my2 = np.pad(my, (0, pad)).reshape(rows, cols)
    got = cv2.remap(image, mx2, my2, cv2.INTER_LINEAR, borderMode=cv2.BORDER_WRAP)
    return got.reshape(rows * cols, -1)[:k]


def periodic_noise(rng: np.random.Generator, size: int, cells: tuple[int, int] | int) -> np.ndarray:
    """(size, size) float32 smooth noise in [0, 1] that tiles seamlessly; ``cells`` = (rows, cols) of the grid."""
    cy, cx = (cells, cells) if np.isscalar(cells) else cells
    grid = rng.random((cy, cx)).astype(np.float32)
    pad = 2
    big = np.pad(grid, pad, mode="wrap")
    sy, sx = size / cy, size / cx
    up = cv2.resize(big, (round((cx + 2 * pad) * sx), round((cy + 2 * pad) * sy)), interpolation=cv2.INTER_CUBIC)
    oy, ox = round(pad * sy), round(pad * sx)
    return np.clip(up[oy : oy + size, ox : ox + size], 0, 1)


def fbm(
    rng: np.random.Generator, size: int, base_cells: int = 4, octaves: int = 5, persistence: float = 0.5
) -> np.ndarray:
    """(size, size) fractal noise in about [0, 1]: octaves of :func:`periodic_noise` at doubling frequencies."""
    total, amp, norm = np.zeros((size, size), np.float32), 1.0, 0.0
    cells = base_cells
    for _ in range(octaves):
        if cells > size:
            break
        total += amp * periodic_noise(rng, size, cells)
        norm += amp
        amp *= persistence
        cells *= 2
    return total / norm


def _hsv(h: float, s: float, v: float) -> np.ndarray:
    return np.array(colorsys.hsv_to_rgb(h % 1.0, np.clip(s, 0, 1), np.clip(v, 0, 1)), np.float32)


def _finish(srgb: np.ndarray, size_mm: float) -> Texture:
    return Texture(srgb_to_linear(np.clip(srgb, 0, 1)), float(size_mm))


def _jitter(rng: np.random.Generator, color: np.ndarray, amount: float) -> np.ndarray:
    return np.clip(color * (1 + rng.normal(0, amount, 3)), 0, 1)


# -- floors ----------------------------------------------------------------------------------------------------------
def wood_planks(rng: np.random.Generator, size: int = 512) -> Texture:
    n = int(rng.choice([4, 6, 8]))
    base = _hsv(rng.uniform(0.05, 0.11), rng.uniform(0.35, 0.7), rng.uniform(0.3, 0.85))
    img = np.zeros((size, size, 3), np.float32)
    grain = periodic_noise(rng, size, (64, 4)) * 0.6 + periodic_noise(rng, size, (256, 8)) * 0.4
    rows = np.arange(size) * n // size
    for r in range(n):
        color = _jitter(rng, base, 0.12)
        img[rows == r] = color
        seam = int(rng.integers(size))
        img[rows == r, seam : seam + 2] *= 0.55
    img *= (0.75 + 0.45 * grain)[..., None]
    img[(np.arange(size) % (size // n)) < 2] *= 0.5
    return _finish(img, rng.uniform(700, 1300) * n / 6)


def floor_tiles(rng: np.random.Generator, size: int = 512) -> Texture:
    n = int(rng.choice([2, 4, 8]))
    base = _hsv(rng.uniform(0, 1), rng.uniform(0, 0.25), rng.uniform(0.45, 0.95))
    grout = base * rng.uniform(0.5, 0.9)
    cell = size // n
    img = np.zeros((size, size, 3), np.float32)
    for i in range(n):
        for j in range(n):
            img[i * cell : (i + 1) * cell, j * cell : (j + 1) * cell] = _jitter(rng, base, 0.04)
    veins = np.abs(np.sin(12 * fbm(rng, size, 4, 5) + rng.uniform(0, 6)))
    img *= (0.85 + 0.15 * veins**0.3 + 0.06 * (fbm(rng, size, 16, 3) - 0.5))[..., None]
    lines = (np.arange(size) % cell) < max(2, size // 200)
    img[lines] = grout
    img[:, lines] = grout
    return _finish(img, n * rng.uniform(300, 600))


def carpet(rng: np.random.Generator, size: int = 256) -> Texture:
    base = _hsv(rng.uniform(0, 1), rng.uniform(0.1, 0.6), rng.uniform(0.2, 0.75))
    fine = periodic_noise(rng, size, size // 2)
    coarse = fbm(rng, size, 4, 4)
    img = base[None, None] * (0.7 + 0.35 * fine + 0.25 * (coarse - 0.5))[..., None]
    return _finish(img, rng.uniform(400, 900))


def concrete(rng: np.random.Generator, size: int = 512) -> Texture:
    v = rng.uniform(0.35, 0.7)
    base = _hsv(rng.uniform(0.05, 0.15), rng.uniform(0.0, 0.12), v)
    n = fbm(rng, size, 4, 6, 0.55)
    speck = (rng.random((size, size)) < 0.01) * rng.uniform(-0.25, 0.15)
    img = base[None, None] * (0.75 + 0.5 * (n - 0.5) + speck)[..., None]
    return _finish(img, rng.uniform(1500, 3000))


def grass(rng: np.random.Generator, size: int = 512) -> Texture:
    base = _hsv(rng.uniform(0.18, 0.3), rng.uniform(0.4, 0.75), rng.uniform(0.25, 0.55))
    blades = periodic_noise(rng, size, (size // 2, size // 8))
    patches = fbm(rng, size, 4, 4)
    dry = _hsv(rng.uniform(0.1, 0.15), 0.45, 0.6)
    mix = np.clip((patches - 0.55) * 3, 0, 1)[..., None] * rng.uniform(0, 0.8)
    img = (base * (1 - mix) + dry * mix) * (0.6 + 0.7 * blades)[..., None]
    return _finish(img, rng.uniform(800, 1600))


def asphalt(rng: np.random.Generator, size: int = 512) -> Texture:
    v = rng.uniform(0.2, 0.45)
    grain = periodic_noise(rng, size, size // 2)
    stain = fbm(rng, size, 4, 5)
    img = np.full((size, size, 3), v, np.float32) * (0.7 + 0.45 * grain + 0.3 * (stain - 0.5))[..., None]
    return _finish(img, rng.uniform(800, 1500))


def pavers(rng: np.random.Generator, size: int = 512) -> Texture:
    tex = floor_tiles(rng, size)
    img = tex.image * (0.8 + 0.4 * fbm(rng, size, 8, 4))[..., None]
    return Texture(img.astype(np.float32), tex.size_mm * 0.6)


# -- walls -----------------------------------------------------------------------------------------------------------
def painted_wall(rng: np.random.Generator, size: int = 512) -> Texture:
    base = _hsv(rng.uniform(0, 1), rng.uniform(0.0, 0.35), rng.uniform(0.55, 0.95))
    img = base[None, None] * (0.93 + 0.1 * fbm(rng, size, 4, 5) + 0.02 * rng.random((size, size)))[..., None]
    img = np.repeat(img, 1, axis=0)
    # A skirting board along the floor: the tile's first rows (the texture's t axis is the height above the floor).
    board = int(size * rng.uniform(0.02, 0.035))
    img[:board] = _jitter(rng, _hsv(rng.uniform(0, 1), rng.uniform(0, 0.2), rng.uniform(0.2, 0.95)), 0.05)
    return _finish(img, 4000.0)


def brick_wall(rng: np.random.Generator, size: int = 512) -> Texture:
    rows, cols = 16, 4
    base = _hsv(rng.uniform(0.0, 0.07), rng.uniform(0.35, 0.7), rng.uniform(0.3, 0.7))
    mortar = _hsv(0.1, 0.1, rng.uniform(0.5, 0.8))
    img = np.zeros((size, size, 3), np.float32)
    rh, cw = size // rows, size // cols
    for r in range(rows):
        shift = (cw // 2) * (r % 2)
        for c in range(cols + 1):
            x0 = c * cw - shift
            color = _jitter(rng, base, 0.1)
            img[r * rh : (r + 1) * rh, max(x0, 0) : max(min(x0 + cw, size), 0)] = color
            img[r * rh : (r + 1) * rh, max(x0, 0) : max(x0 + 3, 0)] = mortar
        img[r * rh : r * rh + 3] = mortar
    img *= (0.85 + 0.3 * fbm(rng, size, 16, 3) - 0.15)[..., None]
    return _finish(img, rng.uniform(1000, 1400))


def wallpaper(rng: np.random.Generator, size: int = 512) -> Texture:
    a = _hsv(rng.uniform(0, 1), rng.uniform(0.05, 0.4), rng.uniform(0.6, 0.95))
    b = _jitter(rng, a, 0.15) * rng.uniform(0.75, 0.95)
    n = int(rng.choice([8, 16, 32]))
    x = np.arange(size) * n / size
    if rng.random() < 0.5:
        stripes = (np.sin(2 * np.pi * x) > rng.uniform(-0.5, 0.5)).astype(np.float32)[None, :, None]
        img = a * stripes + b * (1 - stripes)
    else:
        yy, xx = np.mgrid[0:size, 0:size] * n / size
        dots = ((np.sin(2 * np.pi * xx) * np.sin(2 * np.pi * yy)) > 0.6).astype(np.float32)[..., None]
        img = a * (1 - dots) + b * dots
    img = img * (0.95 + 0.08 * fbm(rng, size, 4, 3))[..., None]
    return _finish(np.broadcast_to(img, (size, size, 3)).copy(), rng.uniform(800, 2000))


def outdoor_backdrop(rng: np.random.Generator, size: int = 512) -> Texture:
    """A distant backdrop: trees or buildings along the bottom, sky above (rows go up from the ground)."""
    height_mm = 30000.0
    rows = np.arange(size)[:, None] / size * height_mm  # height above the ground of each row
    sky_lo = _hsv(rng.uniform(0.55, 0.62), rng.uniform(0.1, 0.45), rng.uniform(0.75, 1.0))
    sky_hi = _hsv(rng.uniform(0.58, 0.64), rng.uniform(0.3, 0.7), rng.uniform(0.6, 0.95))
    t = np.clip(rows / height_mm, 0, 1)[..., None]
    sky = sky_lo * (1 - t) + sky_hi * t
    clouds = np.clip((fbm(rng, size, 4, 5) - rng.uniform(0.45, 0.65)) * 3, 0, 1)[..., None]
    img = sky * (1 - 0.8 * clouds) + 0.95 * clouds
    skyline = rng.uniform(3000, 12000) * (0.6 + 0.8 * periodic_noise(rng, size, (1, int(rng.integers(6, 24))))[0])
    if rng.random() < 0.5:  # buildings: blocky skyline, facade colours with window rows
        blocks = np.repeat(skyline[:: size // 16], size // 16)[:size]
        facade = _hsv(rng.uniform(0, 1), rng.uniform(0, 0.3), rng.uniform(0.3, 0.75))
        windows = ((np.arange(size)[:, None] % 8) < 3) & ((np.arange(size)[None] % 6) < 3)
        fill = facade * (1 - 0.35 * windows[..., None])
        mask = rows < blocks[None]
    else:  # tree line
        leaves = _hsv(rng.uniform(0.2, 0.33), rng.uniform(0.35, 0.7), rng.uniform(0.15, 0.4))
        fill = leaves * (0.6 + 0.8 * fbm(rng, size, 16, 4))[..., None]
        mask = rows < (skyline[None] * (0.85 + 0.3 * fbm(rng, size, 32, 2)))
    img = np.where(mask[..., None], fill, img)
    return _finish(img, height_mm)


# -- furniture -------------------------------------------------------------------------------------------------------
def furniture(rng: np.random.Generator, size: int = 256) -> Texture:
    kind = rng.choice(["wood", "painted", "fabric", "metal"])
    if kind == "wood":
        tex = wood_planks(rng, size)
        return Texture(tex.image, tex.size_mm * 0.5)
    if kind == "fabric":
        base = _hsv(rng.uniform(0, 1), rng.uniform(0.05, 0.45), rng.uniform(0.15, 0.8))
        yy, xx = np.mgrid[0:size, 0:size]
        weave = 0.9 + 0.1 * ((xx // 2 + yy // 2) % 2)
        img = base[None, None] * (weave * (0.85 + 0.3 * fbm(rng, size, 8, 3)))[..., None]
        return _finish(img, rng.uniform(300, 600))
    v = rng.uniform(0.25, 0.9)
    base = _hsv(rng.uniform(0, 1), rng.uniform(0, 0.3 if kind == "painted" else 0.08), v)
    img = base[None, None] * (0.92 + 0.12 * fbm(rng, size, 4, 4))[..., None]
    return _finish(img, rng.uniform(500, 1500))


FLOORS = {"wood": wood_planks, "tiles": floor_tiles, "carpet": carpet, "concrete": concrete}
OUTDOOR_FLOORS = {"grass": grass, "asphalt": asphalt, "pavers": pavers, "concrete": concrete}
WALLS = {"paint": painted_wall, "brick": brick_wall, "wallpaper": wallpaper, "concrete": concrete}


class TexturePool:
    """Lazily generated textures, reused across frames: the first ``per_kind`` draws of a kind make new tiles, later
    draws pick one of them (the scene varies tint and placement per frame), so generation cost is paid once."""

    def __init__(self, rng: np.random.Generator, per_kind: int = 6):
        self.rng = rng
        self.per_kind = per_kind
        self.pool: dict[str, list[Texture]] = {}

    def get(self, name: str, make) -> Texture:
        items = self.pool.setdefault(name, [])
        if len(items) < self.per_kind:
            items.append(make(self.rng))
            return items[-1]
        return items[int(self.rng.integers(len(items)))]


class FlatTextures(TexturePool):
    """Stands in for a :class:`TexturePool` where nothing is drawn (annotation-only datasets): every texture is one
    flat grey tile, so building a room costs nothing. It draws nothing from any generator, so the scene's own draws
    (and with them the people) stay those of a rendered dataset."""

    def __init__(self):
        super().__init__(np.random.default_rng(0), per_kind=1)
        self.flat = Texture(np.full((1, 1, 3), 0.5, np.float32), 1000.0)

    def get(self, name: str, make) -> Texture:
        return self.flat
