"""Two-process DistributedDataParallel training on CPU (gloo), started by the launch `--gpu 0-1` uses."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch

from conftest import RandomSamples, tiny_cfg
from convnextpose.engine.dist import launch


def _ddp_worker(cfg) -> None:
    from convnextpose.engine import Trainer
    from convnextpose.engine.dist import get_rank, get_world_size

    trainer = Trainer(cfg, train_samples=RandomSamples(), joint_set="human36m")
    assert get_world_size() == 2
    trainer.fit()
    seen = sorted(trainer.sampler)  # this rank's share of the last epoch
    torch.save({"state": trainer.model.state_dict(), "indices": seen, "steps": trainer.steps_per_epoch},
               cfg.run_dir.parent / f"rank{get_rank()}.pt")  # fmt: skip


@pytest.mark.slow
def test_two_process_ddp_trains_and_writes_one_set_of_snapshots(tmp_path):
    os.environ.pop("WORLD_SIZE", None)
    cfg = tiny_cfg(Path(tmp_path), "ddp", **{"train.batch_size": 2, "train.end_epoch": 2})
    assert launch(_ddp_worker, cfg, processes=2) is None
    rank0 = torch.load(tmp_path / "rank0.pt", weights_only=True)
    rank1 = torch.load(tmp_path / "rank1.pt", weights_only=True)
    # Each rank saw half of the 8 samples per epoch (2 steps of 2), disjoint shards.
    assert rank0["steps"] == rank1["steps"] == 2
    assert set(rank0["indices"]).isdisjoint(rank1["indices"]) and len(rank0["indices"]) == 4
    # Gradients were averaged: the trainable weights agree on both ranks (batch-norm statistics stay per rank).
    for key, value in rank0["state"].items():
        if "running" not in key and "num_batches" not in key:
            assert torch.allclose(value, rank1["state"][key], atol=1e-6), key
    run_dir = tmp_path / "ddp"
    snapshots = sorted(p.name for p in (run_dir / "model_dump").iterdir())
    assert snapshots == ["snapshot_0.pth.tar", "snapshot_1.pth.tar"]
    payload = torch.load(run_dir / "model_dump" / "snapshot_1.pth.tar", weights_only=True)
    assert len(payload["rng"]) == 2 and payload["sampler"]["world_size"] == 2
    log = (run_dir / "log" / "train.log").read_text()
    assert log.count("epoch 1: loss") == 1  # only rank 0 logs
