"""Inference on whole images and video: :class:`PoseEstimator` and its :class:`PersonPose` results.

>>> from convnextpose import PoseEstimator
>>> estimator = PoseEstimator("snapshot_24.pth.tar", flip_test=True)
>>> people = estimator.predict("photo.jpg", boxes=[[139, 102, 222, 241]], root_depths=[11250])
>>> people[0].joints_cam         # (J, 3) mm, camera frame
"""

from __future__ import annotations

from ..geometry import box_from_joints
from .backends import OnnxBackend, TorchBackend, make_backend
from .detector import HOGPersonDetector, box_iou, whole_frame
from .estimator import PoseEstimator, focal_from_fov
from .result import PersonPose, Poses
from .root_depth import DEFAULT_FOCAL, REAL_AREA_MM2, estimate_root_depth
from .smoothing import OneEuroFilter, PoseSmoother
from .tracker import PoseTracker

__all__ = [
    "DEFAULT_FOCAL",
    "REAL_AREA_MM2",
    "HOGPersonDetector",
    "OneEuroFilter",
    "OnnxBackend",
    "PersonPose",
    "PoseEstimator",
    "PoseSmoother",
    "PoseTracker",
    "Poses",
    "TorchBackend",
    "box_from_joints",
    "box_iou",
    "estimate_root_depth",
    "focal_from_fov",
    "make_backend",
    "whole_frame",
]
