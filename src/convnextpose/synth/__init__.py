"""Synthetic data in the real on-disk formats of the five benchmarks.

People are articulated 3D bodies (shaded capsules and ellipsoids with anthropometric proportions,
clothes and hair) moving smoothly within joint limits, ray-cast with a per-pixel z-buffer into
textured, cluttered rooms or outdoor scenes. Annotations are the exact projections of the bodies'
joints, written in the layout and keys of each benchmark, so the loaders read them unchanged.
Everything is deterministic for a seed, whatever the number of worker processes.

    >>> from convnextpose.synth import generate_dataset
    >>> root = generate_dataset("human36m", "data/Human36M", frames=8, image_size=500)  # doctest: +SKIP
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

# format -> (module, function)
GENERATORS = {
    "human36m": ("human36m", "generate_human36m"),
    "muco": ("multiperson", "generate_muco"),
    "mupots": ("multiperson", "generate_mupots"),
    "mpii": ("photos", "generate_mpii"),
    "coco": ("photos", "generate_coco"),
}

__all__ = ["GENERATORS", "generate_dataset"]


def generate_dataset(format: str, out_dir: str | Path, *, seed: int = 0, **options: Any) -> Path:
    """Write a complete synthetic dataset folder in a benchmark's real format.

    Args:
        format: "human36m", "muco", "mupots", "mpii" or "coco".
        out_dir: the dataset root, e.g. ``data/Human36M`` (created; existing files are overwritten).
        seed: everything drawn (people, motion, cameras, scenes, noise) follows from it.
        **options: format options, e.g. ``frames``, ``image_size``, ``subjects`` (Human3.6M),
            ``workers``, ``progress``; see each ``generate_<format>`` function.

    Returns:
        The dataset root.
    """
    key = format.lower().replace("-", "").replace("_", "")
    key = {"h36m": "human36m", "mscoco": "coco", "muco3dhp": "muco", "mupots3d": "mupots"}.get(key, key)
    if key not in GENERATORS:
        raise ValueError(f"unknown synthetic format {format!r}; choose one of {sorted(GENERATORS)}")
    module_name, function_name = GENERATORS[key]
    module = importlib.import_module(f"{__name__}.{module_name}")
    function = getattr(module, function_name)
    import inspect

    allowed = [p for p in inspect.signature(function).parameters if p not in ("out_dir", "seed")]
    unknown = sorted(set(options) - set(allowed))
    if unknown:
        raise ValueError(f"unknown option(s) {unknown} for format {key!r}; allowed: {allowed}")
    return function(Path(out_dir), seed=seed, **options)
