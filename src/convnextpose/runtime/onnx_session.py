"""ONNX Runtime sessions of the pose graph, and the model spec an ``.onnx`` file carries.

A pose model takes ``images`` (B, 3, H, W) float32 (normalised RGB crops) or ``pixels``
(B, H, W, 3) uint8 RGB crops, and returns ``joints_hm`` (B, J, 3) in heatmap units and, by
default, ``confidence`` (B, J) (:mod:`.onnx_graph`). Its :class:`~convnextpose.models.ModelSpec`
is stored as JSON in the file's metadata under :data:`SPEC_METADATA_KEY`.
"""

from __future__ import annotations

import json
import os
from typing import Any

import numpy as np

from ..image import as_normalized, as_pixels
from .optional import require

SPEC_METADATA_KEY = "convnextpose.spec"


def make_session(
    model: str | os.PathLike | bytes, threads: int | None = None, providers: list[str] | None = None
) -> Any:
    """An onnxruntime InferenceSession (a file, or a serialised model) with full graph optimisation
    (and ``threads`` intra-op threads)."""
    ort = require("onnxruntime")
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    if threads:
        options.intra_op_num_threads = int(threads)
        options.inter_op_num_threads = 1
    source = model if isinstance(model, bytes) else str(model)
    return ort.InferenceSession(source, options, providers=providers or ["CPUExecutionProvider"])


def takes_pixels(session: Any) -> bool:
    """Whether an onnxruntime session's model takes uint8 pixels (else normalised float crops)."""
    return session.get_inputs()[0].type == "tensor(uint8)"


def input_feed(session: Any, batch: Any) -> dict[str, np.ndarray]:
    """``session.run``'s input dict for a batch in either format, converted to what the model takes."""
    value = as_pixels(batch) if takes_pixels(session) else as_normalized(batch)
    return {session.get_inputs()[0].name: value}


def run_session(session: Any, batch: Any) -> list[np.ndarray]:
    """All outputs of an onnxruntime session on a batch in either format.

    A model exported with a fixed batch size of 1 is run one crop at a time.
    """
    batch = np.asarray(batch)
    fixed = session.get_inputs()[0].shape[0]
    if isinstance(fixed, int) and fixed != len(batch):
        parts = [session.run(None, input_feed(session, batch[i : i + 1])) for i in range(len(batch))]
        return [np.concatenate([part[k] for part in parts]) for k in range(len(parts[0]))]
    return session.run(None, input_feed(session, batch))


def read_spec_metadata(session_or_path: Any) -> dict[str, Any] | None:
    """The model spec stored in an ONNX pose model, from an onnxruntime session or a file; None if absent."""
    if isinstance(session_or_path, (str, os.PathLike)):
        onnx = require("onnx")
        proto = onnx.load(str(session_or_path), load_external_data=False)
        values = {p.key: p.value for p in proto.metadata_props}
    else:
        values = session_or_path.get_modelmeta().custom_metadata_map
    text = values.get(SPEC_METADATA_KEY)
    return json.loads(text) if text else None
