"""The estimator's bookkeeping for one image on its way through the pipeline, and the checks on what a caller
passes with it (boxes, root depths, scores, intrinsics)."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np


@dataclass
class ImageJob:
    """One image on its way through the pipeline."""

    source: str
    image: np.ndarray | None = None
    error: str | None = None
    boxes: np.ndarray = field(default_factory=lambda: np.zeros((0, 4)))
    scores: np.ndarray | None = None
    indices: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    crop_boxes: np.ndarray = field(default_factory=lambda: np.zeros((0, 4)))
    transforms: np.ndarray = field(default_factory=lambda: np.zeros((0, 2, 3)))  # image -> crop, per person
    root_depths: np.ndarray = field(default_factory=lambda: np.zeros(0))
    depth_sources: list[str] = field(default_factory=list)
    focal: np.ndarray = field(default_factory=lambda: np.zeros(2))
    princpt: np.ndarray = field(default_factory=lambda: np.zeros(2))
    warnings: list[str] = field(default_factory=list)
    starts: tuple[np.ndarray, list[str]] | None = None  # "auto" detector, one person: boxes to refine from


def xy_pair(value: float | Sequence[float] | np.ndarray, name: str) -> np.ndarray:
    """A scalar or (2,) positive value as a float64 (2,) array."""
    array = np.asarray(value, dtype=np.float64).reshape(-1)
    if array.size == 1:
        array = np.repeat(array, 2)
    if array.shape != (2,) or not np.isfinite(array).all():
        raise ValueError(f"{name} must be a number or a pair (x, y) of finite numbers, got {value!r}")
    return array


def box_arrays(boxes: Any, root_depths: Any, scores: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """A caller's boxes, root depths and scores for one image as arrays: (N, 4) float64 [x, y, w, h] (a single
    (4,) box is one row), (N,) depths (NaN where none were given) and (N,) scores or None.

    Raises:
        ValueError: boxes not (N, 4), or depths or scores of another length than the boxes.
    """
    boxes = np.asarray(boxes, dtype=np.float64)
    if boxes.size == 0:
        boxes = boxes.reshape(0, 4)
    if boxes.ndim == 1 and boxes.shape == (4,):
        boxes = boxes[None]
    if boxes.ndim != 2 or boxes.shape[1] != 4:
        raise ValueError(f"boxes must be (N, 4) [x, y, w, h] px, got shape {boxes.shape}")
    count = len(boxes)
    depths = np.full(count, np.nan)
    if root_depths is not None:
        depths = np.asarray(root_depths, dtype=np.float64).reshape(-1)
        if len(depths) != count:
            raise ValueError(f"{len(depths)} root depths for {count} boxes")
    if scores is not None:
        scores = np.asarray(scores, dtype=np.float64).reshape(-1)
        if len(scores) != count:
            raise ValueError(f"{len(scores)} scores for {count} boxes")
    return boxes, depths, scores


def group_rows(chunk: list[tuple[int, int]]) -> list[tuple[int, list[int]]]:
    """Consecutive (job, row) pairs grouped by job: [(0, 0), (0, 1), (1, 0)] -> [(0, [0, 1]), (1, [0])]."""
    groups: list[tuple[int, list[int]]] = []
    for j, k in chunk:
        if groups and groups[-1][0] == j:
            groups[-1][1].append(k)
        else:
            groups.append((j, [k]))
    return groups


def describe_image(image: Any) -> str:
    """How an image input is named in messages: its path, ``array(H, W, 3)`` or ``bytes[N]``."""
    if isinstance(image, (str, os.PathLike)):
        return str(Path(image))
    if isinstance(image, np.ndarray):
        return f"array{tuple(image.shape)}"
    if isinstance(image, (bytes, bytearray, memoryview)):
        return f"bytes[{len(image)}]"
    return type(image).__name__
