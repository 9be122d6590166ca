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
from .samples import SurfaceSamples


@dataclass
class CapsuleSurface:
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

    def group_points(self, name: str) -> np.ndarray:
        """(K, 3) world points of a body part."""
        return self.hull[self.groups[name]]

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


def _screen_box(camera: Camera, centres_cam: np.ndarray, radius: float) -> tuple[int, int, int, int] | None:
    """Pixel bounds (x0, y0, x1, y1) covering spheres of ``radius`` around points, or None if off-screen."""
    z = centres_cam[:, 2]
    if (z - radius).min() <= NEAR_MM:
        return None
    uv = camera.project(centres_cam)
    pad = radius * camera.f.max() / (z - radius) + 2
    x0 = max(int(np.floor((uv[:, 0] - pad).min())), 0)
    y0 = max(int(np.floor((uv[:, 1] - pad).min())), 0)
    x1 = min(int(np.ceil((uv[:, 0] + pad).max())) + 1, camera.width)
    y1 = min(int(np.ceil((uv[:, 1] + pad).max())) + 1, camera.height)
    if x1 <= x0 or y1 <= y0:
        return None
    return x0, y0, x1, y1


def capsule_hits(d: np.ndarray, a: np.ndarray, b: np.ndarray, radius: float):
    """Ray hits of a capsule (segment ``a``-``b`` swept by a sphere), camera frame mm.

    Args:
        d: (..., 3) unit ray directions from the camera centre.

    Returns:
        (...,) distance along the ray (inf where missed), (..., 3) outward normals (unnormalised) and (...,)
        position along the axis (0 at ``a``, 1 at ``b``).
    """
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
        # End caps: the sphere at the end the body hit fell beyond.
        cap_centre = np.where((y <= 0)[..., None], a, b)
        oc = -cap_centre
        cb = (d * oc).sum(-1)
        cc = (oc * oc).sum(-1) - radius * radius
        ch = cb * cb - cc
        on_cap = inside & ~on_body & (ch > 0)
        t_cap = -cb - np.sqrt(np.where(on_cap, ch, 0.0))
    t = np.where(on_body, t_body, np.where(on_cap, t_cap, np.inf))
    points = d * np.where(np.isfinite(t), t, 0.0)[..., None]
    along = np.clip(np.nan_to_num(y / baba), 0.0, 1.0)
    normals = np.where(on_body[..., None], points - (a + ba * along[..., None]), points - cap_centre)
    return t, normals, along


def ellipsoid_hits(d: np.ndarray, centre: np.ndarray, axes: np.ndarray, semi: np.ndarray):
    """Ray hits of an ellipsoid (columns of ``axes`` its unit axes, ``semi`` its semi-axes), camera frame mm.

    Returns:
        (...,) distance along the ray (inf where missed) and (..., 3) outward normals (unnormalised).
    """
    to_local = axes.T / semi[:, None]  # camera vector -> unit-sphere coordinates
    o = to_local @ (-centre)
    dl = d @ to_local.T
    qa = (dl * dl).sum(-1)
    qb = dl @ o
    qc = o @ o - 1.0
    disc = qb * qb - qa * qc
    hit = disc > 0
    t = np.where(hit, (-qb - np.sqrt(np.where(hit, disc, 0.0))) / qa, np.inf)
    local = o + dl * np.where(hit, t, 0.0)[..., None]
    return t, (local / semi) @ axes.T  # gradient of the implicit surface


def capsule_samples(camera: Camera, bodies: list[CapsuleSurface], depth: np.ndarray) -> SurfaceSamples:
    """The visible surface of capsule bodies in front of ``depth`` (H*W,) float32 camera Z (mm).

    Returns:
        :class:`SurfaceSamples` with ``owner`` the index of the body in ``bodies``.
    """
    w = camera.width
    zbuf = depth.copy()
    found = []  # per primitive hit: pixels, depth, owner, primitive, camera point, camera normal, axial position
    for owner, body in enumerate(bodies):
        ends_cam = camera.to_cam(body.ends)
        centres_cam = camera.to_cam(body.centres)
        axes_cam = camera.R @ body.axes
        primitives = [(i, ends_cam[i], float(body.radii[i]), None) for i in range(len(ends_cam))]
        primitives += [(len(ends_cam) + e, centres_cam[e], axes_cam[e], body.semi[e]) for e in range(len(centres_cam))]
        for index, where, shape, semi in primitives:
            if semi is None:
                box = _screen_box(camera, where, shape)
            else:
                box = _screen_box(camera, where[None], float(semi.max()))
            if box is None:
                continue
            x0, y0, x1, y1 = box
            d = camera.rays(box).reshape(-1, 3)
            if semi is None:
                t, normals, along = capsule_hits(d, where[0], where[1], shape)
            else:
                (t, normals), along = ellipsoid_hits(d, where, shape, semi), np.zeros(len(d))
            z = t * d[:, 2]
            pix = ((np.arange(y0, y1)[:, None] * w) + np.arange(x0, x1)[None, :]).reshape(-1)
            keep = np.flatnonzero(np.isfinite(z) & (z < zbuf[pix]) & (z > NEAR_MM))
            if not len(keep):
                continue
            zbuf[pix[keep]] = z[keep]
            found.append((pix[keep], z[keep], owner, index, d[keep] * t[keep, None], normals[keep], along[keep]))
    if not found:
        return SurfaceSamples.empty()
    pix, z, owner, prim, p_cam, n_cam, along = (
        np.concatenate([np.broadcast_to(f[i], len(f[0])) if np.ndim(f[i]) == 0 else f[i] for f in found])
        for i in range(7)
    )
    # Several primitives may have written a pixel; the last write holds the nearest surface.
    last = len(pix) - 1 - np.unique(pix[::-1], return_index=True)[1]
    pix, z, owner, prim, p_cam, n_cam, along = (a[last] for a in (pix, z, owner, prim, p_cam, n_cam, along))
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
