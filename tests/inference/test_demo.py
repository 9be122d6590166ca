"""``convnextpose demo`` end to end on the real photos and a generated video, and its boxes files."""

from __future__ import annotations

import json

import cv2
import numpy as np
import pytest

from conftest import run_cli, shared_path
from convnextpose import PoseEstimator
from convnextpose.inference.demo import BoxesFile, run_demo

SKIERS = [
    ([139.41, 102.25, 222.39, 241.57], 11250.57),
    ([287.17, 61.52, 74.88, 165.61], 15522.87),
    ([540.04, 48.81, 99.96, 223.36], 11831.38),
    ([372.58, 170.84, 266.63, 217.19], 8852.56),
    ([0.5, 43.74, 90.1, 220.09], 12572.60),
]
SINGLES = ["single_person_1.png", "single_person_2.png", "single_person_3.png", "single_person_4.png"]


@pytest.fixture(scope="module")
def estimator(official_checkpoint):
    return PoseEstimator(official_checkpoint)


def test_cli_demo_on_the_skiers_with_the_release_boxes(official_checkpoint, tmp_path):
    image = shared_path("images", "multi_person_skiers.jpg")
    boxes = tmp_path / "boxes.json"
    detections = [{"file_name": image.name, "bbox": b, "score": 0.99, "root_depth": d} for b, d in SKIERS]
    boxes.write_text(json.dumps(detections))
    out = tmp_path / "out"
    result = run_cli(
        "demo", str(image), "--checkpoint", str(official_checkpoint), "--boxes", str(boxes), "--out", str(out)
    )
    assert result.returncode == 0, result.stderr
    assert "5 people" in result.stdout
    for name in ("_2d.jpg", "_3d.png", "_3d.html", ".json"):
        path = out / f"multi_person_skiers{name}"
        assert path.is_file() and path.stat().st_size > 1000, path
    overlay = cv2.imread(str(out / "multi_person_skiers_2d.jpg"))
    assert overlay.shape == (392, 640, 3)
    payload = json.loads((out / "multi_person_skiers.json").read_text())
    people = payload["people"]
    assert len(people) == 5 and payload["image_size"] == [392, 640]
    assert [p["root_depth"] for p in people] == pytest.approx([d for _, d in SKIERS], abs=1e-3)
    assert all(p["root_depth_source"] == "given" and p["score"] == 0.99 for p in people)
    assert np.array(people[3]["joints_cam"]).shape == (18, 3)
    summary = json.loads((out / "demo_summary.json").read_text())
    assert summary["results"][0]["people"] == 5 and summary["settings"]["boxes_file"] == str(boxes)


@pytest.mark.slow  # the skiers test runs the command line quickly; this one adds a folder and flip test
def test_cli_demo_on_a_folder_of_single_person_photos(official_checkpoint, tmp_path):
    folder = tmp_path / "photos"
    folder.mkdir()
    for name in SINGLES:
        (folder / name).symlink_to(shared_path("images", name))
    (folder / "broken.png").write_bytes(b"not a png")
    out = tmp_path / "out"
    result = run_cli(
        "demo",
        str(folder),
        "--checkpoint",
        str(official_checkpoint),
        "--out",
        str(out),
        "--detector",
        "frame",
        "--flip-test",
    )
    assert result.returncode == 0, result.stderr
    summary = json.loads((out / "demo_summary.json").read_text())
    by_name = {r["input"].split("/")[-1]: r for r in summary["results"]}
    assert "broken.png" in by_name and "not a readable image" in by_name["broken.png"]["error"]
    assert summary["settings"]["flip_test"] is True
    for name in SINGLES:
        stem = name.removesuffix(".png")
        assert by_name[name]["people"] == 1 and by_name[name]["error"] is None
        for suffix in ("_2d.jpg", "_3d.png", "_3d.html", ".json"):
            assert (out / f"{stem}{suffix}").is_file()
        person = json.loads((out / f"{stem}.json").read_text())["people"][0]
        height, width = cv2.imread(str(folder / name)).shape[:2]
        assert person["box"] == [0.0, 0.0, float(width), float(height)]
        assert person["root_depth_source"] == "prior"


def test_api_demo_on_single_photos_with_the_default_detector(estimator, tmp_path):
    for name in SINGLES[:3]:
        results = run_demo(shared_path("images", name), estimator, tmp_path, progress=False, plot_3d=False)
        assert len(results) == 1 and results[0].error is None
        # HOG finds someone in each of these photos, or the whole frame stands in.
        assert results[0].people >= 1
        payload = json.loads((tmp_path / name.replace(".png", ".json")).read_text())
        assert len(payload["people"]) == results[0].people


def make_video(path, frames=6, size=(160, 120)):
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), 10, size)
    base = cv2.resize(cv2.imread(str(shared_path("images", "single_person_2.png"))), (size[1], size[1]))
    for i in range(frames):
        frame = np.full((size[1], size[0], 3), 255, np.uint8)
        frame[:, 3 * i : 3 * i + size[1]] = base
        writer.write(frame)
    writer.release()
    return path


@pytest.fixture(scope="module")
def video_runs(official_checkpoint, tmp_path_factory):
    """The video demo on a generated 6-frame clip, with and without smoothing."""
    folder = tmp_path_factory.mktemp("video")
    video = make_video(folder / "clip.mp4")
    estimator = PoseEstimator(official_checkpoint, detector="frame")
    runs = {}
    for smooth in (True, False):
        out = folder / f"out_{smooth}"
        results = run_demo(video, estimator, out, smooth=smooth, progress=False, plot_3d=smooth)
        runs[smooth] = (results, out, json.loads((out / "clip.json").read_text()))
    return runs


@pytest.mark.parametrize("smooth", [True, False])
def test_video_demo_writes_an_annotated_video_and_every_frame(video_runs, smooth):
    results, out, payload = video_runs[smooth]
    assert results[0].kind == "video" and results[0].frames == 6 and results[0].error is None
    capture = cv2.VideoCapture(str(out / "clip_annotated.mp4"))
    assert int(capture.get(cv2.CAP_PROP_FRAME_COUNT)) == 6
    ok, frame = capture.read()
    assert ok and frame.shape == (120, 160, 3)
    assert [f["frame"] for f in payload["frames"]] == list(range(6)) and payload["smoothing"] is smooth
    assert all(len(f["people"]) == 1 and f["people"][0]["track_id"] == 0 for f in payload["frames"])
    assert (out / "clip_3d.html").is_file() and (out / "clip_3d.png").is_file() is smooth
    # Smoothed or not, joints_img is the projection of joints_cam (focal 1500, centre (80, 60)).
    person = payload["frames"][-1]["people"][0]
    joints_cam = np.array(person["joints_cam"])
    uv = joints_cam[:, :2] / joints_cam[:, 2:] * 1500 + [80, 60]
    np.testing.assert_allclose(uv, person["joints_img"], atol=2e-3)


def test_smoothing_changes_later_frames_only(video_runs):
    smoothed, raw = (
        np.array([f["people"][0]["joints_cam"] for f in video_runs[flag][2]["frames"]]) for flag in (True, False)
    )
    np.testing.assert_allclose(smoothed[0], raw[0], atol=1e-3)
    assert np.abs(smoothed[1:] - raw[1:]).max() > 1.0


def test_boxes_file_layouts(tmp_path):
    coco = {
        "images": [{"id": 7, "file_name": "dir/a.jpg"}],
        "annotations": [
            {"image_id": 7, "bbox": [1, 2, 3, 4], "score": 0.9, "root_cam": [10, 20, 5000]},
            {"image_id": 12, "bbox": [5, 6, 7, 8], "score": 0.2},
            {"image_id": 12, "bbox": [9, 9, 9, 9], "score": 0.8},
        ],
    }
    path = tmp_path / "coco.json"
    path.write_text(json.dumps(coco))
    boxes = BoxesFile.load(path, score_threshold=0.5)
    a = boxes.lookup(name="a.jpg")
    assert a[0].box == [1, 2, 3, 4] and a[0].root_depth == 5000 and a[0].score == 0.9
    assert [e.box for e in boxes.lookup(name="000012.png")] == [[9, 9, 9, 9]]
    assert boxes.lookup(frame=12)[0].score == 0.8
    assert boxes.lookup(name="other.jpg") is None
    for bad, message in (
        ("{not json", "not a JSON file"),
        (json.dumps({"annotations": 3}), "list of detections"),
        (json.dumps([{"image_id": 1}]), "'bbox'"),
        (json.dumps([{"image_id": 1, "bbox": [1, 2]}]), r"\[x, y, w, h\]"),
        (json.dumps([{"bbox": [1, 2, 3, 4]}]), "image_id"),
    ):
        path.write_text(bad)
        with pytest.raises(ValueError, match=message):
            BoxesFile.load(path)
    with pytest.raises(FileNotFoundError):
        BoxesFile.load(tmp_path / "none.json")


def test_images_missing_from_the_boxes_file_get_nobody(estimator, tmp_path):
    path = tmp_path / "boxes.json"
    path.write_text(json.dumps([{"file_name": "elsewhere.jpg", "bbox": [0, 0, 10, 10]}]))
    results = run_demo(shared_path("images", "single_person_1.png"), estimator, tmp_path, boxes_file=path,
                       progress=False, plot_3d=False, html=False)  # fmt: skip
    assert results[0].people == 0 and "lists no boxes" in results[0].warnings[0]


def test_bad_demo_inputs(estimator, tmp_path):
    with pytest.raises(FileNotFoundError, match="nothing.mp4"):
        run_demo(tmp_path / "nothing.mp4", estimator, tmp_path / "o")
    (tmp_path / "notes.txt").write_text("hi")
    with pytest.raises(ValueError, match="unknown input type"):
        run_demo(tmp_path / "notes.txt", estimator, tmp_path / "o")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="no images"):
        run_demo(tmp_path / "empty", estimator, tmp_path / "o")
    (tmp_path / "bad.mp4").write_bytes(b"\x00" * 100)
    with pytest.raises(ValueError, match="cannot open this video"):
        run_demo(tmp_path / "bad.mp4", estimator, tmp_path / "o")


@pytest.mark.slow  # the skiers test runs the demo command; test_checkpoint checks resolve_weights' default
def test_cli_demo_without_checkpoint_uses_shipped_weights_or_explains(tmp_path):
    from convnextpose.models.checkpoint import DEFAULT_PRETRAINED, PRETRAINED

    image = shared_path("images", "single_person_1.png")
    result = run_cli(
        "demo", str(image), "--out", str(tmp_path), "--detector", "frame", "--no-plot", "--no-html", check=False
    )
    if DEFAULT_PRETRAINED in PRETRAINED:
        assert result.returncode == 0, result.stderr
        payload = json.loads((tmp_path / "single_person_1.json").read_text())
        assert len(payload["people"]) == 1 and np.isfinite(np.array(payload["people"][0]["joints_cam"])).all()
    else:
        assert result.returncode == 1
        assert "no weights given: pass --checkpoint PATH" in result.stderr and "Traceback" not in result.stderr
