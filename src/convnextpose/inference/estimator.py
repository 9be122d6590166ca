"""PoseEstimator: images (+ boxes) -> crops -> network -> decoding -> 3D poses in the camera frame.

Pipeline per image (DATA_FORMATS.md section 6): each person box [x, y, w, h] is clipped to the
image, grown to the network's aspect ratio and by 1.25, and affine-warped to the input size;
the crops of all people (of all images in a batch) go through the network in one pass; the
output (heatmap units) is mapped back through the crop to image pixels, z to mm around the root
depth, and ``pixel2cam`` gives camera-frame millimetres with the focal length and principal point.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

import numpy as np
import torch
from torch import nn

from ..codec import decode, flip_back
from ..geometry import crop_transforms, invert_affine, pixel2cam, process_boxes
from ..image import ImageError, ImageInput, as_normalized, as_rgb, decode_image_bytes, read_image, warp_crops
from ..joints import get_joint_set
from .backends import make_backend
from .detector import HOGPersonDetector, run_detector, whole_frame
from .jobs import ImageJob, box_arrays, describe_image, group_rows, xy_pair
from .person_finder import DEFAULT_REFINE_PASSES, find_person, start_boxes
from .result import PersonPose, Poses
from .root_depth import DEFAULT_FOCAL, estimate_root_depth
from .tracker import PoseTracker

logger = logging.getLogger(__name__)


class PoseEstimator:
    """3D human pose estimation on whole images.

    Args:
        model: a ConvNeXtPose module, a checkpoint path (or shipped-weights name), or with
            ``backend="onnx"`` an ``.onnx`` file (a module or checkpoint is exported on the fly).
        backend: ``"torch"`` or ``"onnx"``.
        device: ``"cpu"`` or ``"cuda[:i]"``.
        flip_test: also run the mirrored crop and average, as the release's flip test
            (twice the network cost).
        detector: where boxes come from when :meth:`predict` gets none: ``"auto"`` (default): OpenCV's HOG
            people detector; where it finds at most one person, the person is found from the whole image
            and the detector's box, each re-cropped around the network's own joints
            (:mod:`.person_finder`), keeping the most confident pass; ``"hog"``: the HOG boxes as
            they are; ``"frame"``: the whole image as one person; or any callable
            ``image (H, W, 3) RGB -> boxes (N, 4) [x, y, w, h] [, scores (N,)]``.
        focal: default focal length (fx, fy) or f in px; 1500 px as the release's demo. Per call
            overridable.
        princpt: default principal point (cx, cy) px; None means the image centre.
        fallback_to_frame: when the detector finds nobody, use the whole image as one person.
        strict: raise ValueError on an invalid box or root depth instead of skipping the box
            (or replacing the depth by the prior) with a warning.
        batch_size: most crops per forward pass (larger batches are split).
        optimize: PyTorch backend only: fold batch norms, channels-last (same outputs to ~1e-6).
        threads: ONNX Runtime intra-op threads, or ``torch.set_num_threads`` for PyTorch (global).
        box_scale: margin around each box before cropping (1.25 as trained).
        refine_passes: ``detector="auto"``: re-crops from the network's joints after the first pass.
    """

    def __init__(
        self,
        model: nn.Module | str | os.PathLike,
        backend: str = "torch",
        device: str = "cpu",
        flip_test: bool = False,
        detector: str | Callable[[np.ndarray], Any] | None = "auto",
        focal: float | Sequence[float] | None = None,
        princpt: Sequence[float] | None = None,
        fallback_to_frame: bool = True,
        strict: bool = False,
        batch_size: int = 32,
        optimize: bool = True,
        threads: int | None = None,
        box_scale: float = 1.25,
        refine_passes: int = DEFAULT_REFINE_PASSES,
    ) -> None:
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        if threads and backend == "torch":
            torch.set_num_threads(int(threads))
        self.backend = make_backend(model, backend, device, optimize=optimize, threads=threads)
        self.spec = self.backend.spec
        self.joint_set = get_joint_set(self.spec.joint_set)
        self.flip_test = bool(flip_test)
        self.find_single_person = detector in (None, "auto")
        self.detector = self._resolve_detector(detector)
        if refine_passes < 0:
            raise ValueError(f"refine_passes must be >= 0, got {refine_passes}")
        self.refine_passes = int(refine_passes)
        self.focal = xy_pair(DEFAULT_FOCAL if focal is None else focal, "focal")
        self.princpt = None if princpt is None else xy_pair(princpt, "princpt")
        self.fallback_to_frame = bool(fallback_to_frame)
        self.strict = bool(strict)
        self.batch_size = int(batch_size)
        self.box_scale = float(box_scale)

    @staticmethod
    def _resolve_detector(detector: Any) -> Callable[[np.ndarray], Any]:
        if detector is None or detector in ("auto", "hog"):
            return HOGPersonDetector()
        if detector in ("frame", "full", "whole"):
            return whole_frame
        if callable(detector):
            return detector
        raise ValueError(f"detector must be 'auto', 'hog', 'frame' or a callable, got {detector!r}")

    @property
    def input_size(self) -> tuple[int, int]:
        return self.spec.input_size

    # ------------------------------------------------------------------ public API

    def predict(
        self,
        image: ImageInput,
        boxes: np.ndarray | Sequence[Sequence[float]] | None = None,
        root_depths: np.ndarray | Sequence[float] | None = None,
        focal: float | Sequence[float] | None = None,
        princpt: Sequence[float] | None = None,
        color_order: str = "rgb",
        scores: Sequence[float] | None = None,
    ) -> Poses:
        """3D poses of the people in one image, all crops in one forward pass.

        Args:
            image: a file path, encoded image bytes, or an (H, W, 3) uint8 array.
            boxes: (N, 4) [x, y, w, h] px; None runs the detector.
            root_depths: (N,) root (pelvis) depth in mm per box; None (or a non-finite entry,
                with a warning) uses the box-size prior (:func:`estimate_root_depth`).
            focal: (fx, fy) or f px for this image; default the estimator's.
            princpt: (cx, cy) px; default the estimator's, else the image centre.
            color_order: channel order of an array ``image``: ``"rgb"`` or ``"bgr"`` (OpenCV).
            scores: optional (N,) detection scores to carry along with given boxes.

        Returns:
            :class:`Poses`, a list of :class:`PersonPose` in box order (invalid boxes skipped
            unless ``strict``; see ``Poses.warnings``).

        Raises:
            FileNotFoundError: ``image`` is a path that does not exist.
            ImageError (a ValueError): not a decodable image, empty, or not uint8 (H, W, 3).
            ValueError: boxes not (N, 4), root_depths/scores of another length, a bad
                ``color_order``; in ``strict`` mode also an invalid box or root depth.
        """
        return self.predict_batch(
            [image],
            None if boxes is None else [boxes],
            None if root_depths is None else [root_depths],
            focal=focal,
            princpt=princpt,
            color_order=color_order,
            scores=None if scores is None else [scores],
            on_error="raise",
        )[0]

    def predict_batch(
        self,
        images: Iterable[ImageInput],
        boxes: Sequence[np.ndarray | Sequence[Sequence[float]] | None] | None = None,
        root_depths: Sequence[np.ndarray | Sequence[float] | None] | None = None,
        focal: float | Sequence[float] | None = None,
        princpt: Sequence[float] | None = None,
        color_order: str = "rgb",
        scores: Sequence[Sequence[float] | None] | None = None,
        on_error: str = "skip",
    ) -> list[Poses]:
        """:meth:`predict` for many images; all their crops share forward passes of ``batch_size``.

        Args:
            images: paths, bytes or arrays.
            boxes, root_depths, scores: one entry per image (each as in :meth:`predict`), or None.
            focal, princpt, color_order: shared by all images.
            on_error: ``"skip"``: an image that cannot be read, or whose boxes are malformed,
                gives an empty :class:`Poses` with ``error`` set (and a logged warning), and the
                rest of the batch goes on; ``"raise"``: the first such problem raises.

        Returns:
            One :class:`Poses` per image, in order.
        """
        if on_error not in ("skip", "raise"):
            raise ValueError(f"on_error must be 'skip' or 'raise', got {on_error!r}")
        if color_order not in ("rgb", "bgr"):
            raise ValueError(f"color_order must be 'rgb' or 'bgr', got {color_order!r}")
        images = list(images)
        for name, values in (("boxes", boxes), ("root_depths", root_depths), ("scores", scores)):
            if values is not None and len(values) != len(images):
                raise ValueError(f"{name} has {len(values)} entries for {len(images)} images")
        focal_pair = self.focal if focal is None else xy_pair(focal, "focal")
        princpt_pair = self.princpt if princpt is None else xy_pair(princpt, "princpt")
        jobs = []
        for i, image in enumerate(images):
            job = ImageJob(source=describe_image(image))
            try:
                self._prepare(
                    job, image, None if boxes is None else boxes[i], None if root_depths is None else root_depths[i],
                    None if scores is None else scores[i], focal_pair, princpt_pair, color_order,
                )  # fmt: skip
            except (FileNotFoundError, ValueError) as exc:
                if on_error == "raise":
                    raise
                job.error = str(exc)
                logger.warning("skipped %s: %s", job.source, exc)
            jobs.append(job)
        results = self._run(jobs)
        for i, job in enumerate(jobs):
            if job.error is None and job.starts is not None:
                results[i] = self._find_person(job)
        return results

    def track(self, frames: Iterable[ImageInput], **tracker_args: Any) -> Iterator[Poses]:
        """Poses of a frame sequence with re-cropping from the previous frame and smoothing.

        A generator over :meth:`PoseTracker.update <convnextpose.inference.PoseTracker.update>`;
        ``tracker_args`` go to :class:`~convnextpose.inference.PoseTracker`.
        """
        tracker = PoseTracker(self, **tracker_args)
        for frame in frames:
            yield tracker.update(frame)

    # ------------------------------------------------------------------ pipeline

    def load_image(self, image: ImageInput, color_order: str = "rgb") -> np.ndarray:
        """A path, encoded bytes or an array as a validated RGB uint8 (H, W, 3) array (ImageError if not)."""
        if isinstance(image, (str, os.PathLike)):
            return read_image(image)
        if isinstance(image, (bytes, bytearray, memoryview)):
            return decode_image_bytes(bytes(image))
        if isinstance(image, np.ndarray):
            return as_rgb(image, color_order)
        raise ImageError(
            f"expected an image path, encoded bytes or a uint8 (H, W, 3) array, got {type(image).__name__}"
        )

    def _prepare(
        self,
        job: ImageJob,
        image: ImageInput,
        boxes: Any,
        root_depths: Any,
        scores: Any,
        focal: np.ndarray,
        princpt: np.ndarray | None,
        color_order: str,
    ) -> None:
        job.image = self.load_image(image, color_order)
        height, width = job.image.shape[:2]
        job.focal = focal
        job.princpt = np.array([width / 2.0, height / 2.0]) if princpt is None else princpt
        if boxes is None:
            if root_depths is not None:
                raise ValueError("root_depths were given without boxes; give both, or neither to use the detector")
            boxes, scores = run_detector(self.detector, job.image)
            if self.find_single_person and len(boxes) <= 1:
                job.starts = start_boxes(job.image.shape, boxes)
                return
            if len(boxes) == 0 and self.fallback_to_frame:
                boxes, scores = whole_frame(job.image)
                job.warnings.append("no person detected: used the whole image as one person")
                logger.info("%s: no person detected, using the whole image", job.source)
        boxes, depths, scores = box_arrays(boxes, root_depths, scores)
        aspect = self.input_size[1] / self.input_size[0]
        crop_boxes, valid = process_boxes(boxes, width, height, aspect_ratio=aspect, scale=self.box_scale)
        valid = np.atleast_1d(valid) & (crop_boxes[:, 2] >= 1.0) & (crop_boxes[:, 3] >= 1.0)
        for i in np.flatnonzero(~valid):
            message = f"box {i} {boxes[i].round(2).tolist()} is invalid (non-finite, zero size or outside the image)"
            if self.strict:
                raise ValueError(f"{job.source}: {message}")
            job.warnings.append(message + ": skipped")
            logger.warning("%s: %s: skipped", job.source, message)
        sources = np.where(np.isfinite(depths) & (depths > 0), "given", "prior")
        for i in np.flatnonzero(valid & (sources == "prior") & (root_depths is not None)):
            message = f"root depth {depths[i]} of box {i} is not a positive finite number"
            if self.strict:
                raise ValueError(f"{job.source}: {message}")
            job.warnings.append(message + ": used the box-size prior instead")
            logger.warning("%s: %s: using the box-size prior", job.source, message)
        prior = estimate_root_depth(np.where(valid[:, None], crop_boxes, 1.0), job.focal)
        depths = np.where(sources == "given", depths, prior)
        job.indices = np.flatnonzero(valid)
        job.boxes, job.crop_boxes = boxes[valid], crop_boxes[valid]
        centres = job.crop_boxes[:, :2] + job.crop_boxes[:, 2:] / 2.0
        job.transforms = crop_transforms(centres, job.crop_boxes[:, 2:], self.input_size)
        job.scores = None if scores is None else scores[valid]
        job.root_depths = depths[valid]
        job.depth_sources = [str(s) for s in sources[valid]]

    def _run(self, jobs: list[ImageJob]) -> list[Poses]:
        """Crop every job's people, run the network in batches, decode, and build the results."""
        owners = [(j, k) for j, job in enumerate(jobs) if job.error is None for k in range(len(job.boxes))]
        joints_hm = np.zeros((len(owners), self.spec.num_joints, 3), dtype=np.float32)
        confidence = np.zeros((len(owners), self.spec.num_joints), dtype=np.float32)
        for start in range(0, len(owners), self.batch_size):
            chunk = owners[start : start + self.batch_size]
            crops = np.concatenate([self._crops(jobs[j], rows) for j, rows in group_rows(chunk)])
            coords, conf = self._forward(crops)
            joints_hm[start : start + len(chunk)] = coords
            confidence[start : start + len(chunk)] = conf
        results = []
        cursor = 0
        for job in jobs:
            if job.error is not None:
                results.append(Poses([], None, job.source, job.error, job.warnings))
                continue
            n = len(job.boxes)
            people = self._decode(job, joints_hm[cursor : cursor + n], confidence[cursor : cursor + n])
            cursor += n
            results.append(Poses(people, job.image.shape[:2], job.source, None, job.warnings))
        return results

    def _find_person(self, job: ImageJob) -> Poses:
        """The one person of an image with no boxes: see :mod:`.person_finder`."""

        def run(boxes: np.ndarray) -> Poses:
            return self.predict(job.image, boxes, focal=job.focal, princpt=job.princpt)

        starts, names = job.starts
        found = find_person(run, starts, names, self.refine_passes)
        people = []
        if found is not None:
            people = [dataclasses.replace(found.person, index=0)]
            logger.info(
                "%s: person found from the %s box, refine pass %d (mean confidence %.3f)",
                job.source, found.start, found.refine_pass, found.mean_confidence,
            )  # fmt: skip
        return Poses(people, job.image.shape[:2], job.source, None, job.warnings)

    def _crops(self, job: ImageJob, rows: list[int]) -> np.ndarray:
        """(N, H, W, 3) uint8 RGB crops of the job's people."""
        return warp_crops(job.image, job.transforms[rows], self.input_size)

    def _forward(self, crops: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Network on (N, H, W, 3) uint8 crops; with flip test, the mirrored crops ride in the same batch."""
        if self.flip_test:
            crops = np.concatenate([crops, crops[:, :, ::-1]])
        if not getattr(self.backend, "takes_pixels", False):
            crops = as_normalized(crops)
        if not self.flip_test:
            return self.backend(crops)
        n = len(crops) // 2
        coords, conf = self.backend(crops)
        perm = self.joint_set.flip_permutation
        flipped = flip_back(coords[n:], perm, self.spec.output_size[1])
        return (coords[:n] + flipped) / 2.0, (conf[:n] + conf[n:][:, perm]) / 2.0

    def _decode(self, job: ImageJob, joints_hm: np.ndarray, confidence: np.ndarray) -> list[PersonPose]:
        boxes = job.crop_boxes
        inverse = invert_affine(job.transforms)
        joints_img = decode(
            joints_hm, job.root_depths, inverse, self.input_size, self.spec.depth_dim, output_size=self.spec.output_size
        )
        joints_cam = pixel2cam(joints_img, job.focal, job.princpt)
        root = self.joint_set.root_index
        people = []
        for k in range(len(boxes)):
            people.append(
                PersonPose(
                    box=job.boxes[k].copy(),
                    crop_box=boxes[k].copy(),
                    joints_img=joints_img[k, :, :2],
                    joints_cam=joints_cam[k],
                    joints_rel=joints_cam[k] - joints_cam[k, root],
                    confidence=confidence[k].astype(np.float64),
                    root_depth=float(job.root_depths[k]),
                    root_depth_source=job.depth_sources[k],
                    focal=job.focal.copy(),
                    princpt=job.princpt.copy(),
                    joint_set=self.joint_set,
                    joints_hm=joints_hm[k].astype(np.float64),
                    score=None if job.scores is None or not np.isfinite(job.scores[k]) else float(job.scores[k]),
                    index=int(job.indices[k]),
                )
            )
        return people


def focal_from_fov(width: int, horizontal_fov_deg: float) -> float:
    """Focal length in px of a camera with this image width and horizontal field of view."""
    return width / 2.0 / math.tan(math.radians(horizontal_fov_deg) / 2.0)
