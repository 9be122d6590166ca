"""Visualisation: 2D overlays (OpenCV), 3D plots (matplotlib), an offline HTML 3D viewer.

Every function takes a :class:`~convnextpose.joints.JointSet` (or its name) or PersonPose
objects that carry one; nothing here knows about data sets.
"""

from __future__ import annotations

from .draw2d import SIDE_COLORS, bone_side, draw_box, draw_poses, draw_skeleton
from .draw3d import plot_poses_3d, render_poses_3d, save_plot_3d
from .html import viewer_data, write_html_viewer

__all__ = [
    "SIDE_COLORS",
    "bone_side",
    "draw_box",
    "draw_poses",
    "draw_skeleton",
    "plot_poses_3d",
    "render_poses_3d",
    "save_plot_3d",
    "viewer_data",
    "write_html_viewer",
]
