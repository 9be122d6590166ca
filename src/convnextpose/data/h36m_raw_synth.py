"""Synthetic Human3.6M in the raw download's layout, for testing :func:`convert_h36m` end to end.

Writes what the converter reads, as the dataset ships it: ``S<n>/Videos/<sequence>.<camera id>.mp4``
(50 frames per second), ``S<n>/MyPoseFeatures/D3_Positions/<sequence>.cdf`` (``Pose``, (1, N, 96)
world mm) and ``metadata.xml`` (the real sequence names of every subject, cameras in ``w0``). It renders
a synthetic ``human36m`` set (:func:`convnextpose.synth.generate_dataset`) into a temporary folder and
re-packs its frames, joints and cameras:

- joints: the 17 annotated joints go to their raw indices (``h36m_raw.RELEASE_JOINTS``); the raw
  duplicates copy theirs; toes and hand points, which the release drops, are extrapolated from the
  feet and forearms;
- cameras: each subject's extrinsics as generated; ``w0`` holds one set of intrinsics per camera for
  all subjects, so every camera index takes the first subject's, and the other subjects' frames are
  re-imaged to them with the exact affine map between the two pinhole intrinsics (same camera centre
  and rotation, so nothing else changes);
- frame sizes: cameras 1 and 4 are two rows taller (1000 x 1002 at 1000 px), as the real ones are;
- videos run ``camera - 1`` frames past their poses, as real ones may; the poses set the frame count.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import numpy as np

from ._io import read_json
from .h36m_convert import RELEASE_SUBJECTS, folder_name
from .h36m_raw import (
    CAMERA_IDS,
    DUPLICATE_JOINTS,
    RAW_JOINTS,
    RELEASE_JOINTS,
    SUBJECT_COUNT,
    RawCamera,
    poses_path,
    real_sequence_names,
    video_path,
    write_metadata,
    write_poses,
    write_video,
)

TALLER_CAMERAS = (1, 4)  # 54138969 and 60457274 record 1000 x 1002 frames


def expand_joints(joints17_world: np.ndarray) -> np.ndarray:
    """(N, 17, 3) release joints -> (N, 32, 3) raw joints, world mm with z up.

    The 17 go to their raw indices and the raw duplicates copy them; each toe lies 140 mm ahead of its
    ankle near the floor (its end 50 mm further), each hand point 60-90 mm past the wrist along the forearm.
    """
    j17 = np.asarray(joints17_world, dtype=np.float64)
    raw = np.zeros((len(j17), RAW_JOINTS, 3))
    raw[:, RELEASE_JOINTS] = j17
    up = np.array([0.0, 0.0, 1.0])
    left = j17[:, 4] - j17[:, 1]  # L_Hip - R_Hip
    forward = np.cross(left, up)
    forward /= np.maximum(np.linalg.norm(forward, axis=-1, keepdims=True), 1e-9)
    for ankle, toe, end in ((3, 4, 5), (8, 9, 10)):
        base = raw[:, ankle] + 140.0 * forward
        base[:, 2] = np.maximum(raw[:, ankle, 2] - 60.0, 20.0)
        raw[:, toe], raw[:, end] = base, base + 50.0 * forward
    for elbow, wrist, tip, thumb in ((18, 19, 21, 22), (26, 27, 29, 30)):
        along = raw[:, wrist] - raw[:, elbow]
        along /= np.maximum(np.linalg.norm(along, axis=-1, keepdims=True), 1e-9)
        raw[:, tip], raw[:, thumb] = raw[:, wrist] + 90.0 * along, raw[:, wrist] + 60.0 * along
    for duplicate, source in DUPLICATE_JOINTS.items():
        raw[:, duplicate] = raw[:, source]
    return raw


def _frame_size(image_size: int, camera: int) -> tuple[int, int]:
    return image_size, image_size + (2 if camera in TALLER_CAMERAS else 0)


def generate_human36m_raw(
    out_dir: str | os.PathLike,
    *,
    seed: int = 0,
    subjects: tuple[int, ...] = RELEASE_SUBJECTS,
    actions: tuple[int, ...] = (2, 14),
    subactions: tuple[int, ...] = (1, 2),
    cameras: tuple[int, ...] = (1, 2, 3, 4),
    frames: int = 4,
    image_size: int = 1000,
    bodies: str = "capsule",
    camera_presets: tuple[str, ...] = ("h36m",),
    degradation: float = 1.0,
    backgrounds: str | os.PathLike | None = None,
    workers: int = 1,
    progress: bool = True,
) -> Path:
    """Write a synthetic raw Human3.6M folder (see the module docstring).

    Args:
        out_dir: the raw folder (gets ``S<n>/`` per subject and ``metadata.xml``).
        subjects: 1..11 (the release uses 1, 5, 6, 7, 8, 9, 11).
        actions: 2..16. subactions: 1..2. cameras: 1..4.
        frames: poses per sequence (50 per second).
        image_size: frame width px (cameras 1 and 4 are two rows taller).
        bodies, camera_presets, degradation, backgrounds: as for the ``human36m`` writer
            (:func:`convnextpose.synth.writers.human36m.generate_human36m`); the recording is always ``studio``
            (one person moving at 50 frames per second, as the videos need).
        workers: rendering processes.

    Returns:
        ``out_dir``.
    """
    from ..synth import generate_dataset

    subjects, cameras = tuple(subjects), tuple(cameras)
    if not subjects or any(not 1 <= s <= SUBJECT_COUNT for s in subjects):
        raise ValueError(f"raw Human3.6M subjects are 1..{SUBJECT_COUNT} (metadata.xml has 11), got {subjects}")
    if any(not 1 <= b <= 2 for b in subactions):
        raise ValueError(f"raw Human3.6M subactions are 1..2, got {tuple(subactions)}")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".synthetic_", dir=out_dir) as tmp:
        synthetic = generate_dataset(
            "human36m", Path(tmp), seed=seed, subjects=subjects, actions=tuple(actions), subactions=tuple(subactions),
            cameras=cameras, frames=frames, frame_stride=1, image_size=image_size, bbox_root=False, recording="studio",
            bodies=bodies, camera_presets=tuple(camera_presets), degradation=degradation, backgrounds=backgrounds,
            workers=workers, jpeg_quality=95, progress=progress,
        )  # fmt: skip
        raw_cameras = _repack(synthetic, out_dir, subjects, tuple(actions), tuple(subactions), cameras, frames)
    sizes = np.array([_frame_size(image_size, c) for c in range(1, len(CAMERA_IDS) + 1)])
    write_metadata(out_dir / "metadata.xml", raw_cameras, {s: sizes for s in range(1, SUBJECT_COUNT + 1)})
    return out_dir


def _repack(synthetic: Path, out_dir: Path, subjects, actions, subactions, cameras, frames) -> dict:
    """CDF poses and videos from a synthetic release-layout folder; returns the raw cameras."""
    import cv2

    annotations = synthetic / "annotations"
    cams = {s: read_json(annotations / f"Human36M_subject{s}_camera.json") for s in subjects}
    shared = {c: (np.array(cams[subjects[0]][str(c)]["f"]), np.array(cams[subjects[0]][str(c)]["c"])) for c in cameras}
    raw_cameras = {}
    for s in subjects:
        for c in cameras:
            rotation, translation = np.array(cams[s][str(c)]["R"]), np.array(cams[s][str(c)]["t"])
            raw_cameras[s, c] = RawCamera(rotation, -rotation.T @ translation, *shared[c], np.zeros(3), np.zeros(2))
    for s in subjects:
        joints = read_json(annotations / f"Human36M_subject{s}_joint_3d.json")
        names = real_sequence_names(s)
        for a in actions:
            for b in subactions:
                world = np.array([joints[str(a)][str(b)][str(n)] for n in range(frames)], dtype=np.float64)
                write_poses(poses_path(out_dir, s, names[a, b]), expand_joints(world))
                for c in cameras:
                    scale = shared[c][0] / np.array(cams[s][str(c)]["f"])
                    shift = shared[c][1] - scale * np.array(cams[s][str(c)]["c"])
                    warp = np.array([[scale[0], 0.0, shift[0]], [0.0, scale[1], shift[1]]])
                    folder = folder_name(s, a, b, c)
                    video = []
                    for n in range(frames):
                        image = cv2.imread(str(synthetic / "images" / folder / f"{folder}_{n + 1:06d}.jpg"))
                        size = _frame_size(image.shape[1], c)
                        video.append(cv2.warpAffine(image, warp, size, flags=cv2.INTER_LINEAR,
                                                    borderMode=cv2.BORDER_REPLICATE))  # fmt: skip
                    write_video(video_path(out_dir, s, names[a, b], c), video + video[-1:] * (c - 1))
    return raw_cameras
