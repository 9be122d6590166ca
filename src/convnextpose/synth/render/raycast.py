"""Ray casting of capsule bodies: capsules and ellipsoids intersected analytically, per pixel, into one z-buffer.

Each primitive is intersected with the camera rays of the pixels inside its projected bounding box, all pixels at
once in NumPy, and kept where it is nearer than what the z-buffer holds, so occlusion between limbs, people and the
scene is exact per pixel. Each visible sample is then painted like a mesh vertex would be: its position in the body's
rest pose gives its body region and pattern coordinates (:func:`~convnextpose.synth.people.outfit.paint`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from ..camera import Camera
from ..people.outfit import Outfit, material_albedo, paint
from ..scene.lighting import srgb_to_linear
from .raster import NEAR_MM
from .samples import BodyPoints, SurfaceSamples


@dataclass
class CapsuleSurface(BodyPoints):
    """A posed body of capsules and ellipsoids in the world (mm): what the capsule back-end gives the renderer.

    Attributes:
        ends: (C, 2, 3) capsule end points; radii: (C,) capsule radii.
        centres: (E, 3) ellipsoid centres; axes: (E, 3, 3) their unit axes (columns); semi: (E, 3) semi-axes.
        segment: (C + E,) segment of each primitive (capsules first); part: (C + E,) body part code
            (:func:`~convnextpose.synth.people.outfit.paint`); coord: (C + E, 2) limb coordinate at a capsule's two
            ends (arm or leg: 0 at the shoulder or hip, 1 at the elbow or knee, 2 at the wrist or ankle).
        rotations: (S, 3, 3) each segment's rotation from the body's rest frame to the world; pivots: (S, 3) where
            each segment turns, world; rest_pivots: (S, 3) the same points in the rest frame.
        heights: landmark heights and depths of the rest pose for :func:`~convnextpose.synth.people.outfit.paint`.
        outfit: what the body wears.
        hull: (N, 3) world points on the primitives (for boxes, footprints, floor contact); groups: body part name ->
            (N,) bool mask of its hull points.
    """

    ends: np.ndarray
    radii: np.ndarray
    centres: np.ndarray
    axes: np.ndarray
    semi: np.ndarray
    segment: np.ndarray
    part: np.ndarray
    coord: np.ndarray
    rotations: np.ndarray
    pivots: np.ndarray
    rest_pivots: np.ndarray
    heights: dict[str, float]
    outfit: Outfit
    hull: np.ndarray
    groups: dict[str, np.ndarray]

    @property
    def points(self) -> np.ndarray:
        return self.hull

    def moved(self, rot: np.ndarray, shift: np.ndarray) -> CapsuleSurface:
        """The body rotated by ``rot`` (3, 3) and shifted by ``shift`` (3,)."""
        rot, shift = np.asarray(rot, np.float64), np.asarray(shift, np.float64)
        return replace(
            self,
            ends=self.ends @ rot.T + shift,
            centres=self.centres @ rot.T + shift,
            axes=rot @ self.axes,
            rotations=rot @ self.rotations,
            pivots=self.pivots @ rot.T + shift,
            hull=self.hull @ rot.T + shift,
        )


def _screen_boxes(
    camera: Camera, centres_cam: np.ndarray, radius: np.ndarray
) -> list[tuple[int, int, int, int] | None]:
    """Pixel bounds (x0, y0, x1, y1) covering spheres around groups of points (G, K, 3) with radii (G,), each None
    if behind the camera or off-screen."""
    z = centres_cam[..., 2]
    front = (z - radius[:, None]).min(1) > NEAR_MM
    uv = camera.project(centres_cam)[..., :2]
    pad = radius[:, None] * camera.f.max() / np.maximum(z - radius[:, None], 1e-6) + 2
    lo = np.floor((uv - pad[..., None]).min(1)).astype(int)
    hi = np.ceil((uv + pad[..., None]).max(1)).astype(int) + 1
    lo, hi = np.maximum(lo, 0), np.minimum(hi, [camera.width, camera.height])
    ok = front & (hi[:, 0] > lo[:, 0]) & (hi[:, 1] > lo[:, 1])
    return [(int(lo[g, 0]), int(lo[g, 1]), int(hi[g, 0]), int(hi[g, 1])) if ok[g] else None for g in range(len(ok))]


def capsule_hits(d: np.ndarray, a: np.ndarray, b: np.ndarray, radius: float) -> np.ndarray:
    """Distances (...,) along unit rays ``d`` (..., 3) from the camera centre to a capsule (segment ``a``-``b``
    swept by a sphere), camera frame mm; inf where missed."""
    ba = b - a
    oa = -a
    baba = ba @ ba
    bard = d @ ba
    baoa = oa @ ba
    rdoa = d @ oa
    oaoa = oa @ oa
    qa = baba - bard * bard
    qb = baba * rdoa - baoa * bard
    qc = baba * oaoa - baoa * baoa - radius * radius * baba
    h = qb * qb - qa * qc
    inside = h >= 0
    with np.errstate(invalid="ignore", divide="ignore"):
        t_body = (-qb - np.sqrt(np.where(inside, h, 0.0))) / qa
        y = baoa + t_body * bard
        on_body = inside & (y > 0) & (y < baba)
        # End caps: the sphere at the end the body hit fell beyond (ray . (-centre) and |centre|^2 - r^2 per end,
        # chosen per ray: no (..., 3) temporaries).
        at_a = y <= 0
        cb = np.where(at_a, rdoa, -(d @ b))
        cc = np.where(at_a, oaoa, b @ b) - radius * radius
        ch = cb * cb - cc
        on_cap = inside & ~on_body & (ch > 0)
        t_cap = -cb - np.sqrt(np.where(on_cap, ch, 0.0))
    return np.where(on_body, t_body, np.where(on_cap, t_cap, np.inf))


def capsule_normals(points: np.ndarray, a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Outward normals (unnormalised) at points (K, 3) on a capsule's surface, and their position along its axis
    (0 at ``a``, 1 at ``b``)."""
    ba = b - a
    along = np.clip((points - a) @ ba / (ba @ ba), 0.0, 1.0)
    return points - (a + along[:, None] * ba), along


def ellipsoid_hits(d: np.ndarray, centre: np.ndarray, axes: np.ndarray, semi: np.ndarray) -> np.ndarray:
    """Distances (...,) along rays ``d`` (..., 3) from the camera centre to an ellipsoid (columns of ``axes`` its
    unit axes, ``semi`` its semi-axes), camera frame mm; inf where missed."""
    to_local = axes.T / semi[:, None]  # camera vector -> unit-sphere coordinates
    o = to_local @ (-centre)
    dl = d @ to_local.T
    qa = (dl * dl).sum(-1)
    qb = dl @ o
    qc = o @ o - 1.0
    disc = qb * qb - qa * qc
    hit = disc > 0
    return np.where(hit, (-qb - np.sqrt(np.where(hit, disc, 0.0))) / qa, np.inf)


def ellipsoid_normals(points: np.ndarray, centre: np.ndarray, axes: np.ndarray, semi: np.ndarray) -> np.ndarray:
    """Outward normals (unnormalised) at points (K, 3) on an ellipsoid: the gradient of its implicit surface."""
    local = (points - centre) @ axes
    return (local / semi**2) @ axes.T


def capsule_samples(camera: Camera, bodies: list[CapsuleSurface], depth: np.ndarray) -> SurfaceSamples:
    """The visible surface of capsule bodies in front of ``depth`` (H*W,) float32 camera Z (mm).

    Returns:
        :class:`SurfaceSamples` with ``owner`` the index of the body in ``bodies``.
    """
    primitives = []  # (owner, index, pixel box, capsule ends or ellipsoid centre, radius or axes, semi-axes)
    for owner, body in enumerate(bodies):
        ends_cam = camera.to_cam(body.ends)
        centres_cam = camera.to_cam(body.centres)
        axes_cam = camera.R @ body.axes
        cap_boxes = _screen_boxes(camera, ends_cam, body.radii)
        ell_boxes = _screen_boxes(camera, centres_cam[:, None], body.semi.max(1))
        c = len(ends_cam)
        primitives += [(owner, i, cap_boxes[i], ends_cam[i], float(body.radii[i]), None) for i in range(c)]
        primitives += [
            (owner, c + e, box, centres_cam[e], axes_cam[e], body.semi[e]) for e, box in enumerate(ell_boxes)
        ]
    boxes = [p[2] for p in primitives if p[2] is not None]
    if not boxes:
        return SurfaceSamples.empty()
    # One set of rays and z-buffer for the region all primitives cover; each pixel remembers its nearest primitive.
    rx0, ry0 = min(b[0] for b in boxes), min(b[1] for b in boxes)
    rx1, ry1 = max(b[2] for b in boxes), max(b[3] for b in boxes)
    rays = camera.rays((rx0, ry0, rx1, ry1))
    zbuf = depth.reshape(camera.height, camera.width)[ry0:ry1, rx0:rx1].copy()
    tbuf = np.empty(zbuf.shape)  # distance along the ray of the nearest hit
    nearest = np.full(zbuf.shape, -1, np.int32)  # index into primitives of the nearest hit
    for k, (_, _, box, where, shape, semi) in enumerate(primitives):
        if box is None:
            continue
        region = np.s_[box[1] - ry0 : box[3] - ry0, box[0] - rx0 : box[2] - rx0]
        d = rays[region]
        t = capsule_hits(d, where[0], where[1], shape) if semi is None else ellipsoid_hits(d, where, shape, semi)
        z = t * d[..., 2]
        zs = zbuf[region]
        closer = np.isfinite(z) & (z < zs) & (z > NEAR_MM)
        zs[closer] = z[closer]
        tbuf[region][closer] = t[closer]
        nearest[region][closer] = k
    rows, cols = np.nonzero(nearest >= 0)
    if not len(rows):
        return SurfaceSamples.empty()
    which, z = nearest[rows, cols], zbuf[rows, cols]
    p_cam = rays[rows, cols] * tbuf[rows, cols, None]
    n_cam, along = np.empty_like(p_cam), np.zeros(len(rows))
    order = np.argsort(which, kind="stable")
    starts = np.flatnonzero(np.r_[True, which[order][1:] != which[order][:-1]])
    for sel in np.split(order, starts[1:]):
        _, _, _, where, shape, semi = primitives[which[sel[0]]]
        if semi is None:
            n_cam[sel], along[sel] = capsule_normals(p_cam[sel], where[0], where[1])
        else:
            n_cam[sel] = ellipsoid_normals(p_cam[sel], where, shape, semi)
    owner = np.array([p[0] for p in primitives])[which]
    prim = np.array([p[1] for p in primitives])[which]
    pix = (rows + ry0) * camera.width + cols + rx0
    points = (p_cam - camera.t) @ camera.R
    normals = n_cam @ camera.R
    normals /= np.maximum(np.linalg.norm(normals, axis=1, keepdims=True), 1e-9)
    albedo = np.zeros((len(pix), 3), np.float32)
    specular = np.zeros(len(pix), np.float32)
    for k, body in enumerate(bodies):
        sel = np.flatnonzero(owner == k)
        if len(sel):
            albedo[sel], specular[sel] = _paint(body, prim[sel], points[sel], along[sel])
    return SurfaceSamples(pix, z.astype(np.float32), owner.astype(np.int16), albedo, normals.astype(np.float32),
                          points, specular)  # fmt: skip


def _paint(body: CapsuleSurface, prim: np.ndarray, points: np.ndarray, along: np.ndarray):
    """Linear albedo (K, 3) and highlight scale (K,) of samples of one body: each sample's rest-pose position
    gives its body region, material and pattern."""
    seg = body.segment[prim]
    rest = np.einsum("kji,kj->ki", body.rotations[seg], points - body.pivots[seg]) + body.rest_pivots[seg]
    c0, c1 = body.coord[prim, 0], body.coord[prim, 1]
    coord = c0 + along * (c1 - c0)
    part = body.part[prim]
    regions = {
        "part": part,
        "arm": np.where(part == 3, coord, -1.0),
        "leg": np.where((part == 4) | (part == 5), coord, -1.0),
        "x": rest[:, 0],
        "y": rest[:, 1],
        "z": rest[:, 2],
        **body.heights,
    }
    material = paint(body.outfit, regions)
    tables = body.outfit.tables()
    albedo = srgb_to_linear(material_albedo(material, rest, *tables[:6]))
    return albedo, tables[6][material]
