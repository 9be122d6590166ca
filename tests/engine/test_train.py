"""Trainer on CPU with an in-memory dataset: steps, schedule, snapshots, exact resume, corrupt snapshots."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from conftest import RandomSamples, tiny_cfg
from convnextpose.config import ConfigError, load_config
from convnextpose.engine import Trainer, mirror_tolerant_l1_loss, pose_l1_loss, warmup_cosine_lr
from convnextpose.engine.dist import capture_rng_state, restore_rng_state
from convnextpose.engine.snapshots import config_changes, find_latest_snapshot, list_snapshots, read_snapshot
from convnextpose.models.checkpoint import read_checkpoint

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def test_pose_l1_loss_masks():
    pred = torch.zeros(2, 3, 3)
    target = torch.ones(2, 3, 3)
    vis = torch.ones(2, 3)
    assert pose_l1_loss(pred, target, vis, torch.ones(2)).item() == pytest.approx(1.0)
    # No depth: the z term drops out but the division by three stays, as in the release.
    assert pose_l1_loss(pred, target, vis, torch.zeros(2)).item() == pytest.approx(2 / 3)
    vis[:, 0] = 0
    assert pose_l1_loss(pred, target, vis, torch.ones(2)).item() == pytest.approx(2 / 3)
    with pytest.raises(ValueError, match="B, J, 3"):
        pose_l1_loss(pred, target[:, :2], vis, torch.ones(2))


def test_mirror_tolerant_loss_forgives_only_a_whole_left_right_swap():
    perm = torch.tensor([0, 2, 1, 4, 3])  # joint 0 central; (1, 2) and (3, 4) left/right pairs
    target = torch.rand(3, 5, 3, generator=torch.Generator().manual_seed(0)) * 8
    vis = torch.ones(3, 5)
    vis[0, 1] = 0  # an invisible left joint stays masked after the swap (it becomes the right one)
    depth = torch.ones(3)
    swapped_pred = target[:, perm].clone()
    strict = pose_l1_loss(swapped_pred, target, vis, depth)
    assert strict > 0.5
    # tolerance 0 is the release loss, whatever the prediction
    noisy = target + torch.randn(target.shape, generator=torch.Generator().manual_seed(1))
    assert torch.equal(
        mirror_tolerant_l1_loss(noisy, target, vis, depth, perm, 0.0), pose_l1_loss(noisy, target, vis, depth)
    )
    # a fully swapped prediction costs nothing under full tolerance, and (1 - t) of the strict loss otherwise
    masked_pair = vis.clone()
    masked_pair[0, 2] = 0  # mask both twins in sample 0 so the swapped prediction is exact there too
    assert mirror_tolerant_l1_loss(swapped_pred, target, masked_pair, depth, perm, 1.0).item() == pytest.approx(0.0)
    expected = 0.2 * pose_l1_loss(swapped_pred, target, masked_pair, depth)
    assert mirror_tolerant_l1_loss(swapped_pred, target, masked_pair, depth, perm, 0.8).item() == pytest.approx(
        expected.item()
    )
    # a correct prediction is never penalised, and a half swap (one pair) is not forgiven
    assert mirror_tolerant_l1_loss(target, target, vis, depth, perm, 1.0).item() == pytest.approx(0.0)
    half = target.clone()
    half[:, [1, 2]] = target[:, [2, 1]]
    assert mirror_tolerant_l1_loss(half, target, vis, depth, perm, 1.0) > 0.1
    with pytest.raises(ValueError, match="tolerance"):
        mirror_tolerant_l1_loss(target, target, vis, depth, perm, 1.5)
    with pytest.raises(ValueError, match="flip_permutation"):
        mirror_tolerant_l1_loss(target, target, vis, depth, perm[:4], 0.5)
    with pytest.raises(ConfigError, match="train.mirror_tolerance"):
        load_config(None, {"train.mirror_tolerance": 2.0})


def test_trainer_uses_the_configured_mirror_tolerance(tmp_path):
    """A network that answers with every left/right joint swapped costs nothing at tolerance 1, as in the release at 0."""
    losses = {}
    for tolerance in (0.0, 1.0):
        cfg = tiny_cfg(tmp_path, f"tolerance{tolerance}", **{"train.mirror_tolerance": tolerance})
        trainer = Trainer(cfg, train_samples=RandomSamples(), joint_set="human36m")
        batch = next(iter(trainer.loader))
        swapped = batch["target"][:, trainer.flip_permutation]
        network = trainer.ddp_model
        trainer.ddp_model = lambda images, network=network, swapped=swapped: swapped + 0.0 * network(images)
        losses[tolerance] = trainer.train_step(batch)["coord"]
    assert losses[1.0] == pytest.approx(0.0, abs=1e-7)
    assert losses[0.0] > 0.3


def test_warmup_then_half_cosine():
    lrs = [warmup_cosine_lr(s, 100, 10, 1e-3, 1e-5) for s in range(110)]
    assert lrs[0] == pytest.approx(1e-4) and lrs[9] == pytest.approx(1e-3)
    assert all(a < b for a, b in zip(lrs[:10], lrs[1:10]))
    assert all(a >= b for a, b in zip(lrs[10:100], lrs[11:100]))
    assert lrs[55] == pytest.approx(1e-5 + (1e-3 - 1e-5) * 0.5)
    assert lrs[100] == pytest.approx(1e-5) and lrs[109] == pytest.approx(1e-5)


def test_rng_state_survives_weights_only(tmp_path):
    np.random.seed(3)
    state = capture_rng_state()
    torch.save(state, tmp_path / "rng.pt")
    expected = (np.random.normal(size=3), torch.rand(3), __import__("random").random())
    np.random.seed(99)
    torch.manual_seed(99)
    restore_rng_state(torch.load(tmp_path / "rng.pt", weights_only=True))
    again = (np.random.normal(size=3), torch.rand(3), __import__("random").random())
    assert np.array_equal(expected[0], again[0]) and torch.equal(expected[1], again[1]) and expected[2] == again[2]


def test_training_reduces_loss_and_writes_a_complete_snapshot(tmp_path):
    cfg = tiny_cfg(tmp_path, **{"train.end_epoch": 6, "train.save_interval": 4, "model.drop_path_rate": 0.0})
    trainer = Trainer(cfg, train_samples=RandomSamples(), joint_set="human36m")
    history = trainer.fit()
    assert [h["epoch"] for h in history] == list(range(6))
    assert history[-1]["loss"] < history[0]["loss"]
    assert sorted(e for e, _ in list_snapshots(cfg.run_dir / "model_dump")) == [3, 5]
    snapshot = read_checkpoint(cfg.run_dir / "model_dump" / "snapshot_5.pth.tar")  # weights_only=True
    assert snapshot["epoch"] == 5 and snapshot["scheduler"]["step"] == 12
    assert {"network", "optimizer", "scaler", "rng", "sampler", "cfg", "model_spec"} <= set(snapshot)
    assert snapshot["cfg"]["train"]["end_epoch"] == 6 and snapshot["model_name"] == "convnextpose_test"
    assert (cfg.run_dir / "config.yaml").is_file() and (cfg.run_dir / "log" / "train.log").is_file()
    assert "epoch 5" in (cfg.run_dir / "log" / "train.log").read_text()


def test_interrupted_then_continued_equals_uninterrupted(tmp_path):
    reference = Trainer(tiny_cfg(tmp_path, "reference"), train_samples=RandomSamples(), joint_set="human36m")
    reference.fit()
    expected = {k: v.clone() for k, v in reference.model.state_dict().items()}

    cfg = tiny_cfg(tmp_path, "interrupted")
    # Interrupted in the middle of epoch 2 (0-based): snapshots 0 and 1 exist, epoch 2 is lost.
    crashing = Trainer(cfg, train_samples=RandomSamples(interrupt_at=(2, 6)), joint_set="human36m")
    with pytest.raises(KeyboardInterrupt):
        crashing.fit()
    assert sorted(e for e, _ in list_snapshots(cfg.run_dir / "model_dump")) == [0, 1]
    # Disturb every RNG: a resume must not depend on the process state.
    np.random.seed(1234)
    torch.manual_seed(1234)
    resumed = Trainer(cfg, resume=True, train_samples=RandomSamples(), joint_set="human36m")
    assert resumed.start_epoch == 2 and resumed.schedule.step_count == 4
    resumed.fit()
    got = resumed.model.state_dict()
    assert set(got) == set(expected)
    for key, value in expected.items():
        assert torch.allclose(got[key].float(), value.float(), atol=1e-6, rtol=0), key
    # And the optimiser moments match too: the next steps would also be identical.
    ref_opt = reference.optimizer.state_dict()["state"]
    res_opt = resumed.optimizer.state_dict()["state"]
    for index in ref_opt:
        assert torch.allclose(ref_opt[index]["exp_avg"], res_opt[index]["exp_avg"], atol=1e-7)


def test_continuing_with_another_config_names_each_changed_setting(tmp_path, caplog):
    cfg = tiny_cfg(tmp_path, "changed")
    Trainer(cfg, train_samples=RandomSamples(), joint_set="human36m").fit()
    assert config_changes(read_snapshot(cfg.run_dir / "model_dump" / "snapshot_0.pth.tar")["cfg"], cfg.to_dict()) == []
    longer = tiny_cfg(tmp_path, "changed", **{"train.end_epoch": cfg.train.end_epoch + 1, "run.progress": True})
    with caplog.at_level("WARNING", logger="convnextpose"):
        Trainer(longer, resume=True, train_samples=RandomSamples(), joint_set="human36m")
    end = cfg.train.end_epoch
    assert f"trained with a different config: train.end_epoch: {end} -> {end + 1}" in caplog.text
    assert "run.progress" not in caplog.text  # run settings (paths, devices, progress) may change freely
    assert config_changes("not a config", cfg.to_dict()) == []


def test_resume_without_the_rng_state_differs(tmp_path, monkeypatch):
    """The equality above can fail: skip restoring the RNG states and drop path/noise change the weights."""
    reference = Trainer(tiny_cfg(tmp_path, "reference"), train_samples=RandomSamples(), joint_set="human36m")
    reference.fit()
    cfg = tiny_cfg(tmp_path, "interrupted")
    with pytest.raises(KeyboardInterrupt):
        Trainer(cfg, train_samples=RandomSamples(interrupt_at=(2, 6)), joint_set="human36m").fit()
    monkeypatch.setattr("convnextpose.engine.dist.restore_rng_state", lambda state: None)
    np.random.seed(1234)
    torch.manual_seed(1234)
    resumed = Trainer(cfg, resume=True, train_samples=RandomSamples(), joint_set="human36m")
    resumed.fit()
    ref = reference.model.state_dict()
    assert any(not torch.allclose(ref[k].float(), v.float(), atol=1e-6) for k, v in resumed.model.state_dict().items())


def test_half_written_snapshot_is_never_picked(tmp_path, caplog):
    cfg = tiny_cfg(tmp_path, **{"train.end_epoch": 2})
    Trainer(cfg, train_samples=RandomSamples(), joint_set="human36m").fit()
    dump = cfg.run_dir / "model_dump"
    good = (dump / "snapshot_1.pth.tar").read_bytes()
    (dump / "snapshot_7.pth.tar").write_bytes(good[: len(good) // 2])  # truncated copy
    (dump / "snapshot_9.pth.tar").write_bytes(b"not a checkpoint")
    (dump / ".snapshot_12.pth.tar.abc.tmp").write_bytes(good)  # an unfinished atomic write
    with caplog.at_level("WARNING"):
        path, payload = find_latest_snapshot(dump)
    assert path.name == "snapshot_1.pth.tar" and payload["epoch"] == 1
    assert "snapshot_9" in caplog.text and "snapshot_7" in caplog.text
    resumed = Trainer(
        tiny_cfg(tmp_path, **{"train.end_epoch": 3}), resume=True, train_samples=RandomSamples(), joint_set="human36m"
    )
    assert resumed.start_epoch == 2


def test_release_snapshot_initialises_and_resumes(tmp_path):
    cfg = tiny_cfg(tmp_path, **{"train.end_epoch": 1})
    trainer = Trainer(cfg, train_samples=RandomSamples(), joint_set="human36m")
    release = {
        "epoch": 4,
        "network": {"module." + k: v.clone() + 0.5 for k, v in trainer.model.state_dict().items()},
        "optimizer": {"state": {}, "param_groups": [{"lr": 1e-3, "params": list(range(10))}]},
    }
    path = tmp_path / "snapshot_4.pth.tar"
    torch.save(release, path)
    init_cfg = tiny_cfg(tmp_path, "init", **{"train.end_epoch": 1, "model.init": str(path)})
    initialised = Trainer(init_cfg, train_samples=RandomSamples(), joint_set="human36m")
    key = "head.final_layer.weight"
    assert torch.equal(initialised.model.state_dict()[key], release["network"]["module." + key])
    assert initialised.start_epoch == 0
    dump = tmp_path / "resume_release" / "model_dump"
    dump.mkdir(parents=True)
    (dump / "snapshot_4.pth.tar").write_bytes(path.read_bytes())
    resumed = Trainer(tiny_cfg(tmp_path, "resume_release", **{"train.end_epoch": 6}), resume=True,
                      train_samples=RandomSamples(), joint_set="human36m")  # fmt: skip
    assert resumed.start_epoch == 5 and resumed.schedule.step_count == 5 * resumed.steps_per_epoch
    assert read_snapshot(dump / "snapshot_4.pth.tar")["epoch"] == 4


def test_non_finite_loss_raises_with_values(tmp_path):
    samples = RandomSamples()
    samples.targets[:] = np.nan
    trainer = Trainer(tiny_cfg(tmp_path, **{"train.end_epoch": 1}), train_samples=samples, joint_set="human36m")
    with pytest.raises(FloatingPointError, match=r"non-finite training loss \{'coord': nan\}"):
        trainer.fit()


def test_test_epoch_specs(tmp_path):
    from convnextpose.engine.snapshots import resolve_test_checkpoints

    dump = tmp_path / "model_dump"
    dump.mkdir()
    for epoch in (20, 21, 22):
        (dump / f"snapshot_{epoch}.pth.tar").write_bytes(b"x")
    assert [e for e, _ in resolve_test_checkpoints(dump, "20-21")] == [20, 21]
    assert [e for e, _ in resolve_test_checkpoints(dump, "20,22")] == [20, 22]
    assert resolve_test_checkpoints(dump, "snapshot_21.pth.tar") == [(21, dump / "snapshot_21.pth.tar")]
    elsewhere = tmp_path / "release.pth.tar"
    elsewhere.write_bytes(b"x")
    assert resolve_test_checkpoints(dump, str(elsewhere)) == [(None, elsewhere)]
    with pytest.raises(FileNotFoundError, match=r"no snapshot for epoch 23.*\[20, 21, 22\]"):
        resolve_test_checkpoints(dump, "22-23")
    with pytest.raises(FileNotFoundError, match="neither a checkpoint file nor an epoch"):
        resolve_test_checkpoints(dump, "latest.pth")
    assert resolve_test_checkpoints(dump) == [(22, dump / "snapshot_22.pth.tar")]  # no spec: the newest
    with pytest.raises(FileNotFoundError, match="no snapshots in .*; pass --test-epoch"):
        resolve_test_checkpoints(tmp_path / "empty")


def _answer(cfg, value):
    return cfg.run.name, value


def test_launch_runs_here_for_one_device_and_checks_the_gpus_it_is_given(tmp_path, monkeypatch):
    from convnextpose.engine import dist

    monkeypatch.delenv("WORLD_SIZE", raising=False)
    cfg = tiny_cfg(tmp_path, "here", **{"run.gpus": [0, 1]})  # run.device=cpu: one process, this one
    assert dist.local_processes(cfg) == 0
    assert dist.launch(_answer, cfg, 7) == ("here", 7)
    gpu_cfg = tiny_cfg(tmp_path, **{"run.gpus": [0, 1], "run.device": "cuda"})
    assert dist.local_processes(gpu_cfg) == 2
    monkeypatch.setenv("WORLD_SIZE", "2")  # torchrun started this process: it runs its own share
    assert dist.local_processes(gpu_cfg) == 0
    monkeypatch.delenv("WORLD_SIZE")
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    with pytest.raises(RuntimeError, match=r"run.gpus=\[0, 1\]: this machine has 1 CUDA device"):
        dist.launch(_answer, gpu_cfg, 7)
