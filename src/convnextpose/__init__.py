"""ConvNeXtPose: fast 3D human pose estimation from a single image.

The public API is listed in ``__all__``. Heavier parts (inference, training, export) are imported
on first use, so ``import convnextpose`` stays quick.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

from .models import build_model, list_models, load_model  # noqa: E402

# name -> module that defines it; resolved lazily by __getattr__.
_LAZY = {
    "joints": "convnextpose.joints",
    "geometry": "convnextpose.geometry",
    "codec": "convnextpose.codec",
    "metrics": "convnextpose.metrics",
    "vis": "convnextpose.vis",
    "fitness": "convnextpose.fitness",
    "PoseEstimator": "convnextpose.inference",
    "PersonPose": "convnextpose.inference",
    "Trainer": "convnextpose.engine",
    "Evaluator": "convnextpose.engine",
    "export_onnx": "convnextpose.export",
    "export_model": "convnextpose.export",
}

__all__ = ["__version__", "build_model", "list_models", "load_model", *_LAZY]


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module 'convnextpose' has no attribute {name!r}")
    module = importlib.import_module(_LAZY[name])
    value = module if module.__name__.endswith("." + name) else getattr(module, name)
    globals()[name] = value
    return value
