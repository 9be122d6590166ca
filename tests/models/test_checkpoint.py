"""Loading checkpoints: every accepted layout, and a clear error for every malformed file."""

from __future__ import annotations

import pickle

import pytest
import torch

from convnextpose import build_model, load_model
from convnextpose.models.checkpoint import CheckpointError, load_state_dict_file, save_checkpoint
from convnextpose.models.convnextpose import variant_name


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
    with pytest.raises(CheckpointError, match="30 outputs, which is no known joint count"):
        load_model(path)
    with pytest.raises(CheckpointError, match="odd.pth: 3 joints match no known joint set"):
        load_model(path, depth_dim=10, upsample_layers=2)
    torch.save(build_model("test", num_joints=17, depth_dim=10).state_dict(), path)
    assert load_model(path, depth_dim=10, upsample_layers=2, input_size=(64, 64)).spec.joint_set == "mupots"


# ---------------------------------------------------------------- the paper's variants in the release layout
def _release_forward(state: dict, images: torch.Tensor, upsample_layers: int, joints: int) -> torch.Tensor:
    """The release's network written out from its state dict alone (an independent check of the model code)."""
    import torch.nn.functional as F

    def conv(x, key, **kw):
        return F.conv2d(x, state[key + ".weight"], state[key + ".bias"], **kw)

    def bn(x, key):
        w, b, mean, var = (state[f"{key}.{n}"] for n in ("weight", "bias", "running_mean", "running_var"))
        return (x - mean[:, None, None]) / torch.sqrt(var[:, None, None] + 1e-5) * w[:, None, None] + b[:, None, None]

    x = bn(conv(images, "backbone.downsample_layers.0.0", stride=4), "backbone.downsample_layers.0.1")
    for i in range(4):
        if i:
            x = conv(bn(x, f"backbone.downsample_layers.{i}.0"), f"backbone.downsample_layers.{i}.1", stride=2)
        j = 0
        while f"backbone.stages.{i}.{j}.dwconv.weight" in state:
            key = f"backbone.stages.{i}.{j}"
            y = bn(conv(x, key + ".dwconv", padding=3, groups=x.shape[1]), key + ".norm")
            x = x + conv(torch.relu(conv(y, key + ".pwconv1")), key + ".pwconv2")
            j += 1
    x = bn(x, "backbone.norm")
    for k in (1, 2, 3):
        key = f"head.deconv_layers_{k}"
        x = torch.relu(conv(bn(conv(x, key + ".dwconv", padding=1, groups=x.shape[1]), key + ".norm"), key + ".pwconv"))
        if k <= upsample_layers:
            x = F.interpolate(x, scale_factor=2, mode="bilinear", align_corners=True)
    logits = conv(x, "head.final_layer")
    batch, channels, height, width = logits.shape
    depth = channels // joints
    probs = torch.softmax(logits.reshape(batch, joints, -1), -1).reshape(batch, joints, depth, height, width)
    grid_z, grid_y, grid_x = torch.meshgrid(
        torch.arange(depth, dtype=probs.dtype), torch.arange(height, dtype=probs.dtype),
        torch.arange(width, dtype=probs.dtype), indexing="ij",
    )  # fmt: skip
    return torch.stack([(probs * g).sum((2, 3, 4)) for g in (grid_x, grid_y, grid_z)], dim=-1)


def _random_release_file(path, variant: str, joints: int, prefix: bool, seed: int = 0):
    torch.manual_seed(seed)
    model = build_model(variant, num_joints=joints).eval()
    for module in model.modules():  # non-trivial batch-norm statistics, so a wrong layer cannot hide
        if isinstance(module, torch.nn.BatchNorm2d):
            module.running_mean.uniform_(-0.2, 0.2)
            module.running_var.uniform_(0.5, 1.5)
            module.weight.data.uniform_(0.5, 1.5)
    state = {("module." if prefix else "") + k: v for k, v in model.state_dict().items()}
    optimizer = torch.optim.AdamW(model.parameters()).state_dict()
    torch.save({"epoch": 24, "network": state, "optimizer": optimizer}, path)
    return model


VARIANT_LAYOUTS = {"XS": (2, 32), "S": (2, 32), "M": (3, 64), "L": (3, 64)}
# Each variant once in the quick suite; every variant x joints x prefix with --runslow.
QUICK = {("XS", 18, True), ("S", 21, False), ("L", 21, True)}  # M (the layout of L, wider) with --runslow
RELEASE_FILES = [
    pytest.param(
        v, j, p, marks=() if (v, j, p) in QUICK else pytest.mark.slow, id=f"{v}-{j}-{'module' if p else 'bare'}"
    )
    for v in VARIANT_LAYOUTS
    for j in (18, 21)
    for p in (True, False)
]


@pytest.mark.parametrize(("variant", "joints", "prefix"), RELEASE_FILES)
def test_released_variants_load_unnamed_and_match_the_release_network(tmp_path, variant, joints, prefix):
    layers, bins = VARIANT_LAYOUTS[variant]
    path = tmp_path / "snapshot_24.pth.tar"
    _random_release_file(path, variant, joints, prefix)
    loaded = load_model(path, input_size=(64, 64))
    spec = loaded.spec
    assert (spec.num_joints, spec.depth_dim, spec.upsample_layers) == (joints, bins, layers)
    assert spec.joint_set == {18: "human36m", 21: "muco"}[joints]
    assert variant_name(spec) == variant.lower()
    state, _ = load_state_dict_file(path)
    images = torch.randn(2, 3, 64, 64, generator=torch.Generator().manual_seed(3))
    with torch.no_grad():
        ours, reference = loaded(images), _release_forward(state, images, layers, joints)
    torch.testing.assert_close(ours, reference, atol=2e-4, rtol=1e-5)


def test_a_64_bin_final_layer_is_never_read_as_36_joints(tmp_path):
    path = tmp_path / "m.pth"
    torch.save(build_model("test", num_joints=18, depth_dim=64).state_dict(), path)
    loaded = load_model(path)
    assert (loaded.num_joints, loaded.depth_dim, loaded.spec.upsample_layers) == (18, 64, 3)


def test_an_unsettled_layout_is_an_error_naming_the_options(tmp_path):
    path = tmp_path / "odd.pth"
    torch.save(build_model("test", num_joints=20, depth_dim=32).state_dict(), path)  # 640 = 20 x 32
    with pytest.raises(CheckpointError, match=r"odd.pth.*640 outputs.*18 \(human36m\).*num_joints="):
        load_model(path)
    torch.save(build_model("test", num_joints=18, depth_dim=48).state_dict(), path)
    with pytest.raises(CheckpointError, match=r"odd.pth: 48 depth bins have no release pairing.*upsample_layers=2"):
        load_model(path, num_joints=18)
    loaded = load_model(path, num_joints=18, upsample_layers=3)
    assert (loaded.depth_dim, loaded.output_size) == (48, (256 // 4, 256 // 4))


def test_variant_and_explicit_overrides(tmp_path):
    path = tmp_path / "snapshot_1.pth.tar"
    _random_release_file(path, "S", 18, prefix=True)
    assert load_model(path, variant="S").spec.upsample_layers == 2
    assert load_model(path, upsample_layers=3).spec.heatmap_stride == 4  # the caller said otherwise
    with pytest.raises(CheckpointError, match=r"snapshot_1.pth.tar: is not variant 'XS'"):
        load_model(path, variant="XS")
    with pytest.raises(CheckpointError, match=r"is not variant 'M' \(9 joints match no known joint set"):
        load_model(path, variant="M")


def test_own_checkpoint_refuses_contradicting_arguments(tmp_path):
    path = save_checkpoint(tmp_path / "ckpt.pth", build_model("test", upsample_layers=3), epoch=1)
    assert load_model(path).spec.upsample_layers == 3
    with pytest.raises(CheckpointError, match=r"disagrees with upsample_layers=2 \(file: 3\)"):
        load_model(path, upsample_layers=2)


def test_one_resolver_of_the_weights_argument(tmp_path, monkeypatch):
    """What the demo, the app and the backends load for ``--checkpoint`` (and without one)."""
    from convnextpose.models import checkpoint as ckpt

    monkeypatch.setattr(ckpt, "PRETRAINED", {})
    with pytest.raises(ValueError, match="no weights given: pass --checkpoint PATH .* are not installed"):
        ckpt.resolve_weights(None)
    monkeypatch.setattr(ckpt, "PRETRAINED", {"xs-synthetic": "xs.pth"})
    monkeypatch.setattr(ckpt, "DEFAULT_PRETRAINED", "xs-synthetic")
    with pytest.raises(ValueError, match="not installed"):
        ckpt.resolve_weights(None, weights_dir=tmp_path)  # registered, but the file is not there
    (tmp_path / "xs.pth").write_bytes(b"")
    assert ckpt.resolve_weights(None, weights_dir=tmp_path) == "xs-synthetic"
    assert ckpt.resolve_weights("xs-synthetic") == "xs-synthetic"
    mine = tmp_path / "my.pth"
    mine.write_bytes(b"")
    assert ckpt.resolve_weights(mine) == str(mine)
    with pytest.raises(FileNotFoundError, match=r"not found: .*nope\.pth; shipped weights: \['xs-synthetic'\]"):
        ckpt.resolve_weights(tmp_path / "nope.pth")


def test_half_precision_weights_are_half_the_size_and_move_joints_by_little(tmp_path):
    from convnextpose.models.checkpoint import save_weights

    torch.manual_seed(0)
    model = build_model("xs", input_size=(64, 64)).eval()
    full = save_checkpoint(tmp_path / "full.pth", model, epoch=3)
    half = save_weights(tmp_path / "half.pth", model, epoch=3)
    assert half.stat().st_size < 0.55 * full.stat().st_size
    loaded = load_model(half)
    assert all(p.dtype == torch.float32 for p in loaded.parameters())
    assert torch.load(half, weights_only=True)["network"]["head.final_layer.weight"].dtype == torch.float16
    images = torch.randn(2, 3, 64, 64, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        before, after = model(images), loaded(images)  # (B, J, 3) joints, heatmap units
    assert (after - before).abs().max() < 0.01  # heatmap cells / depth bins


def test_shipped_weights_are_read_by_name():
    from convnextpose.models.checkpoint import DEFAULT_PRETRAINED, read_checkpoint

    payload = read_checkpoint(DEFAULT_PRETRAINED)
    assert {"model_spec", "network"} <= set(payload)
