"""Rendering a frame: the lit scene, the people (whatever their body back-end), and what the image shows of them.

:func:`render_frame` is the one renderer interface: it ray-casts the room and furniture, shadows the floor under the
people, draws the people through the renderer their surfaces need (the rasteriser for Anny's meshes, the ray-caster
for capsule bodies) into the same z-buffer, shades everything with the frame's lights, and returns a
:class:`RenderResult` with the image, depth, per-person masks, boxes and joints. Rendering is a pure function of the
frame and the crop, so a sample's full image and its person crop agree pixel for pixel.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

from ..camera import Camera
from ..degrade import Degradation, degrade
from ..people.person import Person
from ..scene.lighting import Lighting, shade, shade_flat, to_srgb8
from ..scene.surfaces import Box, Plane
from .background import cast_background
from .raster import MeshSurface, mesh_samples
from .raycast import CapsuleSurface, capsule_samples
from .samples import SurfaceSamples
from .shadows import capsule_shadow

#: Joint sets every person carries and every render reports (:mod:`convnextpose.joints` names).
JOINT_SETS = ("human36m", "muco", "mpii", "coco")


@dataclass
class Frame:
    """A complete scene: people, camera, room, furniture, lights and image degradations.

    Attributes:
        people: the people, front-to-back order irrelevant (the renderer z-buffers).
        camera: full-image camera.
        planes: floor, walls, ceiling or outdoor backdrop; boxes: furniture and seats.
        lighting: key/fill/ambient lights (world directions).
        degradation: image degradations applied by :func:`render_frame` when ``degrade_image=True``.
        info: sampling choices (preset, room kind, ...), for dataset metadata.
    """

    people: list[Person]
    camera: Camera
    planes: list[Plane]
    boxes: list[Box]
    lighting: Lighting
    degradation: Degradation
    info: dict = field(default_factory=dict)

    def person_box(self, index: int, scale: float = 1.0, square: bool = True) -> tuple[int, int, int, int]:
        """Integer (x0, y0, w, h) box around person ``index``'s projected surface, scaled about its centre."""
        box = project_box(self.camera, self.people[index].points)
        cx, cy = box[0] + box[2] / 2, box[1] + box[3] / 2
        w, h = box[2] * scale, box[3] * scale
        if square:
            w = h = max(w, h)
        return int(np.floor(cx - w / 2)), int(np.floor(cy - h / 2)), int(np.ceil(w)), int(np.ceil(h))


@dataclass
class RenderResult:
    """A rendered image of a :class:`Frame` (the full image or a crop of it).

    Attributes:
        rgb: (H, W, 3) uint8.
        depth: (H, W) float32 camera Z in mm of the visible surface (people, furniture, room); inf where none.
        masks: (P, H, W) bool visible pixels of each person (occluded parts excluded).
        instance: (H, W) int16 person index per pixel, -1 elsewhere.
        camera: the camera of this image (crop intrinsics for crops).
        joints_cam: joint set name (:data:`JOINT_SETS`) -> (P, J, 3) float32 mm, camera frame.
        joints_img: joint set name -> (P, J, 3) float32: u, v in this image's pixels and Z in mm.
        joints_vis: joint set name -> (P, J) bool: inside the image and not hidden by another person or furniture
            (a limb behind its own body still counts as visible, as in the benchmark annotations).
        bboxes: (P, 4) float32 tight x, y, w, h of each person's projected surface in this image's pixels (not
            clipped).
    """

    rgb: np.ndarray
    depth: np.ndarray
    masks: np.ndarray
    instance: np.ndarray
    camera: Camera
    joints_cam: dict[str, np.ndarray]
    joints_img: dict[str, np.ndarray]
    joints_vis: dict[str, np.ndarray]
    bboxes: np.ndarray

    def mask_box(self, person: int) -> np.ndarray | None:
        """Tight [x, y, w, h] px of a person's visible pixels, or None when none are visible."""
        return mask_box(self.masks[person])

    def to_dict(self) -> dict:
        """JSON-friendly annotations (no pixels): camera, and per person box, joints and visibility."""
        people = []
        for k in range(len(self.bboxes)):
            entry = {"bbox": self.bboxes[k].tolist(), "visible_pixels": int(self.masks[k].sum())}
            for name in self.joints_cam:
                entry[f"joints_cam_{name}"] = self.joints_cam[name][k].tolist()
                entry[f"joints_img_{name}"] = self.joints_img[name][k].tolist()
                entry[f"joints_vis_{name}"] = self.joints_vis[name][k].tolist()
            people.append(entry)
        return {"camera": self.camera.to_dict(), "people": people}


def mask_box(mask: np.ndarray) -> np.ndarray | None:
    """Tight [x, y, w, h] of a boolean mask, or None when it is empty."""
    ys, xs = np.nonzero(mask)
    if len(xs) == 0:
        return None
    return np.array([xs.min(), ys.min(), xs.max() - xs.min() + 1, ys.max() - ys.min() + 1], np.float64)


def project_box(camera: Camera, points_world: np.ndarray) -> np.ndarray:
    """Tight (x, y, w, h) box of points projected by ``camera`` (all points in front of it)."""
    rot = camera.R.astype(np.float32)
    p = np.asarray(points_world, np.float32) @ rot.T + camera.t.astype(np.float32)
    inv_z = 1.0 / np.maximum(p[:, 2], 1e-3)
    u = p[:, 0] * inv_z
    v = p[:, 1] * inv_z
    (fx, fy), (cx, cy) = (float(v) for v in camera.f), (float(v) for v in camera.c)
    x0, x1 = u.min() * fx + cx, u.max() * fx + cx
    y0, y1 = v.min() * fy + cy, v.max() * fy + cy
    return np.array([x0, y0, x1 - x0, y1 - y0], np.float32)


_RENDERERS = ((MeshSurface, mesh_samples), (CapsuleSurface, capsule_samples))


def people_samples(camera: Camera, people: list[Person], depth: np.ndarray) -> SurfaceSamples:
    """The people's visible surface in front of ``depth`` (H*W,), each drawn by the renderer its surface needs
    (meshes: the rasteriser; capsule bodies: the ray-caster); where kinds overlap the nearest sample wins."""
    parts = []
    for kind, renderer in _RENDERERS:
        index = [i for i, p in enumerate(people) if isinstance(p.surface, kind)]
        if index:
            parts.append((np.array(index), renderer(camera, [people[i].surface for i in index], depth)))
    if sum(len(index) for index, _ in parts) != len(people):
        kinds = sorted({type(p.surface).__name__ for p in people})
        raise TypeError(f"cannot render people with surfaces of type {kinds}")
    if len(parts) == 1 and len(parts[0][0]) == len(people):
        return parts[0][1]
    merged = SurfaceSamples(
        *(np.concatenate([getattr(s, f) for _, s in parts]) for f in SurfaceSamples.__dataclass_fields__)
    )
    merged.owner = np.concatenate([index[s.owner] for index, s in parts]).astype(np.int16)
    order = np.lexsort((merged.depth, merged.pixels))
    first = order[np.r_[True, merged.pixels[order][1:] != merged.pixels[order][:-1]]]
    return SurfaceSamples(*(getattr(merged, f)[first] for f in SurfaceSamples.__dataclass_fields__))


def render_frame(
    frame: Frame,
    crop: tuple[int, int, int, int] | None = None,
    out_size: tuple[int, int] | None = None,
    degrade_image: bool = True,
    antialias: bool = True,
) -> RenderResult:
    """Render a frame, or only the ``crop`` = (x0, y0, w, h) region of it (resampled to ``out_size`` if given).

    Args:
        frame: from :meth:`~convnextpose.synth.frames.FrameSampler.sample_frame`.
        crop: region of the full image in pixels; None renders the full image.
        out_size: (width, height) of the output for a crop (e.g. the network input size).
        degrade_image: apply the frame's blur/noise/JPEG/exposure degradations to the RGB image.
        antialias: soften one-pixel silhouettes.

    Returns:
        :class:`RenderResult` in the pixels of the rendered region.
    """
    cam = frame.camera if crop is None else frame.camera.crop(crop, out_size)
    w, h = cam.width, cam.height
    light = frame.lighting
    bg = cast_background(cam, frame.planes, frame.boxes)
    depth = bg["depth"].copy()
    # Floor shadows of the people, then the lit background.
    key_vis = np.ones(w * h, np.float32)
    ao = np.ones(w * h, np.float32)
    floor = bg["floor_pixels"]
    if len(floor) and frame.people:
        caps = [c for p in frame.people for c in p.capsules]
        kv, a = capsule_shadow(bg["floor_points"], caps, light.key_dir)
        key_vis[floor] = 1 - light.shadow_strength * (1 - kv)
        ao[floor] = a
    hit = np.isfinite(depth)
    image = np.zeros((w * h, 3), np.float32)
    if hit.any():
        image[hit] = shade_flat(
            bg["albedo"][hit], bg["normal_id"][hit], bg["normal_table"], light, key_vis[hit], ao[hit]
        )
    label = np.where(hit, bg["kind"].astype(np.int16) - 10, -20).astype(np.int16)

    # People: one z-buffer over everyone.
    instance = np.full(w * h, -1, np.int16)
    if frame.people:
        people = people_samples(cam, frame.people, depth)
        if len(people):
            view = cam.position[None] - people.points
            view /= np.maximum(np.linalg.norm(view, axis=1, keepdims=True), 1e-9)
            pix = people.pixels
            image[pix] = shade(people.albedo, people.normals, view, light, 1.0, 1.0, people.specular)
            depth[pix] = people.depth
            instance[pix] = people.owner
            label[pix] = people.owner
    image = image.reshape(h, w, 3)
    if antialias:
        image = antialias_edges(image, label.reshape(h, w))
    rgb = to_srgb8(image)
    if degrade_image:
        rgb = degrade(rgb, frame.degradation)
    instance = instance.reshape(h, w)
    depth = depth.reshape(h, w)
    masks = np.stack([instance == k for k in range(len(frame.people))]) if frame.people else np.zeros((0, h, w), bool)

    joints_cam, joints_img, joints_vis = {}, {}, {}
    for name in JOINT_SETS:
        world = np.stack([p.joints[name] for p in frame.people]) if frame.people else np.zeros((0, 0, 3))
        joints_cam[name] = cam.to_cam(world).astype(np.float32)
        joints_img[name] = cam.project(joints_cam[name]).astype(np.float32)
        joints_vis[name] = joint_visibility(joints_img[name], depth, instance)
    bboxes = (
        np.stack([project_box(cam, p.points) for p in frame.people]) if frame.people else np.zeros((0, 4), np.float32)
    )
    return RenderResult(rgb, depth, masks, instance, cam, joints_cam, joints_img, joints_vis, bboxes)


def joint_visibility(
    joints_img: np.ndarray,
    depth: np.ndarray,
    instance: np.ndarray,
    margin_mm: float = 150.0,
    self_occlusion: bool = False,
) -> np.ndarray:
    """(P, J) bool: the joint projects inside the image and nothing else hides it.

    A joint lies inside its body, behind its own surface; the surface at its pixel hides it when it belongs to another
    person or to the scene and lies more than ``margin_mm`` in front of the joint. With ``self_occlusion`` the
    person's own surface hides it too when it is more than ``margin_mm`` in front (an arm across the chest): COCO's
    "labelled but not visible". Without it a limb behind the person's own body counts as visible.

    Args:
        joints_img: (P, J, 3) u, v px and camera Z mm.
        depth: (H, W) camera Z of the visible surface; instance: (H, W) person index per pixel (-1 elsewhere).
    """
    h, w = depth.shape
    u = np.round(joints_img[..., 0]).astype(np.int64)
    v = np.round(joints_img[..., 1]).astype(np.int64)
    inside = (u >= 0) & (u < w) & (v >= 0) & (v < h) & (joints_img[..., 2] > 0)
    uc, vc = np.clip(u, 0, w - 1), np.clip(v, 0, h - 1)
    owner = instance[vc, uc]
    surface = depth[vc, uc]
    person = np.arange(len(joints_img))[:, None]
    in_front = surface < joints_img[..., 2] - margin_mm
    hidden = in_front if self_occlusion else (owner != person) & in_front
    return inside & ~hidden


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
