"""Loading checkpoints: every accepted layout, and a clear error for every malformed file."""

from __future__ import annotations

import pickle

import pytest
import torch

from convnextpose import build_model, load_model
from convnextpose.models.checkpoint import CheckpointError, save_checkpoint


def _same_output(a, b) -> bool:
    images = torch.randn(2, 3, 64, 64, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        return torch.allclose(a.eval()(images), b.eval()(images), atol=1e-6)


def test_release_layout_with_module_prefix(tiny_model, tmp_path):
    path = tmp_path / "snapshot_3.pth.tar"
    state = {"module." + k: v for k, v in tiny_model.state_dict().items()}
    torch.save({"epoch": 3, "network": state, "optimizer": {"state": {}, "param_groups": []}}, path)
    loaded = load_model(path, input_size=(64, 64))
    assert not loaded.training
    assert _same_output(tiny_model, loaded)


def test_bare_state_dict(tiny_model, tmp_path):
    path = tmp_path / "weights.pth"
    torch.save(tiny_model.state_dict(), path)
    assert _same_output(tiny_model, load_model(path, input_size=(64, 64)))


def test_own_checkpoint_records_the_architecture(tmp_path):
    model = build_model("test", num_joints=21, depth_dim=16, input_size=(96, 64))
    path = save_checkpoint(tmp_path / "ckpt.pth.tar", model, epoch=7)
    loaded = load_model(path)
    assert loaded.spec.input_size == (96, 64) and loaded.num_joints == 21 and loaded.depth_dim == 16
    assert not list(tmp_path.glob("*.tmp"))


def test_missing_file():
    with pytest.raises(FileNotFoundError, match="nothere.pth"):
        load_model("nothere.pth")


def test_truncated_file(tiny_model, tmp_path):
    path = tmp_path / "snapshot_1.pth.tar"
    torch.save({"network": tiny_model.state_dict()}, path)
    path.write_bytes(path.read_bytes()[:2000])
    with pytest.raises(CheckpointError, match="snapshot_1.pth.tar.*not a readable"):
        load_model(path)


def test_not_a_checkpoint(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("hello")
    with pytest.raises(CheckpointError, match="notes.txt"):
        load_model(path)


class _Exploit:
    def __reduce__(self):
        return (print, ("pickled code ran",))


def test_pickled_code_is_never_executed(tmp_path, capsys):
    path = tmp_path / "evil.pth"
    with open(path, "wb") as handle:
        pickle.dump({"network": _Exploit()}, handle)
    with pytest.raises(CheckpointError, match="refused to load"):
        load_model(path)
    assert "pickled code ran" not in capsys.readouterr().out


def test_wrong_shape_names_the_key(tiny_model, tmp_path):
    state = tiny_model.state_dict()
    state["backbone.stages.1.0.pwconv2.weight"] = torch.zeros(16, 63, 1, 1)
    path = tmp_path / "bad.pth"
    torch.save(state, path)
    with pytest.raises(CheckpointError, match=r"backbone\.stages\.1\.0\.pwconv2\.weight.*\(16, 63, 1, 1\)"):
        load_model(path, input_size=(64, 64))


def test_missing_key_is_named(tiny_model, tmp_path):
    state = tiny_model.state_dict()
    del state["head.deconv_layers_2.norm.running_var"]
    path = tmp_path / "bad.pth"
    torch.save({"network": state}, path)
    with pytest.raises(CheckpointError, match="head.deconv_layers_2.norm.running_var"):
        load_model(path, input_size=(64, 64))


def test_not_a_pose_network(tmp_path):
    path = tmp_path / "other.pth"
    torch.save({"fc.weight": torch.zeros(3, 3)}, path)
    with pytest.raises(CheckpointError, match="backbone.stages"):
        load_model(path)


def test_ambiguous_split_needs_a_hint(tmp_path):
    model = build_model("test", num_joints=3, depth_dim=10)
    path = tmp_path / "odd.pth"
    torch.save(model.state_dict(), path)
    with pytest.raises(CheckpointError, match="not a multiple of depth_dim=32"):
        load_model(path)
    assert load_model(path, depth_dim=10, input_size=(64, 64)).num_joints == 3
