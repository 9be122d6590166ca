"""Raw Human3.6M (videos, CDF poses, ``metadata.xml``) to the release's preprocessed layout, in Python.

Does what the release's ``tool/Human36M`` (the toolkit's MATLAB plus ``h36m2coco.py``) does, without
MATLAB: per subject, action 2..16, subaction 1..2 and camera 1..4, every frame of the video becomes
``images/s_SS_act_AA_subact_BB_ca_CC/s_SS_act_AA_subact_BB_ca_CC_%06d.jpg`` (frame_idx + 1), and the
subject gets ``Human36M_subject<S>_{data,camera,joint_3d}.json`` with the release's choices:

- the 17 body joints of the 32 (``h36m_raw.RELEASE_JOINTS``), world mm;
- ids of images and annotations counted from 0 over subjects 1, 5, 6, 7, 8, 9, 11, actions,
  subactions, cameras and frames in that order, so they match the release's ``bbox_root`` files;
- the box: the projected joints' extent, less one pixel, scaled 1.2 about its centre;
- ``s_11_act_02_subact_02_ca_01`` (a broken video in the original download) skipped;
- frame n of a sequence is video frame n; the poses set the frame count (videos may run longer).

Resumable: each video's frames are written atomically, then a marker in ``.convert_h36m/``; a rerun
skips marked videos and redoes the rest, so a killed conversion restarts where it stopped and ends
with the same bytes as an uninterrupted one. The annotation files are written last, atomically.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..atomic import atomic_open, atomic_path
from ..geometry import cam2pixel, world2cam
from . import h36m_raw
from .human36m import ACTIONS

logger = logging.getLogger(__name__)

RELEASE_SUBJECTS = (1, 5, 6, 7, 8, 9, 11)
RELEASE_ACTIONS = tuple(range(2, 17))
SKIPPED_VIDEOS = {(11, 2, 2, 1): "the release skips it: the original download's video was broken"}
BOX_SCALE = 1.2
PROGRESS_DIR = ".convert_h36m"
# Other spellings of an action in file names (S1 says "TakingPhoto" and "WalkingDog", the others
# "Photo" and "WalkDog"); tried when the name metadata.xml gives is not on disk.
_SPELLINGS = (("TakingPhoto", "Photo"), ("WalkingDog", "WalkDog"))


def folder_name(subject: int, action: int, subaction: int, camera: int) -> str:
    """``s_09_act_02_subact_01_ca_01``: the release's image folder of one video."""
    return f"s_{subject:02d}_act_{action:02d}_subact_{subaction:02d}_ca_{camera:02d}"


def release_boxes(joints_img: np.ndarray) -> np.ndarray:
    """The release's box rule (``h36m2coco.get_bbox``) on projected joints.

    Args:
        joints_img: (N, J, 2+) px.

    Returns:
        (N, 4) [x, y, w, h] px: the joints' extent minus one pixel, scaled 1.2 about its centre.
    """
    lo, hi = joints_img[..., :2].min(axis=-2), joints_img[..., :2].max(axis=-2)
    size = hi - lo - 1.0
    centre = (lo + hi) / 2.0
    return np.concatenate([centre - size / 2.0 * BOX_SCALE, size * BOX_SCALE], axis=-1)


@dataclass(frozen=True)
class _Video:
    """One video to convert and where its frames go."""

    subject: int
    action: int
    subaction: int
    camera: int
    video: str
    poses: str
    frames: int
    first_id: int
    out_dir: str
    stride: int
    jpeg_quality: int

    @property
    def folder(self) -> str:
        return folder_name(self.subject, self.action, self.subaction, self.camera)

    def marker(self, width: int = 0, height: int = 0) -> dict:
        """What a finished video records; a rerun redoes the video unless all but the size match."""
        return {
            "video": Path(self.video).name, "video_bytes": Path(self.video).stat().st_size, "frames": self.frames,
            "stride": self.stride, "jpeg_quality": self.jpeg_quality, "width": width, "height": height,
        }  # fmt: skip


@dataclass
class H36MConversion:
    """What :func:`convert_h36m` did."""

    out_dir: Path
    videos: int
    videos_converted: int
    images: int
    subjects: tuple[int, ...]


def _resolve(path_of, raw_dir: Path, subject: int, name: str, *args) -> Path:
    """The file for a sequence name, or for the same name with the action's other spelling."""
    path = path_of(raw_dir, subject, name, *args)
    if path.is_file():
        return path
    for a, b in _SPELLINGS:
        for old, new in ((a, b), (b, a)):
            if name.startswith(old):
                other = path_of(raw_dir, subject, new + name[len(old) :], *args)
                if other.is_file():
                    logger.info("%s: not found; using %s (the same action spelt differently)", path, other.name)
                    return other
    return path


def _plan(raw_dir, metadata, subjects, actions, subactions, cameras, out_dir, stride, quality) -> list[_Video]:
    """Every video of the requested subjects, with the release's first image id of each."""
    present = [s for s in RELEASE_SUBJECTS if (raw_dir / f"S{s}").is_dir()]
    absent = [s for s in subjects if s not in present]
    if absent:
        raise FileNotFoundError(f"{raw_dir}: no subject folder(s) {', '.join(f'S{s}' for s in absent)}")
    counted = [s for s in present if s <= max(subjects)]
    missing_before = [s for s in RELEASE_SUBJECTS if s < max(subjects) and s not in present]
    if missing_before:
        logger.warning(
            "%s: subject(s) %s absent, so image ids are counted without them and differ from the release's "
            "(its bbox_root files will not match)", raw_dir, missing_before,
        )  # fmt: skip
    videos, missing, next_id = [], [], 0
    for subject in counted:
        for action in actions:
            for subaction in subactions:
                name = metadata.sequence_name(subject, action, subaction)
                poses = _resolve(h36m_raw.poses_path, raw_dir, subject, name)
                if not poses.is_file():
                    missing.append(poses)
                    continue
                frames = len(h36m_raw.read_poses(poses))
                for camera in cameras:
                    if (subject, action, subaction, camera) in SKIPPED_VIDEOS:
                        reason = SKIPPED_VIDEOS[subject, action, subaction, camera]
                        logger.info("%s: %s", folder_name(subject, action, subaction, camera), reason)
                        continue
                    video = _resolve(h36m_raw.video_path, raw_dir, subject, name, camera)
                    if subject in subjects:
                        if not video.is_file():
                            missing.append(video)
                        videos.append(
                            _Video(subject, action, subaction, camera, str(video), str(poses), frames, next_id,
                                   str(out_dir), stride, quality)
                        )  # fmt: skip
                    next_id += frames
    if missing:
        listed = "\n  ".join(str(p) for p in missing)
        raise FileNotFoundError(
            f"Human3.6M raw: missing file(s):\n  {listed}\nexpected per subject S<n>/Videos/<sequence>.<camera id>.mp4 "
            f"and S<n>/MyPoseFeatures/D3_Positions/<sequence>.cdf, <sequence> as {metadata.path} names it"
        )
    return videos


def _marker_path(task: _Video) -> Path:
    return Path(task.out_dir) / PROGRESS_DIR / f"{task.folder}.json"


def _is_done(task: _Video) -> bool:
    path = _marker_path(task)
    if not path.is_file():
        return False
    try:
        done = json.loads(path.read_text())
    except (OSError, ValueError):
        return False
    expected = task.marker()
    return all(done.get(k) == v for k, v in expected.items() if k not in ("width", "height"))


def _write_frame(path: Path, data: bytes) -> None:
    """One image, atomically (no fsync per frame: a killed run's video is redone from its start)."""
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)


def _convert_video(task: _Video) -> dict:
    """Decode one video once, write its kept frames, remove strays, then write its marker."""
    import cv2

    folder = Path(task.out_dir) / "images" / task.folder
    folder.mkdir(parents=True, exist_ok=True)
    written, shape = set(), (0, 0)
    for index, frame in h36m_raw.read_video(task.video, task.frames, task.stride):
        shape = frame.shape[:2]
        ok, data = cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, task.jpeg_quality])
        if not ok:
            raise OSError(f"{task.video}: frame {index} could not be encoded as JPEG")
        name = f"{task.folder}_{index + 1:06d}.jpg"
        _write_frame(folder / name, data.tobytes())
        written.add(name)
    for stray in folder.iterdir():  # leftovers of a killed run or of another --stride
        if stray.name not in written:
            stray.unlink()
    marker = task.marker(width=int(shape[1]), height=int(shape[0]))
    with atomic_open(_marker_path(task)) as handle:
        json.dump(marker, handle, sort_keys=True)
    return marker


def _run(tasks: list[_Video], workers: int, progress: bool) -> None:
    """Convert videos, in ``workers`` processes; a tqdm bar counts frames."""
    from tqdm import tqdm

    total = sum(t.frames for t in tasks)
    with tqdm(total=total, desc="Human3.6M frames", unit="frame", disable=not progress) as bar:
        if workers <= 1 or len(tasks) <= 1:
            for task in tasks:
                _convert_video(task)
                bar.update(task.frames)
            return
        import multiprocessing as mp

        context = mp.get_context("spawn" if os.name == "nt" else "fork")
        with context.Pool(min(workers, len(tasks))) as pool:
            for task, _ in zip(tasks, pool.imap(_convert_video, tasks)):
                bar.update(task.frames)


def _write_subject(out_dir: Path, subject: int, tasks: list[_Video], metadata: h36m_raw.Metadata) -> None:
    """The three annotation files of one subject, from its poses, cameras and video markers."""
    images, annotations, joints_3d = [], [], {}
    cameras = {c: metadata.camera(subject, c) for c in sorted({t.camera for t in tasks})}
    poses = {}
    for task in tasks:
        if task.poses not in poses:
            poses[task.poses] = h36m_raw.read_poses(task.poses)[:, h36m_raw.RELEASE_JOINTS]
        world = poses[task.poses]
        marker = json.loads(_marker_path(task).read_text())
        width, height = marker["width"], marker["height"]
        cam = cameras[task.camera]
        keep = np.arange(0, task.frames, task.stride)
        joints_img = cam2pixel(world2cam(world[keep], cam.rotation, cam.translation), cam.focal, cam.princpt)
        boxes = release_boxes(joints_img)
        u, v = joints_img[..., 0], joints_img[..., 1]
        visible = (u >= 0) & (u < width) & (v >= 0) & (v < height)
        frames_of = joints_3d.setdefault(str(task.action), {}).setdefault(str(task.subaction), {})
        for row, frame in enumerate(keep.tolist()):
            image_id = task.first_id + frame
            images.append({
                "id": image_id, "file_name": f"{task.folder}/{task.folder}_{frame + 1:06d}.jpg", "width": width,
                "height": height, "subject": subject, "action_name": ACTIONS[task.action - 2],
                "action_idx": task.action, "subaction_idx": task.subaction, "cam_idx": task.camera,
                "frame_idx": frame,
            })  # fmt: skip
            annotations.append(
                {
                    "id": image_id,
                    "image_id": image_id,
                    "keypoints_vis": visible[row].tolist(),
                    "bbox": boxes[row].tolist(),
                }
            )
            frames_of.setdefault(str(frame), world[frame].tolist())
    camera_json = {
        str(c): {"R": cam.rotation.tolist(), "t": cam.translation.tolist(), "f": cam.focal.tolist(),
                 "c": cam.princpt.tolist()}
        for c, cam in cameras.items()
    }  # fmt: skip
    folder = out_dir / "annotations"
    for kind, data in (("data", {"images": images, "annotations": annotations}), ("camera", camera_json),
                       ("joint_3d", joints_3d)):  # fmt: skip
        with atomic_open(folder / f"Human36M_subject{subject}_{kind}.json") as handle:
            json.dump(data, handle, separators=(",", ":"))


def _remove_stale_temporaries(out_dir: Path) -> None:
    """Temporary files a killed run left beside the annotation files and markers."""
    for folder in (out_dir / "annotations", out_dir / PROGRESS_DIR):
        if folder.is_dir():
            for path in folder.glob(".*.tmp"):
                path.unlink()


def convert_h36m(
    raw_dir: str | os.PathLike,
    out_dir: str | os.PathLike,
    *,
    subjects: tuple[int, ...] = RELEASE_SUBJECTS,
    actions: tuple[int, ...] = RELEASE_ACTIONS,
    subactions: tuple[int, ...] = (1, 2),
    cameras: tuple[int, ...] = (1, 2, 3, 4),
    stride: int = 1,
    workers: int = 1,
    metadata: str | os.PathLike | None = None,
    jpeg_quality: int = 90,
    progress: bool = True,
) -> H36MConversion:
    """Convert the raw Human3.6M download into the release's layout (see the module docstring).

    Args:
        raw_dir: the folder holding ``S1``, ``S5``, ... as extracted from the dataset's archives.
        out_dir: the dataset folder to write (e.g. ``data/Human36M``); gets ``images/``, ``annotations/``.
        subjects: release subjects to convert (1, 5, 6, 7, 8, 9, 11). Image ids still count the frames
            of every earlier release subject present in ``raw_dir``, as the release numbers them.
        actions, subactions, cameras: what to convert (default: everything; ids are the release's only then).
        stride: keep frames with ``frame_idx % stride == 0`` (1 = every frame, as the release; 5 keeps
            every training frame, 64 every test frame); kept frames keep their release ids.
        workers: processes; each decodes its videos once and writes their frames.
        metadata: the toolkit's ``metadata.xml`` (default ``raw_dir/metadata.xml``).
        jpeg_quality: of the written frames.
        progress: show a tqdm bar of frames.

    Raises:
        FileNotFoundError: a missing subject folder, metadata, pose file or video (all listed at once).
        DatasetError: a malformed metadata.xml, pose file or video (the message names the file).
    """
    raw_dir, out_dir = Path(raw_dir), Path(out_dir)
    if not raw_dir.is_dir():
        raise FileNotFoundError(f"Human3.6M raw folder not found: {raw_dir}")
    subjects = tuple(sorted(set(subjects)))
    if not subjects or any(s not in RELEASE_SUBJECTS for s in subjects):
        raise ValueError(f"subjects must be among the release's {RELEASE_SUBJECTS}, got {subjects}")
    if (
        not actions
        or not subactions
        or any(a not in RELEASE_ACTIONS for a in actions)
        or any(b not in (1, 2) for b in subactions)
    ):
        raise ValueError(f"actions are 2..16 and subactions 1..2, got {tuple(actions)} and {tuple(subactions)}")
    if not cameras or any(c not in (1, 2, 3, 4) for c in cameras):
        raise ValueError(f"cameras are 1..4, got {tuple(cameras)}")
    if stride < 1 or not 1 <= jpeg_quality <= 100:
        raise ValueError(f"stride must be >= 1 and jpeg_quality 1..100, got {stride} and {jpeg_quality}")
    meta = h36m_raw.read_metadata(Path(metadata) if metadata is not None else raw_dir / "metadata.xml")
    order = (sorted(set(actions)), sorted(set(subactions)), sorted(set(cameras)))
    tasks = _plan(raw_dir, meta, subjects, *order, out_dir, stride, int(jpeg_quality))
    _remove_stale_temporaries(out_dir)
    pending = [t for t in tasks if not _is_done(t)]
    logger.info("Human3.6M: %d videos, %d already converted", len(tasks), len(tasks) - len(pending))
    _run(pending, workers, progress)
    for subject in subjects:
        _write_subject(out_dir, subject, [t for t in tasks if t.subject == subject], meta)
    images = sum(len(range(0, t.frames, t.stride)) for t in tasks)
    return H36MConversion(out_dir, len(tasks), len(pending), images, subjects)
