"""Atomic writes: an interrupted write leaves the previous file and no temporary files; the JSON and image writers."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest

from convnextpose.atomic import atomic_open, atomic_path, write_bytes_atomic, write_image_atomic, write_json_atomic


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


def test_json_writer_layouts(tmp_path):
    data = {"a": [1, 2.5], "b": None}
    compact = write_json_atomic(tmp_path / "data.json", data)
    assert compact.read_text() == '{"a":[1,2.5],"b":null}\n'
    readable = write_json_atomic(tmp_path / "sub" / "result.json", data, indent=1)
    assert readable.read_text() == '{\n "a": [\n  1,\n  2.5\n ],\n "b": null\n}\n'
    assert json.loads(readable.read_text()) == data
    assert write_json_atomic(tmp_path / "nan.json", [float("nan")]).read_text() == "[NaN]\n"
    with pytest.raises(ValueError, match="JSON compliant"):
        write_json_atomic(tmp_path / "strict.json", [float("nan")], allow_nan=False)
    assert not (tmp_path / "strict.json").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data.json", "nan.json", "sub"]


@pytest.mark.parametrize("suffix", [".png", ".jpg"])
def test_image_writer_keeps_rgb_order(tmp_path, suffix):
    from convnextpose.image import read_image

    image = np.zeros((16, 24, 3), np.uint8)
    image[:, :, 0] = 200  # red
    path = write_image_atomic(tmp_path / "out" / f"red{suffix}", image, quality=100)
    back = read_image(path)
    assert back.shape == (16, 24, 3)
    np.testing.assert_allclose(back.mean(axis=(0, 1)), [200, 0, 0], atol=3)
    assert [p.name for p in path.parent.iterdir()] == [f"red{suffix}"]


def test_image_writer_names_the_file_it_cannot_write(tmp_path):
    with pytest.raises(OSError, match=r"could not encode .*picture\.xyz"):
        write_image_atomic(tmp_path / "picture.xyz", np.zeros((4, 4, 3), np.uint8))
    assert list(tmp_path.iterdir()) == []
