"""Atomic file writes: results, configs and checkpoints are never seen half-written.

Everything is written to a temporary file in the target's folder and renamed over the target only
once complete, so an interrupted run leaves the previous file (or none), never a partial one.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO


@contextmanager
def atomic_path(path: str | os.PathLike, keep_suffix: bool = False) -> Iterator[Path]:
    """A temporary path beside ``path``; renamed onto ``path`` when the block ends without error.

    For writers that insist on a file name (``scipy.io.savemat``, ``onnx.save``). The file gets the
    usual permissions (umask), unlike ``tempfile.mkstemp``'s 0600. ``keep_suffix`` ends the temporary
    name with ``path``'s suffix, for writers that choose the format by it (OpenCV, cdflib).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    ending = f".tmp{path.suffix}" if keep_suffix else ".tmp"
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}{ending}")
    try:
        yield tmp
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


@contextmanager
def atomic_open(path: str | os.PathLike, mode: str = "w") -> Iterator[IO]:
    """``open(path, mode)`` for writing, made atomic; data is flushed to disk before the rename."""
    if not mode.startswith("w"):
        raise ValueError(f"atomic_open writes whole files: mode must start with 'w', got {mode!r}")
    with atomic_path(path) as tmp, open(tmp, mode) as handle:
        yield handle
        handle.flush()
        os.fsync(handle.fileno())


def write_bytes_atomic(path: str | os.PathLike, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically."""
    with atomic_open(path, "wb") as handle:
        handle.write(data)
    return Path(path)
