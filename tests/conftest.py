"""Shared test fixtures: the one helper that reads ../shared, tiny models, markers."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

SHARED_DIR = Path(__file__).resolve().parents[1].parent / "shared"


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
