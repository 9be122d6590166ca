"""What every format writer shares: per-task random generators, running tasks in processes, files, boxes, and the
simulated detector outputs of the ``bbox_root`` files."""

from __future__ import annotations

import contextlib
import gc
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, fields
from pathlib import Path

import cv2
import numpy as np

# The writers save JSON through the package's atomic writer (compact: indent=None), as common.write_json_atomic.
from ...atomic import write_image_atomic
from ...atomic import write_json_atomic as write_json_atomic
from ...geometry import process_boxes
from ..backends import check_bodies
from ..render.frame import Frame, RenderResult, render_frame
from ..render.lit_scene import LitScene
from ..scene.backgrounds import Backgrounds

FPS = 50.0  # Human3.6M's frame rate; frame_idx / FPS is the time of a frame
#: Largest side (px) a static camera's scene is lit at (then upsampled): its textures are smooth, and a studio's or a
#: sequence's background then costs the same at any image size.
STATIC_SCENE_SIDE = 480


@dataclass(frozen=True)
class WriterOptions:
    """Options every format's writer takes, as keyword arguments.

    Attributes:
        bodies: the people's body back-end: ``"capsule"`` (built in) or ``"anny"`` (realistic; needs
            ``pip install convnextpose[anny]``).
        degradation: strength of the image degradations (blur, noise, JPEG, exposure; 0 = clean images).
        render: False writes the annotations only (no images).
        jpeg_quality: of the written images.
        workers: processes rendering (the output is the same for any number).
        progress: show a progress bar.
        backgrounds: real photos without people (a folder, searched recursively, or a
            :class:`~convnextpose.synth.scene.backgrounds.Backgrounds`) behind the people instead of generated rooms.
    """

    bodies: str = "capsule"
    degradation: float = 1.0
    render: bool = True
    jpeg_quality: int = 90
    workers: int = 1
    progress: bool = True
    backgrounds: Backgrounds | None = None

    @classmethod
    def parse(cls, options: dict) -> WriterOptions:
        """The options from keyword arguments; ValueError naming unknown ones, ImportError for a missing extra."""
        names = [f.name for f in fields(cls)]
        if unknown := sorted(set(options) - set(names)):
            raise ValueError(f"unknown option(s) {unknown}; writer options are {names}")
        if options.get("backgrounds") is not None and not isinstance(options["backgrounds"], Backgrounds):
            options = {**options, "backgrounds": Backgrounds(options["backgrounds"])}
        out = cls(**options)
        check_bodies(out.bodies)
        if out.degradation < 0 or not 1 <= out.jpeg_quality <= 100 or out.workers < 1:
            raise ValueError(f"need degradation >= 0, 1 <= jpeg_quality <= 100 and workers >= 1, got {out}")
        return out


def sequence_rng(seed: int, *keys: int) -> np.random.Generator:
    """A generator for one sequence or item, independent of the others and of the worker that draws it."""
    return np.random.default_rng([int(seed), *(int(k) for k in keys)])


def derived_seed(*keys: int) -> int:
    """A seed for a :class:`~convnextpose.synth.frames.FrameSampler`, from the same keys as :func:`sequence_rng`."""
    return int(sequence_rng(*keys).integers(2**62))


def joints_box(joints_img: np.ndarray, width: int, height: int, margin: float = 0.1) -> np.ndarray:
    """[x, y, w, h] around projected joints (J, 2+) with a margin, clipped to the image (fallback box); for
    (..., J, 2+) joints, (..., 4) boxes."""
    joints_img = np.asarray(joints_img, np.float64)
    lo, hi = joints_img[..., :2].min(-2), joints_img[..., :2].max(-2)
    pad = (hi - lo) * margin
    lo = np.maximum(lo - pad, 0.0)
    hi = np.minimum(hi + pad, [width - 1.0, height - 1.0])
    return np.concatenate([lo, np.maximum(hi - lo, 1.0)], axis=-1)


def detector_box(
    rng: np.random.Generator, box: np.ndarray, width: int, height: int, fallback: bool = True
) -> np.ndarray | None:
    """What a person detector would give: ``box`` jittered by ~3 % of its size and extended as the release does
    (:func:`~convnextpose.geometry.process_boxes`). When the jittered box is unusable: the true box extended
    (``fallback``) or None."""
    box = np.asarray(box, dtype=np.float64)
    extended, valid = process_boxes(box + rng.normal(0, 0.03, 4) * box[[2, 3, 2, 3]], width, height)
    if not valid and fallback:
        extended, valid = process_boxes(box, width, height)
    return extended if valid else None


def render_and_write(frame: Frame, path: Path, quality: int, scene: LitScene | None = None) -> RenderResult:
    """Render a frame and write it as a JPEG; the frame's JPEG degradation is the file's own compression (encoded
    once, at the lower of ``quality`` and the degradation's)."""
    result = render_frame(frame, scene=scene, jpeg=False)
    write_image_atomic(path, result.rgb, min(quality, frame.degradation.jpeg_quality or quality))
    return result


def rounded(array: np.ndarray, decimals: int = 3) -> list:
    """A JSON-ready nested list with rounded floats (keeps files small and diffs stable)."""
    return np.round(np.asarray(array, dtype=np.float64), decimals).tolist()


@contextlib.contextmanager
def single_threaded_opencv() -> Iterator[None]:
    """OpenCV on one thread inside the block (its previous setting restored after).

    The writers parallelise over worker processes; OpenCV's own threads on every full-image operation (lookup
    tables, blurs, noise) only add synchronisation: 10-15 % more CPU per image at 1000 px on two cores.
    """
    previous = cv2.getNumThreads()
    cv2.setNumThreads(1)
    try:
        yield
    finally:
        cv2.setNumThreads(previous)


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """Python's cycle collector off inside the block (back on after, if it was on).

    For assembling annotation files: they are millions of new, acyclic lists and floats, and each full collection
    the allocations trigger walks everything built so far (about a second of the 24,000-annotation benchmark).
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _worker_init() -> None:
    cv2.setNumThreads(1)


def run_tasks(
    function: Callable, tasks: list, workers: int = 1, progress: bool = True, total: int | None = None, desc: str = ""
) -> list:
    """Run ``function(task)`` over tasks, optionally in a process pool, in task order; OpenCV runs single-threaded
    in each process (:func:`single_threaded_opencv`).

    Each result may be a list; ``total`` counts their items for the progress bar (images).
    """
    from tqdm import tqdm

    results = []
    with tqdm(total=total or len(tasks), desc=desc, unit="img", disable=not progress, leave=False) as bar:
        if workers <= 1 or len(tasks) <= 1:
            with single_threaded_opencv():
                for task in tasks:
                    results.append(function(task))
                    bar.update(len(results[-1]) if total else 1)
        else:
            import multiprocessing as mp

            ctx = mp.get_context("spawn" if os.name == "nt" else "fork")
            with ctx.Pool(min(workers, len(tasks)), initializer=_worker_init) as pool:
                for result in pool.imap(function, tasks):
                    results.append(result)
                    bar.update(len(result) if total else 1)
    return results
