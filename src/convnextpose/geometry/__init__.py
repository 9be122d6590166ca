"""Camera and image geometry, vectorised over batches in NumPy.

Frame suffixes used throughout: ``_world`` (mm, world frame), ``_cam`` (mm, camera frame),
``_img`` (original-image pixels, with depth in mm as a third coordinate where present),
``_crop`` (network-input pixels), ``_hm`` (heatmap cells and depth bins).
"""

from .alignment import align, procrustes_transform
from .boxes import box_from_joints, extend_boxes, process_boxes, sanitize_boxes
from .camera import cam2pixel, cam2world, pixel2cam, world2cam
from .crop import affine_points, crop_transform, crop_transforms, invert_affine

__all__ = [
    "affine_points",
    "align",
    "box_from_joints",
    "cam2pixel",
    "cam2world",
    "crop_transform",
    "crop_transforms",
    "extend_boxes",
    "invert_affine",
    "pixel2cam",
    "process_boxes",
    "procrustes_transform",
    "sanitize_boxes",
    "world2cam",
]
