"""Evaluator scoring and result files on constructed datasets and predictions (no network quality involved)."""

from __future__ import annotations

import json
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from scipy.io import loadmat

from convnextpose import build_model
from convnextpose.codec import encode
from convnextpose.config import load_config
from convnextpose.data.mupots import mat_key, read_prediction_mat, sequence_and_frame, write_prediction_mat
from convnextpose.engine import Evaluator
from convnextpose.geometry import cam2pixel, crop_transforms
from convnextpose.joints import HUMAN36M, MUCO, MUPOTS, map_joints

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def person_record(rng, joint_set, image_path, image_id, meta, focal=(1100.0, 1100.0), princpt=(500.0, 500.0), x_mm=0.0):
    joints_cam = rng.normal(scale=250.0, size=(joint_set.num_joints, 3)) + np.array([x_mm, 0.0, 5000.0])
    joints_img = cam2pixel(joints_cam, np.array(focal), np.array(princpt))
    root = joints_cam[joint_set.root_index]
    lo, hi = joints_img[:, :2].min(0), joints_img[:, :2].max(0)
    side = (hi - lo).max() * 1.5
    center = (lo + hi) / 2
    bbox = np.array([center[0] - side / 2, center[1] - side / 2, side, side])
    return SimpleNamespace(
        image_path=image_path, image_id=image_id, ann_id=image_id, bbox=bbox, joints_img=joints_img,
        joints_vis=np.ones(joint_set.num_joints), joints_cam=joints_cam, root_cam=root,
        focal=np.array(focal), princpt=np.array(princpt), meta=meta,
    )  # fmt: skip


def encode_records(records, joint_set, model_joint_set, input_size=(64, 64), depth_dim=32):
    """The heatmap-unit output a perfect network would give, in the model's joint order."""
    boxes = np.stack([r.bbox for r in records])
    trans = crop_transforms(boxes[:, :2] + boxes[:, 2:] / 2, boxes[:, 2:], input_size)
    joints_img = np.stack([r.joints_img for r in records])
    hm, _ = encode(joints_img, np.array([r.root_cam[2] for r in records]), trans, input_size, depth_dim)
    mapped, _ = map_joints(hm, joint_set, model_joint_set, fill=0.0)
    return mapped


def cfg_for(tmp_path, test_set, **extra):
    overrides = {"data.test_set": test_set, "run.output_dir": str(tmp_path), "run.name": "eval", "run.device": "cpu",
                 "run.progress": False}  # fmt: skip
    overrides.update(extra)
    return load_config(None, overrides)


def human36m_test_set(rng, n=6):
    """``n`` people of subject 9 in three actions, as a loaded test set."""
    records = []
    for i in range(n):
        action = 2 + i % 3
        path = f"images/s_09_act_{action:02d}_subact_01_ca_01/s_09_act_{action:02d}_subact_01_ca_01_{i:06d}.jpg"
        records.append(person_record(rng, HUMAN36M, path, 100 + i, {"action_idx": action, "subject": 9}))
    return SimpleNamespace(name="human36m", joint_set=HUMAN36M, records=records, has_depth=True)


def test_human36m_scoring_and_release_json(tmp_path, rng):
    dataset = human36m_test_set(rng)
    records = dataset.records
    model = build_model("test")
    perfect = encode_records(records, HUMAN36M, HUMAN36M)
    evaluator = Evaluator(cfg_for(tmp_path, "human36m"), dataset=dataset)
    evaluator.predict = lambda model, dataset=None, progress=None: perfect
    result = evaluator.evaluate(model, epoch=3)
    assert result["summary"]["mpjpe"] == pytest.approx(0.0, abs=1e-3)
    assert set(result["details"]["per_action"]) == {"Directions", "Discussion", "Eating"}
    # Shift every predicted depth of the first record's non-root joints by one bin (2000/32 = 62.5 mm).
    shifted = perfect.copy()
    shifted[0, 1:, 2] += 1.0
    evaluator.predict = lambda model, dataset=None, progress=None: shifted
    result = evaluator.evaluate(model, epoch=4)
    # Depth moves along the viewing ray, so the camera-space error is a bit more than 62.5 mm per joint.
    directions = result["details"]["per_action"]["Directions"]["mpjpe"]
    assert 62.5 * 16 / 17 / 2 < directions < 70 * 16 / 17 / 2
    assert result["details"]["per_action"]["Eating"]["mpjpe"] == pytest.approx(0.0, abs=1e-3)
    out = tmp_path / "eval" / "result" / "snapshot_4"
    release = json.loads((out / "bbox_root_pose_human36m_output.json").read_text())
    assert len(release) == 6 and release[0]["image_id"] == 100 and np.shape(release[0]["joint_cam"]) == (18, 3)
    assert np.allclose(release[1]["joint_cam"], records[1].joints_cam, atol=1e-2)  # absolute camera mm
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["summary"]["mpjpe"] == pytest.approx(result["summary"]["mpjpe"])
    assert "PA-MPJPE rigid" in (out / "table.txt").read_text()


def test_evaluate_checkpoints_scores_each_snapshot_into_its_folder(tmp_path, rng):
    from convnextpose.engine.snapshots import snapshot_path
    from convnextpose.models import save_checkpoint

    dataset = human36m_test_set(rng)
    perfect = encode_records(dataset.records, HUMAN36M, HUMAN36M)
    cfg = cfg_for(tmp_path, "human36m")
    saved = {}
    for epoch in (1, 2, 3):
        torch.manual_seed(epoch)
        model = build_model("test")
        saved[epoch] = model.head.final_layer.weight.detach().clone()
        save_checkpoint(snapshot_path(cfg.run_dir / "model_dump", epoch), model, epoch=epoch)
    evaluator = Evaluator(cfg, dataset=dataset)
    scored = []
    evaluator.predict = lambda model, dataset=None, progress=None: scored.append(model) or perfect

    results = evaluator.evaluate_checkpoints("1-2")  # what --test-epoch 1-2 says
    assert [r["epoch"] for r in results] == [1, 2] and len(scored) == 2
    for epoch, model in zip((1, 2), scored):
        assert torch.equal(model.head.final_layer.weight, saved[epoch])  # each snapshot's own network
        metrics = json.loads((cfg.run_dir / "result" / f"snapshot_{epoch}" / "metrics.json").read_text())
        assert metrics["checkpoint"].endswith(f"snapshot_{epoch}.pth.tar") and metrics["epoch"] == epoch
    assert [r["epoch"] for r in evaluator.evaluate_checkpoints()] == [3]  # the newest by default
    elsewhere = tmp_path / "best.pth.tar"
    elsewhere.write_bytes(snapshot_path(cfg.run_dir / "model_dump", 1).read_bytes())
    (result,) = evaluator.evaluate_checkpoints([(None, elsewhere)])
    assert result["epoch"] is None and (cfg.run_dir / "result" / "best" / "metrics.json").is_file()
    with pytest.raises(FileNotFoundError, match=r"no snapshot for epoch 7: .*available: \[1, 2, 3\]"):
        evaluator.evaluate_checkpoints("7")


def test_mupots_scoring_and_mat_files(tmp_path, rng):
    records = []
    for sequence, frame, people in ((1, 0, 2), (1, 5, 1), (4, 0, 2)):
        for k in range(people):
            path = f"MultiPersonTestSet/TS{sequence}/img_{frame:06d}.jpg"
            records.append(
                person_record(rng, MUPOTS, path, 1000 * sequence + frame, {"is_valid": True}, x_mm=1500.0 * k)
            )
    dataset = SimpleNamespace(name="mupots", joint_set=MUPOTS, records=records, has_depth=True)
    model = build_model("test", num_joints=21, joint_set="muco")
    perfect = encode_records(records, MUPOTS, MUCO)
    evaluator = Evaluator(cfg_for(tmp_path, "mupots"), dataset=dataset)
    evaluator.predict = lambda model, dataset=None, progress=None: perfect
    result = evaluator.evaluate(model, epoch=0)
    assert result["details"]["num_people"] == 5 and result["details"]["num_matched"] == 5
    assert result["summary"]["pck_all"] == 1.0 and set(result["details"]["all"]["per_sequence"]) == {"TS1", "TS4"}
    out = tmp_path / "eval" / "result" / "snapshot_0"
    preds_2d = loadmat(out / "preds_2d_kpt_mupots.mat")
    preds_3d = loadmat(out / "preds_3d_kpt_mupots.mat")
    assert {"TS1_img_000000", "TS1_img_000005", "TS4_img_000000"} <= set(preds_2d)
    assert preds_2d["TS1_img_000000"].shape == (2, 17, 2) and preds_3d["TS4_img_000000"].shape == (2, 17, 3)
    assert preds_3d["TS1_img_000005"].shape == (1, 17, 3)
    assert np.allclose(preds_3d["TS1_img_000005"][0], records[2].joints_cam, atol=1e-2)


def test_mupots_keys():
    assert sequence_and_frame("data/MultiPersonTestSet/TS12/img_000231.jpg") == (12, 231)
    assert sequence_and_frame("anything.jpg", {"sequence": "TS3", "frame": 7}) == (3, 7)
    assert mat_key(3, 7) == "TS3_img_000007"
    with pytest.raises(ValueError, match="TS<k>"):
        sequence_and_frame("frame.jpg")


def test_mupots_prediction_mat_round_trip(tmp_path):
    preds = {
        mat_key(1, 0): np.random.default_rng(0).normal(size=(2, 17, 3)),
        mat_key(20, 123): np.zeros((0, 17, 3)),
        "TS3_img_000007": np.ones((17, 2)),
    }
    path = write_prediction_mat(tmp_path / "preds_3d_kpt_mupots.mat", preds)
    back = read_prediction_mat(path)
    assert set(back) == set(preds) and list(tmp_path.iterdir()) == [path]
    np.testing.assert_allclose(back["TS1_img_000000"], preds["TS1_img_000000"])
    assert back["TS3_img_000007"].shape == (1, 17, 2)
    assert back["TS20_img_000123"].size == 0
    with pytest.raises(ValueError, match="MATLAB variable name"):
        write_prediction_mat(tmp_path / "x.mat", {"1bad": np.zeros((1, 17, 3))})
    with pytest.raises(ValueError, match="people, J"):
        write_prediction_mat(tmp_path / "x.mat", {"ok": np.zeros((1, 17, 4))})


@pytest.fixture(scope="module")
def mupots_root(tmp_path_factory):
    from convnextpose.synth import generate_dataset

    root = tmp_path_factory.mktemp("data")
    generate_dataset(
        "mupots", root / "MuPoTS", sequences=(1, 6), frames=2, image_size=128, people=(2, 2), progress=False
    )
    return root


@pytest.mark.parametrize("use_gt_info", [True, False])
def test_mupots_on_generated_data(tmp_path, mupots_root, use_gt_info):
    """Real loader, annot.mat (universal joints) and occlusion.mat, predictions of a small random network."""

    cfg = cfg_for(tmp_path, "mupots", **{"data.root": str(mupots_root), "eval.use_gt_info": use_gt_info,
                                         "data.workers": 0})  # fmt: skip
    torch.manual_seed(0)
    model = build_model("test", num_joints=21, joint_set="muco").eval()
    evaluator = Evaluator(cfg)
    result = evaluator.evaluate(model, epoch=1)
    details = result["details"]
    assert details["sources"] == {"universal_annotation": True, "occlusion_labels": True}
    assert details["num_people"] == 8  # 2 sequences x 2 frames x 2 people
    assert set(details["all"]["per_sequence"]) == {"TS1", "TS6"}
    cell = details["all"]["per_sequence"]["TS1"]
    assert "pck_visible" in cell and cell["num_joints_visible"] + cell["num_joints_occluded"] == cell["num_joints"]
    out = tmp_path / "eval" / "result" / "snapshot_1"
    preds = loadmat(out / "preds_3d_kpt_mupots.mat")
    keys = {k for k in preds if not k.startswith("__")}
    assert keys == {"TS1_img_000000", "TS1_img_000001", "TS6_img_000000", "TS6_img_000001"}
    assert all(preds[k].shape[1:] == (17, 3) for k in keys)
    assert "universal (annot.mat)" in result["table"]


def test_coco_on_generated_data(tmp_path_factory, tmp_path):
    """MS COCO test split: RootNet-style boxes and roots in, the release-style JSON out."""

    from convnextpose.synth import generate_dataset

    root = tmp_path_factory.mktemp("coco")
    generate_dataset(
        "coco", root / "MSCOCO", images=2, val_images=2, image_size=(160, 128), people=(1, 2), progress=False
    )
    cfg = cfg_for(tmp_path, "coco", **{"data.root": str(root), "data.workers": 0, "eval.use_gt_info": False})
    torch.manual_seed(0)
    model = build_model("test").eval()
    result = Evaluator(cfg).evaluate(model, tag="coco")
    entries = json.loads((tmp_path / "eval" / "result" / "coco" / "bbox_root_pose_coco_output.json").read_text())
    assert len(entries) == result["summary"]["num_people"] >= 2
    assert {"image_id", "ann_id", "joint_img", "joint_cam", "bbox", "root_cam"} <= set(entries[0])
    # Each person's decoded root joint sits at its given root depth (the network predicts root-relative depth).
    joint_cam = np.array(entries[0]["joint_cam"])
    assert joint_cam.shape == (18, 3) and np.all(np.abs(joint_cam[:, 2] - entries[0]["root_cam"][2]) <= 1000.0)
    assert np.isfinite(result["summary"]["mean_2d_error_px"])


def test_official_release_snapshot_is_tested(tmp_path_factory, tmp_path):
    """The release's checkpoint layout (``module.`` keys, no stored spec) loads for `convnextpose test`."""
    from conftest import shared_path
    from convnextpose.engine.evaluator import load_test_network
    from convnextpose.synth import generate_dataset

    snapshot = shared_path("fixtures", "official_checkpoint", "snapshot_24.pth.tar")
    root = tmp_path_factory.mktemp("h36m")
    generate_dataset("human36m", root / "Human36M", subjects=(9,), actions=(2,), cameras=(1,), frames=2,
                     frame_stride=64, image_size=128, progress=False)  # fmt: skip
    cfg = cfg_for(
        tmp_path, "human36m", **{"data.root": str(root), "data.workers": 0, "data.test_options": {"subjects": (9,)}}
    )
    model = load_test_network(snapshot, cfg)
    assert model.spec.depths == (1, 1, 2, 1) and model.spec.input_size == (256, 256)
    result = Evaluator(cfg).evaluate(model, tag="official", checkpoint=str(snapshot))
    assert result["num_samples"] == 2 and np.isfinite(result["summary"]["mpjpe"])
