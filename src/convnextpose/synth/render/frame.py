"""Rendering a frame: the lit scene, the people (whatever their body back-end), and what the image shows of them.

:func:`render_frame` is the one renderer interface: it ray-casts the room and furniture, shadows the floor under the
people, draws the people through the renderer their surfaces need (the rasteriser for Anny's meshes, the ray-caster
for capsule bodies) into the same z-buffer, shades everything with the frame's lights, and returns a
:class:`RenderResult` with the image, depth, per-person masks, boxes and joints. Rendering is a pure function of the
frame and the crop, so a sample's full image and its person crop agree pixel for pixel.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..camera import Camera
from ..degrade import Degradation, degrade
from ..people.person import Person
from ..scene.lighting import Lighting, shade, shade_flat, to_srgb8
from ..scene.surfaces import Box, Plane
from .lit_scene import LitScene, antialias_edges, light_scene
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
        backdrop: (H, W, 3) uint8 RGB photo behind everything at ``camera``'s resolution, or None (then the planes
            are drawn); the floor plane stays invisible and only receives the people's contact shadows.
    """

    people: list[Person]
    camera: Camera
    planes: list[Plane]
    boxes: list[Box]
    lighting: Lighting
    degradation: Degradation
    info: dict = field(default_factory=dict)
    backdrop: np.ndarray | None = None

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
    # The occupied rows and columns (two reductions), not every pixel's coordinates.
    ys, xs = np.flatnonzero(mask.any(1)), np.flatnonzero(mask.any(0))
    if len(xs) == 0:
        return None
    return np.array([xs[0], ys[0], xs[-1] - xs[0] + 1, ys[-1] - ys[0] + 1], np.float64)


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
    scene: LitScene | None = None,
    jpeg: bool = True,
) -> RenderResult:
    """Render a frame, or only the ``crop`` = (x0, y0, w, h) region of it (resampled to ``out_size`` if given).

    Args:
        frame: from :meth:`~convnextpose.synth.frames.FrameSampler.sample_frame`.
        crop: region of the full image in pixels; None renders the full image.
        out_size: (width, height) of the output for a crop (e.g. the network input size).
        degrade_image: apply the frame's blur/noise/JPEG/exposure degradations to the RGB image.
        antialias: soften one-pixel silhouettes.
        scene: the frame's scene already lit for the rendered camera (:func:`~.lit_scene.light_scene`), shared by
            the frames of a static camera; only the region the people and their shadows change is then redrawn.
        jpeg: apply the degradation's JPEG compression too (False: the caller encodes the image at that quality).

    Returns:
        :class:`RenderResult` in the pixels of the rendered region.
    """
    cam = frame.camera if crop is None else frame.camera.crop(crop, out_size)
    w, h = cam.width, cam.height
    light = frame.lighting
    cached = scene is not None
    if scene is None:
        scene = light_scene(
            cam, frame.planes, frame.boxes, light, backdrop=frame.backdrop, backdrop_camera=frame.camera
        )
    elif scene.camera is not cam:
        raise ValueError("the lit scene was made for another camera than the one rendered")
    depth = scene.depth.copy()
    instance = np.full(w * h, -1, np.int16)
    updates = []  # (pixels, linear RGB, label or None): what the people and their shadows change
    if frame.people:
        # Floor shadows of the people, then the people: one z-buffer over everyone.
        caps = [c for p in frame.people for c in p.capsules]
        # A static camera's frames take the shadows' smooth shading from every third pixel; a lone frame from all,
        # so a crop of it is the same as the crop of the full image.
        shadowed, kv, ao = capsule_shadow(scene.floor, cam, caps, light.key_dir, step=3 if cached else 1)
        photo = scene.photo[shadowed] if scene.photo is not None else np.zeros(len(shadowed), bool)
        lit = ~photo
        if lit.any():
            pix, key_vis = shadowed[lit], 1 - light.shadow_strength * (1 - kv[lit])
            albedo, normal_id = scene.albedo[pix], scene.normal_id[pix]
            updates.append((pix, shade_flat(albedo, normal_id, scene.normal_table, light, key_vis, ao[lit]), None))
        if photo.any():  # a photo is not relit: it only darkens under the contact shadows
            pix = shadowed[photo]
            updates.append((pix, scene.linear[pix] * ao[photo][:, None], None))
        people = people_samples(cam, frame.people, depth)
        if len(people):
            view = cam.position[None] - people.points
            view /= np.maximum(np.linalg.norm(view, axis=1, keepdims=True), 1e-9)
            shaded = shade(people.albedo, people.normals, view, light, 1.0, 1.0, people.specular)
            updates.append((people.pixels, shaded, people.owner))
            depth[people.pixels] = people.depth
            instance[people.pixels] = people.owner
    if cached and antialias:
        rgb = _redraw(scene, updates)
    else:
        image, label = scene.linear.copy(), scene.label.copy()
        for pix, values, labels in updates:
            image[pix] = values
            if labels is not None:
                label[pix] = labels
        image, label = image.reshape(h, w, 3), label.reshape(h, w)
        rgb = to_srgb8(antialias_edges(image, label) if antialias else image)
    if degrade_image:
        rgb = degrade(rgb, frame.degradation, jpeg=jpeg)
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


def _redraw(scene: LitScene, updates: list[tuple[np.ndarray, np.ndarray, np.ndarray | None]]) -> np.ndarray:
    """The empty scene's sRGB image with the updated pixels converted again, and every pixel on an edge between
    surfaces (people, floor, walls) inside the people's rectangle anti-aliased again."""
    out = scene.srgb(antialias=True).copy()
    h, w = out.shape[:2]
    flat = out.reshape(-1, 3)
    for pix, values, _ in updates:
        flat[pix] = to_srgb8(values)
    labelled = [pix for pix, _, labels in updates if labels is not None]
    if not labelled:
        return out
    rows, cols = np.divmod(np.concatenate(labelled), w)
    # Edges are found one pixel around the people; their 3x3 means read one more pixel around.
    y0, y1 = max(rows.min() - 1, 0), min(rows.max() + 2, h)
    x0, x1 = max(cols.min() - 1, 0), min(cols.max() + 2, w)
    sy0, sy1, sx0, sx1 = max(y0 - 1, 0), min(y1 + 1, h), max(x0 - 1, 0), min(x1 + 1, w)
    image = scene.linear.reshape(h, w, 3)[sy0:sy1, sx0:sx1].copy()
    label = scene.label.reshape(h, w)[sy0:sy1, sx0:sx1].copy()
    for pix, values, labels in updates:
        r, c = np.divmod(pix, w)
        inside = (r >= sy0) & (r < sy1) & (c >= sx0) & (c < sx1)
        image[r[inside] - sy0, c[inside] - sx0] = values[inside]
        if labels is not None:
            label[r - sy0, c - sx0] = labels
    edge = np.zeros(label.shape, bool)
    edge[:, 1:] |= label[:, 1:] != label[:, :-1]
    edge[:, :-1] |= label[:, 1:] != label[:, :-1]
    edge[1:] |= label[1:] != label[:-1]
    edge[:-1] |= label[1:] != label[:-1]
    inner = np.zeros(label.shape, bool)
    inner[y0 - sy0 : y1 - sy0, x0 - sx0 : x1 - sx0] = True
    er, ec = np.nonzero(edge & inner)
    # The 3x3 box mean with replicated borders, as antialias_edges takes it.
    hh, ww = label.shape
    mean = np.zeros((len(er), 3), np.float32)
    for dy in (-1, 0, 1):
        for dx in (-1, 0, 1):
            mean += image[np.clip(er + dy, 0, hh - 1), np.clip(ec + dx, 0, ww - 1)]
    values = 0.5 * image[er, ec] + 0.5 * (mean / 9)
    flat[(er + sy0) * w + ec + sx0] = to_srgb8(values)
    return out


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
