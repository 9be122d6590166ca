"""Run a ``.tflite`` pose model (ai-edge-litert, optional extra ``tflite``) and read the spec beside it.

TFLite files carry no model spec: :func:`convnextpose.export.export_tflite` writes it to
``<file>.json`` (:func:`spec_sidecar`).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np

from .optional import require


def spec_sidecar(path: str | os.PathLike) -> Path:
    """Where :func:`export_tflite` stores the model spec of ``path`` (TFLite files carry none): ``<file>.json``."""
    path = Path(path)
    return path.with_name(path.name + ".json")


def read_spec_sidecar(path: str | os.PathLike) -> dict[str, Any] | None:
    """The model spec written beside a ``.tflite`` file, or None when there is none."""
    sidecar = spec_sidecar(path)
    if not sidecar.is_file():
        return None
    try:
        values = json.loads(sidecar.read_text())
    except (OSError, ValueError) as exc:
        raise ValueError(f"{sidecar}: not a readable model-spec JSON ({exc})") from None
    if not isinstance(values, dict):
        raise ValueError(f"{sidecar}: expected a JSON object of model-spec fields, got {type(values).__name__}")
    return values


class TFLiteRunner:
    """Run a ``.tflite`` pose model: float32 crops (N, 3, H, W) -> joints_hm (N, J, 3), confidence (N, J).

    Handles int8 inputs (quantised with the model's own scale and zero point) and runs one crop
    at a time (the models are exported for batch 1, as on a phone).
    """

    def __init__(self, path: str | os.PathLike, threads: int | None = None) -> None:
        interpreter_module = require("ai_edge_litert.interpreter", extra="tflite")
        self.path = Path(path)
        if not self.path.is_file():
            raise FileNotFoundError(f"TFLite model not found: {self.path}")
        self.interpreter = interpreter_module.Interpreter(model_path=str(self.path), num_threads=threads)
        self.interpreter.allocate_tensors()
        self.input = self.interpreter.get_input_details()[0]
        outputs = self.interpreter.get_output_details()
        by_rank = sorted(outputs, key=lambda d: -len(d["shape"]))  # (1, J, 3) first, then (1, J)
        self.coords_output, self.confidence_output = by_rank[0], (by_rank[1] if len(by_rank) > 1 else None)
        self.input_size = (int(self.input["shape"][2]), int(self.input["shape"][3]))
        self.num_joints = int(self.coords_output["shape"][1])

    def _read(self, detail: dict[str, Any]) -> np.ndarray:
        value = self.interpreter.get_tensor(detail["index"]).astype(np.float32)
        scale, zero = detail["quantization"]
        return (value - zero) * scale if scale else value

    def __call__(self, crops: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        crops = np.asarray(crops, dtype=np.float32)
        coords = np.zeros((len(crops), self.num_joints, 3), np.float32)
        confidence = np.full((len(crops), self.num_joints), np.nan, np.float32)
        scale, zero = self.input["quantization"]
        for i, crop in enumerate(crops):
            value = crop[None]
            if self.input["dtype"] != np.float32:
                info = np.iinfo(self.input["dtype"])
                value = np.clip(np.round(value / scale + zero), info.min, info.max).astype(self.input["dtype"])
            self.interpreter.set_tensor(self.input["index"], value)
            self.interpreter.invoke()
            coords[i] = self._read(self.coords_output)[0]
            if self.confidence_output is not None:
                confidence[i] = self._read(self.confidence_output)[0]
        return coords, confidence
