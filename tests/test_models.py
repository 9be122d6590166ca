"""The network: variants, parameter counts, the released checkpoint layout, soft-argmax."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from conftest import shared_path
from convnextpose import build_model, list_models, load_model
from convnextpose.models.checkpoint import infer_spec
from convnextpose.models.profile import count_macs, count_parameters
from convnextpose.models.soft_argmax import heatmap_confidence, soft_argmax_3d

# The paper's table (DATA_FORMATS.md section 7): parameters for 18 joints and the heatmap volume at 256x256.
PAPER_VARIANTS = [("XS", 3.53, 32), ("S", 7.44, 32), ("M", 7.59, 64), ("L", 8.38, 64)]


@pytest.mark.parametrize(("variant", "millions", "cube"), PAPER_VARIANTS)
def test_parameter_counts_and_volumes_match_the_paper(variant, millions, cube):
    model = build_model(variant).eval()
    assert abs(count_parameters(model) / 1e6 - millions) < 0.01
    assert model.depth_dim == cube and model.output_size == (cube, cube)
    with torch.no_grad():
        heatmaps = model.forward_heatmaps(torch.zeros(1, 3, 256, 256))
    assert heatmaps.shape == (1, 18 * cube, cube, cube)


def test_three_upsampling_layers_only_change_the_third_layer():
    two = build_model("test", upsample_layers=2)
    three = build_model("test", upsample_layers=3)
    assert [k for k in two.state_dict()] == [k for k in three.state_dict()]
    assert (two.head.deconv_layers_3.upsample, three.head.deconv_layers_3.upsample) == (False, True)
    assert three.spec.heatmap_stride == 4 and three.output_size == (16, 16)


# XS and the test variant in the quick suite; S, M and L (about a minute of CPU together) with --runslow. The
# quick suite still builds every variant: the paper's parameter counts below and test_checkpoint's release files.
@pytest.mark.parametrize(
    "variant", [pytest.param(v, marks=pytest.mark.slow) if v in ("s", "m", "l") else v for v in list_models()]
)
def test_every_variant_forward_and_backward(variant):
    torch.manual_seed(0)
    model = build_model(variant, num_joints=21, depth_dim=16, drop_path_rate=0.1)
    height, width = model.input_size
    images = torch.randn(2, 3, height, width)
    out = model(images)
    assert out.shape == (2, 21, 3)
    assert torch.isfinite(out).all()
    assert (out[..., 0] >= 0).all() and (out[..., 0] <= model.output_size[1] - 1).all()
    assert (out[..., 2] >= 0).all() and (out[..., 2] <= 15).all()
    out.sum().backward()
    missing = [name for name, p in model.named_parameters() if p.grad is None or not torch.isfinite(p.grad).all()]
    assert not missing


def test_output_is_input_over_eight():
    model = build_model("test", input_size=(96, 64)).eval()
    heatmaps = model.forward_heatmaps(torch.zeros(1, 3, 96, 64))
    assert heatmaps.shape == (1, 18 * 32, 12, 8)


def test_bad_input_size_is_rejected():
    with pytest.raises(ValueError, match="multiple of 32"):
        build_model("test", input_size=(70, 64))
    with pytest.raises(ValueError, match="unknown variant"):
        build_model("XXL")


def test_soft_argmax_of_a_delta_is_the_voxel():
    joints, depth, height, width = 2, 4, 5, 6
    logits = torch.full((1, joints * depth, height, width), -1e4)
    logits[0, 0 * depth + 3, 2, 5] = 0.0  # joint 0 at z=3, y=2, x=5
    logits[0, 1 * depth + 1, 4, 0] = 0.0  # joint 1 at z=1, y=4, x=0
    coords = soft_argmax_3d(logits, joints, depth)
    assert torch.allclose(coords[0], torch.tensor([[5.0, 2.0, 3.0], [0.0, 4.0, 1.0]]))
    confidence = heatmap_confidence(logits, joints, depth)
    assert torch.allclose(confidence, torch.ones(1, 2))
    flat = heatmap_confidence(torch.zeros(1, joints * depth, 16, 16), joints, depth)
    assert (flat < 0.1).all()


def test_macs_are_counted_from_convolutions():
    model = build_model("XS")
    macs = count_macs(model)
    # The stem alone: 64x64 outputs x 40 channels x (4*4*3) taps.
    assert macs > 64 * 64 * 40 * 48
    assert count_macs(model, (128, 128)) == pytest.approx(macs / 4, rel=0.01)


def test_official_checkpoint_reproduces_the_official_output():
    folder = shared_path("fixtures", "official_checkpoint")
    model = load_model(folder / "snapshot_24.pth.tar")
    assert model.spec.depths == (1, 1, 2, 1) and model.spec.dims == (16, 32, 64, 128)
    assert model.spec.head_width == 32 and model.num_joints == 18 and model.depth_dim == 32
    images = torch.from_numpy(np.load(folder / "input.npy"))
    expected = np.load(folder / "expected_output.npy")
    with torch.no_grad():
        out = model(images).numpy()
    # The release's float32 softmax over 32768 voxels carries ~1e-5 relative rounding: our float32
    # and float64 runs of the same graph differ by 2.9e-4 on this fixture. Matching 1e-4 absolute
    # plus 1e-5 relative is what float32 allows; measured here: 1.4e-4 absolute, 6.7e-6 relative.
    np.testing.assert_allclose(out, expected, rtol=1e-5, atol=1e-4)


def test_infer_spec_resolves_joint_and_depth_split(tiny_model):
    state = tiny_model.state_dict()
    assert infer_spec(state)["num_joints"] == 18
    assert infer_spec(state, depth_dim=16, upsample_layers=2)["num_joints"] == 36
    assert infer_spec(state, num_joints=9)["depth_dim"] == 64


@pytest.mark.parametrize(("joints", "bins", "layers"), [(18, 32, 2), (18, 64, 3), (21, 32, 2), (21, 64, 3)])
def test_infer_spec_follows_the_release_pairing(joints, bins, layers):
    state = build_model("test", num_joints=joints, depth_dim=bins).state_dict()
    inferred = infer_spec(state)
    assert (inferred["num_joints"], inferred["depth_dim"], inferred["upsample_layers"]) == (joints, bins, layers)
