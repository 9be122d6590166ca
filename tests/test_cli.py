"""The console script, through a subprocess as a user runs it."""

from __future__ import annotations

import torch

from conftest import run_cli, shared_path


def test_info_on_a_variant():
    out = run_cli("info", "XS").stdout
    assert "3.53 M" in out and "(B, 18, 3)" in out and "human36m" in out


def test_info_on_the_official_checkpoint():
    path = shared_path("fixtures", "official_checkpoint", "snapshot_24.pth.tar")
    out = run_cli("info", str(path)).stdout
    assert "depths [1, 1, 2, 1]" in out and "dims [16, 32, 64, 128]" in out
    assert "0.30 M" in out and "0..31" in out


def test_bad_checkpoint_is_one_line_error(tmp_path):
    bad = tmp_path / "snapshot_5.pth.tar"
    torch.save({"network": {"x": torch.zeros(1)}}, bad)
    result = run_cli("info", str(bad), check=False)
    assert result.returncode == 1
    assert "snapshot_5.pth.tar" in result.stderr and "Traceback" not in result.stderr


def test_unknown_variant_lists_choices():
    result = run_cli("info", "XXL", check=False)
    assert result.returncode == 1 and "xs" in result.stderr
