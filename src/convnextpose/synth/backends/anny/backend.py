"""The Anny body back-end: random adults from the Anny parametric body, posed by the shared pose parameters.

Anny's own frame is the body frame: mm, X the person's left, Y backwards (the face looks along -Y), Z up, the origin
between the hips. Bodies are posed in batches (Warp skinning: about 1 ms per body in batches of 64).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ...people.collision import CAPSULES, capsule_segments
from ...people.kinematics import segment_rotations
from ...people.outfit import Outfit, paint
from ...render.frame import JOINT_SETS
from ...render.raster import MeshSurface, vertex_normals
from .joint_map import JointRegressor, crown_vertices
from .model import AnnyBody, BodyBatch, load_anny
from .regions import body_regions

# How Anny's spine, neck and head bones share a bend (bottom up), and where their chains are.
_SPINE = (("spine05", 0.25), ("spine04", 0.25), ("spine03", 0.2), ("spine02", 0.15), ("spine01", 0.15))
_NECK = (("neck01", 0.4), ("neck02", 0.3), ("neck03", 0.3))
_HEAD = (("head", 1.0),)
# Rig bones where the shared kinematics' rest points are, and the bones its rotations drive.
_REST_BONES = {"shoulder": "upperarm01", "elbow": "lowerarm01", "wrist": "wrist", "hip": "upperleg01",
               "knee": "lowerleg01", "ankle": "foot"}  # fmt: skip
_DRIVEN_BONES = {"clavicle": "clavicle", "upperarm": "upperarm01", "elbow": "lowerarm01", "forearm": "lowerarm02",
                 "wrist": "wrist", "thigh": "upperleg01", "knee": "lowerleg01", "ankle": "foot"}  # fmt: skip
# Capsule proxies (collision, shadows): which skinning bones' vertices each part's radius is measured on.
_CAPSULE_BONES = {
    "torso": ("spine05", "spine04", "spine03", "spine02", "spine01", "clavicle", "pelvis", "root"),
    "head": ("head", "neck03"),
    "upperarm": ("upperarm01", "upperarm02"),
    "forearm": ("lowerarm01", "lowerarm02"),
    "hand": ("wrist", "metacarpal", "finger"),
    "thigh": ("upperleg01", "upperleg02"),
    "shin": ("lowerleg01", "lowerleg02"),
    "foot": ("foot", "toe"),
}


@dataclass
class AnnyRest:
    """Rest state of a batch of Anny bodies (mm, body frame).

    Attributes:
        shapes: (B, 6) phenotypes; vertices: (B, V, 3) rest (A-pose) vertices; heads: (B, J, 3) rest bone heads;
        reference: (B, J, 3) bone heads of the pose identity rotations give; radii: (B, C) capsule proxy radii.
    """

    shapes: np.ndarray
    vertices: np.ndarray
    heads: np.ndarray
    reference: np.ndarray
    radii: np.ndarray

    def take(self, index: np.ndarray) -> AnnyRest:
        return AnnyRest(*(getattr(self, f)[index] for f in self.__dataclass_fields__))


class AnnyBackend:
    """Anny people for :class:`~convnextpose.synth.frames.FrameSampler` (see :class:`~..BodyBackend`).

    Args:
        body: an :class:`AnnyBody` to share (default: a process-wide one, built in the project cache).
        cache_dir: Anny cache folder when ``body`` is None.
        age_range: adult ages by default (years).
    """

    name = "anny"
    default_recording = "snapshots"

    def __init__(self, body: AnnyBody | None = None, cache_dir: str | None = None, age_range=(18.0, 75.0)):
        self.body = body if body is not None else load_anny(cache_dir)
        self.age_range = age_range
        self.regressors = {name: JointRegressor(self.body, name) for name in JOINT_SETS}
        self._crown = crown_vertices(self.body)
        mask = self.body.vertex_mask
        self.groups = {
            "feet": mask(("foot", "toe")),
            "hands": mask(("finger", "metacarpal", "wrist")),
            "elbows": mask("lowerarm01"),
            "knees": mask("lowerleg01"),
            "seat": mask(("upperleg01", "pelvis")),
        }
        self.hips = (self.body.bone("upperleg01.L"), self.body.bone("upperleg01.R"))

    def sample_shapes(self, rng: np.random.Generator, n: int) -> np.ndarray:
        return self.body.sample_phenotypes(n, rng, self.age_range)

    @staticmethod
    def gender(shape: np.ndarray) -> float:
        return float(shape[0])

    def rest(self, shapes: np.ndarray) -> AnnyRest:
        rest_v, rest_h = self.body.rest(shapes)
        reference = self.body.reference_heads(shapes)
        return AnnyRest(shapes, rest_v, rest_h, reference, self.capsule_radii(rest_v, rest_h))

    def pose(self, rest: AnnyRest, params: np.ndarray) -> BodyBatch:
        """Bodies posed by (B, P) pose parameters, in the body frame."""
        return self.body.forward(self.rotations(params, rest.reference), rest.shapes)

    def rotations(self, params: np.ndarray, reference: np.ndarray) -> np.ndarray:
        """(B, J, 3, 3) float32 Anny ``local-ref`` bone rotations for (B, P) pose parameters."""
        body = self.body
        ref = np.asarray(reference, np.float64)
        points = {f"{p}.{s}": ref[..., body.bone(f"{b}.{s}"), :] for p, b in _REST_BONES.items() for s in "LR"}
        chains = {"spine": [w for _, w in _SPINE], "neck": [w for _, w in _NECK], "head": [w for _, w in _HEAD]}
        seg = segment_rotations(params, points, chains)
        rot = np.broadcast_to(np.eye(3), (len(seg["root"]), body.num_bones, 3, 3)).copy()
        rot[:, 0] = seg["root"]
        for group, chain in (("spine", _SPINE), ("neck", _NECK), ("head", _HEAD)):
            for (bone, _), r in zip(chain, seg[group]):
                rot[:, body.bone(bone)] = r
        for s in "LR":
            for part, bone in _DRIVEN_BONES.items():
                rot[:, body.bone(f"{bone}.{s}")] = seg[f"{part}.{s}"]
        return rot.astype(np.float32)

    @staticmethod
    def merge(batch: BodyBatch, update: BodyBatch, index: np.ndarray) -> BodyBatch:
        """``batch`` with rows ``index`` replaced by ``update`` (arrays copied on first write)."""
        fields = {}
        for f in BodyBatch.__dataclass_fields__:
            arr = np.array(getattr(batch, f), copy=True)
            arr[index] = getattr(update, f)
            fields[f] = arr
        return BodyBatch(**fields)

    def proxy_segments(self, posed: BodyBatch) -> np.ndarray:
        return self.segments(posed.bone_heads, posed.vertices)

    def segments(self, heads: np.ndarray, verts: np.ndarray) -> np.ndarray:
        """(..., C, 2, 3) capsule proxies from bone heads (..., J, 3) and vertices (..., V, 3)."""
        body = self.body
        crown = verts[..., self._crown, :].mean(-2)
        kp = body.keypoints(verts, ("left_big_toe", "left_small_toe", "right_big_toe", "right_small_toe"))
        toes = np.stack([kp[..., :2, :].mean(-2), kp[..., 2:, :].mean(-2)], axis=-2)
        points = {"neck_top": heads[..., body.bone("head"), :], "crown": crown}
        for k, s in enumerate("LR"):
            for part, bone in (("hip", "upperleg01"), ("clavicle", "clavicle"), ("shoulder", "upperarm01"),
                               ("elbow", "lowerarm01"), ("wrist", "wrist"), ("knuckles", "finger3-1"),
                               ("knee", "lowerleg01"), ("ankle", "foot")):  # fmt: skip
                points[f"{part}.{s}"] = heads[..., body.bone(f"{bone}.{s}"), :]
            points[f"toe.{s}"] = toes[..., k, :]
        return capsule_segments(points)

    def capsule_radii(self, rest_vertices: np.ndarray, rest_heads: np.ndarray) -> np.ndarray:
        """(..., C) capsule proxy radii (mm): 0.7 x the median distance of each part's rest vertices to its segment.

        The torso halves use 0.32 x the torso's front-to-back depth instead, since a capsule cannot follow its width.
        Radii err on the small side: the test is for limbs *through* the body, not for limbs touching it.
        """
        rest_segments = self.segments(rest_heads, rest_vertices)
        names = np.asarray(self.body.bone_names)
        dominant_bone = self.body.dominant_bone
        radii = []
        for c, cap in enumerate(CAPSULES):
            part, _, side = cap.partition(".")
            prefixes = _CAPSULE_BONES[part]
            mask = np.zeros(len(dominant_bone), bool)
            for bone in np.unique(dominant_bone):
                name = names[bone]
                if name.startswith(prefixes) and (not side or name.endswith(f".{side}") or part == "torso"):
                    mask |= dominant_bone == bone
            verts = rest_vertices[..., mask, :]
            if part == "torso":
                depth = np.percentile(verts[..., 1], 95, axis=-1) - np.percentile(verts[..., 1], 5, axis=-1)
                radii.append(0.32 * depth)
                continue
            seg = rest_segments[..., c, :, :]
            p0, p1 = seg[..., None, 0, :], seg[..., None, 1, :]
            d = p1 - p0
            t = np.clip(np.sum((verts - p0) * d, -1) / np.maximum(np.sum(d * d, -1), 1e-9), 0, 1)
            dist = np.linalg.norm(verts - (p0 + t[..., None] * d), axis=-1)
            radii.append(0.7 * np.median(dist, axis=-1))
        return np.stack(radii, axis=-1).astype(np.float32)

    def posed_points(self, posed: BodyBatch, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Body ``k``'s surface points (vertices) and skeleton points (bone heads), body frame."""
        one = posed.take(k)
        return one.vertices[0], one.bone_heads[0]

    def joints(self, skeleton: np.ndarray, surface: np.ndarray) -> dict[str, np.ndarray]:
        return {name: reg(skeleton, surface) for name, reg in self.regressors.items()}

    def surface(
        self, posed: BodyBatch, k: int, rest: AnnyRest, points: np.ndarray, skeleton: np.ndarray, tilt: float,
        outfit: Outfit,
    ) -> MeshSurface:  # fmt: skip
        """Body ``k``'s painted mesh from its levelled ``points`` (vertices)."""
        body = self.body
        materials = paint(outfit, body_regions(body, rest.vertices[k], rest.heads[k]))
        return MeshSurface(
            vertices=points.astype(np.float32),
            normals=vertex_normals(points, body.faces),
            rest_vertices=rest.vertices[k].astype(np.float32),
            faces=body.faces,
            vertex_material=materials,
            outfit=outfit,
            groups=self.groups,
        )
