"""Where Anny's landmarks are (:mod:`~convnextpose.synth.people.landmarks`): rig bone heads, surface keypoints and
the crown; and the regressor that turns posed Anny bodies into joints.

Every joint is a fixed linear combination of posed bone heads and posed mesh vertices, so it moves with the skinned
surface and costs one small matrix product per body. Knees use Anny's knee surface keypoint rather than the rig's
knee pivot, which sits about 25 mm too high (Anny's thighs would be ~8 % short and its shanks ~5 % long).
"""

from __future__ import annotations

import numpy as np

from ....joints import get_joint_set
from ...people.landmarks import joint_terms

# Sources are terms of a weighted mean:
#   ("bone", name)      posed head of an Anny bone (the joint the bone rotates about)
#   ("keypoint", name)  Anny's COCO surface keypoint (a fixed vertex average shipped with Anny)
#   ("crown", None)     mean of the 12 top-most head vertices of the rest template (top of the skull)
_Term = tuple[str, str | None, float]


def _side_landmarks(s: str) -> dict[str, tuple[list[_Term], str]]:
    side = "left" if s == "L" else "right"
    return {
        f"hip.{s}": ([("bone", f"upperleg01.{s}", 1.0)], f"head of upperleg01.{s}"),
        f"knee.{s}": ([("keypoint", f"{side}_knee", 1.0)], "Anny's knee surface keypoint (a vertex average)"),
        f"ankle.{s}": ([("bone", f"foot.{s}", 1.0)], f"head of foot.{s} (ankle pivot)"),
        f"toe.{s}": (
            [("keypoint", f"{side}_big_toe", 0.5), ("keypoint", f"{side}_small_toe", 0.5)],
            "mean of Anny's big-toe and small-toe surface keypoints",
        ),
        f"heel.{s}": ([("keypoint", f"{side}_heel", 1.0)], "Anny's heel surface keypoint"),
        f"clavicle.{s}": ([("bone", f"clavicle.{s}", 1.0)], f"head of clavicle.{s}"),
        f"shoulder.{s}": ([("bone", f"upperarm01.{s}", 1.0)], f"head of upperarm01.{s}"),
        f"elbow.{s}": ([("bone", f"lowerarm01.{s}", 1.0)], f"head of lowerarm01.{s} (elbow pivot)"),
        f"wrist.{s}": ([("bone", f"wrist.{s}", 1.0)], f"head of wrist.{s}"),
        f"knuckles.{s}": (
            [("bone", f"finger{k}-1.{s}", 0.25) for k in (2, 3, 4, 5)],
            f"mean of the heads of finger2-1..finger5-1.{s}",
        ),
        f"ear.{s}": ([("keypoint", f"{side}_ear", 1.0)], "Anny's ear surface keypoint"),
        f"eye.{s}": ([("keypoint", f"{side}_eye", 1.0)], "Anny's eye surface keypoint"),
    }


#: Landmark name -> (Anny terms, documentation).
ANNY_LANDMARKS: dict[str, tuple[list[_Term], str]] = {
    **_side_landmarks("L"),
    **_side_landmarks("R"),
    "spine_mid": ([("bone", "spine02", 1.0)], "head of spine02"),
    "neck_top": ([("bone", "neck02", 0.5), ("bone", "neck03", 0.5)], "midpoint of the neck02 and neck03 heads"),
    "crown": ([("crown", None, 1.0)], "mean of the 12 top-most head vertices of the template"),
    "nose": ([("keypoint", "nose", 1.0)], "Anny's nose surface keypoint"),
}


class JointRegressor:
    """Regress a joint set from posed Anny bodies.

    Args:
        body: a loaded :class:`~.model.AnnyBody`.
        joint_set: ``"human36m"``, ``"muco"``, ``"mupots"``, ``"mpii"`` or ``"coco"``.
    """

    def __init__(self, body, joint_set: str):
        js = get_joint_set(joint_set)
        self.joint_set = js
        terms = joint_terms(js.name)
        self.bone_weights = np.zeros((js.num_joints, body.num_bones), np.float32)
        vertex_weights = np.zeros((js.num_joints, body.num_vertices), np.float32)
        crown = crown_vertices(body)
        for j in range(js.num_joints):
            anny_terms = [
                (kind, source, w1 * w2) for landmark, w1 in terms[j] for kind, source, w2 in ANNY_LANDMARKS[landmark][0]
            ]
            for kind, source, w in anny_terms:
                if kind == "bone":
                    self.bone_weights[j, body.bone(source)] += w
                elif kind == "keypoint":
                    vertex_weights[j] += w * body.keypoint_weights[body.keypoint(source)]
                elif kind == "crown":
                    vertex_weights[j, crown] += w / len(crown)
                else:  # pragma: no cover - table typo
                    raise AssertionError(kind)
        # Keep the vertex part sparse: only a few hundred vertices carry weight.
        self.vertex_index = np.flatnonzero(np.abs(vertex_weights).sum(0) > 0)
        self.vertex_weights = vertex_weights[:, self.vertex_index]
        total = self.bone_weights.sum(1) + self.vertex_weights.sum(1)
        assert np.allclose(total, 1.0, atol=1e-4), total

    def __call__(self, bone_heads: np.ndarray, vertices: np.ndarray) -> np.ndarray:
        """Joints from posed bone heads (..., 104, 3) and vertices (..., V, 3) -> (..., J, 3), same frame and unit."""
        bones = self.bone_weights @ np.asarray(bone_heads, np.float32)
        verts = self.vertex_weights @ np.asarray(vertices[..., self.vertex_index, :], np.float32)
        return (bones + verts).astype(np.float32)


def crown_vertices(body, count: int = 12) -> np.ndarray:
    """Indices of the ``count`` top-most vertices of the head in the rest template (the crown)."""
    template = body.model.template_vertices.cpu().numpy()
    head = np.flatnonzero(body.dominant_bone == body.bone("head"))
    return head[np.argsort(-template[head, 2])[:count]]
