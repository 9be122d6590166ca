"""The room and furniture one camera sees, lit and without people: what every frame of a static camera shares.

:func:`render_frame <convnextpose.synth.render.frame.render_frame>` lights the scene anew for each frame unless it is
given a :class:`LitScene`; a writer with a static camera (a Human3.6M studio, a MuPoTS sequence) lights it once and
then only redraws what the people and their shadows change. A static scene may be lit at a reduced resolution and
upsampled (``max_side``): its textures are smooth, and this makes a background cost the same at any image size.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import cv2
import numpy as np

from ..camera import Camera
from ..scene.lighting import Lighting, shade_flat, srgb_to_linear, to_srgb8
from ..scene.surfaces import Box, Plane
from .background import cast_background


@dataclass
class LitScene:
    """A camera's view of the scene, without people.

    Attributes:
        camera: the camera it was lit for.
        depth: (H*W,) float32 camera Z (mm) of the surface each pixel sees (inf where none).
        albedo: (H*W, 3) linear RGB; normal_id: (H*W,) row of ``normal_table`` (N, 3) of the surface's normal.
        floor: (H, W, 2) float32 world x, y of the floor point each pixel sees (NaN elsewhere), for shadows.
        linear: (H*W, 3) float32 lit linear RGB; label: (H*W,) int16 surface kind (for anti-aliasing).
        photo: (H*W,) bool pixels showing a backdrop photo, or None without one.
    """

    camera: Camera
    depth: np.ndarray
    albedo: np.ndarray
    normal_id: np.ndarray
    normal_table: np.ndarray
    floor: np.ndarray
    linear: np.ndarray
    label: np.ndarray
    photo: np.ndarray | None = None
    _srgb: np.ndarray | None = None

    def srgb(self, antialias: bool) -> np.ndarray:
        """(H, W, 3) uint8 sRGB of the empty scene (computed once)."""
        if self._srgb is None:
            h, w = self.camera.height, self.camera.width
            image = self.linear.reshape(h, w, 3)
            if antialias:
                image = antialias_edges(image, self.label.reshape(h, w))
            self._srgb = to_srgb8(image)
        return self._srgb


# Anti-aliasing labels of the scene's surfaces: their kind (cast_background) - 10, and a backdrop photo's.
BOX_LABEL, PHOTO_LABEL = 2 - 10, -15


def light_scene(
    camera: Camera,
    planes: list[Plane],
    boxes: list[Box],
    lighting: Lighting,
    max_side: int | None = None,
    backdrop: np.ndarray | None = None,
    backdrop_camera: Camera | None = None,
) -> LitScene:
    """Ray-cast and light the scene for a camera; at most ``max_side`` px wide (then upsampled) if given.

    Args:
        backdrop: (H, W, 3) uint8 RGB photo for ``backdrop_camera`` (default ``camera``), shown wherever no box is:
            the planes are not drawn then (the floor still catches shadows).
    """
    if backdrop is not None:
        lit = light_scene(camera, planes, boxes, lighting, max_side)
        return _with_backdrop(lit, backdrop, backdrop_camera or camera)
    w, h = camera.width, camera.height
    factor = max(w, h) / max_side if max_side else 1.0
    if factor > 1.0:
        small = replace(camera, f=camera.f / factor, c=(camera.c + 0.5) / factor - 0.5,
                        width=int(round(w / factor)), height=int(round(h / factor)))  # fmt: skip
        lit = light_scene(small, planes, boxes, lighting)
        sh, sw = small.height, small.width

        def up(values: np.ndarray, nearest: bool = False) -> np.ndarray:
            grid = values.reshape(sh, sw, -1) if values.ndim == 2 else values.reshape(sh, sw)
            out = cv2.resize(grid, (w, h), interpolation=cv2.INTER_NEAREST if nearest else cv2.INTER_LINEAR)
            return out.reshape((h * w,) + values.shape[1:])

        floor = cv2.resize(lit.floor, (w, h), interpolation=cv2.INTER_NEAREST)
        return LitScene(camera, up(lit.depth, nearest=True), up(lit.albedo), up(lit.normal_id, nearest=True),
                        lit.normal_table, floor, up(lit.linear), up(lit.label, nearest=True))  # fmt: skip
    bg = cast_background(camera, planes, boxes)
    depth = bg["depth"]
    hit = np.isfinite(depth)
    linear = np.zeros((w * h, 3), np.float32)
    if hit.any():
        ones = np.ones(int(hit.sum()), np.float32)
        linear[hit] = shade_flat(bg["albedo"][hit], bg["normal_id"][hit], bg["normal_table"], lighting, ones, ones)
    label = np.where(hit, bg["kind"].astype(np.int16) - 10, -20).astype(np.int16)
    floor = np.full((h * w, 2), np.nan, np.float32)
    floor[bg["floor_pixels"]] = bg["floor_points"][:, :2]
    return LitScene(camera, depth, bg["albedo"], bg["normal_id"], bg["normal_table"], floor.reshape(h, w, 2), linear,
                    label)  # fmt: skip


def _with_backdrop(lit: LitScene, backdrop: np.ndarray, backdrop_camera: Camera) -> LitScene:
    """``lit`` showing the photo (taken by ``backdrop_camera``; same pose, other intrinsics for a crop) wherever it
    does not see a box."""
    cam = lit.camera
    if backdrop.shape[:2] != (backdrop_camera.height, backdrop_camera.width):
        raise ValueError(f"backdrop of shape {backdrop.shape[:2]} does not fit a {backdrop_camera.size} camera")
    # This camera's pixel (u, v) is the backdrop's ((u - c) / f * f' + c').
    scale = backdrop_camera.f / cam.f
    shift = backdrop_camera.c - cam.c * scale
    warp = np.array([[scale[0], 0, shift[0]], [0, scale[1], shift[1]]])
    photo_rgb = cv2.warpAffine(backdrop, warp, cam.size, flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                               borderMode=cv2.BORDER_REFLECT)  # fmt: skip
    photo = lit.label != BOX_LABEL
    linear, label, depth = lit.linear.copy(), lit.label.copy(), lit.depth.copy()
    linear[photo] = srgb_to_linear(photo_rgb.reshape(-1, 3)[photo])
    label[photo], depth[photo] = PHOTO_LABEL, np.inf
    return replace(lit, linear=linear, label=label, depth=depth, photo=photo)


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
