"""3D skeleton plots with matplotlib (Agg canvas: no display, no global pyplot state).

Camera-frame joints have X right, Y down, Z forward (mm). The plots show X across, Z (depth)
into the picture and -Y up, with equal scales on all axes, so poses look upright and undistorted.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..joints import JointSet, get_joint_set
from .draw2d import SIDE_COLORS, DrawnPose, bone_side

if TYPE_CHECKING:
    from matplotlib.figure import Figure


def _as_pose_list(
    poses: Sequence[DrawnPose] | Sequence[np.ndarray] | np.ndarray, frame: str
) -> tuple[list[np.ndarray], list[str], JointSet | None]:
    """(J, 3) arrays to plot, labels, and the joint set if the inputs carry one."""
    if frame not in ("camera", "root"):
        raise ValueError(f"frame must be 'camera' or 'root', got {frame!r}")
    if isinstance(poses, np.ndarray):
        poses = [poses] if poses.ndim == 2 else list(poses)
    arrays, labels, joint_set = [], [], None
    for i, pose in enumerate(poses):
        if hasattr(pose, "joints_cam"):
            arrays.append(np.asarray(pose.joints_rel if frame == "root" else pose.joints_cam, dtype=np.float64))
            labels.append(f"#{pose.track_id}" if pose.track_id is not None else str(pose.index))
            joint_set = pose.joint_set
        else:
            arrays.append(np.asarray(pose, dtype=np.float64))
            labels.append(str(i))
    return arrays, labels, joint_set


def _to_plot_axes(points: np.ndarray) -> np.ndarray:
    """Camera (X right, Y down, Z forward) -> plot (X, Z, -Y): depth into the picture, up is up."""
    return np.stack([points[..., 0], points[..., 2], -points[..., 1]], axis=-1)


def plot_poses_3d(
    poses: Sequence[DrawnPose] | Sequence[np.ndarray] | np.ndarray,
    joint_set: str | JointSet | None = None,
    frame: str = "camera",
    title: str | None = None,
    elev: float = 15.0,
    azim: float = -70.0,
    size: tuple[float, float] = (6.0, 6.0),
    dpi: int = 100,
    ax: Any = None,
) -> Figure:
    """Plot one or many 3D skeletons with equal axes.

    Args:
        poses: PersonPose objects, or (J, 3) / (N, J, 3) arrays in mm.
        joint_set: needed for arrays (default human36m); taken from PersonPose objects.
        frame: ``"camera"`` (absolute camera-frame mm; people stand where they are) or
            ``"root"`` (root-relative: every person centred on their root).
        title: figure title.
        elev, azim: view angles in degrees.
        ax: an existing 3D axes to draw into (then its figure is returned).

    Returns:
        The matplotlib Figure (save it with ``fig.savefig(path)``).
    """
    from matplotlib.figure import Figure

    arrays, labels, carried = _as_pose_list(poses, frame)
    joint_set = get_joint_set(joint_set or carried or "human36m")
    if ax is None:
        fig = Figure(figsize=size, dpi=dpi)
        ax = fig.add_subplot(projection="3d")
    else:
        fig = ax.figure
    finite_points = []
    for pose, label in zip(arrays, labels):
        if pose.shape != (len(joint_set), 3):
            raise ValueError(f"a pose of shape {pose.shape} does not fit joint set {joint_set.name} ({len(joint_set)})")
        pts = _to_plot_axes(pose)
        for bone in joint_set.skeleton:
            seg = pts[list(bone)]
            if np.isfinite(seg).all():
                color = np.array(SIDE_COLORS[bone_side(joint_set, bone)]) / 255.0
                ax.plot(seg[:, 0], seg[:, 1], seg[:, 2], color=color, linewidth=2)
        ok = np.isfinite(pts).all(axis=1)
        if ok.any():
            ax.scatter(pts[ok, 0], pts[ok, 1], pts[ok, 2], s=8, color="k", depthshade=False)
            if len(arrays) > 1:
                top = pts[ok][np.argmax(pts[ok, 2])]
                ax.text(top[0], top[1], top[2] + 50, label, fontsize=8)
            finite_points.append(pts[ok])
    if finite_points:
        allpts = np.concatenate(finite_points)
        centre = (allpts.max(axis=0) + allpts.min(axis=0)) / 2.0
        radius = max(float((allpts.max(axis=0) - allpts.min(axis=0)).max()) / 2.0, 100.0) * 1.05
        for setter, c in zip((ax.set_xlim, ax.set_ylim, ax.set_zlim), centre):
            setter(c - radius, c + radius)
    ax.set_box_aspect((1, 1, 1))
    frame_name = "root-relative" if frame == "root" else "camera"
    ax.set_xlabel("X (mm)")
    ax.set_ylabel("Z depth (mm)")
    ax.set_zlabel("-Y up (mm)")
    ax.view_init(elev=elev, azim=azim)
    ax.set_title(title or f"{len(arrays)} person(s), {frame_name} frame", fontsize=10)
    return fig


def save_plot_3d(path: str | os.PathLike, poses: Any, **kwargs: Any) -> Path:
    """:func:`plot_poses_3d` written to an image file (PNG, JPG, SVG, PDF by extension)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig = plot_poses_3d(poses, **kwargs)
    FigureCanvasAgg(fig)
    fig.savefig(path, bbox_inches="tight")
    return path


def render_poses_3d(poses: Any, **kwargs: Any) -> np.ndarray:
    """:func:`plot_poses_3d` rendered to an RGB uint8 (H, W, 3) array (e.g. for video frames)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    fig = plot_poses_3d(poses, **kwargs)
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    return np.asarray(canvas.buffer_rgba())[..., :3].copy()
