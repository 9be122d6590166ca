"""The demo behind ``convnextpose demo``: images, folders and videos in, overlays, 3D plots and JSON out.

For an image ``NAME.EXT`` it writes, under the output folder:

- ``NAME_2d.jpg``: the image with every skeleton and box drawn on it;
- ``NAME_3d.png``: the 3D skeletons (matplotlib), and ``NAME_3d.html``: an interactive viewer;
- ``NAME.json``: :meth:`Poses.to_dict` plus the settings used.

For a video ``NAME.EXT``: ``NAME_annotated.mp4`` (mp4v), ``NAME.json`` with every frame,
``NAME_3d.html`` (a player over all frames) and ``NAME_3d.png`` (the last frame with people).
Video runs through :class:`PoseTracker`: people are re-cropped from the previous frame's joints
and their 3D joints are smoothed with the One Euro filter. ``demo_summary.json`` lists every
input with its outputs, people count, errors and timing.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from ..atomic import write_image_atomic, write_json_atomic
from ..data.box_file import BoxEntry, BoxesFile
from ..image import IMAGE_SUFFIXES, VIDEO_SUFFIXES
from .estimator import PoseEstimator
from .result import Poses

logger = logging.getLogger(__name__)


def _entries_to_arrays(entries: list[BoxEntry]) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None]:
    boxes = np.array([e.box for e in entries], dtype=np.float64).reshape(-1, 4)
    scores = (
        None
        if all(e.score is None for e in entries)
        else np.array([np.nan if e.score is None else e.score for e in entries])
    )
    if all(e.root_depth is None for e in entries):
        return boxes, scores, None
    depths = np.array([np.nan if e.root_depth is None else e.root_depth for e in entries])
    return boxes, scores, depths


# ---------------------------------------------------------------------------------------------- demo


@dataclass
class DemoResult:
    """What the demo did with one input."""

    input: str
    kind: str
    outputs: dict[str, str] = field(default_factory=dict)
    people: int = 0
    frames: int = 0
    error: str | None = None
    warnings: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        out = dict(self.__dict__)
        if self.kind == "video" and self.seconds > 0:
            out["fps"] = round(self.frames / self.seconds, 2)
        return out


def classify_input(path: Path) -> str:
    """``"image"``, ``"video"`` or ``"folder"`` by the path; ValueError for anything else."""
    if path.is_dir():
        return "folder"
    if not path.exists():
        raise FileNotFoundError(f"input not found: {path}")
    suffix = path.suffix.lower()
    if suffix in VIDEO_SUFFIXES:
        return "video"
    if suffix in IMAGE_SUFFIXES:
        return "image"
    raise ValueError(
        f"{path}: unknown input type {suffix!r}; images: {sorted(IMAGE_SUFFIXES)}, videos: {sorted(VIDEO_SUFFIXES)}"
    )


def run_demo(
    source: str | os.PathLike,
    estimator: PoseEstimator,
    out_dir: str | os.PathLike = "output/demo",
    boxes_file: str | os.PathLike | BoxesFile | None = None,
    score_threshold: float = 0.0,
    frame: str = "camera",
    html: bool = True,
    smooth: bool = True,
    max_frames: int | None = None,
    redetect_every: int = 0,
    progress: bool = True,
    plot_3d: bool = True,
) -> list[DemoResult]:
    """Run the demo on an image, a folder of images, or a video file.

    Args:
        source: the input path.
        estimator: the configured :class:`PoseEstimator`.
        out_dir: output folder (created).
        boxes_file: COCO-style detections (see :class:`BoxesFile`); images it does not list get
            no people (with a warning). Without it the estimator's detector finds people.
        score_threshold: drop boxes-file detections scoring lower.
        frame: 3D plot coordinates: ``"camera"`` or ``"root"`` (root-relative).
        html: also write the interactive 3D viewer.
        smooth: One Euro smoothing of video joints.
        max_frames: stop a video after this many frames.
        redetect_every: video: also run the detector every N frames (0: only when nobody is tracked).
        progress: show a tqdm progress bar.
        plot_3d: write the matplotlib 3D plot (the slowest output, ~0.3 s per image).

    Returns:
        One :class:`DemoResult` per input file; ``demo_summary.json`` holds the same.
    """
    source = Path(source)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    kind = classify_input(source)
    boxes = BoxesFile.load(boxes_file, score_threshold) if isinstance(boxes_file, (str, os.PathLike)) else boxes_file
    options = dict(boxes=boxes, frame=frame, html=html, plot_3d=plot_3d)
    if kind == "video":
        results = [_run_video(source, estimator, out_dir, smooth, max_frames, redetect_every, progress, **options)]
    else:
        files = (
            [source] if kind == "image" else sorted(p for p in source.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
        )
        if kind == "folder" and not files:
            raise ValueError(f"{source}: no images ({', '.join(sorted(IMAGE_SUFFIXES))}) in this folder")
        results = [_run_image(path, estimator, out_dir, **options) for path in _progress(files, progress, "images")]
    summary = {
        "input": str(source),
        "settings": _settings(estimator, boxes, frame, smooth),
        "results": [r.to_dict() for r in results],
    }
    write_json_atomic(out_dir / "demo_summary.json", summary, indent=1, allow_nan=False)
    return results


def _settings(estimator: PoseEstimator, boxes: BoxesFile | None, frame: str, smooth: bool) -> dict[str, Any]:
    detector = getattr(estimator.detector, "__name__", type(estimator.detector).__name__)
    return {
        "backend": estimator.backend.name,
        "input_size": list(estimator.input_size),
        "joint_set": estimator.joint_set.name,
        "flip_test": estimator.flip_test,
        "focal_default": estimator.focal.tolist(),
        "princpt_default": None if estimator.princpt is None else estimator.princpt.tolist(),
        "boxes_file": None if boxes is None else str(boxes.path),
        "detector": None if boxes is not None else detector,
        "plot_frame": frame,
        "video_smoothing": smooth,
    }


def _progress(items: Any, enabled: bool, unit: str, total: int | None = None) -> Any:
    from tqdm import tqdm

    return tqdm(items, total=total, unit=unit[:-1], desc=unit, disable=not enabled, leave=False)


def _predict_with_boxes(estimator: PoseEstimator, image: np.ndarray, entries: list[BoxEntry] | None) -> Poses:
    boxes, scores, depths = _entries_to_arrays(entries or [])
    return estimator.predict(image, boxes, depths, scores=scores)


def _run_image(
    path: Path, estimator: PoseEstimator, out_dir: Path, boxes: BoxesFile | None, frame: str, html: bool, plot_3d: bool
) -> DemoResult:
    from ..image import read_image
    from ..vis import save_plot_3d, write_html_viewer

    result = DemoResult(str(path), "image")
    started = time.perf_counter()
    try:
        image = read_image(path)
        entries = None
        if boxes is not None:
            entries = boxes.lookup(name=path.name)
            if entries is None:
                result.warnings.append(f"{boxes.path} lists no boxes for {path.name}: no people")
        poses = estimator.predict(image) if boxes is None else _predict_with_boxes(estimator, image, entries)
    except (FileNotFoundError, ValueError) as exc:
        result.error = str(exc)
        logger.warning("%s: %s", path, exc)
        return result
    stem = path.stem
    result.people = len(poses)
    result.warnings += poses.warnings
    result.outputs["overlay"] = str(write_image_atomic(out_dir / f"{stem}_2d.jpg", poses.plot(image)))
    if plot_3d:
        title = f"{path.name}: {len(poses)} person(s)"
        result.outputs["plot_3d"] = str(save_plot_3d(out_dir / f"{stem}_3d.png", list(poses), frame=frame, title=title,
                                                     joint_set=estimator.joint_set))  # fmt: skip
    if html:
        result.outputs["viewer"] = str(write_html_viewer(out_dir / f"{stem}_3d.html", list(poses), estimator.joint_set,
                                                         frame=frame, title=path.name))  # fmt: skip
    payload = poses.to_dict()
    payload["warnings"] = result.warnings
    result.outputs["json"] = str(write_json_atomic(out_dir / f"{stem}.json", payload, indent=1, allow_nan=False))
    result.seconds = time.perf_counter() - started
    return result


def iter_video(path: str | os.PathLike, max_frames: int | None = None) -> Iterator[np.ndarray]:
    """BGR uint8 frames of a video file (OpenCV); ValueError if it cannot be opened."""
    capture = cv2.VideoCapture(str(path))
    if not capture.isOpened():
        raise ValueError(f"{path}: cannot open this video (OpenCV could not decode it)")
    try:
        count = 0
        while max_frames is None or count < max_frames:
            ok, frame = capture.read()
            if not ok:
                break
            count += 1
            yield frame
    finally:
        capture.release()


def video_info(path: str | os.PathLike) -> tuple[float, int, tuple[int, int]]:
    """(fps, frame count, (height, width)); fps falls back to 30 where the file does not say."""
    capture = cv2.VideoCapture(str(path))
    if not capture.isOpened():
        raise ValueError(f"{path}: cannot open this video (OpenCV could not decode it)")
    fps = capture.get(cv2.CAP_PROP_FPS)
    count = int(capture.get(cv2.CAP_PROP_FRAME_COUNT))
    size = (int(capture.get(cv2.CAP_PROP_FRAME_HEIGHT)), int(capture.get(cv2.CAP_PROP_FRAME_WIDTH)))
    capture.release()
    return (fps if fps and np.isfinite(fps) and fps > 0 else 30.0), count, size


def _run_video(
    path: Path,
    estimator: PoseEstimator,
    out_dir: Path,
    smooth: bool,
    max_frames: int | None,
    redetect_every: int,
    progress: bool,
    boxes: BoxesFile | None,
    frame: str,
    html: bool,
    plot_3d: bool,
) -> DemoResult:
    from ..vis import save_plot_3d, write_html_viewer
    from .tracker import PoseTracker

    result = DemoResult(str(path), "video")
    fps, count, (height, width) = video_info(path)
    total = count if max_frames is None else min(count, max_frames) if count > 0 else max_frames
    tracker = PoseTracker(estimator, smooth=smooth, fps=fps, redetect_every=redetect_every)
    video_path = out_dir / f"{path.stem}_annotated.mp4"
    writer = cv2.VideoWriter(str(video_path), cv2.VideoWriter_fourcc(*"mp4v"), fps, (width, height))
    if not writer.isOpened():
        raise RuntimeError(f"could not open a video writer for {video_path} (mp4v)")
    frames_json: list[dict[str, Any]] = []
    all_people: list[list[Any]] = []
    last_with_people = None
    started = time.perf_counter()
    try:
        for index, bgr in enumerate(_progress(iter_video(path, max_frames), progress, "frames", total or None)):
            timestamp = index / fps
            try:
                given = None if boxes is None else boxes.lookup(frame=index)
                if boxes is None:
                    poses = tracker.update(bgr, timestamp=timestamp, color_order="bgr")
                else:
                    b, scores, d = _entries_to_arrays(given or [])
                    poses = tracker.update(
                        bgr, timestamp=timestamp, color_order="bgr", boxes=b, root_depths=d, scores=scores
                    )
            except ValueError as exc:  # one bad frame never ends the video
                poses = Poses([], (bgr.shape[0], bgr.shape[1]), f"frame {index}", str(exc))
                result.warnings.append(f"frame {index}: {exc}")
            rgb = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
            writer.write(cv2.cvtColor(poses.plot(rgb), cv2.COLOR_RGB2BGR))
            entry = poses.to_dict()
            entry.update(frame=index, timestamp=round(timestamp, 4))
            frames_json.append(entry)
            all_people.append(list(poses))
            if len(poses):
                last_with_people = (index, list(poses))
            result.people = max(result.people, len(poses))
    finally:
        writer.release()
    result.frames = len(frames_json)
    result.seconds = time.perf_counter() - started
    result.outputs["video"] = str(video_path)
    if html:
        labels = [f"frame {i}" for i in range(len(all_people))]
        result.outputs["viewer"] = str(write_html_viewer(out_dir / f"{path.stem}_3d.html", all_people, estimator.joint_set,
                                                         frame=frame, title=path.name, sequence=True, labels=labels,
                                                         fps=fps))  # fmt: skip
    if plot_3d and last_with_people is not None:
        index, people = last_with_people
        result.outputs["plot_3d"] = str(save_plot_3d(out_dir / f"{path.stem}_3d.png", people, frame=frame,
                                                     title=f"{path.name} frame {index}", joint_set=estimator.joint_set))  # fmt: skip
    payload = {"source": str(path), "fps": fps, "size": [height, width], "smoothing": smooth, "frames": frames_json}
    result.outputs["json"] = str(write_json_atomic(out_dir / f"{path.stem}.json", payload, indent=1, allow_nan=False))
    return result
