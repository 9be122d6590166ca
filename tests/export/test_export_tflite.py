"""TFLite export through litert-torch (optional extra ``tflite``; skipped when it is not installed)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from conftest import shared_path

pytest.importorskip("litert_torch")
pytest.importorskip("ai_edge_litert")

from convnextpose import PoseEstimator  # noqa: E402
from convnextpose.export import export_tflite  # noqa: E402
from convnextpose.models import load_model  # noqa: E402
from convnextpose.runtime import TFLiteRunner  # noqa: E402


@pytest.fixture(scope="module")
def official():
    return load_model(shared_path("fixtures", "official_checkpoint", "snapshot_24.pth.tar"))


@pytest.fixture(scope="module")
def official_input():
    return np.load(shared_path("fixtures", "official_checkpoint", "input.npy"))


@pytest.fixture(scope="module")
def fp32_tflite(official, official_input, tmp_path_factory):
    path = tmp_path_factory.mktemp("tflite") / "official.tflite"
    return export_tflite(official, path, example_input=official_input[:1])


def test_fp32_tflite_matches_pytorch(fp32_tflite, official, official_input):
    assert fp32_tflite.max_abs_diff < 1e-3
    coords, confidence = TFLiteRunner(fp32_tflite.path)(official_input)
    with torch.no_grad():
        expected, expected_conf = official.forward_with_confidence(torch.from_numpy(official_input))
    np.testing.assert_allclose(coords, expected.numpy(), rtol=1e-5, atol=1e-4)
    np.testing.assert_allclose(confidence, expected_conf.numpy(), rtol=1e-5, atol=1e-4)


def test_tflite_backend_in_the_estimator(fp32_tflite, official):
    image = shared_path("images", "single_person_1.png")
    by_tflite = PoseEstimator(fp32_tflite.path, backend="tflite").predict(image, [[40, 10, 180, 240]], [5000.0])
    by_torch = PoseEstimator(official).predict(image, [[40, 10, 180, 240]], [5000.0])
    np.testing.assert_allclose(by_tflite[0].joints_hm, by_torch[0].joints_hm, atol=1e-4)
    assert by_tflite[0].joint_set.name == "human36m"


def test_int8_tflite_is_smaller_and_runs(fp32_tflite, official, official_input, tmp_path):
    report = export_tflite(official, tmp_path / "official.int8.tflite", int8=True, example_input=official_input[:1])
    assert report.size_bytes < 0.5 * fp32_tflite.size_bytes
    runner = TFLiteRunner(report.path)
    assert runner.input["dtype"] == np.int8
    coords, _ = runner(official_input)
    assert coords.shape == (3, 18, 3) and np.isfinite(coords).all()
    assert ((coords[..., :2] >= 0) & (coords[..., :2] <= 31)).all()
    assert report.details["mean_xy_shift"] >= 0
