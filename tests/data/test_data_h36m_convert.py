"""Raw Human3.6M: the synthetic raw generator's files, and their conversion to the release's layout.

End to end: synthetic people -> raw layout (videos, CDF poses, metadata.xml) -> ``convert_h36m`` ->
``data check``, the loader and the release-layout checks, against the synthetic generator's truth.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import textwrap
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import cv2
import numpy as np
import pytest
from scipy.spatial.transform import Rotation

cdflib = pytest.importorskip("cdflib")

from conftest import assert_h36m_release_layout  # noqa: E402
from convnextpose.cli import main as cli_main  # noqa: E402
from convnextpose.data import DatasetError, convert_h36m, generate_human36m_raw, load_dataset  # noqa: E402
from convnextpose.data import h36m_convert as convert_module  # noqa: E402
from convnextpose.data.check import check_dataset  # noqa: E402
from convnextpose.data.h36m_raw import (  # noqa: E402
    CAMERA_IDS,
    DUPLICATE_JOINTS,
    RELEASE_JOINTS,
    read_metadata,
    rotation_from_angles,
    write_poses,
)
from convnextpose.synth import generate_dataset  # noqa: E402

# Two subjects (S11 has the skipped broken video), Directions and Photo (S1's files say "TakingPhoto").
SET = {"subjects": (1, 11), "actions": (2, 12), "subactions": (1, 2), "cameras": (1, 2)}
FRAMES, SIZE = 3, 96


@pytest.fixture(scope="module")
def raw_root(tmp_path_factory):
    out = tmp_path_factory.mktemp("h36m_raw") / "raw"
    return generate_human36m_raw(out, seed=0, frames=FRAMES, image_size=SIZE, progress=False, **SET)


@pytest.fixture(scope="module")
def truth(tmp_path_factory):
    """The synthetic generator's own annotations of the same people and cameras."""
    out = tmp_path_factory.mktemp("h36m_truth")
    root = generate_dataset(
        "human36m", out, seed=0, frames=FRAMES, image_size=SIZE, render=False, bbox_root=False, progress=False, **SET
    )

    def read(subject, kind):
        return json.loads((root / "annotations" / f"Human36M_subject{subject}_{kind}.json").read_text())

    return read


@pytest.fixture(scope="module")
def converted(raw_root, tmp_path_factory):
    out = tmp_path_factory.mktemp("h36m_converted") / "Human36M"
    convert_h36m(raw_root, out, workers=2, progress=False, **{k: v for k, v in SET.items() if k != "subactions"})
    return out


def _convert(raw, out, **options):
    base = {k: v for k, v in SET.items() if k != "subactions"}
    return convert_h36m(raw, out, progress=False, **{**base, **options})


def _tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_raw_generator_writes_the_datasets_files(raw_root, truth):
    # Sequence names as the dataset's: S1 says "TakingPhoto", S11 "Photo"; subaction 2 has no number here.
    for name in ("TakingPhoto 1", "TakingPhoto", "Directions 1", "Directions"):
        assert (raw_root / "S1" / "MyPoseFeatures" / "D3_Positions" / f"{name}.cdf").is_file()
        for camera_id in CAMERA_IDS[:2]:
            assert (raw_root / "S1" / "Videos" / f"{name}.{camera_id}.mp4").is_file()
    assert (raw_root / "S11" / "Videos" / "Photo 1.55011271.mp4").is_file()
    cdf = cdflib.CDF(str(raw_root / "S11" / "MyPoseFeatures" / "D3_Positions" / "Photo 1.cdf"))
    assert cdf.cdf_info().zVariables == ["Pose"]
    pose = cdf.varget("Pose")
    assert pose.shape == (1, FRAMES, 96) and pose.dtype == np.float64
    raw = pose.reshape(FRAMES, 32, 3)
    world = np.array([truth(11, "joint_3d")["12"]["1"][str(n)] for n in range(FRAMES)])
    assert np.abs(raw[:, RELEASE_JOINTS] - world).max() < 1e-9
    for duplicate, source in DUPLICATE_JOINTS.items():
        assert np.array_equal(raw[:, duplicate], raw[:, source])
    assert (raw[:, [4, 5, 9, 10], 2] >= 0).all()  # toes on or above the floor
    # 50 fps videos, cameras 1 and 4 two rows taller, running camera - 1 frames past the poses.
    for camera, camera_id in enumerate(CAMERA_IDS[:2], start=1):
        capture = cv2.VideoCapture(str(raw_root / "S11" / "Videos" / f"Photo 1.{camera_id}.mp4"))
        assert capture.get(cv2.CAP_PROP_FPS) == 50
        shapes = []
        while (frame := capture.read())[0]:
            shapes.append(frame[1].shape)
        assert len(shapes) == FRAMES + camera - 1
        assert set(shapes) == {(SIZE + (2 if camera == 1 else 0), SIZE, 3)}


def test_metadata_is_encoded_as_the_toolkit_reads_it(raw_root, truth):
    root = ET.parse(raw_root / "metadata.xml").getroot()
    rows = [[(td.text or "") for td in tr] for tr in root.find("mapping")]
    assert rows[0][2:] == [f"S{s}" for s in range(1, 12)]

    def toolkit(row, column):  # MATLAB's 1-based mapping{row, column}
        return rows[row - 1][column - 1]

    # H36MDataBase.getFileName: mapping{action * 2 + subaction - 1, subject + 2}; getResolution: mapping{35, s + 2}.
    assert toolkit(12 * 2 + 1 - 1, 1 + 2) == "TakingPhoto 1" and toolkit(3 * 2 + 2 - 1, 5 + 2) == "Discussion 3"
    assert toolkit(35, 11 + 2) == f"[{SIZE} {SIZE + 2};{SIZE} {SIZE};{SIZE} {SIZE};{SIZE} {SIZE + 2}]"
    assert [e.text for e in root.find("dbcameras/index2id")] == list(CAMERA_IDS)
    w0 = [float(v) for v in root.find("w0").text.strip("[]").split()]
    assert len(w0) == 300
    for subject, camera in ((1, 1), (11, 2)):
        cam = truth(subject, "camera")[str(camera)]
        start = 6 * ((camera - 1) * 11 + subject - 1)  # the toolkit's loadCamera
        # R = Rx(a0) Ry(a1) Rz(a2): scipy's intrinsic "XYZ" Euler angles; X_cam = R (X_world - C).
        rotation = Rotation.from_euler("XYZ", w0[start : start + 3]).as_matrix()
        assert np.allclose(rotation, cam["R"], atol=1e-7)
        assert np.allclose(rotation @ -np.array(w0[start + 3 : start + 6]), cam["t"], atol=1e-3)
        assert np.allclose(rotation_from_angles(w0[start : start + 3]), rotation, atol=1e-12)
        # One set of intrinsics per camera: the first subject's.
        first = truth(1, "camera")[str(camera)]
        assert w0[264 + 9 * (camera - 1) : 264 + 9 * (camera - 1) + 4] == first["f"] + first["c"]
    metadata = read_metadata(raw_root / "metadata.xml")
    assert metadata.sequence_name(5, 10, 1) == "SittingDown" and metadata.sequence_name(11, 6, 1) == "Phoning 3"
    assert metadata.resolutions[11].tolist() == [[SIZE, SIZE + 2], [SIZE, SIZE], [SIZE, SIZE], [SIZE, SIZE + 2]]


def test_converted_folder_is_the_release_layout_and_passes_the_check(converted):
    assert_h36m_release_layout(converted)
    report = check_dataset(converted)
    assert report.ok, report.to_markdown()
    assert report.splits[0].records == report.splits[0].images == 2 * 2 * 2 * 2 * FRAMES - FRAMES
    assert not (converted / "images" / "s_11_act_02_subact_02_ca_01").exists()  # the release skips it
    assert (converted / "images" / "s_11_act_02_subact_02_ca_02").is_dir()
    # Ids from 0 in the release's order: subject, action, subaction, camera, frame; the skipped video takes none.
    expected, next_id = {}, 0
    for subject in (1, 11):
        for action in (2, 12):
            for subaction in (1, 2):
                for camera in (1, 2):
                    if (subject, action, subaction, camera) != (11, 2, 2, 1):
                        for frame in range(FRAMES):
                            expected[subject, action, subaction, camera, frame] = next_id
                            next_id += 1
    for subject in (1, 11):
        data = json.loads((converted / "annotations" / f"Human36M_subject{subject}_data.json").read_text())
        for im, ann in zip(data["images"], data["annotations"]):
            key = (subject, im["action_idx"], im["subaction_idx"], im["cam_idx"], im["frame_idx"])
            assert im["id"] == ann["id"] == ann["image_id"] == expected[key]
            assert im["action_name"] == {2: "Directions", 12: "Photo"}[im["action_idx"]]
            assert (im["width"], im["height"]) == (SIZE, SIZE + 2 if im["cam_idx"] == 1 else SIZE)


def _release_box(joints_img):
    """h36m2coco.get_bbox written out: extent minus one pixel, x1.2 about the centre."""
    xmin, ymin = min(p[0] for p in joints_img), min(p[1] for p in joints_img)
    xmax, ymax = max(p[0] for p in joints_img), max(p[1] for p in joints_img)
    width, height = xmax - xmin - 1, ymax - ymin - 1
    return [(xmin + xmax) / 2 - width / 2 * 1.2, (ymin + ymax) / 2 - height / 2 * 1.2, width * 1.2, height * 1.2]


def test_joints_cameras_and_boxes_equal_the_generators_truth(converted, truth):
    for subject in (1, 11):
        cams = json.loads((converted / "annotations" / f"Human36M_subject{subject}_camera.json").read_text())
        joints = json.loads((converted / "annotations" / f"Human36M_subject{subject}_joint_3d.json").read_text())
        true_cams, true_joints = truth(subject, "camera"), truth(subject, "joint_3d")
        for camera in ("1", "2"):
            assert np.abs(np.array(cams[camera]["R"]) - true_cams[camera]["R"]).max() < 1e-7
            assert np.abs(np.array(cams[camera]["t"]) - true_cams[camera]["t"]).max() < 1e-3
            assert cams[camera]["f"] == truth(1, "camera")[camera]["f"]  # w0 has one set per camera
            assert cams[camera]["c"] == truth(1, "camera")[camera]["c"]
        for action in ("2", "12"):
            for subaction in ("1", "2"):
                for frame in map(str, range(FRAMES)):
                    world = np.array(joints[action][subaction][frame])
                    assert np.abs(world - true_joints[action][subaction][frame]).max() < 1e-3
    for split, subject in (("train", 1), ("test", 11)):
        dataset = load_dataset("human36m", converted, split, subjects=(subject,), subsample=1)
        assert len(dataset) == 2 * 2 * 2 * FRAMES - (FRAMES if subject == 11 else 0)
        data = json.loads((converted / "annotations" / f"Human36M_subject{subject}_data.json").read_text())
        boxes = {ann["id"]: ann["bbox"] for ann in data["annotations"]}
        for record in dataset:
            meta = record.meta
            cam = truth(subject, "camera")[str(meta["cam_idx"])]
            world = np.array(truth(subject, "joint_3d")[str(meta["action_idx"])][str(meta["subaction_idx"])][
                str(meta["frame_idx"])])  # fmt: skip
            joints_cam = world @ np.array(cam["R"]).T + cam["t"]
            assert np.abs(record.joints_cam[:17] - joints_cam).max() < 1e-3
            f, c = truth(1, "camera")[str(meta["cam_idx"])]["f"], truth(1, "camera")[str(meta["cam_idx"])]["c"]
            projected = [(x / z * f[0] + c[0], y / z * f[1] + c[1]) for x, y, z in joints_cam.tolist()]
            assert np.allclose(boxes[record.ann_id], _release_box(projected), atol=1e-4)
            assert np.allclose(record.focal, f) and np.allclose(record.princpt, c)


def test_a_conversion_interrupted_mid_video_resumes_to_the_same_bytes(raw_root, converted, tmp_path, monkeypatch):
    out = tmp_path / "Human36M"
    write_frame, calls = convert_module._write_frame, []

    def crash_on_the_eighth_frame(path, data):
        calls.append(path)
        if len(calls) == 8:  # the third video's second frame: two videos done, one half-written
            raise KeyboardInterrupt
        write_frame(path, data)

    monkeypatch.setattr(convert_module, "_write_frame", crash_on_the_eighth_frame)
    with pytest.raises(KeyboardInterrupt):
        _convert(raw_root, out, workers=1)
    monkeypatch.setattr(convert_module, "_write_frame", write_frame)
    assert len(list((out / convert_module.PROGRESS_DIR).glob("*.json"))) == 2
    assert not (out / "annotations").exists()
    # What a kill -9 leaves: temporaries beside frames and annotation files, a frame of an unmarked video.
    folder = out / "images" / "s_01_act_02_subact_02_ca_01"
    (folder / ".s_01_act_02_subact_02_ca_01_000002.jpg.999.deadbeef.tmp").write_bytes(b"partial")
    (out / "annotations").mkdir()
    (out / "annotations" / ".Human36M_subject1_data.json.999.deadbeef.tmp").write_text("{")
    result = _convert(raw_root, out, workers=2)
    assert result.videos_converted == result.videos - 2  # the two finished videos are not redone
    assert _tree(out) == _tree(converted)  # byte for byte, and whatever the number of workers


@pytest.mark.slow  # starts a conversion process and kills it
def test_a_killed_conversion_process_restarts_to_the_same_bytes(raw_root, converted, tmp_path):
    out = tmp_path / "Human36M"
    # A real SIGKILL of a conversion slowed down to half a second per video, after its second marker.
    script = textwrap.dedent(f"""
        import time
        from convnextpose.data import convert_h36m as api
        import convnextpose.data.h36m_convert as module
        convert_video = module._convert_video
        def slow(task):
            marker = convert_video(task)
            time.sleep(0.5)
            return marker
        module._convert_video = slow
        api({str(raw_root)!r}, {str(out)!r}, subjects=(1, 11), actions=(2, 12), cameras=(1, 2), progress=False)
    """)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    process = subprocess.Popen([sys.executable, "-c", script], env=env, stderr=subprocess.PIPE)
    markers = out / convert_module.PROGRESS_DIR
    deadline = time.monotonic() + 600  # a loaded machine takes long to import torch; the loop ends at 2 markers
    while len(list(markers.glob("*.json"))) < 2 and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert process.poll() is None, "the conversion ended before it could be killed"
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    assert process.returncode == -signal.SIGKILL, process.stderr.read().decode()
    assert 2 <= len(list(markers.glob("*.json"))) < 15 and not (out / "annotations").exists()
    result = _convert(raw_root, out, workers=1)
    assert result.videos_converted < result.videos
    assert _tree(out) == _tree(converted)


def test_stride_keeps_release_ids_and_a_rerun_removes_frames_it_no_longer_keeps(raw_root, converted, tmp_path):
    out = tmp_path / "Human36M"
    shutil.copytree(converted, out)
    _convert(raw_root, out, stride=2, workers=1)
    assert sorted(p.name for p in (out / "images" / "s_01_act_12_subact_01_ca_02").iterdir()) == [
        "s_01_act_12_subact_01_ca_02_000001.jpg",
        "s_01_act_12_subact_01_ca_02_000003.jpg",
    ]
    full = json.loads((converted / "annotations" / "Human36M_subject11_data.json").read_text())["images"]
    strided = json.loads((out / "annotations" / "Human36M_subject11_data.json").read_text())["images"]
    assert strided == [im for im in full if im["frame_idx"] % 2 == 0]  # same ids as in the full conversion
    joints = json.loads((out / "annotations" / "Human36M_subject11_joint_3d.json").read_text())
    assert set(joints["2"]["1"]) == {"0", "2"}


def test_the_other_spelling_of_an_action_is_found(raw_root, converted, tmp_path):
    raw = tmp_path / "raw"
    shutil.copytree(raw_root, raw)
    for path in (raw / "S1").rglob("TakingPhoto 1.*"):
        path.rename(path.with_name(path.name.replace("TakingPhoto", "Photo")))  # a renamed download
    out = tmp_path / "Human36M"
    _convert(raw, out, subjects=(1,), workers=1)
    name = "annotations/Human36M_subject1_joint_3d.json"
    assert (out / name).read_bytes() == (converted / name).read_bytes()


def _small_copy(raw_root: Path, tmp_path: Path) -> Path:
    raw = tmp_path / "raw"
    shutil.copytree(raw_root, raw)
    return raw


SMALL = {"subjects": (1,), "actions": (2,), "subactions": (1,), "cameras": (1,)}


@pytest.mark.parametrize(
    "damage, error, message",
    [
        (lambda raw: (raw / "metadata.xml").unlink(), FileNotFoundError, r"metadata\.xml"),
        (lambda raw: (raw / "metadata.xml").write_text("<metadata><mapping>"), DatasetError, r"metadata\.xml: malformed XML"),
        (
            lambda raw: (raw / "metadata.xml").write_text(
                re.sub(r" [^ \[]+\]</w0>", "]</w0>", (raw / "metadata.xml").read_text())
            ),
            DatasetError,
            r"metadata\.xml: <w0> must hold 300",
        ),
        (lambda raw: (raw / "S1/MyPoseFeatures/D3_Positions/Directions 1.cdf").unlink(), FileNotFoundError, r"Directions 1\.cdf"),
        (lambda raw: (raw / "S1/MyPoseFeatures/D3_Positions/Directions 1.cdf").write_bytes(b"not a cdf" * 50), DatasetError, r"Directions 1\.cdf: not a readable CDF"),
        (lambda raw: (raw / "S1/Videos/Directions 1.54138969.mp4").unlink(), FileNotFoundError, r"Directions 1\.54138969\.mp4"),
        (lambda raw: (raw / "S1/Videos/Directions 1.54138969.mp4").write_bytes(b"\x00" * 100), DatasetError, r"Directions 1\.54138969\.mp4"),
        (lambda raw: shutil.rmtree(raw / "S1"), FileNotFoundError, r"no subject folder\(s\) S1"),
    ],
    ids=["no metadata", "bad xml", "short w0", "no cdf", "bad cdf", "no video", "bad video", "no subject"],
)  # fmt: skip
def test_missing_or_malformed_inputs_name_the_file(raw_root, tmp_path, damage, error, message):
    raw = _small_copy(raw_root, tmp_path)
    damage(raw)
    with pytest.raises(error, match=message):
        convert_h36m(raw, tmp_path / "out", progress=False, **SMALL)


def test_pose_files_of_the_wrong_shape_and_short_videos_name_the_file(raw_root, tmp_path):
    raw = _small_copy(raw_root, tmp_path)
    poses = raw / "S1" / "MyPoseFeatures" / "D3_Positions" / "Directions 1.cdf"
    writer = cdflib.cdfwrite.CDF(poses, delete=True)
    spec = {"Variable": "Pose", "Data_Type": 45, "Num_Elements": 1, "Rec_Vary": True, "Dim_Sizes": [3, 64]}
    writer.write_var(spec, var_attrs={}, var_data=np.zeros((1, 3, 64)))
    writer.close()
    with pytest.raises(DatasetError, match=r"Directions 1\.cdf: 'Pose' has shape \(1, 3, 64\), expected \(1, N, 96\)"):
        convert_h36m(raw, tmp_path / "out", progress=False, **SMALL)
    write_poses(poses, np.zeros((FRAMES + 5, 32, 3)))  # more poses than the video has frames
    with pytest.raises(
        DatasetError, match=r"Directions 1\.54138969\.mp4: the video ends after 3 frames; its poses have 8"
    ):
        convert_h36m(raw, tmp_path / "out", progress=False, **SMALL)


def test_cli_generates_raw_data_and_converts_it(tmp_path, capsys):
    raw, out = tmp_path / "raw", tmp_path / "Human36M"
    assert cli_main(["data", "synth", "--out", str(raw), "--format", "human36m-raw", "--subjects", "9",
                     "--actions", "3", "--subactions", "1", "--cameras", "2", "--frames", "2",
                     "--image-size", "64", "--workers", "1"]) == 0  # fmt: skip
    assert "1 videos in" in capsys.readouterr().out  # one sequence, one camera
    assert (raw / "S9" / "Videos" / "Discussion 1.55011271.mp4").is_file()
    args = ["data", "convert-h36m", str(raw), "--out", str(out), "--subjects", "9", "--actions", "3",
            "--subactions", "1", "--cameras", "2", "--no-progress"]  # fmt: skip
    assert cli_main(args) == 0
    assert "2 images of 1 videos (1 converted now)" in capsys.readouterr().out
    assert cli_main(args) == 0
    assert "(0 converted now)" in capsys.readouterr().out
    assert load_dataset("human36m", out, "test", subjects=(9,), subsample=1)[0].meta["action_name"] == "Discussion"
    assert cli_main(["data", "convert-h36m", str(tmp_path / "nowhere"), "--out", str(out)]) == 1
    assert "nowhere" in capsys.readouterr().err
    with pytest.raises(SystemExit, match="human36m-raw takes"):
        cli_main(["data", "synth", "--out", str(raw), "--format", "human36m-raw", "--images", "3"])


@pytest.mark.slow  # Anny's model cache takes minutes to build on a new machine
def test_anny_bodies_go_through_the_same_raw_writer_and_converter(tmp_path):
    pytest.importorskip("anny")
    small = {"subjects": (9,), "actions": (3,), "subactions": (1,), "cameras": (1, 2)}
    raw = generate_human36m_raw(tmp_path / "raw", seed=0, frames=2, image_size=96, bodies="anny", progress=False,
                                **small)  # fmt: skip
    out = convert_h36m(raw, tmp_path / "Human36M", progress=False, **small).out_dir
    assert_h36m_release_layout(out)
    assert check_dataset(out).ok
    # The raw poses are the Anny people of the human36m writer's studio recording with the same seed.
    truth = generate_dataset("human36m", tmp_path / "truth", seed=0, frames=2, image_size=96, bodies="anny",
                             recording="studio", render=False, bbox_root=False, progress=False, **small)  # fmt: skip
    joints, true_joints = (
        json.loads((root / "annotations" / "Human36M_subject9_joint_3d.json").read_text()) for root in (out, truth)
    )
    for frame in ("0", "1"):
        assert np.abs(np.array(joints["3"]["1"][frame]) - true_joints["3"]["1"][frame]).max() < 1e-3
