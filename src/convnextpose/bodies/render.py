"""A small vectorised CPU renderer: z-buffered triangles, ray-cast room and furniture, soft shadows, degradations.

Everything is a per-pixel function of the camera, so rendering only a crop (:meth:`Camera.crop`) gives the same
pixels as cropping a full render (up to the one-pixel anti-aliasing seam at the crop border and the image
degradations, which are applied to whatever image is produced).

Colours are linear RGB floats in [0, 1] until :func:`to_srgb8`.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from ..synth.camera import Camera

NEAR_MM = 50.0


# ----------------------------------------------------------------------------------------------------------------------
# Triangle rasteriser
# ----------------------------------------------------------------------------------------------------------------------
@dataclass
class Fragments:
    """Visible surface samples of a triangle mesh, one per covered pixel.

    Attributes:
        pixels: (K,) int64 linear pixel index ``y * width + x``.
        faces: (K,) int32 index of the visible face.
        bary: (K, 3) float32 perspective-correct barycentric weights of the face's vertices.
        depth: (K,) float32 camera Z in mm.
    """

    pixels: np.ndarray
    faces: np.ndarray
    bary: np.ndarray
    depth: np.ndarray


def rasterize(points_img: np.ndarray, faces: np.ndarray, width: int, height: int, near: float = NEAR_MM) -> Fragments:
    """Z-buffer rasterisation of front-facing triangles.

    Faces are grouped by the size of their pixel bounding box, and every group tests all pixels of its (k x k) box
    at once, so the work is a few NumPy passes whatever the triangle count. Faces are culled when any vertex is
    nearer than ``near`` (the scenes keep meshes in front of the camera).

    Args:
        points_img: (N, 3) u, v px and Z mm of the vertices.
        faces: (F, 3) vertex indices, counter-clockwise seen from outside (the visible side).
        width, height: image size.

    Returns:
        :class:`Fragments` of the nearest surface at each covered pixel centre.
    """
    pts = np.asarray(points_img)
    # Cheap float32 culling first (back faces, behind the camera, outside the image), exact maths on the rest.
    # Reductions over the 3 corners are written out: NumPy's axis-1 min/max over 3 items is slow.
    p32 = pts.astype(np.float32)
    c0, c1, c2 = p32[faces[:, 0]], p32[faces[:, 1]], p32[faces[:, 2]]
    area32 = (c1[:, 0] - c0[:, 0]) * (c2[:, 1] - c0[:, 1]) - (c2[:, 0] - c0[:, 0]) * (c1[:, 1] - c0[:, 1])
    lo = np.minimum(np.minimum(c0, c1), c2)
    hi = np.maximum(np.maximum(c0, c1), c2)
    # With y pointing down, a face seen from its outside has a negative signed area.
    keep = (area32 < 0) & (lo[:, 2] > near)
    keep &= (hi[:, 0] >= 0) & (lo[:, 0] <= width - 1) & (hi[:, 1] >= 0) & (lo[:, 1] <= height - 1)
    idx = np.flatnonzero(keep)
    empty = Fragments(
        np.zeros(0, np.int64), np.zeros(0, np.int32), np.zeros((0, 3), np.float32), np.zeros(0, np.float32)
    )
    if len(idx) == 0:
        return empty
    tri = np.asarray(pts, np.float64)[faces[idx]]  # (F', 3, 3)
    x, y, z = tri[..., 0], tri[..., 1], tri[..., 2]
    area = (x[:, 1] - x[:, 0]) * (y[:, 2] - y[:, 0]) - (x[:, 2] - x[:, 0]) * (y[:, 1] - y[:, 0])
    xmin = np.maximum(np.ceil(np.minimum(np.minimum(x[:, 0], x[:, 1]), x[:, 2])), 0)
    xmax = np.minimum(np.floor(np.maximum(np.maximum(x[:, 0], x[:, 1]), x[:, 2])), width - 1)
    ymin = np.maximum(np.ceil(np.minimum(np.minimum(y[:, 0], y[:, 1]), y[:, 2])), 0)
    ymax = np.minimum(np.floor(np.maximum(np.maximum(y[:, 0], y[:, 1]), y[:, 2])), height - 1)
    ok = (area < -1e-12) & (xmin <= xmax) & (ymin <= ymax)
    if not ok.all():
        idx, x, y, z, area = idx[ok], x[ok], y[ok], z[ok], area[ok]
        xmin, xmax, ymin, ymax = xmin[ok], xmax[ok], ymin[ok], ymax[ok]
    if len(idx) == 0:
        return empty
    # Barycentric weight i is linear in the pixel: w_i = A_i px + B_i py + C_i (edge opposite vertex i). Candidates
    # are evaluated in float32 relative to each face's box corner, with the offset folded into C in float64.
    j, k = [1, 2, 0], [2, 0, 1]
    coef_a = (y[:, j] - y[:, k]) / area[:, None]
    coef_b = (x[:, k] - x[:, j]) / area[:, None]
    coef_c = (x[:, j] * y[:, k] - x[:, k] * y[:, j]) / area[:, None]
    coef_c = (coef_c + coef_a * xmin[:, None] + coef_b * ymin[:, None]).astype(np.float32)
    coef_a, coef_b = coef_a.astype(np.float32), coef_b.astype(np.float32)
    inv_z = (1.0 / z).astype(np.float32)
    span_x = (xmax - xmin).astype(np.int32)
    span_y = (ymax - ymin).astype(np.int32)
    base = (ymin * width + xmin).astype(np.int64)
    size = np.maximum(span_x, span_y) + 1
    classes = np.ceil(np.log2(size)).astype(np.int64)
    pix_all, face_all, w_all = [], [], []
    for c in np.flatnonzero(np.bincount(classes)):
        sel = np.flatnonzero(classes == c)
        k_size = 1 << int(c)
        oy, ox = np.divmod(np.arange(k_size * k_size, dtype=np.int32), k_size)
        oxf, oyf = ox.astype(np.float32), oy.astype(np.float32)
        chunk = max(1, 2_000_000 // (k_size * k_size))
        for start in range(0, len(sel), chunk):
            s = sel[start : start + chunk]
            valid = (ox[None] <= span_x[s, None]) & (oy[None] <= span_y[s, None])
            w0 = coef_a[s, 0, None] * oxf + coef_b[s, 0, None] * oyf + coef_c[s, 0, None]
            w1 = coef_a[s, 1, None] * oxf + coef_b[s, 1, None] * oyf + coef_c[s, 1, None]
            w2 = coef_a[s, 2, None] * oxf + coef_b[s, 2, None] * oyf + coef_c[s, 2, None]
            inside = valid & (w0 >= -1e-6) & (w1 >= -1e-6) & (w2 >= -1e-6)
            fi, ci = np.nonzero(inside)
            pix_all.append(base[s[fi]] + oy[ci].astype(np.int64) * width + ox[ci])
            face_all.append(s[fi])
            w_all.append(np.stack([w0[fi, ci], w1[fi, ci], w2[fi, ci]], axis=1))
    pix = np.concatenate(pix_all)
    if len(pix) == 0:
        return empty
    local = np.concatenate(face_all)
    w = np.concatenate(w_all)
    wz = w * inv_z[local]
    depth = 1.0 / (wz[:, 0] + wz[:, 1] + wz[:, 2])
    bary = wz * depth[:, None]
    zbuf = np.full(width * height, np.inf, np.float32)
    np.minimum.at(zbuf, pix, depth)
    winner = np.full(width * height, -1, np.int64)
    win = np.flatnonzero(depth <= zbuf[pix])
    winner[pix[win]] = win
    covered = np.flatnonzero(winner >= 0)
    sel = winner[covered]
    return Fragments(
        covered, idx[local[sel]].astype(np.int32), bary[sel].astype(np.float32), depth[sel].astype(np.float32)
    )


def vertex_normals(vertices: np.ndarray, faces: np.ndarray) -> np.ndarray:
    """(N, 3) float32 unit area-weighted vertex normals of a mesh with counter-clockwise outward faces."""
    v = np.asarray(vertices, np.float32)
    e1 = v[faces[:, 1]] - v[faces[:, 0]]
    e2 = v[faces[:, 2]] - v[faces[:, 0]]
    fn = np.cross(e1, e2)
    normals = np.zeros_like(v)
    flat = faces.ravel()
    for axis in range(3):
        normals[:, axis] = np.bincount(flat, weights=np.repeat(fn[:, axis], 3), minlength=len(v))
    return normals / np.maximum(np.sqrt(np.einsum("ij,ij->i", normals, normals)), 1e-12)[:, None]


def interpolate(values: np.ndarray, faces: np.ndarray, frags: Fragments) -> np.ndarray:
    """Per-vertex (N, C) values interpolated at the fragments -> (K, C)."""
    corners = faces[frags.faces]  # (K, 3)
    return np.einsum("kc,kcd->kd", frags.bary, values[corners])


# ----------------------------------------------------------------------------------------------------------------------
# Lighting
# ----------------------------------------------------------------------------------------------------------------------
@dataclass
class Lighting:
    """Directional key and fill lights plus a sky/ground ambient, in the world frame (linear RGB intensities).

    Attributes:
        key_dir, fill_dir: (3,) unit vectors pointing from the scene towards the light.
        key_color, fill_color, sky_color, ground_color: (3,) linear RGB.
        specular: strength of the key light's highlight; shininess: its Blinn-Phong exponent.
        shadow_strength: how much of the key light the people's soft shadows remove (0-1).
    """

    key_dir: np.ndarray
    key_color: np.ndarray
    fill_dir: np.ndarray
    fill_color: np.ndarray
    sky_color: np.ndarray
    ground_color: np.ndarray
    specular: float = 0.15
    shininess: float = 24.0
    shadow_strength: float = 0.8


def sample_lighting(rng: np.random.Generator, outdoor: bool = False) -> Lighting:
    """Random lighting: key light 20-75 deg above the horizon, warm-to-cool tints, varied contrast."""

    def direction(elev_lo: float, elev_hi: float) -> np.ndarray:
        az, el = rng.uniform(0, 2 * np.pi), np.deg2rad(rng.uniform(elev_lo, elev_hi))
        return np.array([np.cos(el) * np.cos(az), np.cos(el) * np.sin(az), np.sin(el)])

    def tint(spread: float) -> np.ndarray:
        warmth = rng.uniform(-1, 1) * spread  # >0 warm (tungsten), <0 cool (shade, overcast)
        return np.clip(np.array([1 + warmth, 1.0, 1 - warmth]) * rng.uniform(0.95, 1.05, 3), 0.3, 2.0)

    key = rng.uniform(1.6, 3.2) if outdoor else rng.uniform(0.9, 2.2)
    ambient = rng.uniform(0.25, 0.55) if outdoor else rng.uniform(0.3, 0.7)
    sky = ambient * tint(0.12) * (np.array([0.9, 0.95, 1.1]) if outdoor else 1.0)
    return Lighting(
        key_dir=direction(20, 75),
        key_color=key * tint(0.18),
        fill_dir=direction(5, 40),
        fill_color=rng.uniform(0.05, 0.4) * tint(0.15),
        sky_color=sky,
        ground_color=sky * rng.uniform(0.35, 0.7),
        specular=float(rng.uniform(0.03, 0.25)),
        shininess=float(rng.uniform(8, 40)),
        shadow_strength=float(rng.uniform(0.5, 0.9) if outdoor else rng.uniform(0.3, 0.75)),
    )


def shade(
    albedo: np.ndarray,
    normals_world: np.ndarray,
    view_dirs_world: np.ndarray,
    light: Lighting,
    key_visibility: np.ndarray | float = 1.0,
    ambient_occlusion: np.ndarray | float = 1.0,
    specular_scale: np.ndarray | float = 1.0,
) -> np.ndarray:
    """Lambert + hemisphere ambient + Blinn-Phong highlight.

    Args:
        albedo: (K, 3) linear RGB.
        normals_world: (K, 3) unit normals.
        view_dirs_world: (K, 3) unit vectors from the surface towards the camera.
        key_visibility: (K,) 1 where the key light is not shadowed.
        ambient_occlusion: (K,) multiplier of the ambient and fill terms.
        specular_scale: (K,) per-material highlight scale (skin and satin shine, cotton hardly).

    Returns:
        (K, 3) float32 linear RGB radiance.
    """
    n = np.asarray(normals_world, np.float32)
    f32 = np.float32

    def col(x):
        return np.reshape(np.asarray(x, f32), (-1, 1)) if np.ndim(x) else f32(x)

    kv, ao, sp = col(key_visibility), col(ambient_occlusion), col(specular_scale)
    up = 0.5 + 0.5 * n[:, 2:3]
    ground, sky = light.ground_color.astype(f32), light.sky_color.astype(f32)
    ndl = np.maximum(n @ light.key_dir.astype(f32), 0)[:, None]
    fill = np.maximum(n @ light.fill_dir.astype(f32), 0)[:, None]
    irradiance = (ground + (sky - ground) * up + light.fill_color.astype(f32) * fill) * ao
    irradiance += light.key_color.astype(f32) * (ndl * kv)
    out = np.asarray(albedo, f32) * irradiance
    lit = np.flatnonzero(ndl[:, 0] > 0)
    if light.specular > 0 and len(lit):
        half = light.key_dir.astype(f32)[None] + np.asarray(view_dirs_world, f32)[lit]
        half /= np.sqrt(np.einsum("ij,ij->i", half, half))[:, None] + 1e-9
        spec = np.maximum(np.einsum("ij,ij->i", n[lit], half), 0) ** f32(light.shininess)
        scale = (sp[lit, 0] if np.ndim(sp) else sp) * (kv[lit, 0] if np.ndim(kv) else kv)
        out[lit] += (f32(light.specular) * scale * spec)[:, None] * light.key_color.astype(f32)
    return out


def shade_flat(
    albedo: np.ndarray,
    normal_ids: np.ndarray,
    normal_table: np.ndarray,
    light: Lighting,
    key_visibility: np.ndarray,
    ambient_occlusion: np.ndarray,
) -> np.ndarray:
    """Diffuse shading of flat surfaces (walls, floors, box faces): the irradiance depends only on the normal, so it
    is computed once per distinct normal (``normal_table`` (N, 3), indexed by ``normal_ids`` (K,))."""
    n = np.asarray(normal_table, np.float32)
    ambient = light.ground_color + (light.sky_color - light.ground_color) * (0.5 + 0.5 * n[:, 2:3])
    ambient = (ambient + light.fill_color * np.maximum(n @ light.fill_dir, 0)[:, None]).astype(np.float32)
    key = (light.key_color * np.maximum(n @ light.key_dir, 0)[:, None]).astype(np.float32)
    irradiance = ambient[normal_ids] * ambient_occlusion[:, None] + key[normal_ids] * key_visibility[:, None]
    return np.asarray(albedo, np.float32) * irradiance


_SRGB_LUT = None


def to_srgb8(linear: np.ndarray) -> np.ndarray:
    """Linear RGB floats -> sRGB uint8 (soft shoulder above 0.8 so highlights do not clip hard), via a 16-bit LUT."""
    global _SRGB_LUT
    if _SRGB_LUT is None:
        x = np.linspace(0, 1.6, 65536)
        x = np.where(x > 0.8, 0.8 + 0.2 * np.tanh((x - 0.8) / 0.2), x)
        srgb = np.where(x <= 0.0031308, 12.92 * x, 1.055 * np.power(np.maximum(x, 0), 1 / 2.4) - 0.055)
        _SRGB_LUT = np.clip(srgb * 255 + 0.5, 0, 255).astype(np.uint8)
    idx = np.clip(np.asarray(linear, np.float32) * (65535 / 1.6), 0, 65535).astype(np.uint16)
    return _SRGB_LUT[idx]


def srgb_to_linear(srgb: np.ndarray) -> np.ndarray:
    """sRGB in [0, 1] (or uint8) -> linear RGB float32."""
    x = np.asarray(srgb, np.float32)
    if np.issubdtype(np.asarray(srgb).dtype, np.integer):
        x = x / 255.0
    return np.where(x <= 0.04045, x / 12.92, ((x + 0.055) / 1.055) ** 2.4).astype(np.float32)


# ----------------------------------------------------------------------------------------------------------------------
# Ray casting of planes and boxes (room, furniture)
# ----------------------------------------------------------------------------------------------------------------------
def ray_plane(origin: np.ndarray, dirs: np.ndarray, normal: np.ndarray, offset: float) -> np.ndarray:
    """Distance along (K, 3) rays (z_cam = 1 scaling, so the distance is camera depth) to the plane n.x = offset;
    inf where the plane is behind or parallel."""
    denom = dirs @ normal
    with np.errstate(divide="ignore", invalid="ignore"):
        s = (offset - origin @ normal) / denom
    return np.where((np.abs(denom) > 1e-9) & (s > 0), s, np.inf).astype(dirs.dtype)


def ray_box(origin: np.ndarray, dirs_local: np.ndarray, half: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Slab test of (K, 3) rays against an axis-aligned box [-half, half] in its own frame.

    Returns:
        (K,) entry distance (inf on a miss or when inside) and (K,) int axis of the entered face (0, 1, 2).
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        inv = 1.0 / dirs_local
        t0 = (-half[None] - origin[None]) * inv
        t1 = (half[None] - origin[None]) * inv
    t_near = np.nan_to_num(np.minimum(t0, t1), nan=-np.inf)
    t_far = np.nan_to_num(np.maximum(t0, t1), nan=np.inf)
    # Written-out reductions over the 3 axes (NumPy's axis-1 reductions over 3 items are slow).
    entry = np.maximum(np.maximum(t_near[:, 0], t_near[:, 1]), t_near[:, 2])
    axis = np.where(t_near[:, 0] == entry, 0, np.where(t_near[:, 1] == entry, 1, 2))
    exit_ = np.minimum(np.minimum(t_far[:, 0], t_far[:, 1]), t_far[:, 2])
    hit = (entry <= exit_) & (entry > 0)
    return np.where(hit, entry, np.inf), axis


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


@dataclass
class Plane:
    """An infinite textured plane ``normal . X = offset`` (world mm); ``axes`` (2, 3) span the texture."""

    normal: np.ndarray
    offset: float
    axes: np.ndarray
    texture: Texture
    origin: np.ndarray
    clamp_t: bool = False  # sky backdrops: the texture's second axis does not repeat
    tint: np.ndarray | None = None


@dataclass
class Box:
    """A textured box on the floor: centre (3,) mm, half sizes (3,), yaw about Z (degrees)."""

    center: np.ndarray
    half: np.ndarray
    yaw_deg: float
    texture: Texture
    tint: np.ndarray | None = None

    @property
    def rotation(self) -> np.ndarray:
        """(3, 3) box-to-world rotation."""
        a = np.deg2rad(self.yaw_deg)
        return np.array([[np.cos(a), -np.sin(a), 0], [np.sin(a), np.cos(a), 0], [0, 0, 1.0]])

    def footprint_radius(self) -> float:
        return float(np.hypot(self.half[0], self.half[1]))


@dataclass
class Capsule:
    """A soft shadow caster: segment end points (2, 3) world mm and radius (mm)."""

    ends: np.ndarray
    radius: float


def _box_pixels(camera: Camera, box: Box) -> np.ndarray | None:
    """Linear indices of the pixels inside a box's projected bounding rectangle (None if it is behind the camera)."""
    w, h = camera.width, camera.height
    signs = np.array(np.meshgrid([-1, 1], [-1, 1], [-1, 1])).reshape(3, -1).T
    corners = box.center + (signs * box.half) @ box.rotation.T
    cam_pts = camera.to_cam(corners)
    if np.all(cam_pts[:, 2] <= NEAR_MM):
        return None
    if np.any(cam_pts[:, 2] <= NEAR_MM):
        return np.arange(w * h)
    uv = camera.project(cam_pts)
    x0, x1 = int(max(np.floor(uv[:, 0].min()), 0)), int(min(np.ceil(uv[:, 0].max()), w - 1))
    y0, y1 = int(max(np.floor(uv[:, 1].min()), 0)), int(min(np.ceil(uv[:, 1].max()), h - 1))
    if x0 > x1 or y0 > y1:
        return None
    gy, gx = np.mgrid[y0 : y1 + 1, x0 : x1 + 1]
    return (gy * w + gx).ravel()


def cast_background(camera: Camera, planes: list[Plane], boxes: list[Box]) -> dict[str, np.ndarray]:
    """Ray-cast every pixel against the planes and boxes.

    A pixel's ray is ``R^T ((x - cx) / fx, (y - cy) / fy, 1)``, so its dot product with any fixed vector is affine in
    the pixel coordinates: plane depths and texture coordinates are evaluated as separable affine grids, and 3D rays
    are only built for the pixels that may see a box.

    Returns:
        dict with ``depth`` (H*W,) float32 mm (inf where nothing is hit), ``albedo`` (H*W, 3) linear RGB,
        ``normal_id`` (H*W,) int32 row of ``normal_table`` (N, 3) (world normals), ``kind`` (H*W,) int8 (-1 nothing,
        0 floor, 1 wall or ceiling, 2 box), and ``floor_pixels`` (K,) with their world points ``floor_points`` (K, 3).
    """
    f32 = np.float32
    w, h = camera.width, camera.height
    rot = camera.R
    dx = ((np.arange(w) - camera.c[0]) / camera.f[0]).astype(f32)
    dy = ((np.arange(h) - camera.c[1]) / camera.f[1]).astype(f32)
    origin = camera.position

    def dot_grid(vec: np.ndarray) -> np.ndarray:
        """(H*W,) ray . vec for a world vector."""
        a = (rot @ np.asarray(vec, np.float64)).astype(f32)  # components along the camera axes
        return (dy[:, None] * a[1] + (dx[None, :] * a[0] + a[2])).reshape(-1)

    ray_len2 = (dy[:, None] ** 2 + (dx[None, :] ** 2 + 1)).reshape(-1)
    depth = np.full(w * h, np.inf, f32)
    cosine = np.ones(w * h, f32)  # |ray . normal| of the hit surface (unnormalised ray)
    owner = np.full(w * h, -1, np.int32)
    for k, plane in enumerate(planes):
        denom = dot_grid(plane.normal)
        num = f32(plane.offset - origin @ plane.normal)
        s = np.full(w * h, np.inf, f32)
        np.divide(num, denom, out=s, where=np.abs(denom) > 1e-9)
        better = np.flatnonzero((s > 0) & (s < depth))
        depth[better], owner[better], cosine[better] = s[better], k, np.abs(denom[better])
    box_hits = []
    for b, box in enumerate(boxes):
        sel = _box_pixels(camera, box)
        if sel is None:
            continue
        ys, xs = np.divmod(sel, w)
        rays = (dy[ys, None] * rot[1] + dx[xs, None] * rot[0] + rot[2]).astype(np.float64)
        brot = box.rotation
        o_local = brot.T @ (origin - box.center)
        d_local = rays @ brot
        s, axis = ray_box(o_local, d_local, box.half)
        better = s < depth[sel]
        idx = sel[better]
        depth[idx] = s[better]
        owner[idx] = len(planes) + b
        box_hits.append((b, idx, axis[better], o_local, d_local[better], s[better]))
    albedo = np.zeros((w * h, 3), f32)
    normal_id = np.zeros(w * h, np.int32)
    table = [p.normal for p in planes] + [
        box.rotation @ np.eye(3)[axis] * sign for box in boxes for axis in range(3) for sign in (-1.0, 1.0)
    ]
    kind = np.full(w * h, -1, np.int8)
    inv_f = f32(1.0 / camera.f[0])
    floor_pixels, floor_points = np.zeros(0, np.int64), np.zeros((0, 3), f32)
    for k, plane in enumerate(planes):
        sel = np.flatnonzero(owner == k)
        if len(sel) == 0:
            continue
        d = depth[sel]
        # A pixel's footprint on the surface: depth x |ray|^2 / (f |ray . n|).
        foot = d * ray_len2[sel] * inv_f / np.maximum(cosine[sel], 0.05 * np.sqrt(ray_len2[sel]))
        base = (origin - plane.origin) @ plane.axes.T
        st = [f32(base[i]) + d * dot_grid(plane.axes[i])[sel] for i in range(2)]
        col = plane.texture.sample(st[0], st[1], foot, clamp_t=plane.clamp_t)
        albedo[sel] = col * (plane.tint if plane.tint is not None else 1.0)
        normal_id[sel] = k
        is_floor = plane.normal[2] > 0.9
        kind[sel] = 0 if is_floor else 1
        if is_floor:
            floor_pixels = sel
            floor_points = np.stack(
                [f32(origin[i]) + d * dot_grid(np.eye(3)[i])[sel] for i in range(2)] + [np.zeros_like(d)], axis=1
            )
    for b, idx, axis, o_local, d_local, s in box_hits:
        keep = owner[idx] == len(planes) + b
        idx, axis, d_local, s = idx[keep], axis[keep], d_local[keep], s[keep]
        if len(idx) == 0:
            continue
        box = boxes[b]
        rows = np.arange(len(idx))
        hit_local = o_local[None] + d_local * s[:, None]
        sign = np.sign(hit_local[rows, axis])
        # Texture axes: the two box axes other than the face normal.
        u_ax = np.where(axis == 0, 1, 0)
        v_ax = np.where(axis == 2, 1, 2)
        s_mm = hit_local[rows, u_ax] + box.half[u_ax]
        t_mm = hit_local[rows, v_ax] + box.half[v_ax]
        cos = np.abs(d_local[rows, axis])
        foot = depth[idx] * ray_len2[idx] * inv_f / np.maximum(cos, 0.05 * np.sqrt(ray_len2[idx]))
        col = box.texture.sample(s_mm, t_mm, foot)
        albedo[idx] = col * (box.tint if box.tint is not None else 1.0)
        normal_id[idx] = len(planes) + 6 * b + 2 * axis + (sign > 0)
        kind[idx] = 2
    return {
        "depth": depth,
        "albedo": albedo,
        "normal_id": normal_id,
        "normal_table": np.array(table, f32).reshape(-1, 3),
        "kind": kind,
        "floor_pixels": floor_pixels,
        "floor_points": floor_points,
    }


def capsule_shadow(points: np.ndarray, capsules: list[Capsule], light_dir: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Soft shadows of capsules on the floor (Z = 0) at floor points (K, 3).

    The key-light shadow projects each capsule onto the floor along ``light_dir`` and softens it with the height of
    the caster; the contact (ambient) shadow projects straight down and fades within ~25 cm of the floor. Only the
    points inside each projected capsule's bounding rectangle are evaluated.

    Returns:
        (K,) key-light visibility in [0, 1] and (K,) ambient occlusion in [0, 1].
    """
    key_vis = np.ones(len(points), np.float32)
    ao = np.ones(len(points), np.float32)
    if len(points) == 0 or not capsules:
        return key_vis, ao
    light = np.asarray(light_dir, np.float64)
    p_all = np.asarray(points[:, :2], np.float32)
    jobs = []
    for cap in capsules:
        a, b = np.asarray(cap.ends, np.float64)
        for kind, direction in (("key", light), ("ao", np.array([0.0, 0.0, 1.0]))):
            if direction[2] < 0.05:
                continue
            pa = a[:2] - direction[:2] * a[2] / direction[2]
            pb = b[:2] - direction[:2] * b[2] / direction[2]
            top = max(a[2], b[2])
            reach = cap.radius * 1.5 + 0.1 * top + 30 if kind == "key" else cap.radius + 0.6 * min(a[2], b[2]) + 20
            if kind == "ao" and min(a[2], b[2]) > 600:  # the contact shadow has faded below 10 % by then
                continue
            lo, hi = np.minimum(pa, pb) - reach, np.maximum(pa, pb) + reach
            jobs.append((kind, pa, pb, a[2], b[2], cap.radius, lo, hi))
    lo_all = np.min([j[6] for j in jobs], axis=0)
    hi_all = np.max([j[7] for j in jobs], axis=0)
    px, py = p_all[:, 0], p_all[:, 1]
    cand = np.flatnonzero((px >= lo_all[0]) & (px <= hi_all[0]) & (py >= lo_all[1]) & (py <= hi_all[1]))
    p_c = p_all[cand]
    cx, cy = p_c[:, 0], p_c[:, 1]
    for kind, pa, pb, za, zb, radius, lo, hi in jobs:
        inside = np.flatnonzero((cx >= lo[0]) & (cx <= hi[0]) & (cy >= lo[1]) & (cy <= hi[1]))
        if len(inside) == 0:
            continue
        p = p_c[inside]
        d = (pb - pa).astype(np.float32)
        rel = p - pa.astype(np.float32)
        t = np.clip((rel @ d) / max(float(d @ d), 1e-9), 0, 1)
        q = rel - t[:, None] * d
        dist = np.sqrt(np.einsum("ij,ij->i", q, q))
        height = za + t * (zb - za)
        idx = cand[inside]
        if kind == "key":
            rad = radius * (1.0 + 0.15 * height / 1000.0)
            soft = 0.3 * radius + 0.08 * height
            value = np.clip((rad + soft - dist) / (2 * soft), 0, 1)
            key_vis[idx] = np.minimum(key_vis[idx], 1 - value)
        else:
            reach = radius + 0.6 * height + 20.0
            value = np.clip(1 - dist / reach, 0, 1) ** 1.5 * np.exp(-height / 250.0)
            ao[idx] = np.minimum(ao[idx], 1 - 0.75 * value)
    return key_vis, ao


# ----------------------------------------------------------------------------------------------------------------------
# Image post-processing
# ----------------------------------------------------------------------------------------------------------------------
def antialias_edges(image: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Soften one-pixel silhouettes: pixels whose label differs from a 4-neighbour take a 3x3 box mean.

    Args:
        image: (H, W, 3) float32 linear RGB; labels: (H, W) int (person or surface id).
    """
    edge = np.zeros(labels.shape, bool)
    edge[:, 1:] |= labels[:, 1:] != labels[:, :-1]
    edge[:, :-1] |= labels[:, 1:] != labels[:, :-1]
    edge[1:] |= labels[1:] != labels[:-1]
    edge[:-1] |= labels[1:] != labels[:-1]
    blurred = cv2.blur(image, (3, 3), borderType=cv2.BORDER_REPLICATE)
    out = image.copy()
    out[edge] = 0.5 * image[edge] + 0.5 * blurred[edge]
    return out


@dataclass
class Degradation:
    """Camera and compression artefacts applied to a rendered sRGB image (all drawn by :func:`sample_degradation`)."""

    exposure: float = 1.0
    gamma: float = 1.0
    white_balance: tuple[float, float, float] = (1.0, 1.0, 1.0)
    blur_sigma: float = 0.0
    motion_length: float = 0.0
    motion_angle: float = 0.0
    noise_sigma: float = 0.0
    jpeg_quality: int = 0
    vignette: float = 0.0
    seed: int = 0


def sample_degradation(rng: np.random.Generator, strength: float = 1.0) -> Degradation:
    """Random degradations; ``strength`` 0 gives none, 1 the default mix (mild on most images, heavy on some)."""
    if strength <= 0:
        return Degradation()
    r = rng.random(6)
    return Degradation(
        exposure=float(np.exp(rng.normal(0, 0.25 * strength))),
        gamma=float(np.exp(rng.normal(0, 0.08 * strength))),
        white_balance=tuple(float(v) for v in np.exp(rng.normal(0, 0.04 * strength, 3))),
        blur_sigma=float(rng.uniform(0.4, 1.6) * strength) if r[0] < 0.35 else 0.0,
        motion_length=float(rng.uniform(3, 11) * strength) if r[1] < 0.15 else 0.0,
        motion_angle=float(rng.uniform(0, 180)),
        noise_sigma=float(rng.uniform(0.5, 6.0) * strength) if r[2] < 0.7 else 0.0,
        jpeg_quality=int(rng.integers(35, 96)) if r[3] < 0.6 * min(strength, 1.0) else 0,
        vignette=float(rng.uniform(0.1, 0.4) * strength) if r[4] < 0.3 else 0.0,
        seed=int(rng.integers(2**31)),
    )


def degrade(rgb: np.ndarray, deg: Degradation) -> np.ndarray:
    """Apply exposure, white balance, vignetting, blur, motion blur, sensor noise and JPEG to (H, W, 3) uint8."""
    # Exposure, white balance and gamma are one lookup table per channel.
    levels = np.arange(256, dtype=np.float32)[:, None] / 255.0
    lut = np.clip(levels * deg.exposure * np.asarray(deg.white_balance, np.float32), 0, 1) ** deg.gamma
    out = cv2.LUT(np.ascontiguousarray(rgb), np.clip(lut * 255 + 0.5, 0, 255).astype(np.uint8)[None])
    h, w = out.shape[:2]
    if deg.blur_sigma > 0:
        out = cv2.GaussianBlur(out, (0, 0), deg.blur_sigma)
    if deg.motion_length >= 2:
        k = int(round(deg.motion_length)) | 1
        kernel = np.zeros((k, k), np.float32)
        kernel[k // 2] = 1.0
        rot = cv2.getRotationMatrix2D(((k - 1) / 2, (k - 1) / 2), deg.motion_angle, 1.0)
        kernel = cv2.warpAffine(kernel, rot, (k, k))
        out = cv2.filter2D(out, -1, kernel / max(kernel.sum(), 1e-6))
    if deg.vignette > 0 or deg.noise_sigma > 0:
        img = out.astype(np.float32)
        if deg.vignette > 0:
            xx = ((np.arange(w, dtype=np.float32) - w / 2) / (w / 2)) ** 2
            yy = ((np.arange(h, dtype=np.float32) - h / 2) / (h / 2)) ** 2
            img *= (1 - np.float32(deg.vignette) * np.clip((yy[:, None] + xx[None]) / 2, 0, 1))[..., None]
        if deg.noise_sigma > 0:
            rng = np.random.default_rng(deg.seed)
            # Signal-dependent (shot) plus constant (read) noise, in 8-bit levels.
            sigma = np.float32(deg.noise_sigma) * np.sqrt(0.3 + img * np.float32(1 / 255))
            img += rng.standard_normal(img.shape, dtype=np.float32) * sigma
        out = np.clip(img + 0.5, 0, 255).astype(np.uint8)
    if deg.jpeg_quality:
        ok, buf = cv2.imencode(".jpg", out[..., ::-1], [cv2.IMWRITE_JPEG_QUALITY, deg.jpeg_quality])
        if ok:
            out = cv2.imdecode(buf, cv2.IMREAD_COLOR)[..., ::-1].copy()
    return out
