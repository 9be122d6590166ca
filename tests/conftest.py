"""Shared test fixtures: the one helper that reads ../shared, tiny models, markers."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

SHARED_DIR = Path(__file__).resolve().parents[1].parent / "shared"
ASSETS_DIR = Path(__file__).resolve().parent / "assets"


def shared_path(*parts: str) -> Path:
    """A file under ``../shared`` beside the checkout; skips the test cleanly when it is absent."""
    path = SHARED_DIR.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"{path} not available (../shared is absent)")
    return path


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--runslow", action="store_true", default=False, help="run tests marked slow")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    skip_slow = pytest.mark.skip(reason="slow: use --runslow")
    skip_gpu = pytest.mark.skip(reason="needs CUDA")
    for item in items:
        if "slow" in item.keywords and not config.getoption("--runslow"):
            item.add_marker(skip_slow)
        if "gpu" in item.keywords and not torch.cuda.is_available():
            item.add_marker(skip_gpu)


@pytest.fixture
def tiny_model():
    """The registered ``test`` variant: 64x64 input, 18 joints, 8x8x32 heatmaps, in eval mode."""
    from convnextpose import build_model

    torch.manual_seed(0)
    return build_model("test").eval()


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(0)


def run_cli(*args: str, check: bool = True, timeout: float = 300) -> subprocess.CompletedProcess:
    """``convnextpose ARGS`` in a subprocess, as a user runs it; with ``check``, a failure shows its output."""
    result = subprocess.run(
        [sys.executable, "-m", "convnextpose", *args], capture_output=True, text=True, timeout=timeout
    )
    if check and result.returncode != 0:
        raise AssertionError(f"convnextpose {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result


def photo_labels() -> dict[str, dict]:
    """Hand labels of the shared single-person photos (``tests/assets/shared_photo_labels.json``)."""
    labels = json.loads((ASSETS_DIR / "shared_photo_labels.json").read_text())
    return {name: value for name, value in labels.items() if name != "about"}


def skeleton_errors(joint_names, joints_img, label: dict) -> dict[str, float]:
    """Distance of each hand-labelled joint from the predicted one, in units of the labelled box's longer side."""
    predicted = dict(zip(joint_names, np.asarray(joints_img, dtype=np.float64)))
    size = max(label["box"][2:])
    return {name: float(np.linalg.norm(predicted[name] - np.asarray(xy)) / size) for name, xy in label["joints"].items()}


def assert_skeleton_follows_the_person(joint_names, joints_img, label: dict, source: str, pck: float = 0.1) -> None:
    """The skeleton a person would call right on a labelled photo of someone facing the camera.

    - every labelled joint within ``pck`` of the box size but at most one;
    - left and right not swapped: each predicted L_/R_ wrist, elbow, knee and ankle is nearer its own
      label than the other side's, and the person's left lies on the image's right;
    - every joint inside the labelled person box grown by 15%.
    """
    errors = skeleton_errors(joint_names, joints_img, label)
    far = {k: round(v, 3) for k, v in errors.items() if v >= pck}
    assert len(far) <= 1, f"{source}: joints off their labels by >= {pck} of the box: {far}"
    predicted = dict(zip(joint_names, np.asarray(joints_img, dtype=np.float64)))
    for part in ("Wrist", "Elbow", "Knee", "Ankle"):
        left, right = predicted["L_" + part], predicted["R_" + part]
        own = np.linalg.norm(left - label["joints"]["L_" + part]) + np.linalg.norm(right - label["joints"]["R_" + part])
        swapped = np.linalg.norm(left - label["joints"]["R_" + part]) + np.linalg.norm(
            right - label["joints"]["L_" + part]
        )
        assert own < swapped, f"{source}: {part}s swapped left/right"
    assert predicted["L_Shoulder"][0] > predicted["R_Shoulder"][0], f"{source}: shoulders swapped"
    x, y, w, h = label["box"]
    low, high = np.array([x - 0.15 * w, y - 0.15 * h]), np.array([x + 1.15 * w, y + 1.15 * h])
    points = np.asarray(joints_img, dtype=np.float64)
    outside = [n for n, p in zip(joint_names, points) if not ((p >= low) & (p <= high)).all()]
    assert not outside, f"{source}: joints outside the person's box: {outside}"
