"""Realistic synthetic people from the Anny body model (optional extra: ``pip install convnextpose[anny]``).

Entry points for the synthetic-data generator::

    from convnextpose.bodies import AnnyScene, render_frame

    scene = AnnyScene(seed=0)                                  # loads Anny (first run builds its cache)
    frame = scene.sample_frame(num_people=1, camera="h36m")   # or "mupots", "phone_floor", "phone_tripod"
    result = render_frame(frame)                               # rgb, depth, masks, joints_cam_h36m, ...

Submodules import ``anny`` only inside functions, so importing this package never needs it.
"""

from ..synth.camera import CAMERA_PRESETS, Camera, sample_camera
from .anny_model import INSTALL_HINT, AnnyBody, anny_cache_dir, load_anny, prune_anny_cache
from .joint_map import JOINT_DEFINITIONS, JointRegressor, bone_length_report
from .poses import POSE_LIBRARY, clamp_to_limits, pose_params, vary_pose
from .scene import AnnyScene, Frame, Person, RenderResult, render_frame

__all__ = [
    "CAMERA_PRESETS",
    "INSTALL_HINT",
    "JOINT_DEFINITIONS",
    "POSE_LIBRARY",
    "AnnyBody",
    "AnnyScene",
    "Camera",
    "Frame",
    "JointRegressor",
    "Person",
    "RenderResult",
    "anny_cache_dir",
    "bone_length_report",
    "clamp_to_limits",
    "load_anny",
    "pose_params",
    "prune_anny_cache",
    "render_frame",
    "sample_camera",
    "vary_pose",
]
