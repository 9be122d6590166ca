"""Tiny synthetic datasets for the data tests, generated once per test session.

Test modules wrap :func:`generated` in a fixture; the folders are cached here, so every module of the
session shares one generation per format.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from convnextpose.synth import generate_dataset

# Small but complete: every Human3.6M subject (so both protocols load), two cameras, frames 0 and 5.
TINY = {
    "human36m": {"actions": (2,), "cameras": (1, 2), "frames": 2, "frame_stride": 5, "image_size": 160},
    "muco": {"images": 6, "image_size": 192},
    "mupots": {"sequences": (1, 7), "frames": 2, "image_size": 192},
    "mpii": {"images": 6, "image_size": 192},
    "coco": {"images": 6, "image_size": 192},
}
_CACHE: dict[str, Path] = {}


def generated(fmt: str, factory: pytest.TempPathFactory) -> Path:
    """The session's tiny ``fmt`` folder (generated on first use, seed 0)."""
    if fmt not in _CACHE:
        out = factory.mktemp(f"synth_{fmt}")
        _CACHE[fmt] = generate_dataset(fmt, out, seed=0, progress=False, **TINY[fmt])
    return _CACHE[fmt]


def annotations_copy(src: Path, dst: Path) -> Path:
    """A writable copy of a dataset folder with image folders linked, for corrupting annotations."""
    dst.mkdir(parents=True, exist_ok=True)
    for item in src.iterdir():
        if item.is_dir() and item.name in ("images", "MultiPersonTestSet", "augmented_set", "unaugmented_set"):
            (dst / item.name).symlink_to(item, target_is_directory=True)
        elif item.is_dir():
            annotations_copy(item, dst / item.name)
        else:
            shutil.copy2(item, dst / item.name)
    return dst
