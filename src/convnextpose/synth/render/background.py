"""Ray casting of the scene's planes and boxes (floor, walls, ceiling, backdrop, furniture) for every pixel.

A pixel's ray is ``R^T ((x - cx) / fx, (y - cy) / fy, 1)``, so its dot product with any fixed vector is affine in the
pixel coordinates: plane depths and texture coordinates are evaluated as separable affine grids, and 3D rays are only
built for the pixels that may see a box.
"""

from __future__ import annotations

import numpy as np

from ..camera import Camera
from ..scene.surfaces import Box, Plane

NEAR_MM = 50.0


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
