"""`convnextpose train` then `convnextpose test --test-epoch` end to end on a tiny generated Human3.6M set."""

from __future__ import annotations

import json
import subprocess

import pytest

from conftest import run_cli
from convnextpose.engine.snapshots import list_snapshots

pytestmark = pytest.mark.slow  # trainings in subprocesses


def cli(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    """The command line with one OpenMP thread per process (tiny networks; a shared machine)."""
    return run_cli(*args, check=check, timeout=600, env={"OMP_NUM_THREADS": "1"})


@pytest.fixture(scope="module")
def data_root(tmp_path_factory):
    from convnextpose.synth import generate_dataset

    root = tmp_path_factory.mktemp("data")
    generate_dataset(
        "human36m", root / "Human36M", subjects=(1, 9), actions=(2,), cameras=(1, 2), frames=3,
        frame_stride=64, image_size=128, progress=False,
    )  # fmt: skip
    return root


def common(data_root, tmp_path):
    return [
        "--cpu",
        "model.variant=test",
        "model.input_size=(64, 64)",
        f"data.root={data_root}",
        "data.train_sets=['human36m']",
        "data.train_options={'human36m': {'subjects': (1,)}}",
        "data.test_options={'subjects': (9,)}",
        "data.workers=0",
        "train.batch_size=2",
        f"run.output_dir={tmp_path}",
        "run.name=cli",
    ]


def test_train_continue_then_test_epochs(data_root, tmp_path):
    args = common(data_root, tmp_path)
    out = cli("train", *args, "train.end_epoch=2")
    run_dir = tmp_path / "cli"
    assert [e for e, _ in list_snapshots(run_dir / "model_dump")] == [1, 0]
    assert "train.end_epoch" not in out.stderr  # no config complaint
    # --continue picks up after snapshot_1 and trains epoch 2 only.
    out = cli("train", *args, "train.end_epoch=3", "--continue")
    assert "continuing at epoch 2" in out.stderr
    assert "epoch 0:" not in out.stderr and "epoch 2:" in out.stderr
    assert [e for e, _ in list_snapshots(run_dir / "model_dump")] == [2, 1, 0]

    out = cli("test", *args, "--test-epoch", "1-2")
    for epoch in (1, 2):
        metrics = json.loads((run_dir / "result" / f"snapshot_{epoch}" / "metrics.json").read_text())
        assert metrics["epoch"] == epoch and metrics["dataset"] == "human36m"
        assert set(metrics["summary"]) == {"mpjpe", "pa_mpjpe_rigid", "pa_mpjpe_similarity"}
        assert metrics["summary"]["pa_mpjpe_similarity"] <= metrics["summary"]["pa_mpjpe_rigid"] + 1e-6
        assert metrics["details"]["num_samples"] == 6  # subject 9: 2 cameras x 3 frames
        release = json.loads(
            (run_dir / "result" / f"snapshot_{epoch}" / "bbox_root_pose_human36m_output.json").read_text()
        )
        assert len(release) == 6 and len(release[0]["joint_cam"]) == 18
    assert "PA-MPJPE rigid" in out.stdout + out.stderr and "Directions" in out.stdout + out.stderr

    # The run's own config and a checkpoint path work too; detected boxes and roots come from bbox_root.
    snapshot = run_dir / "model_dump" / "snapshot_2.pth.tar"
    cli("test", "--run", str(run_dir), "--test-epoch", str(snapshot), "eval.use_gt_info=False", "eval.flip_test=False")
    metrics = json.loads((run_dir / "result" / "snapshot_2" / "metrics.json").read_text())
    assert metrics["config"]["eval"]["use_gt_info"] is False and metrics["checkpoint"] == str(snapshot)


def test_cli_errors_are_one_line(data_root, tmp_path):
    result = cli("train", *common(data_root, tmp_path), "train.lrr=0.1", check=False)
    assert result.returncode == 1 and "did you mean 'train.lr'" in result.stderr and "Traceback" not in result.stderr
    result = cli("test", *common(data_root, tmp_path), "--test-epoch", "7", check=False)
    assert result.returncode == 1 and "no snapshot for epoch 7" in result.stderr


def test_quickstart_runs_end_to_end_at_a_tiny_size(tmp_path):
    """The quickstart's steps (generate, train, test, baseline) on one frame per sequence and the test variant."""
    out = cli(
        "quickstart", "--out", str(tmp_path), "--frames", "1", "--image-size", "128", "--workers", "1",
        "--from-scratch", "model.variant=test", "model.input_size=(64, 64)", "train.end_epoch=1", "run.progress=False",
    )  # fmt: skip
    text = out.stdout
    assert "mean training pose" in text and "ConvNeXtPose-TEST, trained" in text and "Sitting" in text
    assert "untrained" not in text and "starting from random weights" in text
    rows = {
        line.split("  ")[0]: line.split()[-3:]
        for line in text.splitlines()
        if line.startswith(("mean", "ConvNeXtPose"))
    }
    baseline = [float(v) for v in rows["mean training pose"]]
    assert 50 < baseline[0] < 1000 and baseline[2] <= baseline[1] <= baseline[0] + 1e-6  # MPJPE >= rigid >= similarity
    run_dir = tmp_path / "convnextpose_xs_1xb16-3e_synth-h36m"
    assert (run_dir / "model_dump" / "snapshot_0.pth.tar").is_file()
    assert json.loads((run_dir / "result" / "snapshot_0" / "metrics.json").read_text())["num_samples"] == 80


def test_quickstart_starts_from_the_packaged_starter_and_reports_it(tmp_path):
    """By default the quickstart fine-tunes the shipped xs-synthetic weights and tests them before training too."""
    out = cli(
        "quickstart", "--out", str(tmp_path), "--frames", "1", "--image-size", "128", "--workers", "1",
        "train.end_epoch=1", "train.max_steps_per_epoch=2", "run.progress=False",
    )  # fmt: skip
    rows = {line[:28].strip(): [float(v) for v in line.split()[-3:]] for line in out.stdout.splitlines()
            if line.startswith(("mean", "ConvNeXtPose", "xs-synthetic"))}  # fmt: skip
    assert set(rows) == {"mean training pose", "xs-synthetic, untrained", "ConvNeXtPose-XS, trained"}
    run_dir = tmp_path / "convnextpose_xs_1xb16-3e_synth-h36m"
    before = json.loads((run_dir / "result" / "init" / "metrics.json").read_text())
    assert before["checkpoint"] == "xs-synthetic"
    assert abs(before["summary"]["mpjpe"] - rows["xs-synthetic, untrained"][0]) < 0.05
