"""A small vectorised CPU rasteriser: z-buffered triangles with perspective-correct barycentrics.

Every face's candidate pixels are tested at once per group of faces of similar size, so the work is a few NumPy
passes whatever the triangle count. Rasterising only a crop (:meth:`Camera.crop`) gives the same pixels as cropping a
full render.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from ..camera import Camera
from ..people.outfit import NUM_MATERIALS, Outfit, material_albedo
from ..scene.lighting import srgb_to_linear
from .samples import BodyPoints, SurfaceSamples

NEAR_MM = 50.0


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


@dataclass
class MeshSurface(BodyPoints):
    """A posed, painted triangle mesh in the world (mm): what a mesh body back-end (Anny) gives the renderer.

    Attributes:
        vertices: (V, 3) float32 world mm; normals: (V, 3) float32 unit vertex normals (world).
        rest_vertices: (V, 3) float32 rest-pose mm (pattern coordinates).
        faces: (F, 3) int32 counter-clockwise triangles (shared by every body of the back-end).
        vertex_material: (V,) int8 material of each vertex (:data:`~convnextpose.synth.people.outfit.MATERIAL_NAMES`).
        outfit: colours and patterns of the materials.
        groups: body part name (``feet``, ``hands``, ``knees``, ``elbows``, ``seat``) -> (V,) bool vertex mask.
    """

    vertices: np.ndarray
    normals: np.ndarray
    rest_vertices: np.ndarray
    faces: np.ndarray
    vertex_material: np.ndarray
    outfit: Outfit
    groups: dict[str, np.ndarray]

    @property
    def points(self) -> np.ndarray:
        return self.vertices

    def moved(self, rot: np.ndarray, shift: np.ndarray) -> MeshSurface:
        """The surface rotated by ``rot`` (3, 3) and shifted by ``shift`` (3,) (both float32)."""
        return replace(
            self,
            vertices=(self.vertices @ rot.T + shift).astype(np.float32),
            normals=(self.normals @ rot.T).astype(np.float32),
        )


def mesh_samples(camera: Camera, meshes: list[MeshSurface], depth: np.ndarray) -> SurfaceSamples:
    """The visible surface of several meshes (one z-buffer over all their triangles) in front of ``depth``.

    Args:
        depth: (H*W,) float32 camera Z (mm) of what is already drawn; only nearer samples are kept.

    Returns:
        :class:`SurfaceSamples` with ``owner`` the index of the mesh in ``meshes``.
    """
    w, h = camera.width, camera.height
    nv = len(meshes[0].vertices)
    faces0 = len(meshes[0].faces)
    verts = np.concatenate([m.vertices for m in meshes])
    rest = np.concatenate([m.rest_vertices for m in meshes])
    faces = np.concatenate([m.faces + k * nv for k, m in enumerate(meshes)])
    points = camera.project(camera.to_cam(verts))
    frags = rasterize(points, faces, w, h)
    front = frags.depth < depth[frags.pixels]
    pix, fid = frags.pixels[front], frags.faces[front]
    sub = replace(frags, pixels=pix, faces=fid, bary=frags.bary[front], depth=frags.depth[front])
    if not len(pix):
        return SurfaceSamples.empty()
    owner = (fid // faces0).astype(np.int16)
    tables = [np.concatenate(t) for t in zip(*(m.outfit.tables() for m in meshes))]
    # Interpolate each material's indicator and keep the largest, so borders (hems, necklines, hairlines) cut
    # smoothly through triangles instead of following their edges.
    vmat = np.concatenate([m.vertex_material for m in meshes]).astype(np.int64)
    corners = vmat[faces[fid]]  # (K, 3)
    weights = np.zeros((len(fid), NUM_MATERIALS), np.float32)
    rows = np.arange(len(fid))
    for c in range(3):
        weights[rows, corners[:, c]] += sub.bary[:, c]
    material = weights.argmax(1) + owner.astype(np.int64) * NUM_MATERIALS
    rest_pts = interpolate(rest, faces, sub)
    albedo = srgb_to_linear(material_albedo(material, rest_pts, *tables[:6]))
    normals = interpolate(np.concatenate([m.normals for m in meshes]), faces, sub)
    normals /= np.maximum(np.linalg.norm(normals, axis=1, keepdims=True), 1e-9)
    world = interpolate(verts, faces, sub)
    return SurfaceSamples(pix, sub.depth, owner, albedo, normals, world, tables[6][material])
