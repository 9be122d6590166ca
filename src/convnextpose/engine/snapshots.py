"""Training snapshots on disk: ``<run>/model_dump/snapshot_<epoch>.pth.tar``, finding and validating them.

Files are written atomically (temporary file, then rename), so a crash never leaves a half-written
snapshot under the final name; a file that is truncated or corrupt anyway (copied by hand, disk
full) is skipped with a warning when looking for the newest one, never loaded.
"""

from __future__ import annotations

import logging
import os
import re
from pathlib import Path
from typing import Any

from ..config_values import parse_int_range
from ..models.checkpoint import CheckpointError, read_checkpoint

logger = logging.getLogger(__name__)

SNAPSHOT_PATTERN = re.compile(r"^snapshot_(\d+)\.pth\.tar$")


def snapshot_path(model_dump: str | os.PathLike, epoch: int) -> Path:
    """``model_dump/snapshot_<epoch>.pth.tar``."""
    return Path(model_dump) / f"snapshot_{int(epoch)}.pth.tar"


def list_snapshots(model_dump: str | os.PathLike) -> list[tuple[int, Path]]:
    """(epoch, path) of every file named like a snapshot, newest first (not opened)."""
    folder = Path(model_dump)
    if not folder.is_dir():
        return []
    found = []
    for path in folder.iterdir():
        match = SNAPSHOT_PATTERN.match(path.name)
        if match and path.is_file():
            found.append((int(match.group(1)), path))
    return sorted(found, reverse=True)


def read_snapshot(path: str | os.PathLike) -> dict[str, Any]:
    """Load a snapshot (``weights_only=True``) and check it holds a network and an epoch.

    Raises:
        FileNotFoundError, CheckpointError.
    """
    payload = read_checkpoint(path)
    if "network" not in payload:
        raise CheckpointError(f"{path}: no 'network' entry")
    if "epoch" in payload and not isinstance(payload["epoch"], int):
        raise CheckpointError(f"{path}: 'epoch' is {payload['epoch']!r}, not an int")
    return payload


def find_latest_snapshot(model_dump: str | os.PathLike) -> tuple[Path, dict[str, Any]] | None:
    """The newest snapshot that loads completely, with its contents; None when there is none.

    Unreadable files (truncated, corrupt, or holding pickled objects) are skipped with a warning.
    """
    for _epoch, path in list_snapshots(model_dump):
        try:
            return path, read_snapshot(path)
        except (CheckpointError, FileNotFoundError) as exc:
            logger.warning("skipping unusable snapshot %s: %s", path, exc)
    return None


def resolve_test_checkpoints(
    model_dump: str | os.PathLike, spec: str | os.PathLike | None = None
) -> list[tuple[int | None, Path]]:
    """What ``--test-epoch`` names: a file (a path, or a name in ``model_dump``), or epochs ``20``, ``20-21``,
    ``20,22``; None names the newest snapshot.

    Returns:
        (epoch or None for a path, path) pairs, in the order given.

    Raises:
        FileNotFoundError: a named epoch has no snapshot (the message lists the ones there are), or there
            is no snapshot at all.
    """
    if spec is None:
        found = list_snapshots(model_dump)
        if not found:
            raise FileNotFoundError(f"no snapshots in {model_dump}; pass --test-epoch N or a checkpoint path")
        return [found[0]]
    if Path(spec).is_file():
        return [(None, Path(spec))]
    if (Path(model_dump) / str(spec)).is_file():  # a file name inside this run's model_dump/
        match = SNAPSHOT_PATTERN.match(Path(str(spec)).name)
        return [(int(match.group(1)) if match else None, Path(model_dump) / str(spec))]
    try:
        epochs = parse_int_range(str(spec), "test epoch")
    except ValueError:
        raise FileNotFoundError(
            f"--test-epoch {spec!r} is neither a checkpoint file nor an epoch (N, N-M or N,M)"
        ) from None
    out = []
    for epoch in epochs:
        path = snapshot_path(model_dump, epoch)
        if not path.is_file():
            available = sorted(e for e, _ in list_snapshots(model_dump))
            raise FileNotFoundError(f"no snapshot for epoch {epoch}: {path} does not exist (available: {available})")
        out.append((epoch, path))
    return out


def config_changes(saved: Any, now: dict[str, dict[str, Any]]) -> list[str]:
    """``"section.key: old -> new"`` for every setting (outside ``run``) that a snapshot's saved config (``cfg`` of
    its payload; anything else gives none) has with another value than ``now``."""
    if not isinstance(saved, dict):
        return []
    return [
        f"{section}.{key}: {saved[section][key]!r} -> {value!r}"
        for section, values in now.items()
        if section != "run" and isinstance(saved.get(section), dict)
        for key, value in values.items()
        if key in saved[section] and saved[section][key] != value
    ]
