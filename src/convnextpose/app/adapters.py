"""Estimators as the app sees them: a callable ``image -> poses``, each pose read into a :class:`PoseView`.

Any estimator fits: a callable ``image (H, W, 3) uint8 RGB -> list of poses``, each pose an object
(or dict) with ``joints_img`` (J, 2) px, ``joints_rel`` (J, 3) mm root-relative camera frame (or
``joints_cam``, camera frame), and optionally ``confidence`` (J,), ``box`` [x, y, w, h] and
``joint_names``. A :class:`~convnextpose.inference.PoseEstimator` fits through
:func:`estimator_from_model`; tests inject a fake.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..inference.result import RENAMED
from ..joints import JOINT_SETS, JointSet

Estimator = Callable[[np.ndarray], Sequence[Any]]

# Names of 0.1 (PersonPose and this app's JSON), still read: new name -> old name.
_OLD_NAMES = {new: old for old, new in RENAMED.items()}


def estimator_from_model(
    model: Any,
    backend: str = "torch",
    device: str = "cpu",
    detector: str | Callable | None = "auto",
    horizontal_fov_deg: float | None = 60.0,
    threads: int | None = None,
) -> Estimator:
    """Wrap a :class:`~convnextpose.inference.PoseEstimator` as the app's estimator callable.

    Args:
        model: a PoseEstimator, or what it accepts (module, checkpoint path, shipped-weights name,
            ``.onnx`` file).
        backend, device, detector, threads: passed to PoseEstimator when ``model`` is not one.
            The default detector, ``"auto"``, finds a single person from the whole frame and OpenCV's
            HOG box, re-cropped around the network's joints (a selfie view is often too close for HOG).
        horizontal_fov_deg: field of view used for the focal length of every image (phone and
            laptop cameras are near 60 degrees); None keeps the estimator's default.
    """
    from ..inference import PoseEstimator

    estimator = model
    if not isinstance(model, PoseEstimator):
        estimator = PoseEstimator(model, backend=backend, device=device, detector=detector, threads=threads)

    def estimate(image: np.ndarray) -> Sequence[Any]:
        focal = None
        if horizontal_fov_deg:
            focal = image.shape[1] / 2.0 / math.tan(math.radians(horizontal_fov_deg) / 2.0)
        return estimator.predict(image, focal=focal)

    estimate.joint_set = estimator.joint_set  # type: ignore[attr-defined]
    estimate.description = f"{type(estimator).__name__} ({getattr(estimator.backend, 'name', backend)})"  # type: ignore[attr-defined]
    return estimate


@dataclass
class PoseView:
    """One person as the app uses it; its JSON keeps the names, so each array says its frame.

    Attributes:
        joints_img: (J, 2) px in the image the estimator saw.
        joints_rel: (J, 3) mm, camera axes, root joint at the origin.
        confidence: (J,) in [0, 1].
        box: (4,) [x, y, w, h] px, or None.
        joint_set: the joints' set.
    """

    joints_img: np.ndarray
    joints_rel: np.ndarray
    confidence: np.ndarray
    box: np.ndarray | None
    joint_set: JointSet

    def to_dict(self, scale: float = 1.0) -> dict[str, Any]:
        """JSON of the pose, with ``joints_img`` and ``box`` multiplied by ``scale`` (to the uploaded image's px)."""

        def rows(array: np.ndarray, decimals: int) -> list:
            return [[None if not math.isfinite(v) else round(float(v), decimals) for v in row] for row in array]

        return {
            "joints_img": rows(self.joints_img * scale, 1),
            "joints_rel": rows(self.joints_rel, 1),
            "confidence": [round(float(c), 3) if math.isfinite(c) else 0.0 for c in self.confidence],
            "box": None if self.box is None else [round(float(v) * scale, 1) for v in self.box],
        }


def _field(pose: Any, name: str) -> Any:
    for key in (name, _OLD_NAMES.get(name)):
        if key is None:
            continue
        value = pose.get(key) if isinstance(pose, Mapping) else getattr(pose, key, None)
        if value is not None:
            return value
    return None


def _joint_set_of(pose: Any, default: JointSet) -> JointSet:
    names = _field(pose, "joint_names")
    if names is None:
        return default
    names = tuple(names)
    for joint_set in JOINT_SETS.values():
        if joint_set.names == names:
            return joint_set
    raise ValueError(f"the estimator's joints {list(names)[:5]}... match no known joint set")


def read_pose(pose: Any, default: JointSet) -> PoseView:
    """Normalise one estimator output (PersonPose, dict or similar) to a :class:`PoseView`.

    Raises:
        ValueError: an array of the wrong shape, or joint names of no known set (the message says which).
    """
    joint_set = _joint_set_of(pose, default)
    joints_img = np.asarray(_field(pose, "joints_img"), dtype=np.float64)
    rel = _field(pose, "joints_rel")
    if rel is None:
        joints_cam = np.asarray(_field(pose, "joints_cam"), dtype=np.float64)
        rel = joints_cam - joints_cam[joint_set.root_index]
    joints_rel = np.asarray(rel, dtype=np.float64)
    confidence = _field(pose, "confidence")
    confidence = np.ones(len(joint_set)) if confidence is None else np.asarray(confidence, dtype=np.float64)
    box = _field(pose, "box")
    expected = {"joints_img": (len(joint_set), 2), "joints_rel": (len(joint_set), 3), "confidence": (len(joint_set),)}
    for name, value in (("joints_img", joints_img), ("joints_rel", joints_rel), ("confidence", confidence)):
        if value.shape != expected[name]:
            raise ValueError(f"estimator returned {name} of shape {value.shape}, expected {expected[name]}")
    return PoseView(joints_img, joints_rel, confidence, None if box is None else np.asarray(box, float), joint_set)


def select_person(poses: Sequence[PoseView]) -> PoseView | None:
    """The trainee: the person with the largest box (or 2D joint extent), None if nobody."""

    def area(pose: PoseView) -> float:
        if pose.box is not None and np.isfinite(pose.box).all():
            return float(pose.box[2] * pose.box[3])
        pts = pose.joints_img[np.isfinite(pose.joints_img).all(axis=1)]
        return float(np.prod(pts.max(axis=0) - pts.min(axis=0))) if len(pts) else 0.0

    return max(poses, key=area) if poses else None
