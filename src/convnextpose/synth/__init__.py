"""Synthetic people and datasets in the real on-disk formats of the five benchmarks.

The pipeline, one package per step:

- :mod:`.people`: anatomical pose parameters and joint limits, the pose library, collision rejection, outfits, and
  where each joint of :mod:`convnextpose.joints` sits on a body;
- :mod:`.backends`: the bodies that carry them, ``capsule`` (built in, fast) or ``anny`` (realistic, optional);
- :mod:`.scene`: rooms and outdoor grounds, furniture, textures, lights;
- :mod:`.camera`: the pinhole camera and its presets; :mod:`.frames` draws complete frames;
- :mod:`.render`: one renderer for every body (rasteriser, ray-caster), then :mod:`.degrade`;
- :mod:`.writers`: Human3.6M, MuCo-3DHP, MuPoTS-3D, MPII and MS COCO, so the loaders read them unchanged.

Everything is deterministic for a seed, whatever the number of worker processes.

    >>> from convnextpose.synth import generate_dataset
    >>> root = generate_dataset("human36m", "data/Human36M", frames=8, image_size=500)  # doctest: +SKIP
"""

from __future__ import annotations

import importlib
import inspect
from pathlib import Path
from typing import Any

# format -> (module, function)
GENERATORS = {
    "human36m": ("writers.human36m", "generate_human36m"),
    "muco": ("writers.multiperson", "generate_muco"),
    "mupots": ("writers.multiperson", "generate_mupots"),
    "mpii": ("writers.photos", "generate_mpii"),
    "coco": ("writers.photos", "generate_coco"),
}

__all__ = ["GENERATORS", "generate_dataset"]


def generate_dataset(format: str, out_dir: str | Path, *, seed: int = 0, **options: Any) -> Path:
    """Write a complete synthetic dataset folder in a benchmark's real format.

    Args:
        format: "human36m", "muco", "mupots", "mpii" or "coco".
        out_dir: the dataset root, e.g. ``data/Human36M`` (created; existing files are overwritten).
        seed: everything drawn (people, motion, cameras, scenes, noise) follows from it.
        **options: format options, e.g. ``frames``, ``image_size``, ``subjects`` (Human3.6M); and the options every
            format takes (:class:`~.writers.common.WriterOptions`: ``bodies``, ``degradation``, ``backgrounds``,
            ``render``, ``jpeg_quality``, ``workers``, ``progress``); see each ``generate_<format>`` function.

    Returns:
        The dataset root.
    """
    from .writers.common import WriterOptions

    key = format.lower().replace("-", "").replace("_", "")
    key = {"h36m": "human36m", "mscoco": "coco", "muco3dhp": "muco", "mupots3d": "mupots"}.get(key, key)
    if key not in GENERATORS:
        raise ValueError(f"unknown synthetic format {format!r}; choose one of {sorted(GENERATORS)}")
    module_name, function_name = GENERATORS[key]
    function = getattr(importlib.import_module(f"{__name__}.{module_name}"), function_name)
    params = inspect.signature(function).parameters
    allowed = [p for p in params if p not in ("out_dir", "seed", "options")] + list(WriterOptions.__dataclass_fields__)
    unknown = sorted(set(options) - set(allowed))
    if unknown:
        raise ValueError(f"unknown option(s) {unknown} for format {key!r}; allowed: {allowed}")
    return function(Path(out_dir), seed=seed, **options)
