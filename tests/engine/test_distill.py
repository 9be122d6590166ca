"""Knowledge distillation: unit mapping, each loss term, teachers of another variant and size, the trainer."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
from torch import nn

from conftest import run_cli
from convnextpose import build_model
from convnextpose.config import ConfigError, load_config
from convnextpose.data import TrainSamples, load_dataset
from convnextpose.engine import Trainer
from convnextpose.engine.distill import Distiller
from convnextpose.engine.distill_ops import axis_map, batch_standardise, splat_matrix
from convnextpose.models.checkpoint import read_checkpoint, save_checkpoint
from convnextpose.models.soft_argmax import soft_argmax_3d

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def peaked(model: nn.Module, seed: int = 0) -> nn.Module:
    """Kaiming-initialised convolutions, so heatmaps are peaked and depend on the image."""
    torch.manual_seed(seed)
    for module in model.modules():
        if isinstance(module, nn.Conv2d):
            nn.init.kaiming_normal_(module.weight)
    return model.eval()


def distill_cfg(tmp_path, teachers, **extra):
    overrides = {
        "model.variant": "test",
        "model.input_size": (64, 64),
        "model.drop_path_rate": 0.0,
        "data.root": str(tmp_path / "data"),
        "data.train_sets": ["images"],
        "data.workers": 0,
        "data.augment": False,
        "train.batch_size": 4,
        "train.end_epoch": 1,
        "train.lr": 3e-3,
        "train.warmup_epochs": 0.0,
        "distill.teachers": [str(t) for t in teachers],
        "run.output_dir": str(tmp_path / "runs"),
        "run.name": "distill",
        "run.device": "cpu",
        "run.progress": False,
    }
    overrides.update(extra)
    return load_config(None, overrides)


@pytest.fixture
def image_folder(tmp_path):
    """A few generated photos (coloured blobs on noise) under data/Images, in two sub-folders."""
    rng = np.random.default_rng(0)
    for i in range(8):
        folder = tmp_path / "data" / "Images" / ("a" if i < 4 else "b/c")
        folder.mkdir(parents=True, exist_ok=True)
        image = rng.integers(0, 255, size=(80, 60, 3), dtype=np.uint8)
        cv2.circle(image, (int(rng.integers(10, 50)), int(rng.integers(10, 70))), 12, (255, 200, 0), -1)
        cv2.imwrite(str(folder / f"img{i}.png"), image)
    return tmp_path / "data" / "Images"


def test_axis_map_follows_a_resize_of_the_crop():
    """A blob at teacher-crop pixel p_t lands where the student's 40-px crop puts it after a resize."""
    for p_t in (12.0, 31.3, 50.0):
        row = np.exp(-0.5 * ((np.arange(64) - p_t) / 4.0) ** 2).astype(np.float32)[None]
        resized = torch.nn.functional.interpolate(
            torch.from_numpy(row)[None, None], size=(1, 40), mode="bilinear", align_corners=False, antialias=True
        )[0, 0, 0].numpy()
        p_s = float((resized * np.arange(40)).sum() / resized.sum())
        a, b = axis_map(teacher_cells=16, teacher_pixels=64, student_cells=5, student_pixels=40)
        assert (p_t / 4) * a + b == pytest.approx(p_s / 8, abs=0.02)  # teacher stride 4, student stride 8
    assert axis_map(32, 256, 32, 256) == (1.0, 0.0)
    assert axis_map(64, 256, 32, 256) == (0.5, 0.0)


def test_splat_keeps_the_expectation():
    rng = np.random.default_rng(0)
    probs = torch.from_numpy(rng.dirichlet(np.ones(64), size=5)).float()
    probs[:, :4] = 0  # keep the mass off the clamped edges
    probs[:, -4:] = 0
    probs /= probs.sum(1, keepdim=True)
    splat = splat_matrix(64, 32, 0.5, 0.0)
    moved = probs @ splat
    torch.testing.assert_close(moved.sum(1), torch.ones(5))
    expected = (probs * torch.arange(64)).sum(1) * 0.5
    torch.testing.assert_close((moved * torch.arange(32)).sum(1), expected, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(splat_matrix(8, 8, 1.0, 0.0), torch.eye(8))


def test_each_term_is_zero_for_the_teacher_itself_and_grows_when_the_student_differs(tmp_path):
    teacher = peaked(build_model("test"))
    path = save_checkpoint(tmp_path / "teacher.pth", teacher)
    cfg = distill_cfg(tmp_path, [path], **{"distill.feature_weight": 1.0, "distill.feature_stages": [1, 3]}).distill
    student = copy.deepcopy(teacher)
    distiller = Distiller(cfg, student, torch.device("cpu"))
    with torch.no_grad():  # identity adapters: the same widths
        for adapter in distiller.adapters.values():
            adapter.weight.copy_(torch.eye(adapter.weight.shape[0])[:, :, None, None])
            adapter.bias.zero_()
    module = distiller.student_module(student).eval()
    images = torch.randn(3, 3, 64, 64, generator=torch.Generator().manual_seed(1))
    targets = distiller.targets(images)
    with torch.no_grad():
        same = distiller.losses(*module(images), targets)
    assert set(same) == {"distill_volume", "distill_coord", "distill_feature"}
    for name, value in same.items():
        assert float(value) == pytest.approx(0.0, abs=1e-5), name
    with torch.no_grad():
        student.head.final_layer.weight.mul_(0.5)
        student.backbone.stages[1][0].pwconv2.weight.add_(0.05)
        differ = distiller.losses(*module(images), targets)
    for name, value in differ.items():
        assert float(value) > 1e-3, name
    with torch.no_grad():  # the feature term reads the adapted maps' shape, not their scale
        for adapter in distiller.adapters.values():
            adapter.weight.mul_(1000.0)
            adapter.bias.mul_(1000.0)
        scaled = distiller.losses(*module(images), targets)
    assert float(scaled["distill_feature"]) == pytest.approx(float(differ["distill_feature"]), rel=1e-3)
    assert float(scaled["distill_feature"]) < 4.0


def test_a_teacher_of_another_variant_and_input_size(tmp_path):
    """An M-style teacher (3 upsampling layers, 64 bins) at 96x96 teaching a 2-layer 32-bin student at 64x64."""
    teacher = peaked(build_model("test", depth_dim=64, upsample_layers=3, input_size=(96, 96)))
    path = save_checkpoint(tmp_path / "m_teacher.pth", teacher)
    cfg = distill_cfg(tmp_path, [path], **{"distill.feature_weight": 0.5, "distill.teacher_flip_test": True})
    student = build_model("test")
    distiller = Distiller(cfg.distill, student, torch.device("cpu"))
    images = torch.randn(2, 3, 64, 64, generator=torch.Generator().manual_seed(2))
    targets = distiller.targets(images)
    assert targets.coords.shape == (2, 18, 3)
    # The teacher's grid spans the same crop: its edge cells map just past the student's edge cell centres.
    assert (targets.coords[..., :2] >= -0.5).all() and (targets.coords[..., :2] <= 8.0).all()
    assert (targets.coords[..., 2] >= 0).all() and (targets.coords[..., 2] <= 31).all()
    for marginal, cells in zip(targets.marginals, (8, 8, 32)):
        assert marginal.shape == (2, 18, cells)
        torch.testing.assert_close(marginal.sum(-1), torch.ones(2, 18))
    # The teacher's own 64-bin depth expectation, rescaled to 32 bins, is the target's (no flip: same crop).
    plain = Distiller(distill_cfg(tmp_path, [path]).distill, student, torch.device("cpu")).targets(images)
    with torch.no_grad():
        own = teacher(torch.nn.functional.interpolate(images, size=(96, 96), mode="bilinear", antialias=True))
    torch.testing.assert_close(plain.coords[..., 2], own[..., 2] / 2, atol=1e-4, rtol=1e-5)
    losses = distiller.losses(*distiller.student_module(student)(images), targets)
    assert all(torch.isfinite(v) for v in losses.values())
    sum(losses.values()).backward()
    assert student.head.final_layer.weight.grad is not None
    assert all(a.weight.grad is not None for a in distiller.adapters.values())


def test_teachers_of_another_joint_set_teach_the_joints_they_share(tmp_path):
    teacher = peaked(build_model("test", num_joints=21, joint_set="muco"))
    path = save_checkpoint(tmp_path / "muco.pth", teacher)
    distiller = Distiller(distill_cfg(tmp_path, [path]).distill, build_model("test"), torch.device("cpu"))
    targets = distiller.targets(torch.randn(1, 3, 64, 64))
    mask = targets.joint_mask.numpy()
    from convnextpose.joints import get_joint_set

    names = get_joint_set("human36m").names
    muco = set(get_joint_set("muco").names)
    assert [bool(m) for m in mask] == [n in muco for n in names]
    assert not mask.all() and mask.sum() >= 14


def test_a_student_moves_toward_the_teacher(tmp_path, image_folder):
    teacher = peaked(build_model("test"), seed=3)
    path = save_checkpoint(tmp_path / "teacher.pth", teacher)
    cfg = distill_cfg(tmp_path, [path], **{"train.end_epoch": 30, "train.save_interval": 30, "train.lr": 1e-2})
    trainer = Trainer(cfg)
    probe = torch.stack(
        [
            TrainSamples([load_dataset("images", image_folder)], "human36m", (64, 64), augment=False)[i]["image"]
            for i in range(8)
        ]
    )

    def distance() -> float:
        trainer.model.eval()
        with torch.no_grad():
            return float((trainer.model(probe) - teacher(probe))[..., :2].norm(dim=-1).mean())

    before = distance()
    trainer.fit()
    after = distance()
    assert after < 0.6 * before, (before, after)
    history = trainer.history[-1]
    assert {"loss_distill_volume", "loss_distill_coord", "loss_coord"} <= set(history)
    assert history["loss_coord"] == 0.0  # label-free images: no ground-truth term


def test_snapshots_keep_the_adapters_and_continue(tmp_path, image_folder):
    teacher = peaked(build_model("test"))
    path = save_checkpoint(tmp_path / "teacher.pth", teacher)
    extra = {"distill.feature_weight": 1.0, "train.end_epoch": 2}
    first = Trainer(distill_cfg(tmp_path, [path], **extra))
    first.fit()
    payload = read_checkpoint(tmp_path / "runs" / "distill" / "model_dump" / "snapshot_1.pth.tar")
    assert set(payload["distill_adapters"]) == {"teacher0_stage3.weight", "teacher0_stage3.bias"}
    assert not any(k.startswith("adapters") for k in payload["network"])  # the student's weights stay clean
    resumed = Trainer(distill_cfg(tmp_path, [path], **{**extra, "train.end_epoch": 3}), resume=True)
    assert resumed.start_epoch == 2
    torch.testing.assert_close(
        resumed.distiller.adapters["teacher0_stage3"].weight, first.distiller.adapters["teacher0_stage3"].weight
    )


def test_teacher_forcing_trains_each_block_on_the_teachers_inputs(tmp_path, image_folder):
    """Block-wise distillation: every stage reads the teacher's previous stage, the head its last one; the
    stages' and the head's errors fall, and the student alone (its own features) ends nearer the teacher."""
    teacher = peaked(build_model("test"), seed=3)
    path = save_checkpoint(tmp_path / "teacher.pth", teacher)
    extra = {"distill.teacher_forcing": True, "distill.feature_weight": 1.0, "train.end_epoch": 40,
             "train.save_interval": 40, "train.lr": 1e-2}  # fmt: skip
    trainer = Trainer(distill_cfg(tmp_path, [path], **extra))
    assert len(trainer.distiller.adapters) == 0  # same widths: stages compared directly
    probe = torch.stack(
        [
            TrainSamples([load_dataset("images", image_folder)], "human36m", (64, 64), augment=False)[i]["image"]
            for i in range(8)
        ]
    )
    forcing = trainer.distiller.targets(probe).forcing
    assert [f.shape[1] for f in forcing] == [*teacher.spec.dims, *[teacher.spec.head_width] * 3]

    def errors() -> tuple[float, float, float]:
        trainer.model.eval()
        with torch.no_grad():
            heatmaps, stages = trainer.train_module(probe, forcing)
            stage1 = float((batch_standardise(stages["stage1"]) - batch_standardise(forcing[1])).pow(2).mean())
            head_joints = soft_argmax_3d(heatmaps, teacher.num_joints, teacher.depth_dim)
            head = float((head_joints - teacher(probe))[..., :2].norm(dim=-1).mean())
            alone = float((trainer.model(probe) - teacher(probe))[..., :2].norm(dim=-1).mean())
        return stage1, head, alone

    before = errors()
    trainer.fit()
    after = errors()
    # The forced units learn fast (here 1.72 -> 0.24 and 2.03 -> 0.32); alone, their errors add up (2.79 -> 1.99).
    for name, b, a, factor in zip(("stage 1", "head", "end to end"), before, after, (0.5, 0.5, 0.8)):
        assert a < factor * b, (name, b, a)
    assert trainer.history[-1]["loss_distill_feature"] < trainer.history[0]["loss_distill_feature"]


def test_teacher_forcing_calibrates_the_last_norm_to_the_teacher(tmp_path, image_folder):
    teacher = peaked(build_model("test"), seed=3)
    path = save_checkpoint(tmp_path / "teacher.pth", teacher)
    cfg = distill_cfg(tmp_path, [path], **{"distill.teacher_forcing": True, "distill.feature_weight": 1.0})
    trainer = Trainer(cfg)
    batch = next(iter(trainer.loader))
    trainer.train_step(batch)  # the first step calibrates, then takes a step (lr 3e-3 moves it a little)
    last = trainer.distiller.targets(batch["image"]).stages[0][3]
    norm = trainer.model.backbone.norm
    torch.testing.assert_close(norm.weight, last.std(dim=(0, 2, 3), unbiased=False), atol=0.02, rtol=0.05)
    torch.testing.assert_close(norm.bias, last.mean(dim=(0, 2, 3)), atol=0.02, rtol=0.05)


def test_teacher_forcing_needs_one_teacher_of_the_students_widths(tmp_path):
    with pytest.raises(ConfigError, match="teacher_forcing"):
        load_config(None, {"distill.teachers": ["a.pth"], "distill.teacher_forcing": True})  # no feature term
    with pytest.raises(ConfigError, match="exactly one teacher"):
        load_config(None, {"distill.teachers": ["a.pth", "b.pth"], "distill.teacher_forcing": True,
                           "distill.feature_weight": 1.0})  # fmt: skip
    path = save_checkpoint(tmp_path / "teacher.pth", build_model("test"))
    cfg = load_config(None, {"distill.teachers": [str(path)], "distill.teacher_forcing": True,
                             "distill.feature_weight": 1.0})  # fmt: skip
    with pytest.raises(ValueError, match="stage widths, head width and input size"):
        Distiller(cfg.distill, build_model("test", dims=(8, 16, 32, 48)), torch.device("cpu"))


def test_distill_config_is_checked(tmp_path):
    with pytest.raises(ConfigError, match="distill.feature_stages"):
        load_config(None, {"distill.feature_stages": [4]})
    with pytest.raises(ConfigError, match="distill.temperature"):
        load_config(None, {"distill.temperature": 0.0})
    with pytest.raises(ConfigError, match="'images' has no labels"):
        load_config(None, {"data.train_sets": ["images"]})


def test_agreement_of_a_network_with_itself_and_with_another(image_folder):
    from convnextpose import PoseEstimator
    from convnextpose.inference.agreement import measure_agreement

    teacher = peaked(build_model("test"), seed=5)
    other = copy.deepcopy(teacher)
    with torch.no_grad():
        other.head.final_layer.weight.mul_(-1.0)
    images = sorted(image_folder.rglob("*.png"))[:3]
    boxes = [[5, 5, 50, 70]] * 3
    same = measure_agreement(PoseEstimator(teacher, optimize=False), PoseEstimator(teacher), images, boxes)
    assert same["same_crop"]["pck@0.05"] == 1.0 and same["same_crop"]["mpjpe_rel_mm"] < 0.05  # float32 paths
    assert same["end_to_end"]["found"] == 1.0
    assert abs(same["same_crop"]["limb_spread"] - 1.0) < 1e-3
    differ = measure_agreement(PoseEstimator(other), PoseEstimator(teacher), images, boxes)
    assert differ["same_crop"]["pck@0.1"] < 0.9 and differ["same_crop"]["mpjpe_rel_mm"] > 10


def test_limb_spread_shows_limbs_drawn_along_the_midline():
    import dataclasses

    from convnextpose.inference.agreement import compare_people
    from convnextpose.inference.result import PersonPose
    from convnextpose.joints import get_joint_set

    joint_set = get_joint_set("human36m")
    rng = np.random.default_rng(0)
    joints_img = rng.uniform(0, 200, (18, 2))
    joints_rel = rng.normal(0, 300, (18, 3))
    person = PersonPose(
        box=np.array([0.0, 0, 200, 200]), crop_box=np.array([0.0, 0, 200, 200]), joints_img=joints_img,
        joints_cam=joints_rel + [0, 0, 4000], joints_rel=joints_rel, confidence=np.ones(18), root_depth=4000.0,
        root_depth_source="given", focal=np.array([1500.0, 1500]), princpt=np.array([100.0, 100]),
        joint_set=joint_set, joints_hm=np.zeros((18, 3)),
    )  # fmt: skip
    root = joints_img[joint_set.root_index]
    collapsed = joints_img.copy()
    collapsed[:, 0] = root[0] + 0.25 * (joints_img[:, 0] - root[0])  # every joint pulled to the vertical midline
    narrow = compare_people(person, dataclasses.replace(person, joints_img=collapsed))
    assert compare_people(person, person)["limb_spread"] == pytest.approx(1.0)
    assert narrow["limb_spread"] < 0.9


def test_agree_cli_compares_a_checkpoint_with_its_teacher_on_a_folder(image_folder, tmp_path):
    teacher = peaked(build_model("test"), seed=5)
    save_checkpoint(tmp_path / "teacher.pth", teacher)
    save_checkpoint(tmp_path / "copy.pth", copy.deepcopy(teacher))
    out = tmp_path / "agree.json"
    result = run_cli("agree", str(tmp_path / "copy.pth"), "--teacher", str(tmp_path / "teacher.pth"),
                     str(image_folder / "a"), "--json", str(out))  # fmt: skip
    rows = [line for line in result.stdout.splitlines() if line.startswith("| img")]
    assert len(rows) == 8  # 4 images x (same crop, end to end)
    assert "| **mean** | same_crop (found 100%) | 1.000 | 1.000 |" in result.stdout
    saved = json.loads(out.read_text())
    assert [Path(r["image"]).name for r in saved["per_image"]] == [f"img{i}.png" for i in range(4)]
    missing = run_cli("agree", str(tmp_path / "copy.pth"), "--teacher", str(tmp_path / "teacher.pth"),
                      str(tmp_path / "nowhere"), check=False)  # fmt: skip
    assert missing.returncode == 1 and f"image not found: {tmp_path / 'nowhere'}" in missing.stderr
