"""Training and evaluation throughput, on CPU and (where present) CUDA, with the data pipeline's share.

``python -m benchmarks train [-- --variant xs --steps 10 --device cpu --pipeline]``

Rows:
- "train step (tensors)": forward + L1 loss + backward + AdamW on random in-memory batches: the
  network's ceiling, no data loading. On the CPU twice: in PyTorch's default NCHW memory and in the
  channels_last (NHWC) memory the Trainer uses there, with their ratio.
- "train (pipeline)": the real Trainer on a generated synthetic Human3.6M set (JPEG decoding, crops,
  augmentation, DataLoader workers); "data share" is the fraction of the step time spent waiting
  for the next batch.
- "eval (tensors)" / "eval (pipeline)": inference with flip test (two forward passes per crop).
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import torch

from convnextpose import build_model
from convnextpose.engine.losses import pose_l1_loss


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def bench_train_tensors(
    variant: str, batch: int, steps: int, size: int, device: torch.device, amp: bool, channels_last: bool = False
) -> dict:
    torch.manual_seed(0)
    model = build_model(variant, input_size=(size, size), drop_path_rate=0.1).to(device).train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4)
    scaler = torch.amp.GradScaler("cuda", enabled=amp)
    images = torch.randn(batch, 3, size, size, device=device)
    if channels_last:
        model.to(memory_format=torch.channels_last)
        images = images.contiguous(memory_format=torch.channels_last)
    hm = size // 8
    target = torch.rand(batch, model.num_joints, 3, device=device) * torch.tensor(
        [hm, hm, model.depth_dim], device=device
    )
    vis = torch.ones(batch, model.num_joints, device=device)
    depth = torch.ones(batch, device=device)

    def step() -> None:
        with torch.autocast(device_type=device.type, dtype=torch.float16, enabled=amp):
            pred = model(images)
        loss = pose_l1_loss(pred, target, vis, depth)
        optimizer.zero_grad(set_to_none=True)
        scaler.scale(loss).backward()
        scaler.step(optimizer)
        scaler.update()

    for _ in range(2):
        step()
    _sync(device)
    start = time.perf_counter()
    for _ in range(steps):
        step()
    _sync(device)
    elapsed = time.perf_counter() - start
    return {"samples_per_s": batch * steps / elapsed, "step_ms": 1000 * elapsed / steps, "data_share": 0.0}


@torch.inference_mode()
def bench_eval_tensors(variant: str, batch: int, steps: int, size: int, device: torch.device, amp: bool) -> dict:
    model = build_model(variant, input_size=(size, size)).to(device).eval()
    images = torch.randn(batch, 3, size, size, device=device)

    def step() -> None:
        with torch.autocast(device_type=device.type, dtype=torch.float16, enabled=amp):
            model(images)
            model(torch.flip(images, dims=[3]))

    step()
    _sync(device)
    start = time.perf_counter()
    for _ in range(steps):
        step()
    _sync(device)
    elapsed = time.perf_counter() - start
    return {"samples_per_s": batch * steps / elapsed, "step_ms": 1000 * elapsed / steps, "data_share": 0.0}


def bench_pipeline(
    variant: str, batch: int, steps: int, size: int, device: torch.device, workers: int, root: Path
) -> list:
    """Trainer and Evaluator on a small generated Human3.6M set; returns rows (train, eval)."""
    from convnextpose.config import load_config
    from convnextpose.engine import Evaluator, Trainer
    from convnextpose.synth import generate_dataset

    data_root = root / "data"
    frames = max(8, (batch * steps) // 4 + 2)
    generate_dataset(
        "human36m", data_root / "Human36M", seed=0, subjects=(1, 5, 9), frames=frames, image_size=500, progress=False
    )
    cfg = load_config(
        None,
        {
            "model.variant": variant,
            "model.input_size": (size, size),
            "data.root": str(data_root),
            "data.train_sets": ["human36m"],
            "data.workers": workers,
            "data.train_options": {"human36m": {"subsample": 1, "subjects": (1, 5)}},
            "data.test_options": {"subsample": 1, "subjects": (9,)},
            "train.batch_size": batch,
            "train.end_epoch": 1,
            "train.max_steps_per_epoch": steps + 1,
            "eval.batch_size": batch,
            "run.output_dir": str(root / "runs"),
            "run.device": device.type,
            "run.progress": False,
        },
    )
    trainer = Trainer(cfg)
    stats = trainer.train_epoch(0)  # includes one warm-up step
    rows = [
        (
            "train (pipeline)",
            {
                "samples_per_s": stats["samples_per_s"],
                "step_ms": 1000 * stats["seconds"] / trainer.steps_per_epoch,
                "data_share": stats["data_share"],
            },
        )
    ]
    evaluator = Evaluator(cfg)
    start = time.perf_counter()
    preds = evaluator.predict(trainer.model, progress=False)
    elapsed = time.perf_counter() - start
    rows.append(
        (
            "eval (pipeline)",
            {
                "samples_per_s": len(preds) / elapsed,
                "step_ms": 1000 * elapsed / max(1, -(-len(preds) // batch)),
                "data_share": float("nan"),
            },
        )
    )
    trainer.close()
    return rows


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks train", description=__doc__)
    parser.add_argument("--variant", default="xs")
    parser.add_argument("--size", type=int, default=256, help="input side (px)")
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--cpu-batch", type=int, default=8)
    parser.add_argument("--gpu-batch", type=int, default=64)
    parser.add_argument("--device", choices=["all", "cpu", "cuda"], default="all")
    parser.add_argument("--workers", type=int, default=min(4, os.cpu_count() or 1))
    parser.add_argument("--no-pipeline", dest="pipeline", action="store_false", help="skip the generated-data rows")
    parser.add_argument("--out", default="output/benchmarks/train.md")
    args = parser.parse_args(argv)

    devices = []
    if args.device in ("all", "cpu"):
        devices.append(torch.device("cpu"))
    if args.device in ("all", "cuda") and torch.cuda.is_available():
        devices.append(torch.device("cuda"))
    lines = [
        f"ConvNeXtPose-{args.variant.upper()} at {args.size}x{args.size}, torch {torch.__version__}, "
        f"{os.cpu_count()} CPU cores" + (f", {torch.cuda.get_device_name()}" if torch.cuda.is_available() else ""),
        "",
        "| device | what | batch | AMP | samples/s | ms/step | data share |",
        "| --- | --- | ---: | --- | ---: | ---: | ---: |",
    ]
    for device in devices:
        batch = args.gpu_batch if device.type == "cuda" else args.cpu_batch
        amp = device.type == "cuda"
        train_args = (args.variant, batch, args.steps, args.size, device, amp)
        rows = [("train step (tensors)", bench_train_tensors(*train_args))]
        if device.type == "cpu":
            nhwc = bench_train_tensors(*train_args, channels_last=True)
            rows.append(("train step (tensors, channels_last as the Trainer)", nhwc))
            ratio = rows[0][1]["step_ms"] / nhwc["step_ms"]
            print(f"channels_last: {ratio:.2f}x the NCHW training step", flush=True)
        rows += [
            ("eval, flip test (tensors)", bench_eval_tensors(args.variant, batch, args.steps, args.size, device, amp)),
        ]
        if args.pipeline:
            with tempfile.TemporaryDirectory() as tmp:
                try:
                    rows += bench_pipeline(args.variant, batch, args.steps, args.size, device, args.workers, Path(tmp))
                except ImportError as exc:
                    print(f"(pipeline rows skipped: {exc})")
        for what, r in rows:
            share = "-" if r["data_share"] != r["data_share"] else f"{100 * r['data_share']:.0f}%"
            lines.append(
                f"| {device.type} | {what} | {batch} | {'fp16' if amp else 'no'} | {r['samples_per_s']:.1f} | {r['step_ms']:.0f} | {share} |"
            )
            print(lines[-1], flush=True)
    text = "\n".join(lines)
    print("\n" + text)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text + "\n")
    return 0
