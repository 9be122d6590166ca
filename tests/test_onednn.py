"""The oneDNN fused-convolution inference path computes the same function as the network."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from conftest import randomize_batchnorms
from convnextpose.export import onednn
from convnextpose.export.onednn import (
    OneDNNBlock,
    OneDNNConv2d,
    count_onednn_convs,
    onednn_available,
    onednn_model,
)
from convnextpose.models.backbone import Block

needs_onednn = pytest.mark.skipif(not onednn_available(), reason="this PyTorch build has no oneDNN fused convolutions")


def channels_last(x: torch.Tensor) -> torch.Tensor:
    return x.contiguous(memory_format=torch.channels_last)


@needs_onednn
@torch.inference_mode()
def test_onednn_model_equals_the_network_for_single_images_and_batches(tiny_model):
    model = randomize_batchnorms(tiny_model)
    fast = onednn_model(model)
    convs = sum(isinstance(m, nn.Conv2d) for m in model.modules())
    assert count_onednn_convs(fast) == convs and not any(isinstance(m, nn.Conv2d) for m in fast.modules())
    assert count_onednn_convs(model) == 0  # the original is untouched
    torch.manual_seed(1)
    for batch in (3, 1, 2, 1):  # weights packed for a batch, then an image, then both reused
        x = torch.randn(batch, 3, 64, 64)
        expected = model.forward_heatmaps(x)
        got = fast.forward_heatmaps(channels_last(x))
        np.testing.assert_allclose(got, expected, atol=1e-5 * float(expected.abs().max()))
        np.testing.assert_allclose(fast(channels_last(x)), model(x), atol=1e-4)
    x = torch.randn(2, 3, 64, 64)  # NCHW input gives the same numbers, only slower
    np.testing.assert_allclose(fast.forward_heatmaps(x), model.forward_heatmaps(x), atol=1e-4)


@needs_onednn
@torch.inference_mode()
@pytest.mark.parametrize(
    ("kwargs", "relu"),
    [
        (dict(in_channels=8, out_channels=16, kernel_size=1), True),
        (dict(in_channels=12, out_channels=12, kernel_size=7, padding=3, groups=12), False),
        (dict(in_channels=6, out_channels=10, kernel_size=2, stride=2), True),
        (dict(in_channels=8, out_channels=4, kernel_size=3, padding=1, bias=False), False),
    ],
)
def test_fused_convolution_with_relu_and_residual(kwargs, relu):
    torch.manual_seed(0)
    conv = nn.Conv2d(**kwargs).eval()
    fused = OneDNNConv2d(conv, relu=relu)
    x = channels_last(torch.randn(2, conv.in_channels, 12, 12))
    plain = conv(x)
    activate = F.relu if relu else (lambda t: t)
    np.testing.assert_allclose(fused(x), activate(plain), atol=1e-5)
    residual = channels_last(torch.randn_like(plain))
    before = residual.clone()
    np.testing.assert_allclose(fused.forward_add(x, residual), activate(plain + residual), atol=1e-5)
    assert torch.equal(residual, before)  # the residual is read, not overwritten


@needs_onednn
@torch.inference_mode()
def test_weight_packings_are_bounded_and_copies_repack():
    torch.manual_seed(0)
    fused = OneDNNConv2d(nn.Conv2d(4, 8, kernel_size=3, padding=1))
    for size in (8, 10, 12, 14, 16, 18):
        fused(torch.randn(1, 4, size, size))
    assert len(fused._packed) == OneDNNConv2d.MAX_PACKED
    x = torch.randn(2, 4, 9, 9)
    clone = copy.deepcopy(fused)
    assert clone._packed == {}
    np.testing.assert_array_equal(clone(x), fused(x))


def test_unfused_blocks_and_padding_modes_are_refused():
    with pytest.raises(ValueError, match="fold the batch norms"):
        OneDNNBlock(Block(16))
    with pytest.raises(ValueError, match="numeric zero padding"):
        OneDNNConv2d(nn.Conv2d(4, 4, kernel_size=3, padding="same"))
    with pytest.raises(ValueError, match="numeric zero padding"):
        OneDNNConv2d(nn.Conv2d(4, 4, kernel_size=3, padding=1, padding_mode="reflect"))


def test_without_onednn_the_estimator_falls_back_to_the_fused_network(tiny_model, monkeypatch, rng):
    from convnextpose.inference.backends import TorchBackend

    monkeypatch.setattr(torch.backends.mkldnn, "is_available", lambda: False)
    assert not onednn.onednn_available()
    with pytest.raises(RuntimeError, match="no oneDNN"):
        onednn_model(tiny_model)
    model = randomize_batchnorms(tiny_model)
    crops = rng.integers(0, 256, (2, 64, 64, 3), dtype=np.uint8)
    fallback = TorchBackend(model)
    assert count_onednn_convs(fallback.model) == 0
    plain = TorchBackend(model, optimize=False)
    for got, want in zip(fallback(crops), plain(crops)):
        np.testing.assert_allclose(got, want, atol=1e-4)
