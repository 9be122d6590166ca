"""Atomic writes: an interrupted write leaves the previous file and no temporary files."""

from __future__ import annotations

import os

import pytest

from convnextpose.atomic import atomic_open, atomic_path, write_bytes_atomic


def test_interrupted_write_keeps_the_old_file(tmp_path):
    target = tmp_path / "result.json"
    target.write_text("old")
    with pytest.raises(RuntimeError), atomic_open(target) as handle:
        handle.write("half of the new")
        raise RuntimeError("interrupted")
    assert target.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["result.json"]


def test_complete_write_replaces_with_normal_permissions(tmp_path):
    target = write_bytes_atomic(tmp_path / "sub" / "model.onnx", b"\x01\x02")
    assert target.read_bytes() == b"\x01\x02"
    umask = os.umask(0)
    os.umask(umask)
    assert target.stat().st_mode & 0o777 == 0o666 & ~umask


def test_named_temporary_for_writers_that_need_a_path(tmp_path):
    target = tmp_path / "preds.mat"
    with atomic_path(target) as tmp:
        assert tmp.parent == tmp_path and tmp != target
        tmp.write_bytes(b"x")
        assert not target.exists()
    assert target.read_bytes() == b"x"


def test_only_write_modes():
    with pytest.raises(ValueError, match="mode"), atomic_open("x", "r"):
        pass
