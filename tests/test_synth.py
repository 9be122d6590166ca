"""The synthetic generator: determinism, body model, motion limits, z-buffer rendering, CLI and ``data check``."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys

import numpy as np
import pytest

from convnextpose.cli import main as cli_main
from convnextpose.data.check import check_dataset, detect_format
from convnextpose.synth import generate_dataset
from convnextpose.synth.body import (
    DOF_INDEX,
    DOF_LIMITS,
    JOINT_INDEX,
    BodyShape,
    forward_kinematics,
    rest_angles,
)
from convnextpose.synth.camera import Camera
from convnextpose.synth.capsule_raycast import Canvas, Light, draw_capsule, draw_ellipsoid
from convnextpose.synth.capsule_scene import Person, render_background, sample_scene
from convnextpose.synth.common import joint_occlusion, render_frame, sample_actor
from convnextpose.synth.motion import H36M_ACTIONS, Motion, sample_motion
from synth_fixtures import annotations_copy, generated

TINY_H36M = {"subjects": (1, 9), "actions": (2,), "cameras": (1, 2), "frames": 2, "image_size": 96, "progress": False}


def _digest(root):
    """Hash of every file's relative path and bytes."""
    h = hashlib.sha256()
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        h.update(str(path.relative_to(root)).encode())
        h.update(path.read_bytes())
    return h.hexdigest()


def test_same_seed_same_bytes_for_any_number_of_workers(tmp_path):
    a = _digest(generate_dataset("human36m", tmp_path / "a", seed=3, **TINY_H36M))
    b = _digest(generate_dataset("human36m", tmp_path / "b", seed=3, workers=2, **TINY_H36M))
    c = _digest(generate_dataset("human36m", tmp_path / "c", seed=4, **TINY_H36M))
    assert a == b and a != c


def test_generator_rejects_unknown_formats_and_options(tmp_path):
    with pytest.raises(ValueError, match="unknown synthetic format"):
        generate_dataset("h37m", tmp_path)
    with pytest.raises(ValueError, match=r"unknown option\(s\) \['sequences'\] for format 'human36m'"):
        generate_dataset("human36m", tmp_path, sequences=(1,))
    with pytest.raises(ValueError, match="action indices are 2..16"):
        generate_dataset("human36m", tmp_path, actions=(1,))


def _camera_facing(width=400, distance=4000.0):
    """A camera at +y looking back at the origin (a person with yaw 0 faces it)."""
    position, target = np.array([0.0, distance, 1000.0]), np.array([0.0, 0.0, 1000.0])
    return Camera.look_at(position, target, 400.0, (width, width), c=(width / 2, width / 2))


def test_body_proportions_and_handedness():
    shape = BodyShape(1750.0)
    joints, _ = forward_kinematics(shape, rest_angles()[None], np.array([[0.0, 0.0, 0.0]]), np.zeros(1))
    j = joints[0]
    thigh = np.linalg.norm(j[JOINT_INDEX["L_Hip"]] - j[JOINT_INDEX["L_Knee"]])
    assert thigh == pytest.approx(0.245 * 1750)  # Drillis & Contini
    assert np.linalg.norm(j[JOINT_INDEX["R_Shoulder"]] - j[JOINT_INDEX["R_Elbow"]]) == pytest.approx(0.186 * 1750)
    assert j[JOINT_INDEX["Head_top"], 2] > j[JOINT_INDEX["Head"], 2] > j[JOINT_INDEX["Thorax"], 2]
    assert j[JOINT_INDEX["Nose"], 1] > j[JOINT_INDEX["Head"], 1]  # the face points forward (+y)
    camera = _camera_facing()
    uv = camera.project(camera.to_cam(j))
    # Facing the camera, the person's left side appears on the image's right.
    assert uv[JOINT_INDEX["L_Shoulder"], 0] > uv[JOINT_INDEX["R_Shoulder"], 0]
    assert uv[JOINT_INDEX["Head_top"], 1] < uv[JOINT_INDEX["Pelvis"], 1]
    # Flexing the left hip brings the left knee forward (toward the camera).
    angles = rest_angles()
    angles[DOF_INDEX["L_hip_flex"]] = 60
    bent, _ = forward_kinematics(shape, angles[None], np.zeros((1, 3)), np.zeros(1))
    assert bent[0, JOINT_INDEX["L_Knee"], 1] > j[JOINT_INDEX["L_Knee"], 1] + 300


@pytest.mark.parametrize("action", H36M_ACTIONS)
def test_motion_is_smooth_and_within_joint_limits(action):
    times = np.arange(250) / 50.0
    motion = sample_motion(np.random.default_rng(1), action, times)
    assert (motion.angles >= DOF_LIMITS[:, 0] - 1e-9).all() and (motion.angles <= DOF_LIMITS[:, 1] + 1e-9).all()
    assert np.abs(np.diff(motion.angles, axis=0)).max() < 6.0  # degrees per frame at 50 fps
    step = np.linalg.norm(np.diff(motion.root_xy, axis=0), axis=1)
    assert step.max() < 60.0  # under 3 m/s
    assert np.abs(motion.root_xy).max() < 2000.0  # stays in the capture area


def test_z_buffer_keeps_the_nearest_surface():
    camera = _camera_facing(width=200)
    canvas = Canvas.empty(200, 200)
    light = Light(direction=np.array([0.0, 0.0, -1.0]))
    centre = camera.to_cam(np.array([0.0, 0.0, 1000.0]))  # 4 m in front, at the image centre
    axis = np.array([200.0, 0.0, 0.0])
    draw_capsule(canvas, camera, centre - axis, centre + axis, 100.0, np.array([255, 0, 0.0]), 0, light)
    near = centre - np.array([0.0, 0.0, 500.0])
    draw_ellipsoid(canvas, camera, near, np.eye(3), np.array([50.0, 50.0, 50.0]), np.array([0, 255, 0.0]), 1, light)
    far = centre + np.array([0.0, 0.0, 800.0])
    draw_capsule(canvas, camera, far - axis, far + axis, 150.0, np.array([0, 0, 255.0]), 2, light)
    c = 100
    assert canvas.owner[c, c] == 1 and canvas.depth[c, c] == pytest.approx(near[2] - 50, abs=1)
    assert canvas.owner[c, c + 20] == 0 and canvas.depth[c, c + 20] == pytest.approx(centre[2] - 100, abs=0.5)
    # Off the axis the cylinder curves away: solve (k Z)^2 + (Z - Zc)^2 = r^2 for the ray v = 5 px (k = 5 / f).
    k, zc = 5 / 400, centre[2]
    z = (2 * zc - np.sqrt(4 * zc**2 - 4 * (1 + k**2) * (zc**2 - 100**2))) / (2 * (1 + k**2))
    assert canvas.owner[c + 5, c + 20] == 0 and canvas.depth[c + 5, c + 20] == pytest.approx(z, abs=0.5)
    assert canvas.owner[c + 11, c] == 2  # just beyond the red capsule's radius (110 mm), the far one shows
    assert canvas.owner[0, 0] == -1 and np.isinf(canvas.depth[0, 0])
    assert canvas.color[c, c + 20, 0] > 0 and canvas.color[c, c + 20, 1] == 0


def test_annotated_joints_project_onto_the_rendered_body_and_occlusion_is_detected():
    rng = np.random.default_rng(5)
    camera = _camera_facing(width=320, distance=3500.0)
    scene = sample_scene(rng, "room")
    background, floor_xy = render_background(scene, camera)
    people = []
    for x in (0.0, 150.0):  # the second person stands right behind the first, seen through by nothing
        motion = Motion(rest_angles()[None], np.array([[x, -800.0 * (x > 0)]]), np.zeros(1))
        actor = sample_actor(rng, motion)
        joints, rot = actor.pose()
        people.append(Person(actor.shape, actor.outfit, joints[0], rot[0]))
    image, canvas = render_frame(background, floor_xy, scene, camera, people, rng)
    assert image.shape == (320, 320, 3) and image.std() > 10
    front = camera.to_cam(people[0].joints_world)
    uv = camera.project(front)
    pelvis = np.round(uv[JOINT_INDEX["Pelvis"]]).astype(int)
    assert canvas.owner[pelvis[1], pelvis[0]] == 0  # the pelvis pixel shows the front person's body
    joints_img = camera.world_to_image(people[1].joints_world)
    in_image, occluded = joint_occlusion(canvas, joints_img, 1)
    assert in_image.all() and occluded[JOINT_INDEX["Pelvis"]]  # hidden behind the front person


def test_data_check_and_cli(tmp_path, tmp_path_factory, capsys):
    root = generated("human36m", tmp_path_factory)
    assert detect_format(root) == "human36m"
    report = check_dataset(root, image_sample=3)
    assert report.ok and [s.name for s in report.splits] == ["all subjects", "test, detections"]
    assert report.splits[0].records == 7 * 4 and report.splits[0].missing_images == 0
    text = report.to_markdown()
    assert "bone L_Hip-L_Knee mean (sd)" in text and "root depth" in text
    assert cli_main(["data", "check", str(root), "--images", "2"]) == 0
    assert "| all subjects | 28 | 28 | 0 |" in capsys.readouterr().out
    broken = annotations_copy(root, tmp_path / "broken")
    data_path = broken / "annotations" / "Human36M_subject7_data.json"
    data = json.loads(data_path.read_text())
    data["annotations"][0]["bbox"] = [1, 2, 3]
    data_path.write_text(json.dumps(data))
    (broken / "images").unlink()
    report = check_dataset(broken, "human36m", image_sample=0)
    assert not report.ok and report.splits[0].missing_images == 28 - 1
    assert any("'bbox' has shape (3,), expected (4,)" in p for p in report.problems)
    assert cli_main(["data", "check", str(broken)]) == 1
    out = tmp_path / "mpii"
    assert (
        cli_main(
            [
                "data",
                "synth",
                "--out",
                str(out),
                "--format",
                "mpii",
                "--images",
                "2",
                "--image-size",
                "96",
                "80",
                "--workers",
                "1",
            ]
        )
        == 0
    )
    assert "wrote a synthetic mpii dataset" in capsys.readouterr().out
    assert check_dataset(out, image_sample=2).ok
    result = subprocess.run(
        [sys.executable, "-m", "convnextpose", "data", "check", str(tmp_path / "nowhere")],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 1 and "nowhere" in result.stderr and "Traceback" not in result.stderr
