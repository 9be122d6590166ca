"""Optional dependencies (onnx, onnxruntime, ai-edge-litert, litert-torch), imported when needed."""

from __future__ import annotations

import importlib
from typing import Any


def require(module: str, extra: str = "onnx") -> Any:
    """Import an optional dependency or raise ImportError with the install hint."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise ImportError(f"{module} is needed for this; install it with: pip install convnextpose[{extra}]") from exc
