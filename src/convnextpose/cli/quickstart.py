"""``convnextpose quickstart``: show the whole system working on generated data, on this machine."""

from __future__ import annotations

import argparse


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("quickstart", help="model summary and a forward pass on a generated image")
    parser.add_argument("--variant", default="XS")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import time

    import numpy as np
    import torch

    from .. import build_model
    from ..models.profile import count_macs, count_parameters

    model = build_model(args.variant).eval()
    rng = np.random.default_rng(0)
    image = rng.uniform(0, 1, (1, 3, *model.input_size)).astype(np.float32)
    with torch.inference_mode():
        start = time.perf_counter()
        joints_hm = model(torch.from_numpy(image))
        elapsed = time.perf_counter() - start
    print(
        f"ConvNeXtPose-{args.variant}: {count_parameters(model) / 1e6:.2f} M parameters, "
        f"{count_macs(model) / 1e9:.2f} GMACs at {model.input_size[0]}x{model.input_size[1]}"
    )
    print(
        f"forward pass on a generated image: {elapsed * 1000:.1f} ms, output {tuple(joints_hm.shape)} (heatmap units)"
    )
    return 0
