"""The release's trained XS (../shared/fixtures/release_xs): loading it unchanged and reading real photos."""

from __future__ import annotations

import json

import pytest

from conftest import assert_skeleton_follows_the_person, photo_labels, run_cli, shared_path
from convnextpose import PoseEstimator, load_model
from convnextpose.models.checkpoint import read_checkpoint
from convnextpose.models.convnextpose import variant_name


@pytest.fixture(scope="module")
def release_xs():
    return shared_path("fixtures", "release_xs", "snapshot_68.pth.tar")


def test_the_release_snapshot_loads_unchanged_as_xs(release_xs):
    payload = read_checkpoint(release_xs)
    assert payload["epoch"] == 68 and "optimizer" in payload
    assert all(key.startswith("module.") for key in payload["network"])
    model = load_model(release_xs)
    assert variant_name(model.spec) == "xs"
    assert (model.num_joints, model.depth_dim, model.spec.upsample_layers) == (18, 32, 2)
    assert model.spec.joint_set == "human36m" and not model.training


@pytest.mark.parametrize("name", sorted(photo_labels()))
def test_release_xs_draws_the_right_skeleton_without_boxes(release_xs, name):
    estimator = PoseEstimator(release_xs)  # no boxes: the default "auto" person finder
    poses = estimator.predict(shared_path("images", name))
    assert len(poses) == 1, f"{name}: {len(poses)} people"
    person = poses[0]
    assert_skeleton_follows_the_person(person.joint_set.names, person.joints_img, photo_labels()[name], name)


@pytest.mark.slow  # the photos of the test above again, through the command line
def test_demo_cli_with_the_release_checkpoint(release_xs, tmp_path):
    photos = tmp_path / "photos"
    photos.mkdir()
    for name in photo_labels():
        (photos / name).write_bytes(shared_path("images", name).read_bytes())
    out = tmp_path / "out"
    run_cli("demo", str(photos), "--checkpoint", str(release_xs), "--out", str(out), "--no-html", "--no-plot")
    for name, label in photo_labels().items():
        result = json.loads((out / (name.rsplit(".", 1)[0] + ".json")).read_text())
        assert len(result["people"]) == 1
        person = result["people"][0]
        assert_skeleton_follows_the_person(person["joint_names"], person["joints_img"], label, name)
        assert (out / (name.rsplit(".", 1)[0] + "_2d.jpg")).is_file()


@pytest.mark.slow  # `convnextpose data boxes` in a subprocess over four photos
def test_data_boxes_finds_each_person_for_label_free_training(release_xs, tmp_path):
    from convnextpose.data import load_dataset
    from convnextpose.inference.detector import box_iou

    folder = tmp_path / "Images"
    for k, name in enumerate(sorted(photo_labels())):
        target = folder / ("nested" if k % 2 else "") / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(shared_path("images", name).read_bytes())
    out = folder / "boxes.json"
    result = run_cli("data", "boxes", str(folder), "--out", str(out), "--checkpoint", str(release_xs))
    assert "4 people in 4 images" in result.stdout
    detections = json.loads(out.read_text())
    labels = photo_labels()
    for detection in detections:
        label = labels[detection["file_name"].rsplit("/", 1)[-1]]
        assert box_iou([detection["bbox"]], [label["box"]])[0, 0] > 0.5, detection
    assert {d["file_name"] for d in detections} >= {"nested/single_person_2.png", "single_person_1.png"}
    dataset = load_dataset("images", folder, boxes="boxes.json")
    assert len(dataset) == 4 and dataset.skipped == {}
