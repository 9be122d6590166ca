"""Model size and cost: parameters and multiply-accumulates, counted from a real forward pass."""

from __future__ import annotations

import torch
from torch import nn


def count_parameters(model: nn.Module) -> int:
    """Number of parameters (weights and biases; batch-norm running statistics excluded)."""
    return sum(p.numel() for p in model.parameters())


@torch.no_grad()
def count_macs(model: nn.Module, input_size: tuple[int, int] | None = None) -> int:
    """Multiply-accumulates of one forward pass on a single crop.

    Counts convolutions and linear layers, which dominate; batch norm, activations, upsampling and
    the soft-argmax are left out, as MAC counters conventionally do.
    """
    if input_size is None:
        input_size = getattr(model, "input_size", (256, 256))
    total = 0

    def conv_hook(module: nn.Conv2d, _inputs, output: torch.Tensor) -> None:
        nonlocal total
        kernel = module.weight.shape[2] * module.weight.shape[3] * (module.in_channels // module.groups)
        total += int(output.numel() // output.shape[0] * kernel)

    def linear_hook(module: nn.Linear, _inputs, output: torch.Tensor) -> None:
        nonlocal total
        total += int(output.numel() // output.shape[0] * module.in_features)

    handles = []
    for module in model.modules():
        if isinstance(module, nn.Conv2d):
            handles.append(module.register_forward_hook(conv_hook))
        elif isinstance(module, nn.Linear):
            handles.append(module.register_forward_hook(linear_hook))
    was_training = model.training
    model.eval()
    try:
        device = next(model.parameters()).device
        model(torch.zeros(1, 3, *input_size, device=device))
    finally:
        for handle in handles:
            handle.remove()
        model.train(was_training)
    return total
