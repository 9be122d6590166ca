"""Export: batch-norm folding, the shared-softmax graph, ONNX (FP32, INT8) with onnxruntime, TorchScript."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
import torch
from torch import nn

from conftest import randomize_batchnorms, run_cli, shared_path
from convnextpose import build_model
from convnextpose.export import (
    count_batchnorms,
    export_onnx,
    export_onnx_int8,
    export_torchscript,
    fold_input_normalization,
    fuse_model,
    pad_stage_channels,
    quantize_onnx,
)
from convnextpose.export.onnx_export import compare_onnx_models, verify_onnx
from convnextpose.image import as_pixels, normalize_crops
from convnextpose.models import ConvNeXtPose, load_model
from convnextpose.runtime import make_session, read_spec_metadata, sample_input
from convnextpose.runtime.fuse import fold_bn_before_conv
from convnextpose.runtime.graph import PoseGraph, confidence_is_comparable


@pytest.fixture(scope="module")
def fixture_dir():
    return shared_path("fixtures", "official_checkpoint")


@pytest.fixture(scope="module")
def official(fixture_dir):
    return load_model(fixture_dir / "snapshot_24.pth.tar")


@pytest.fixture(scope="module")
def official_input(fixture_dir):
    return np.load(fixture_dir / "input.npy")


@pytest.fixture(scope="module")
def official_onnx(official, official_input, tmp_path_factory):
    pytest.importorskip("onnxruntime")
    path = tmp_path_factory.mktemp("onnx") / "official.onnx"
    report = export_onnx(official, path, example_input=torch.from_numpy(official_input[:2]))
    return path, report


@torch.no_grad()
def test_fused_model_equals_unfused(tiny_model):
    model = randomize_batchnorms(tiny_model)
    fused = fuse_model(model)
    assert count_batchnorms(model) == 12 and count_batchnorms(fused) == 1  # backbone.norm cannot fold
    x = torch.randn(3, 3, 64, 64)
    np.testing.assert_allclose(fused.forward_heatmaps(x), model.forward_heatmaps(x), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(fused(x), model(x), atol=1e-4)
    assert count_batchnorms(model) == 12  # the original is untouched


@torch.no_grad()
def test_fused_official_checkpoint_equals_unfused(official, official_input):
    fused = fuse_model(official)
    x = torch.from_numpy(official_input)
    assert count_batchnorms(official) == 13 and count_batchnorms(fused) == 1
    np.testing.assert_allclose(fused(x), official(x), atol=1e-4)


@torch.no_grad()
def test_fold_into_grouped_following_conv_and_refuse_padding():
    bn = randomize_batchnorms(nn.Sequential(nn.BatchNorm2d(4)))[0]
    conv = nn.Conv2d(4, 6, 2, stride=2, groups=2)
    reference = nn.Sequential(bn, conv).eval()
    x = torch.randn(2, 4, 8, 8)
    expected = reference(x)
    folded = nn.Conv2d(4, 6, 2, stride=2, groups=2)
    folded.load_state_dict(conv.state_dict())
    fold_bn_before_conv(bn, folded)
    np.testing.assert_allclose(folded(x), expected, atol=1e-5)
    with pytest.raises(ValueError, match="padding"):
        fold_bn_before_conv(bn, nn.Conv2d(4, 4, 3, padding=1))


@torch.no_grad()
def test_the_inference_graph_equals_the_model_outputs(tiny_model):
    x = torch.randn(2, 3, 64, 64)
    graph_coords, graph_conf = PoseGraph(tiny_model)(x)
    model_coords, model_conf = tiny_model.forward_with_confidence(x)
    np.testing.assert_allclose(graph_coords, model_coords, atol=1e-5)
    np.testing.assert_allclose(graph_conf, model_conf, atol=1e-5)


def test_onnx_matches_our_pytorch_on_the_official_fixture(official, official_input, official_onnx):
    path, report = official_onnx
    assert report.max_abs_diff is not None and report.max_abs_diff < 1e-4
    session = make_session(path)
    assert [o.name for o in session.get_outputs()] == ["joints_hm", "confidence"]
    coords, confidence = session.run(None, {"images": official_input})
    with torch.no_grad():
        expected_coords, expected_conf = official.forward_with_confidence(torch.from_numpy(official_input))
    # Softmax over 32k voxels in float32 (see tests/models/test_models.py): 1e-4 abs + 1e-5 rel.
    np.testing.assert_allclose(coords, expected_coords.numpy(), rtol=1e-5, atol=1e-4)
    np.testing.assert_allclose(confidence, expected_conf.numpy(), rtol=1e-5, atol=1e-4)


def test_onnx_batch_axis_is_dynamic_and_spec_travels(official, official_input, official_onnx):
    path, _ = official_onnx
    session = make_session(path)
    single = session.run(None, {"images": official_input[:1]})[0]
    many = session.run(None, {"images": np.concatenate([official_input] * 2)})[0]
    assert single.shape == (1, 18, 3) and many.shape == (6, 18, 3)
    np.testing.assert_allclose(many[3], single[0], atol=1e-5)
    spec = read_spec_metadata(path)
    assert spec["dims"] == [16, 32, 64, 128] and spec["num_joints"] == 18 and spec["joint_set"] == "human36m"


def test_verification_catches_a_wrong_model(official_onnx, tiny_model, official):
    path, _ = official_onnx
    other = randomize_batchnorms(fuse_model(official), seed=3)
    with pytest.raises(RuntimeError, match="differs from PyTorch"):
        verify_onnx(path, other)
    assert max(verify_onnx(path, official).values()) < 1e-4


def test_static_batch_and_coordinates_only(tiny_model, tmp_path):
    pytest.importorskip("onnxruntime")
    report = export_onnx(tiny_model, tmp_path / "t.onnx", dynamic_batch=False, with_confidence=False)
    session = make_session(report.path)
    assert [o.name for o in session.get_outputs()] == ["joints_hm"]
    assert session.get_inputs()[0].shape == [2, 3, 64, 64]
    assert report.checked_outputs == ("joints_hm",)


def test_int8_is_smaller_and_close_to_fp32(official_onnx, official_input, tmp_path):
    onnx = pytest.importorskip("onnx")
    fp32_path, _ = official_onnx
    report = quantize_onnx(fp32_path, tmp_path / "official.int8.onnx", official_input)
    assert report.size_bytes < 0.5 * fp32_path.stat().st_size
    ops = {node.op_type for node in onnx.load(str(report.path)).graph.node}
    assert {"QuantizeLinear", "DequantizeLinear"} <= ops
    assert report.details["soft_argmax_from_quantized_logits"] == ("Softmax" not in ops) == ("Exp" in ops)
    assert read_spec_metadata(report.path)["dims"] == [16, 32, 64, 128]
    cost = compare_onnx_models(fp32_path, report.path, official_input)
    # INT8 must stay much closer to FP32 on the same photo than FP32's answers for different photos are.
    fp32 = make_session(fp32_path).run(None, {"images": official_input})[0]
    spread = np.linalg.norm(fp32[:, None, :, :2] - fp32[None, :, :, :2], axis=-1)
    between_photos = spread[~np.eye(3, dtype=bool)].mean()
    assert np.isfinite(list(cost.values())).all()
    assert cost["mean_xy"] < 0.5 * between_photos


@torch.no_grad()
def test_padded_stages_compute_the_same_function():
    torch.manual_seed(0)
    model = randomize_batchnorms(ConvNeXtPose(depths=(1, 2, 1, 1), dims=(12, 20, 32, 40), input_size=(64, 64)))
    padded = pad_stage_channels(model, multiple=16)
    widths = [stage[0].dwconv.weight.shape[0] for stage in padded.backbone.stages]
    assert widths == [16, 32, 32, 40]  # the last stage feeds the head and keeps its width
    assert padded.backbone.stages[1][1].dwconv.groups == 32 and padded.backbone.stages[1][1].pwconv1.in_channels == 32
    x = torch.randn(2, 3, 64, 64)
    expected = model.forward_heatmaps(x)
    np.testing.assert_allclose(padded.forward_heatmaps(x), expected, atol=1e-5 * float(expected.abs().max()))
    with pytest.raises(ValueError, match="multiple"):
        pad_stage_channels(model, multiple=0)


@torch.no_grad()
def test_folded_normalisation_takes_pixel_values(tiny_model, rng):
    model = randomize_batchnorms(tiny_model)
    pixels = rng.integers(0, 256, (2, 64, 64, 3), dtype=np.uint8)
    expected = model.forward_heatmaps(torch.from_numpy(normalize_crops(pixels)))
    folded = fold_input_normalization(fuse_model(model))
    got = folded.forward_heatmaps(torch.from_numpy(pixels).permute(0, 3, 1, 2).float())
    np.testing.assert_allclose(got, expected, atol=1e-5 * float(expected.abs().max()))


def test_pixel_input_onnx_matches_pytorch_on_the_official_fixture(official, official_input, official_onnx, tmp_path):
    path, _ = official_onnx
    pixels = as_pixels(official_input)
    np.testing.assert_allclose(normalize_crops(pixels), official_input, atol=1e-6)  # the photo's crops themselves
    report = export_onnx(official, tmp_path / "pixels.onnx", input_format="pixels", example_input=pixels[:2])
    assert report.max_abs_diff < 1e-4
    session = make_session(report.path)
    assert session.get_inputs()[0].name == "pixels" and session.get_inputs()[0].type == "tensor(uint8)"
    assert session.get_inputs()[0].shape[1:] == [256, 256, 3]
    assert compare_onnx_models(path, report.path, pixels)["max_xy"] < 1e-4
    with pytest.raises(ValueError, match="input_format"):
        export_onnx(official, tmp_path / "bad.onnx", input_format="bgr")


def test_int8_model_reads_pixels_without_a_quantise_step(official, official_input, official_onnx, tmp_path):
    onnx = pytest.importorskip("onnx")
    path, _ = official_onnx
    pixels = as_pixels(official_input)
    # With the stem quantised (by default it stays float: test_float_layers_stay_float_and_the_pixels_feed_them).
    report = export_onnx_int8(official, tmp_path / "pixels.int8.onnx", pixels, pixels[:0], float_layers=())
    graph = onnx.load(str(report.path)).graph
    assert graph.input[0].type.tensor_type.elem_type == onnx.TensorProto.UINT8
    first = [node for node in graph.node if graph.input[0].name in node.input]
    assert [node.op_type for node in first] == ["Transpose"]  # then straight into DequantizeLinear
    reader = [node for node in graph.node if first[0].output[0] in node.input]
    assert [node.op_type for node in reader] == ["DequantizeLinear"]
    # As close to FP32 as the normalised-input INT8 model (test_int8_is_smaller_and_close_to_fp32).
    reference = quantize_onnx(path, tmp_path / "normalized.int8.onnx", official_input)
    cost = compare_onnx_models(path, report.path, pixels)["mean_xy"]
    assert cost < 1.5 * compare_onnx_models(path, reference.path, pixels)["mean_xy"] + 0.05


def test_int8_export_pads_stage_widths(tmp_path):
    onnx = pytest.importorskip("onnx")
    torch.manual_seed(0)
    model = ConvNeXtPose(depths=(1, 1, 1, 1), dims=(24, 32, 48, 64), head_width=32, input_size=(64, 64)).eval()
    report = export_onnx_int8(model, tmp_path / "m.int8.onnx", input_format="normalized", float_layers=["stem"])
    shapes = [tuple(init.dims) for init in onnx.load(str(report.path)).graph.initializer]
    assert (32, 1, 7, 7) in shapes and (24, 1, 7, 7) not in shapes
    assert report.details["pad_channels"] == 16 and report.details["input_format"] == "normalized"
    default = export_onnx_int8(model, tmp_path / "d.int8.onnx", input_format="normalized")  # stage 0 in float
    shapes = [tuple(init.dims) for init in onnx.load(str(default.path)).graph.initializer]
    assert (24, 1, 7, 7) in shapes and (32, 1, 7, 7) in shapes  # stage 0 unpadded, stage 1 as it is


# 5500 (rewritten) and 30000 (softmax kept) are the two outcomes; 2000, a second rewritten case, with --runslow.
@pytest.mark.parametrize("logit_gain", [pytest.param(2000.0, marks=pytest.mark.slow), 5500.0, 30000.0])
def test_int8_soft_argmax_reads_the_quantized_logits(tiny_model, rng, tmp_path, monkeypatch, logit_gain):
    onnx = pytest.importorskip("onnx")
    from convnextpose.export import onnx_int8

    model = randomize_batchnorms(tiny_model)
    with torch.no_grad():  # calibrated logit spans of about 40, 110 and 590 (softmax kept)
        model.head.final_layer.weight.mul_(logit_gain)
        model.head.final_layer.bias.mul_(logit_gain)
    crops = rng.integers(0, 256, (4, 64, 64, 3), dtype=np.uint8)
    calibration = rng.integers(0, 256, (8, 64, 64, 3), dtype=np.uint8)
    rewritten = export_onnx_int8(model, tmp_path / "new.int8.onnx", calibration)
    monkeypatch.setattr(onnx_int8, "rewrite_soft_argmax", lambda proto: False)
    plain = export_onnx_int8(model, tmp_path / "old.int8.onnx", calibration)
    ops = [node.op_type for node in onnx.load(str(rewritten.path)).graph.node]
    final_scale = next(
        onnx.numpy_helper.to_array(i)
        for i in onnx.load(str(plain.path)).graph.initializer
        if i.name.endswith("final_layer/Conv_output_0_scale")
    )
    expected = 255 * float(final_scale) <= 140
    assert rewritten.details["soft_argmax_from_quantized_logits"] is expected
    assert ("Softmax" in ops) is not expected and ops.count("Exp") == int(expected)
    new, old = make_session(rewritten.path), make_session(plain.path)
    got, want = new.run(None, {"pixels": crops}), old.run(None, {"pixels": crops})
    assert all(np.isfinite(g).all() for g in got)
    np.testing.assert_allclose(got[0], want[0], atol=1e-4)  # joints_hm, heatmap units
    comparable = confidence_is_comparable(want[0])  # a joint on its window's edge has two right confidences
    assert comparable.sum() >= 18
    np.testing.assert_allclose(got[1][comparable], want[1][comparable], atol=1e-5)


def test_exports_of_flat_heatmaps_verify(tiny_model, tmp_path):
    model = randomize_batchnorms(tiny_model)
    with torch.no_grad():  # an untrained head: every joint's expectation at the centre, on a window edge
        model.head.final_layer.weight.mul_(1e-3)
    with torch.no_grad():
        coords = model(sample_input(model)).numpy()
    assert not confidence_is_comparable(coords).any()
    assert confidence_is_comparable(coords + 0.25).all()
    assert export_onnx(model, tmp_path / "flat.onnx").max_abs_diff < 1e-4
    assert export_torchscript(model, tmp_path / "flat.pt").max_abs_diff < 1e-4


def test_shifted_zero_point_keeps_the_exponent_in_float_range():
    from convnextpose.export.quantized_tail import shifted_zero_point

    for scale in (1e-6, 0.05, 0.3, 0.5):
        zero_point = shifted_zero_point(scale)
        highest, lowest = scale * (255 - zero_point), -scale * zero_point
        assert lowest >= -80 - scale and highest <= 60 + scale and highest - lowest == pytest.approx(255 * scale)
    assert shifted_zero_point(0.1) == 255  # span 25.5: the largest logit maps to exp(0)
    assert shifted_zero_point(0.6) is None and shifted_zero_point(0.0) is None  # span 153: keep the softmax


def test_soft_argmax_rewrite_leaves_other_graphs_alone():
    onnx = pytest.importorskip("onnx")
    from onnx import TensorProto, helper

    from convnextpose.export.quantized_tail import rewrite_soft_argmax

    graph = helper.make_graph(
        [helper.make_node("Softmax", ["x"], ["y"], axis=1)],
        "plain",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])],
    )
    proto = helper.make_model(graph)
    before = proto.SerializeToString()
    assert rewrite_soft_argmax(proto) is False and proto.SerializeToString() == before
    onnx.checker.check_model(proto)


def test_static_batch_int8_model_runs_one_crop_at_a_time(tiny_model, rng, tmp_path):
    fp32 = export_onnx(tiny_model, tmp_path / "m.onnx").path
    report = export_onnx_int8(tiny_model, tmp_path / "m.int8.onnx", dynamic_batch=False)
    session = make_session(report.path)
    assert session.get_inputs()[0].shape == [1, 64, 64, 3]
    crops = rng.integers(0, 256, (3, 64, 64, 3), dtype=np.uint8)
    cost = compare_onnx_models(fp32, report.path, crops)  # three crops through a batch-1 model
    assert np.isfinite(list(cost.values())).all()


def test_onnx_file_runs_in_the_estimator(official_onnx, official, tmp_path):
    from convnextpose import PoseEstimator
    from convnextpose.image import read_image

    path, _ = official_onnx
    image = read_image(shared_path("images", "single_person_2.png"))
    by_onnx = PoseEstimator(path, backend="onnx").predict(image, [[30, 20, 200, 220]], [4000.0])
    by_torch = PoseEstimator(official).predict(image, [[30, 20, 200, 220]], [4000.0])
    np.testing.assert_allclose(by_onnx[0].joints_hm, by_torch[0].joints_hm, atol=1e-4)
    assert by_onnx[0].joint_set.name == "human36m"


def test_pixel_input_onnx_file_runs_in_the_estimator_with_flip_test(official, tmp_path):
    from convnextpose import PoseEstimator
    from convnextpose.image import read_image

    path = export_onnx(official, tmp_path / "pixels.onnx", input_format="pixels").path
    image = read_image(shared_path("images", "single_person_2.png"))
    estimator = PoseEstimator(path, backend="onnx", flip_test=True)
    assert estimator.backend.takes_pixels and estimator.spec.input_size == (256, 256)
    by_onnx = estimator.predict(image, [[30, 20, 200, 220]], [4000.0])
    by_torch = PoseEstimator(official, flip_test=True).predict(image, [[30, 20, 200, 220]], [4000.0])
    np.testing.assert_allclose(by_onnx[0].joints_hm, by_torch[0].joints_hm, atol=1e-4)
    np.testing.assert_allclose(by_onnx[0].confidence, by_torch[0].confidence, atol=1e-4)


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_torchscript_round_trip(official, official_input, tmp_path):
    report = export_torchscript(official, tmp_path / "m.torchscript.pt")
    assert report.max_abs_diff < 1e-4
    loaded = torch.jit.load(str(report.path))
    with torch.no_grad():
        coords, confidence = loaded(torch.from_numpy(official_input))
        expected = official(torch.from_numpy(official_input))
    assert confidence.shape == (3, 18)
    np.testing.assert_allclose(coords, expected, rtol=1e-5, atol=1e-4)


def test_export_of_a_registered_variant_has_its_size(tmp_path):
    pytest.importorskip("onnxruntime")
    model = build_model("test").eval()
    report = export_onnx(model, tmp_path / "v.onnx")
    assert read_spec_metadata(report.path)["input_size"] == [64, 64]
    assert report.size_bytes > 4 * sum(p.numel() for p in fuse_model(model).parameters()) * 0.9


@pytest.mark.slow  # the release network to INT8 in a subprocess; export_model's own test is quick
def test_export_cli_onnx_int8(tmp_path, official_checkpoint):
    pytest.importorskip("onnxruntime")
    out = tmp_path / "official.int8.onnx"
    result = run_cli(
        "export", str(official_checkpoint), "--format", "onnx-int8", "--out", str(out), "--calibration-count", "8"
    )
    assert out.is_file() and (tmp_path / "official.onnx").is_file()
    assert "max |diff| vs PyTorch" in result.stdout and "INT8 vs FP32" in result.stdout
    assert make_session(out).get_inputs()[0].type == "tensor(uint8)"  # pixels, the INT8 default
    wrong = run_cli("export", "test", "--format", "torchscript", "--input", "pixels", check=False)
    assert wrong.returncode == 1 and "--input" in wrong.stderr
    bad = run_cli("export", str(tmp_path / "nope.pth"), check=False)
    assert bad.returncode == 1 and "nope.pth" in bad.stderr and "Traceback" not in bad.stderr


@pytest.mark.parametrize(
    "int8_name, fp32_name",
    [("m.int8.onnx", "m.onnx"), ("m.onnx", "m.fp32.onnx"), ("m", "m.fp32.onnx")],
)
def test_int8_export_writes_its_fp32_model_beside_it_under_another_name(int8_name, fp32_name):
    from convnextpose.export import formats

    assert formats.fp32_name(int8_name) == fp32_name


def test_export_model_dispatches_and_checks_its_arguments(tiny_model, tmp_path):
    pytest.importorskip("onnxruntime")
    from convnextpose import export_model

    result = export_model(tiny_model, "onnx", tmp_path / "tiny.onnx", dynamic_batch=False)
    assert result.path.is_file() and len(result.reports) == 1 and result.int8_cost is None
    assert make_session(result.path).get_inputs()[0].shape[0] == 1  # the static batch
    assert "max |diff| vs PyTorch" in result.summary()
    with pytest.raises(ValueError, match="unknown export format 'onnx8'; choose one of"):
        export_model(tiny_model, "onnx8", tmp_path / "x")
    with pytest.raises(ValueError, match="applies to the onnx and onnx-int8 formats, not torchscript"):
        export_model(tiny_model, "torchscript", tmp_path / "x.pt", input_format="pixels")
    (tmp_path / "photos").mkdir()
    for i in range(3):
        cv2.imwrite(str(tmp_path / "photos" / f"{i}.png"), np.full((60, 40, 3), 60 * i + 30, np.uint8))
    with pytest.raises(ValueError, match="pass find_people"):
        export_model(tiny_model, "onnx-int8", tmp_path / "x.int8.onnx", calibration=tmp_path / "photos")
    seen = []

    def two_people(image):  # the left and the right half of each photo
        seen.append(image.shape)
        return np.array([[0, 0, 20, 60], [20, 0, 20, 60]], dtype=np.float64)

    int8 = export_model(
        tiny_model, "onnx-int8", tmp_path / "tiny.int8.onnx", calibration=tmp_path / "photos", find_people=two_people
    )
    assert seen == [(60, 40, 3)] * 3  # every photo read, as RGB
    assert [r.path.name for r in int8.reports] == ["tiny.onnx", "tiny.int8.onnx"]
    assert int8.int8_cost["crops"] == 1 and str(tmp_path / "photos") in int8.summary()  # 6 crops: 5 + 1 held out
    assert set(int8.int8_cost) >= {"mean_xy", "max_xy", "mean_z"} and "INT8 vs FP32" in int8.summary()


@pytest.fixture(scope="module")
def three_up_model():
    """The paper's M/L head layout at test size: 3 upsampling layers, 64 depth bins, 16x16x64 volumes."""
    torch.manual_seed(2)
    model = randomize_batchnorms(build_model("test", depth_dim=64, upsample_layers=3), seed=2)
    with torch.no_grad():  # peaked heatmaps, so joints land all over the grid
        for module in model.modules():
            if isinstance(module, nn.Conv2d):
                nn.init.kaiming_normal_(module.weight)
    return model


def test_exports_of_a_three_upsampling_model(three_up_model, tmp_path, rng):
    pytest.importorskip("onnxruntime")
    model = three_up_model
    assert model.output_size == (16, 16)
    crops = rng.integers(0, 256, size=(3, 64, 64, 3), dtype=np.uint8)
    images = torch.from_numpy(normalize_crops(crops))
    with torch.no_grad():
        expected = model(images).numpy()
    assert expected[..., :2].max() > 8  # beyond the 8x8 grid a 2-layer head would give
    report = export_onnx(model, tmp_path / "m.onnx", example_input=images)
    assert read_spec_metadata(report.path)["upsample_layers"] == 3
    coords = make_session(report.path).run(None, {"images": images.numpy()})[0]
    np.testing.assert_allclose(coords, expected, rtol=1e-5, atol=1e-4)
    scripted = export_torchscript(model, tmp_path / "m.torchscript.pt", example_input=images)
    assert scripted.max_abs_diff < 1e-3  # verified inside the export to 1e-4 + 1e-5 relative
    int8 = export_onnx_int8(model, tmp_path / "m.int8.onnx", calibration=crops)
    comparison = compare_onnx_models(report.path, int8.path, crops)
    assert comparison["mean_xy"] < 1.5 and comparison["mean_z"] < 3.0  # 64 bins, 16x16 cells, random weights
