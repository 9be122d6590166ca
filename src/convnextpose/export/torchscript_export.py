"""TorchScript export: a traced, frozen module that runs without this package's Python code."""

from __future__ import annotations

import copy
import io
import os
import time
import warnings
from pathlib import Path

import numpy as np
import torch
from torch import nn

from ..atomic import write_bytes_atomic
from ..runtime.fuse import fuse_model
from ..runtime.graph import PoseGraph, confidence_is_comparable, sample_input
from .onnx_export import ExportReport, _unwrap


def export_torchscript(
    model: nn.Module,
    path: str | os.PathLike,
    with_confidence: bool = True,
    fuse: bool = True,
    verify: bool = True,
    atol: float = 1e-4,
    rtol: float = 1e-5,
    example_input: torch.Tensor | None = None,
) -> ExportReport:
    """Trace the network (batch norms folded) and save it with ``torch.jit.save``.

    TorchScript is deprecated from PyTorch 2.9 on (in favour of ``torch.export``) but still the
    format that LibTorch (C++) and PyTorch Mobile load; prefer ONNX for new deployments.

    Load it with ``torch.jit.load(path)``; it maps (B, 3, H, W) normalised crops to
    ``(joints_hm (B, J, 3), confidence (B, J))`` (or ``joints_hm`` alone), for any batch size.

    Raises:
        RuntimeError: the reloaded module disagrees with PyTorch beyond ``atol + rtol * |value|``.
    """
    started = time.perf_counter()
    reference = copy.deepcopy(_unwrap(model)).cpu().eval()
    graph = PoseGraph(fuse_model(reference) if fuse else reference, with_confidence).eval()
    example = sample_input(reference) if example_input is None else torch.as_tensor(example_input).float()
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")
        traced = torch.jit.freeze(torch.jit.trace(graph, (example,), check_trace=False))
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # torch 2.9+ steers towards torch.export
        torch.jit.save(traced, buffer)
    write_bytes_atomic(path, buffer.getvalue())
    report = ExportReport(path, "torchscript", time.perf_counter() - started, path.stat().st_size)
    if verify:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            loaded = torch.jit.load(str(path))
        # A different batch size than the trace, to show the batch axis is free.
        check = torch.cat([example, example[:1]])
        with torch.no_grad():
            got = loaded(check)
            want = reference.forward_with_confidence(check) if with_confidence else reference(check)
        got = got if isinstance(got, tuple) else (got,)
        want = want if isinstance(want, tuple) else (want,)
        if len(got) == 2:  # joints on a confidence window's edge have two right answers
            keep = torch.from_numpy(confidence_is_comparable(want[0].numpy()))
            got = (got[0], torch.where(keep, got[1], want[1]))
        diffs = {name: float((g - w).abs().max()) for name, g, w in zip(("joints_hm", "confidence"), got, want)}
        report.max_abs_diff = max(diffs.values())
        report.checked_outputs = tuple(diffs)
        report.details["max_abs_diff"] = diffs
        if any(not np.allclose(g.numpy(), w.numpy(), rtol=rtol, atol=atol) for g, w in zip(got, want)):
            raise RuntimeError(f"{path}: TorchScript output differs from PyTorch by {diffs} (max abs)")
    return report
