"""Synthetic scenes of Anny people: sampling (bodies, poses, looks, rooms, cameras, lights) and rendering.

The generator calls two things: :meth:`AnnyScene.sample_frame` (or :meth:`AnnyScene.sample_sequence`) draws a
:class:`Frame`, a complete scene description, and :func:`render_frame` turns a frame into a :class:`RenderResult`
(RGB, depth, per-person masks, joints in the camera frame). Rendering is a pure function of the frame and the crop,
so a sample's full image and its person crop agree pixel for pixel.

Example::

    scene = AnnyScene(seed=0)
    frame = scene.sample_frame(num_people=1, camera="h36m")
    full = render_frame(frame)                                      # 1000 x 1000
    crop = render_frame(frame, crop=frame.person_box(0, scale=1.25), out_size=(256, 256))
    crop.rgb, crop.depth, crop.masks, crop.joints_cam_h36m, crop.joints_img_h36m
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace

import numpy as np

from ..synth.camera import CAMERA_PRESETS, Camera, sample_camera
from . import poses as P
from . import textures as T
from .anny_model import AnnyBody, BodyBatch, load_anny
from .appearance import NUM_MATERIALS, Appearance, material_albedo, sample_appearance
from .joint_map import JointRegressor, crown_vertices
from .render import (
    Box,
    Capsule,
    Degradation,
    Lighting,
    Plane,
    antialias_edges,
    capsule_shadow,
    cast_background,
    degrade,
    interpolate,
    rasterize,
    sample_degradation,
    sample_lighting,
    shade,
    shade_flat,
    srgb_to_linear,
    to_srgb8,
    vertex_normals,
)

logger = logging.getLogger(__name__)

#: Odds of each pose category when poses are drawn at random.
CATEGORY_WEIGHTS = {"everyday": 0.45, "fitness": 0.3, "stretch": 0.12, "yoga": 0.13}


@dataclass
class Person:
    """One posed, dressed person placed in the world (mm, Z up, floor at Z = 0).

    Attributes:
        vertices: (V, 3) float32 world mm; normals: (V, 3) float32 unit vertex normals (world).
        rest_vertices: (V, 3) float32 rest-pose mm (pattern coordinates).
        joints_h36m: (18, 3) float32 world mm; joints_muco: (21, 3) float32 world mm.
        appearance: clothing, skin and hair.
        capsules: soft-shadow casters in the world.
        phenotypes: (6,) Anny shape parameters; pose_name: library name; pose_params: (P,) degrees.
        footprint: radius (mm) of the body's floor footprint around ``position``; position: (2,) floor x, y mm.
    """

    vertices: np.ndarray
    normals: np.ndarray
    rest_vertices: np.ndarray
    joints_h36m: np.ndarray
    joints_muco: np.ndarray
    appearance: Appearance
    capsules: list[Capsule]
    phenotypes: np.ndarray
    pose_name: str
    pose_params: np.ndarray
    footprint: float
    position: np.ndarray = field(default_factory=lambda: np.zeros(2))
    seat: bool = False

    def transformed(self, yaw_deg: float, position: np.ndarray) -> Person:
        """This person turned by ``yaw_deg`` about the vertical axis and moved to floor position (x, y) mm."""
        a = np.deg2rad(yaw_deg)
        rot = np.array([[np.cos(a), -np.sin(a), 0], [np.sin(a), np.cos(a), 0], [0, 0, 1.0]], np.float32)
        shift = np.array([position[0], position[1], 0.0], np.float32)

        def move(p: np.ndarray) -> np.ndarray:
            return (p @ rot.T + shift).astype(np.float32)

        caps = [Capsule(move(c.ends), c.radius) for c in self.capsules]
        return replace(
            self,
            vertices=move(self.vertices),
            normals=(self.normals @ rot.T).astype(np.float32),
            joints_h36m=move(self.joints_h36m),
            joints_muco=move(self.joints_muco),
            capsules=caps,
            position=np.asarray(position[:2], np.float64),
        )


@dataclass
class Frame:
    """A complete scene: people, camera, room, furniture, lights and image degradations.

    Attributes:
        people: the people, front-to-back order irrelevant (the renderer z-buffers).
        camera: full-image camera.
        planes: floor, walls, ceiling or outdoor backdrop; boxes: furniture and seats.
        lighting: key/fill/ambient lights (world directions).
        degradation: image degradations applied by :func:`render_frame` when ``degrade=True``.
        faces: (F, 3) int32 triangles shared by every person's mesh.
        info: sampling choices (preset, room kind, ...), for dataset metadata.
    """

    people: list[Person]
    camera: Camera
    planes: list[Plane]
    boxes: list[Box]
    lighting: Lighting
    degradation: Degradation
    faces: np.ndarray
    info: dict = field(default_factory=dict)

    def person_box(self, index: int, scale: float = 1.0, square: bool = True) -> tuple[int, int, int, int]:
        """Integer (x0, y0, w, h) box around person ``index``'s projected mesh, scaled about its centre."""
        box = _project_box(self.camera, self.people[index].vertices)
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
        joints_cam_h36m: (P, 18, 3) float32 mm, camera frame, Human3.6M order.
        joints_cam_muco: (P, 21, 3) float32 mm, camera frame, MuCo-3DHP order.
        joints_img_h36m, joints_img_muco: (P, J, 3) float32: u, v in this image's pixels and Z in mm.
        joints_vis_h36m, joints_vis_muco: (P, J) bool: inside the image and not hidden by another person or furniture
            (a limb behind its own body still counts as visible, as in the benchmark annotations).
        bboxes: (P, 4) float32 tight x, y, w, h of each person's projected mesh in this image's pixels (not clipped).
    """

    rgb: np.ndarray
    depth: np.ndarray
    masks: np.ndarray
    instance: np.ndarray
    camera: Camera
    joints_cam_h36m: np.ndarray
    joints_cam_muco: np.ndarray
    joints_img_h36m: np.ndarray
    joints_img_muco: np.ndarray
    joints_vis_h36m: np.ndarray
    joints_vis_muco: np.ndarray
    bboxes: np.ndarray

    def to_dict(self) -> dict:
        """JSON-friendly annotations (no pixels): camera, and per person box, joints and visibility."""
        people = []
        for k in range(len(self.bboxes)):
            people.append(
                {
                    "bbox": self.bboxes[k].tolist(),
                    "joints_cam_h36m": self.joints_cam_h36m[k].tolist(),
                    "joints_img_h36m": self.joints_img_h36m[k].tolist(),
                    "joints_vis_h36m": self.joints_vis_h36m[k].tolist(),
                    "joints_cam_muco": self.joints_cam_muco[k].tolist(),
                    "joints_img_muco": self.joints_img_muco[k].tolist(),
                    "joints_vis_muco": self.joints_vis_muco[k].tolist(),
                    "visible_pixels": int(self.masks[k].sum()),
                }
            )
        return {"camera": self.camera.to_dict(), "people": people}


def _project_box(camera: Camera, points_world: np.ndarray) -> np.ndarray:
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


# ----------------------------------------------------------------------------------------------------------------------
# Rendering
# ----------------------------------------------------------------------------------------------------------------------
def render_frame(
    frame: Frame,
    crop: tuple[int, int, int, int] | None = None,
    out_size: tuple[int, int] | None = None,
    degrade_image: bool = True,
    antialias: bool = True,
) -> RenderResult:
    """Render a frame, or only the ``crop`` = (x0, y0, w, h) region of it (resampled to ``out_size`` if given).

    Args:
        frame: from :meth:`AnnyScene.sample_frame`.
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

    # People: one z-buffer over everyone's triangles.
    instance = np.full(w * h, -1, np.int16)
    if frame.people:
        nv = len(frame.people[0].vertices)
        faces0 = frame.people[0].appearance.face_material.shape[0]
        verts = np.concatenate([p.vertices for p in frame.people])
        rest = np.concatenate([p.rest_vertices for p in frame.people])
        faces = np.concatenate([frame.faces + k * nv for k in range(len(frame.people))])
        points = cam.project(cam.to_cam(verts))
        frags = rasterize(points, faces, w, h)
        front = frags.depth < depth[frags.pixels]
        pix, fid = frags.pixels[front], frags.faces[front]
        sub = replace(frags, pixels=pix, faces=fid, bary=frags.bary[front], depth=frags.depth[front])
        if len(pix):
            person = (fid // faces0).astype(np.int16)
            tables = _material_tables(frame.people)
            # Interpolate each material's indicator and keep the largest, so borders (hems, necklines, hairlines)
            # cut smoothly through triangles instead of following their edges.
            vmat = np.concatenate([p.appearance.vertex_material for p in frame.people]).astype(np.int64)
            corners = vmat[faces[fid]]  # (K, 3)
            weights = np.zeros((len(fid), NUM_MATERIALS), np.float32)
            rows = np.arange(len(fid))
            for c in range(3):
                weights[rows, corners[:, c]] += sub.bary[:, c]
            material = weights.argmax(1) + person.astype(np.int64) * NUM_MATERIALS
            rest_pts = interpolate(rest, faces, sub)
            albedo = srgb_to_linear(material_albedo(material, rest_pts, *tables[:6]))
            normals = interpolate(np.concatenate([p.normals for p in frame.people]), faces, sub)
            normals /= np.maximum(np.linalg.norm(normals, axis=1, keepdims=True), 1e-9)
            world = interpolate(verts, faces, sub)
            view = cam.position[None] - world
            view /= np.maximum(np.linalg.norm(view, axis=1, keepdims=True), 1e-9)
            image[pix] = shade(albedo, normals, view, light, 1.0, 1.0, tables[6][material])
            depth[pix] = sub.depth
            instance[pix] = person
            label[pix] = person
    image = image.reshape(h, w, 3)
    if antialias:
        image = antialias_edges(image, label.reshape(h, w))
    rgb = to_srgb8(image)
    if degrade_image:
        rgb = degrade(rgb, frame.degradation)
    instance = instance.reshape(h, w)
    depth = depth.reshape(h, w)
    masks = np.stack([instance == k for k in range(len(frame.people))]) if frame.people else np.zeros((0, h, w), bool)

    out = {}
    for name in ("h36m", "muco"):
        joints_world = (
            np.stack([getattr(p, f"joints_{name}") for p in frame.people])
            if frame.people
            else np.zeros((0, 18 if name == "h36m" else 21, 3))
        )
        joints_cam = cam.to_cam(joints_world).astype(np.float32)
        joints_img = cam.project(joints_cam).astype(np.float32)
        out[f"joints_cam_{name}"] = joints_cam
        out[f"joints_img_{name}"] = joints_img
        out[f"joints_vis_{name}"] = _joint_visibility(joints_img, depth, instance)
    bboxes = (
        np.stack([_project_box(cam, p.vertices) for p in frame.people])
        if frame.people
        else np.zeros((0, 4), np.float32)
    )
    return RenderResult(rgb=rgb, depth=depth, masks=masks, instance=instance, camera=cam, bboxes=bboxes, **out)


def _material_tables(people: list[Person]) -> tuple[np.ndarray, ...]:
    fields = ("color1", "color2", "pattern", "period", "duty", "angle", "specular")
    return tuple(np.concatenate([getattr(p.appearance, f) for p in people]) for f in fields)


def _joint_visibility(
    joints_img: np.ndarray, depth: np.ndarray, instance: np.ndarray, margin_mm: float = 150.0
) -> np.ndarray:
    """(P, J) bool: the joint projects inside the image and the surface there is its own person's or lies at most
    ``margin_mm`` in front of the joint (joints sit inside the body, behind its own surface)."""
    h, w = depth.shape
    u = np.round(joints_img[..., 0]).astype(np.int64)
    v = np.round(joints_img[..., 1]).astype(np.int64)
    inside = (u >= 0) & (u < w) & (v >= 0) & (v < h) & (joints_img[..., 2] > 0)
    uc, vc = np.clip(u, 0, w - 1), np.clip(v, 0, h - 1)
    owner = instance[vc, uc]
    surface = depth[vc, uc]
    person = np.arange(len(joints_img))[:, None]
    own = owner == person
    not_hidden = own | (surface >= joints_img[..., 2] - margin_mm)
    return inside & not_hidden


# ----------------------------------------------------------------------------------------------------------------------
# Sampling
# ----------------------------------------------------------------------------------------------------------------------
class AnnyScene:
    """Samples frames of realistic synthetic people with Anny.

    Args:
        seed: seeds everything; the same seed and the same calls give the same frames.
        body: an :class:`AnnyBody` to share (default: a process-wide one, built in the project cache).
        cache_dir: Anny cache folder when ``body`` is None.
        age_range: adult ages by default (years).
        pose_variation: scale of the random variations around library poses (0 = exact library poses).
        batch_size: bodies posed per Anny forward pass when refilling the pool of random people.
    """

    def __init__(
        self,
        seed: int = 0,
        body: AnnyBody | None = None,
        cache_dir: str | None = None,
        age_range: tuple[float, float] = (18.0, 75.0),
        pose_variation: float = 1.0,
        batch_size: int = 16,
    ):
        self.rng = np.random.default_rng(seed)
        self.body = body if body is not None else load_anny(cache_dir)
        self.age_range = age_range
        self.pose_variation = pose_variation
        self.batch_size = batch_size
        self.textures = T.TexturePool(np.random.default_rng(self.rng.integers(2**62)), per_kind=4)
        self.regressors = {"h36m": JointRegressor(self.body, "human36m"), "muco": JointRegressor(self.body, "muco")}
        self._crown = crown_vertices(self.body)
        self._pool: list[Person] = []
        self._contact_masks = self._make_contact_masks()

    # -- people ------------------------------------------------------------------------------------------------------
    def _make_contact_masks(self) -> dict[str, np.ndarray]:
        mask = self.body.vertex_mask
        return {
            "feet": mask(("foot", "toe")),
            "hands": mask(("finger", "metacarpal", "wrist")),
            "elbows": mask("lowerarm01"),
            "knees": mask("lowerleg01"),
            "seat": mask(("upperleg01", "pelvis")),
        }

    def random_pose_names(self, n: int) -> list[str]:
        """``n`` library pose names, drawn by :data:`CATEGORY_WEIGHTS` then uniformly within the category."""
        cats = list(CATEGORY_WEIGHTS)
        probs = np.array([CATEGORY_WEIGHTS[c] for c in cats])
        names = []
        for c in self.rng.choice(cats, size=n, p=probs / probs.sum()):
            options = sorted(k for k, v in P.POSE_LIBRARY.items() if v.category == c)
            names.append(options[int(self.rng.integers(len(options)))])
        return names

    def sample_people(self, n: int, poses: list[str] | None = None, variation: float | None = None) -> list[Person]:
        """``n`` random people in library poses (random poses from a pool filled in batches when ``poses`` is None).

        People come centred at the origin, facing -Y, with the floor at Z = 0; :meth:`sample_frame` places them.
        """
        if poses is None:
            while len(self._pool) < n:
                self._pool.extend(self._make_people(self.random_pose_names(self.batch_size), variation))
            out, self._pool = self._pool[:n], self._pool[n:]
            return out
        if len(poses) != n:
            raise ValueError(f"got {len(poses)} pose names for {n} people")
        return self._make_people(list(poses), variation)

    def _make_people(self, names: list[str], variation: float | None = None) -> list[Person]:
        body, rng = self.body, self.rng
        scale = self.pose_variation if variation is None else variation
        n = len(names)
        phen = body.sample_phenotypes(n, rng, self.age_range)
        base = np.stack([P.pose_params(nm) for nm in names])
        params = P.vary_pose(base, rng, scale) if scale > 0 else P.clamp_to_limits(base)
        rest_v, rest_h = body.rest(phen)
        ref_h = body.reference_heads(phen)
        radii = self._capsule_radii(rest_v, rest_h)
        todo = np.arange(n)
        batch: BodyBatch | None = None
        for attempt in range(6):
            rot = P.pose_rotations(params[todo], ref_h[todo], body.bone_names)
            out = body.forward(rot, phen[todo])
            bad = P.has_self_intersection(self._segments(out), radii[todo])
            batch = out if batch is None else _merge(batch, out, todo)
            if not bad.any():
                break
            todo = todo[bad]
            # Retry with fresh variations; the last attempt falls back to the exact library pose.
            params[todo] = P.vary_pose(base[todo], rng, scale) if attempt < 4 else P.clamp_to_limits(base[todo])
        people = []
        for k in range(n):
            one = batch.take(k)
            lib = P.POSE_LIBRARY[names[k]]
            verts, heads, _ = self._level_and_ground(one.vertices[0], one.bone_heads[0], lib.contacts)
            joints = {key: reg(heads, verts) for key, reg in self.regressors.items()}
            segs = self._segments_single(heads, verts)
            caps = [Capsule(segs[c].astype(np.float32), float(radii[k, c])) for c in range(len(P.CAPSULES))]
            app = sample_appearance(rng, body, rest_v[k], rest_h[k], gender=float(phen[k, 0]))
            footprint = float(np.linalg.norm(verts[:, :2], axis=1).max())
            people.append(
                Person(
                    vertices=verts.astype(np.float32),
                    normals=vertex_normals(verts, body.faces),
                    rest_vertices=rest_v[k].astype(np.float32),
                    joints_h36m=joints["h36m"],
                    joints_muco=joints["muco"],
                    appearance=app,
                    capsules=caps,
                    phenotypes=phen[k],
                    pose_name=names[k],
                    pose_params=params[k],
                    footprint=footprint,
                    seat=lib.seat,
                )
            )
        return people

    def _capsule_radii(self, rest_v: np.ndarray, rest_h: np.ndarray) -> np.ndarray:
        segs = self._segments_from(rest_h, rest_v)
        return P.capsule_radii(rest_v, segs, self.body.dominant_bone, self.body.bone_names)

    def _segments_from(self, heads: np.ndarray, verts: np.ndarray) -> np.ndarray:
        crown = verts[..., self._crown, :].mean(-2)
        kp = self.body.keypoints(verts, ("left_big_toe", "left_small_toe", "right_big_toe", "right_small_toe"))
        toes = np.stack([kp[..., :2, :].mean(-2), kp[..., 2:, :].mean(-2)], axis=-2)
        return P.capsule_segments(heads, self.body.bone_names, crown, toes)

    def _segments(self, batch: BodyBatch) -> np.ndarray:
        return self._segments_from(batch.bone_heads, batch.vertices)

    def _segments_single(self, heads: np.ndarray, verts: np.ndarray) -> np.ndarray:
        return self._segments_from(heads[None], verts[None])[0]

    def _level_and_ground(
        self, verts: np.ndarray, heads: np.ndarray, contacts: tuple[str, ...]
    ) -> tuple[np.ndarray, np.ndarray, float]:
        """Tilt the body about its left-right axis so two contact groups touch the floor together, drop it onto the
        floor (lowest vertex at Z = 0) and centre the pelvis over the origin. Also returns the tilt (radians)."""
        verts, heads = verts.astype(np.float64), heads.astype(np.float64)
        total = 0.0
        if len(contacts) == 2:
            for _ in range(3):
                lows = []
                for group in contacts:
                    sel = verts[self._contact_masks[group]]
                    lows.append(sel[np.argmin(sel[:, 2])])
                (ya, za), (yb, zb) = lows[0][1:], lows[1][1:]
                theta = np.arctan2(-(zb - za), yb - ya)
                theta = (theta + np.pi / 2) % np.pi - np.pi / 2
                c, s = np.cos(theta), np.sin(theta)
                rot = np.array([[1, 0, 0], [0, c, -s], [0, s, c]])
                verts, heads = verts @ rot.T, heads @ rot.T
                total += theta
        pelvis = 0.5 * (heads[self.body.bone("upperleg01.L")] + heads[self.body.bone("upperleg01.R")])
        shift = np.array([-pelvis[0], -pelvis[1], -verts[:, 2].min()])
        return verts + shift, heads + shift, total

    # -- frames ------------------------------------------------------------------------------------------------------
    def sample_frame(
        self,
        num_people: int = 1,
        camera: str | Camera = "h36m",
        image_size: tuple[int, int] | None = None,
        poses: list[str] | None = None,
        people: list[Person] | None = None,
        outdoor_prob: float = 0.3,
        clutter: tuple[int, int] = (0, 6),
        degradation: float = 1.0,
        place: bool = True,
    ) -> Frame:
        """Draw a complete scene.

        Args:
            num_people: people in the frame (ignored when ``people`` is given).
            camera: a preset name (:data:`~convnextpose.bodies.camera.CAMERA_PRESETS`: ``h36m``, ``mupots``,
                ``phone_floor``, ``phone_tripod``) or a fixed :class:`Camera` (people are then placed in its view).
            image_size: (width, height) overriding the preset's size.
            poses: library pose names, one per person (random when None).
            people: already sampled people (e.g. from :meth:`sample_people`), placed as they are.
            outdoor_prob: probability of an outdoor scene (grass/asphalt and a far backdrop) instead of a room.
            clutter: (min, max) furniture boxes in the scene.
            degradation: strength of the image degradations (0 disables them).
            place: give each person a random position and heading; False keeps ``people`` where they are.
        """
        rng = self.rng
        if people is None:
            people = self.sample_people(num_people, poses)
        preset = camera if isinstance(camera, str) else None
        placed = self._place_people(people) if place else list(people)
        tops = [float(p.vertices[:, 2].max()) for p in placed]
        centre = np.mean([p.position for p in placed], axis=0) if placed else np.zeros(2)
        target = np.array([centre[0], centre[1], 0.5 * (np.mean(tops) if tops else 1700.0)])
        if preset is not None:
            if preset not in CAMERA_PRESETS:
                raise ValueError(f"unknown camera preset {preset!r}; presets: {sorted(CAMERA_PRESETS)}")
            cam = self._frame_people(placed, preset, target, image_size)
        else:
            cam = camera
        outdoor = rng.random() < outdoor_prob
        planes = self._room(cam, placed, outdoor)
        boxes = self._seats(placed) + self._clutter(cam, placed, planes, clutter)
        info = {
            "preset": preset or "custom",
            "outdoor": bool(outdoor),
            "poses": [p.pose_name for p in placed],
        }
        return Frame(
            people=placed,
            camera=cam,
            planes=planes,
            boxes=boxes,
            lighting=sample_lighting(rng, outdoor),
            degradation=sample_degradation(rng, degradation),
            faces=self.body.faces,
            info=info,
        )

    def _place_people(self, people: list[Person]) -> list[Person]:
        rng = self.rng
        placed: list[Person] = []
        for person in people:
            for attempt in range(50):
                spread = 700.0 * np.sqrt(len(people)) * (1 + attempt / 25)
                pos = rng.uniform(-1, 1, 2) * spread if placed else np.zeros(2)
                ok = all(
                    np.linalg.norm(pos - q.position) > 0.8 * (person.footprint + q.footprint) + 100 for q in placed
                )
                if ok:
                    break
            placed.append(person.transformed(rng.uniform(-180, 180), pos))
        return placed

    def _frame_people(
        self, people: list[Person], preset: str, target: np.ndarray, image_size: tuple[int, int] | None
    ) -> Camera:
        """A preset camera that sees everyone: retries the random draw, then backs off until all boxes fit."""
        rng = self.rng
        best, best_score = None, -np.inf
        for attempt in range(12):
            scale = 1.0 + 0.15 * max(0, attempt - 6)
            cam = sample_camera(preset, rng, target, image_size)
            if scale > 1:
                pos = target + (cam.position - target) * np.array([scale, scale, 1.0])
                cam = Camera.look_at(pos, target, cam.f, cam.size, cam.c)
            score = min(_fit_score(cam, p.vertices) for p in people) if people else 1.0
            if score > best_score:
                best, best_score = cam, score
            if score >= 0.97:
                break
        return best

    def _room(self, cam: Camera, people: list[Person], outdoor: bool) -> list[Plane]:
        rng, tex = self.rng, self.textures
        floor_kinds = T.OUTDOOR_FLOORS if outdoor else T.FLOORS
        kind = list(floor_kinds)[int(rng.integers(len(floor_kinds)))]
        floor_tex = tex.get(("out_" if outdoor else "") + kind, floor_kinds[kind])
        a = rng.uniform(0, np.pi)
        floor = Plane(
            normal=np.array([0.0, 0.0, 1.0]),
            offset=0.0,
            axes=np.array([[np.cos(a), np.sin(a), 0], [-np.sin(a), np.cos(a), 0]]),
            texture=floor_tex,
            origin=np.append(rng.uniform(-5000, 5000, 2), 0.0),
            tint=np.exp(rng.normal(0, 0.08, 3)).astype(np.float32),
        )
        planes = [floor]
        group = np.mean([p.position for p in people], axis=0) if people else np.zeros(2)
        reach = max((np.linalg.norm(p.position - group) + p.footprint for p in people), default=500.0)
        cam_xy = cam.position[:2]
        to_cam = cam_xy - group
        dist_cam = np.linalg.norm(to_cam)
        toward = to_cam / max(dist_cam, 1e-6)
        if outdoor:
            d = reach + rng.uniform(12000, 40000)
            planes.append(self._wall(toward, group, d, tex.get("backdrop", T.outdoor_backdrop), clamp=True))
            return planes
        # Back wall behind the people (as seen from the camera), optionally a side wall, and a ceiling.
        angle = rng.normal(0, 0.35)
        c, s = np.cos(angle), np.sin(angle)
        normal = np.array([c * toward[0] - s * toward[1], s * toward[0] + c * toward[1]])
        wall_kind = list(T.WALLS)[int(rng.integers(len(T.WALLS)))]
        wall_tex = tex.get("wall_" + wall_kind, T.WALLS[wall_kind])
        planes.append(self._wall(normal, group, reach + rng.uniform(600, 4000), wall_tex))
        if rng.random() < 0.6:
            side = np.array([-normal[1], normal[0]]) * (1 if rng.random() < 0.5 else -1)
            offset = reach + rng.uniform(800, 4000)
            # Keep the camera inside the room: the wall must have the camera on its inner side with a margin.
            if (cam_xy - group) @ (-side) < offset - 300:
                side_kind = wall_kind if rng.random() < 0.6 else list(T.WALLS)[int(rng.integers(len(T.WALLS)))]
                planes.append(self._wall(side, group, offset, tex.get("wall_" + side_kind, T.WALLS[side_kind])))
        ceiling_h = rng.uniform(2500, 3400)
        if cam.position[2] < ceiling_h - 200:
            planes.append(
                Plane(
                    normal=np.array([0.0, 0.0, -1.0]),
                    offset=-ceiling_h,
                    axes=np.array([[1.0, 0, 0], [0, 1.0, 0]]),
                    texture=tex.get("ceiling", _ceiling),
                    origin=np.zeros(3),
                )
            )
        return planes

    def _wall(self, normal_xy: np.ndarray, group: np.ndarray, distance: float, texture, clamp: bool = False) -> Plane:
        """A vertical plane ``distance`` mm behind ``group`` (opposite to ``normal_xy``), facing along ``normal_xy``."""
        n = np.array([normal_xy[0], normal_xy[1], 0.0])
        n /= np.linalg.norm(n)
        point = np.array([group[0], group[1], 0.0]) - n * distance
        along = np.array([-n[1], n[0], 0.0])
        return Plane(
            normal=n,
            offset=float(n @ point),
            axes=np.stack([along, np.array([0.0, 0.0, 1.0])]),
            texture=texture,
            origin=point + along * self.rng.uniform(-3000, 3000),
            clamp_t=clamp,
            tint=np.exp(self.rng.normal(0, 0.06, 3)).astype(np.float32),
        )

    def _seats(self, people: list[Person]) -> list[Box]:
        boxes = []
        for p in people:
            if not p.seat:
                continue
            # The seat top sits under the lowest buttock/thigh vertex near the hips.
            seat_v = p.vertices[self.body.vertex_mask(("upperleg01", "pelvis"))]
            hips = p.joints_h36m[[1, 4]]
            centre = hips.mean(0)
            near = np.linalg.norm(seat_v[:, :2] - centre[:2], axis=1) < 200
            top = float(seat_v[near, 2].min()) if near.any() else float(seat_v[:, 2].min())
            forward = p.joints_h36m[2] + p.joints_h36m[5] - 2 * centre  # towards the knees
            yaw = np.rad2deg(np.arctan2(forward[1], forward[0]))
            c = centre[:2] + 0.15 * forward[:2]
            half = np.array([220.0, 220.0, top / 2])
            tex = self.textures.get("furniture", T.furniture)
            boxes.append(Box(np.array([c[0], c[1], top / 2]), half, yaw, tex))
        return boxes

    def _clutter(self, cam: Camera, people: list[Person], planes: list[Plane], count: tuple[int, int]) -> list[Box]:
        rng = self.rng
        n = int(rng.integers(count[0], count[1] + 1)) if count[1] > 0 else 0
        boxes: list[Box] = []
        group = np.mean([p.position for p in people], axis=0) if people else np.zeros(2)
        cam_xy = cam.position[:2]
        for _ in range(n):
            kind = rng.choice(["cabinet", "table", "crate", "shelf", "stool"])
            size = {
                "cabinet": (rng.uniform(400, 1200), rng.uniform(300, 600), rng.uniform(600, 1200)),
                "table": (rng.uniform(600, 1600), rng.uniform(500, 900), rng.uniform(700, 780)),
                "crate": (rng.uniform(300, 600), rng.uniform(300, 600), rng.uniform(250, 600)),
                "shelf": (rng.uniform(600, 1400), rng.uniform(250, 450), rng.uniform(1400, 2200)),
                "stool": (rng.uniform(300, 450), rng.uniform(300, 450), rng.uniform(400, 650)),
            }[kind]
            half = np.array(size) / 2
            radius = float(np.hypot(half[0], half[1]))
            for _try in range(20):
                # Anywhere around the group, mostly behind or beside it, rarely between the camera and the people.
                ang = rng.uniform(0, 2 * np.pi)
                dist = rng.uniform(800, 4500)
                pos = group + dist * np.array([np.cos(ang), np.sin(ang)])
                clear_people = all(np.linalg.norm(pos - p.position) > p.footprint + radius + 150 for p in people)
                clear_cam = np.linalg.norm(pos - cam_xy) > radius + 600
                clear_walls = all(
                    (pl.normal[:2] @ pos - pl.offset) > radius + 50 for pl in planes if abs(pl.normal[2]) < 0.5
                )
                along = (pos - cam_xy) @ (group - cam_xy) / max(np.linalg.norm(group - cam_xy), 1e-6)
                between = along < np.linalg.norm(group - cam_xy)
                if between and (along < 1500 or rng.random() > 0.25):
                    continue
                if clear_people and clear_cam and clear_walls:
                    break
            else:
                continue
            if between:  # an occluder between the camera and the people stays low: it hides legs, not everyone
                kind = "crate" if kind in ("cabinet", "shelf") else kind
                half[2] = min(half[2], rng.uniform(150, 400))
            tex = self.textures.get("furniture", T.furniture)
            tint = np.exp(rng.normal(0, 0.1, 3)).astype(np.float32)
            yaw = rng.uniform(0, 180)
            if kind == "table":
                top = 25.0
                boxes.append(
                    Box(
                        np.array([pos[0], pos[1], half[2] * 2 - top / 2]),
                        np.array([half[0], half[1], top / 2]),
                        yaw,
                        tex,
                        tint,
                    )
                )
                a = np.deg2rad(yaw)
                rot = np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
                for sx in (-1, 1):
                    for sy in (-1, 1):
                        leg = pos + rot @ np.array([sx * (half[0] - 40), sy * (half[1] - 40)])
                        boxes.append(
                            Box(
                                np.array([leg[0], leg[1], half[2] - top / 2]),
                                np.array([20.0, 20.0, half[2] - top / 2]),
                                yaw,
                                tex,
                                tint,
                            )
                        )
            else:
                boxes.append(Box(np.array([pos[0], pos[1], half[2]]), half, yaw, tex, tint))
        return boxes

    # -- sequences ---------------------------------------------------------------------------------------------------
    def sample_sequence(
        self,
        num_keys: int = 3,
        frames_per_transition: int = 12,
        poses: list[str] | None = None,
        camera: str | Camera = "h36m",
        image_size: tuple[int, int] | None = None,
        outdoor_prob: float = 0.3,
        clutter: tuple[int, int] = (0, 4),
        degradation: float = 1.0,
    ) -> list[Frame]:
        """A video-like sequence of one person moving smoothly through key poses (slerp of every bone rotation).

        The body, clothes, room, camera and lights are shared by all frames; only the pose changes (and the
        degradation noise seed). Returns ``(num_keys - 1) * frames_per_transition + 1`` frames.
        """
        rng, body = self.rng, self.body
        names = list(poses) if poses is not None else self.random_pose_names(num_keys)
        phen = body.sample_phenotypes(1, rng, self.age_range)
        rest_v, rest_h = body.rest(phen)
        ref_h = body.reference_heads(phen)
        params = np.stack([P.pose_params(nm) for nm in names])
        params = (
            P.vary_pose(params, rng, 0.5 * self.pose_variation)
            if self.pose_variation > 0
            else P.clamp_to_limits(params)
        )
        keys = P.pose_rotations(params, np.repeat(ref_h, len(names), 0), body.bone_names)
        rots = P.sequence_rotations(keys, frames_per_transition)
        out = body.forward(rots, phen)
        key_out = body.forward(keys, phen)
        radii = self._capsule_radii(rest_v, rest_h)[0]
        # Tilt of each key pose (from its own contacts), eased between keys like the rotations.
        tilts = []
        for k, nm in enumerate(names):
            tilts.append(
                self._level_and_ground(key_out.vertices[k], key_out.bone_heads[k], P.POSE_LIBRARY[nm].contacts)[2]
            )
        t = P.smoothstep(np.arange(frames_per_transition) / frames_per_transition)
        frame_tilts = np.concatenate(
            [tilts[k] + (tilts[k + 1] - tilts[k]) * t for k in range(len(names) - 1)] + [np.array(tilts[-1:])]
        )
        app = sample_appearance(rng, body, rest_v[0], rest_h[0], gender=float(phen[0, 0]))
        yaw, first = rng.uniform(-180, 180), None
        frames: list[Frame] = []
        for f in range(len(rots)):
            c, s = np.cos(frame_tilts[f]), np.sin(frame_tilts[f])
            rot = np.array([[1, 0, 0], [0, c, -s], [0, s, c]])
            verts = out.vertices[f].astype(np.float64) @ rot.T
            heads = out.bone_heads[f].astype(np.float64) @ rot.T
            pelvis = 0.5 * (heads[body.bone("upperleg01.L")] + heads[body.bone("upperleg01.R")])
            shift = np.array([-pelvis[0], -pelvis[1], -verts[:, 2].min()])
            verts, heads = verts + shift, heads + shift
            segs = self._segments_single(heads, verts)
            person = Person(
                vertices=verts.astype(np.float32),
                normals=vertex_normals(verts, body.faces),
                rest_vertices=rest_v[0].astype(np.float32),
                joints_h36m=self.regressors["h36m"](heads, verts),
                joints_muco=self.regressors["muco"](heads, verts),
                appearance=app,
                capsules=[Capsule(segs[c].astype(np.float32), float(radii[c])) for c in range(len(P.CAPSULES))],
                phenotypes=phen[0],
                pose_name=names[min(f // frames_per_transition, len(names) - 1)],
                pose_params=params[min(f // frames_per_transition, len(names) - 1)],
                footprint=float(np.linalg.norm(verts[:, :2], axis=1).max()),
            ).transformed(yaw, np.zeros(2))
            if first is None:
                first = self.sample_frame(
                    people=[person], camera=camera, image_size=image_size, outdoor_prob=outdoor_prob,
                    clutter=clutter, degradation=degradation, place=False,
                )  # fmt: skip
                frames.append(first)
                continue
            deg = replace(first.degradation, seed=int(rng.integers(2**31)))
            info = dict(first.info, poses=[person.pose_name])
            frames.append(replace(first, people=[person], degradation=deg, info=info))
        return frames


def _fit_score(cam: Camera, vertices: np.ndarray) -> float:
    """Fraction of a person's projected box inside the image (0 when behind the camera)."""
    pts = cam.to_cam(vertices[::7])
    if (pts[:, 2] <= 100).any():
        return 0.0
    uv = cam.project(pts)[:, :2]
    lo, hi = uv.min(0), uv.max(0)
    area = max((hi[0] - lo[0]) * (hi[1] - lo[1]), 1e-6)
    ilo = np.maximum(lo, 0)
    ihi = np.minimum(hi, [cam.width - 1, cam.height - 1])
    inter = max(ihi[0] - ilo[0], 0) * max(ihi[1] - ilo[1], 0)
    return float(inter / area)


def _ceiling(rng: np.random.Generator):
    tex = T.painted_wall(rng, 256)
    img = np.broadcast_to(tex.image[len(tex.image) // 2], tex.image.shape).copy()
    return replace(tex, image=img * 1.05, size_mm=2000.0)


def _merge(batch: BodyBatch, update: BodyBatch, index: np.ndarray) -> BodyBatch:
    """``batch`` with rows ``index`` replaced by ``update`` (arrays copied on first write)."""
    fields = {}
    for f in BodyBatch.__dataclass_fields__:
        arr = np.array(getattr(batch, f), copy=True)
        arr[index] = getattr(update, f)
        fields[f] = arr
    return BodyBatch(**fields)
