"""Datasets of the five benchmarks, read from the release's on-disk formats, and the training pipeline.

    >>> from convnextpose.data import load_dataset, TrainSamples
    >>> h36m = load_dataset("human36m", "data/Human36M", "train", protocol=2)  # doctest: +SKIP
    >>> samples = TrainSamples([h36m], "human36m", seed=0)  # doctest: +SKIP

``load_dataset`` returns a :class:`PoseDataset` of :class:`PersonRecord` (boxes, joints in image and
camera space, intrinsics, metadata); :class:`TrainSamples` and :class:`TestSamples` turn records into
network inputs and targets.
"""

from __future__ import annotations

import importlib
import inspect
from pathlib import Path
from typing import Any

from .h36m_convert import H36MConversion, convert_h36m
from .h36m_raw_synth import generate_human36m_raw
from .records import DatasetError, PersonRecord, PoseDataset
from .samples import TestSamples, TrainSamples

# name -> (module, loader function, splits it has)
LOADERS: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "human36m": ("human36m", "load_human36m", ("train", "test")),
    "muco": ("muco", "load_muco", ("train",)),
    "mupots": ("mupots", "load_mupots", ("test",)),
    "mpii": ("mpii", "load_mpii", ("train",)),
    "coco": ("coco", "load_coco", ("train", "test")),
    "images": ("image_folder", "load_image_folder", ("train",)),
}
_ALIASES = {"h36m": "human36m", "muco3dhp": "muco", "mupots3d": "mupots", "mscoco": "coco"}

__all__ = [
    "LOADERS", "DatasetError", "H36MConversion", "PersonRecord", "PoseDataset", "TestSamples", "TrainSamples",
    "convert_h36m", "generate_human36m_raw", "load_dataset",
]  # fmt: skip


def dataset_key(name: str) -> str:
    """Canonical dataset name ("Human36M", "h36m" -> "human36m"); ValueError listing the known ones."""
    key = str(name).lower().replace("-", "").replace("_", "").replace(".", "")
    key = _ALIASES.get(key, key)
    if key not in LOADERS:
        raise ValueError(f"unknown dataset {name!r}; choose one of {sorted(LOADERS)}")
    return key


def load_dataset(name: str, root: str | Path, split: str = "train", **options: Any) -> PoseDataset:
    """Load one split of a benchmark from its folder.

    Args:
        name: "human36m", "muco", "mupots", "mpii", "coco", or "images" (a folder of photos without labels,
            for distillation; see :mod:`convnextpose.data.image_folder`).
        root: the dataset folder (e.g. ``data/Human36M``).
        split: "train" or "test" (MuCo and MPII have train only, MuPoTS test only).
        **options: loader options, e.g. Human3.6M ``protocol=1|2``, ``use_gt_info``,
            ``bbox_root_file``, ``subsample``; every loader takes ``strict`` and ``aspect_ratio``.

    Raises:
        ValueError: unknown name, split or option.
        FileNotFoundError: a missing folder or file (the message shows the expected layout).
        DatasetError: malformed annotations (the message names the file, record and fault).
    """
    key = dataset_key(name)
    module_name, function_name, splits = LOADERS[key]
    if split not in splits:
        raise ValueError(f"dataset {key} has split(s) {list(splits)}, not {split!r}")
    function = getattr(importlib.import_module(f"{__name__}.{module_name}"), function_name)
    allowed = [p for p in inspect.signature(function).parameters if p not in ("root", "split")]
    unknown = sorted(set(options) - set(allowed))
    if unknown:
        raise ValueError(f"unknown option(s) {unknown} for dataset {key}; allowed: {allowed}")
    return function(Path(root), split, **options)
