"""The synthetic generator with capsule bodies: determinism, the body, motion, ray casting, occlusion, CLI, data check."""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pytest

from conftest import annotations_copy, run_cli
from convnextpose.cli import main as cli_main
from convnextpose.data.check import check_dataset, detect_format
from convnextpose.joints import get_joint_set
from convnextpose.synth import generate_dataset
from convnextpose.synth.backends import get_backend
from convnextpose.synth.camera import Camera
from convnextpose.synth.frames import FrameSampler
from convnextpose.synth.people import kinematics, limits
from convnextpose.synth.people.collision import has_self_intersection
from convnextpose.synth.people.library import POSE_LIBRARY, pose_params
from convnextpose.synth.people.motion import moving_person
from convnextpose.synth.people.sampling import sample_people
from convnextpose.synth.render import render_frame
from convnextpose.synth.render.frame import joint_visibility
from convnextpose.synth.render.raycast import capsule_hits, capsule_normals, ellipsoid_hits

TINY_H36M = {"subjects": (1, 9), "actions": (2,), "cameras": (1, 2), "frames": 2, "image_size": 96, "progress": False}
H36M = get_joint_set("human36m")


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


def test_annotations_without_images_are_those_with_images(tmp_path):
    # Without images, a subject's sequences are posed once for all cameras (joints only): the same joints and cameras.
    opts = {**TINY_H36M, "subjects": (1,), "actions": (2, 3)}
    with_images = generate_dataset("human36m", tmp_path / "a", seed=5, **opts)
    without = generate_dataset("human36m", tmp_path / "b", seed=5, render=False, **opts)
    for name in ("Human36M_subject1_joint_3d.json", "Human36M_subject1_camera.json"):
        assert (with_images / "annotations" / name).read_bytes() == (without / "annotations" / name).read_bytes()
    assert not (without / "images").exists()
    data = json.loads((without / "annotations" / "Human36M_subject1_data.json").read_text())
    assert len(data["images"]) == 2 * 2 * 2  # actions x cameras x frames


def test_generator_rejects_unknown_formats_and_options(tmp_path):
    with pytest.raises(ValueError, match="unknown synthetic format"):
        generate_dataset("h37m", tmp_path)
    with pytest.raises(ValueError, match=r"unknown option\(s\) \['sequences'\] for format 'human36m'"):
        generate_dataset("human36m", tmp_path, sequences=(1,))
    with pytest.raises(ValueError, match="action indices are 2..16"):
        generate_dataset("human36m", tmp_path, actions=(1,))
    with pytest.raises(ValueError, match="unknown recording 'video'"):
        generate_dataset("human36m", tmp_path, recording="video", render=False)
    with pytest.raises(ValueError, match="unknown camera preset 'dslr'"):
        generate_dataset("human36m", tmp_path, camera_presets=("dslr",), render=False)
    with pytest.raises(ValueError, match="unknown bodies 'mesh'"):
        generate_dataset("muco", tmp_path, bodies="mesh", render=False)


def _standing(pose: str = "standing", yaw: float = 0.0):
    """One capsule person in a library pose, facing -Y turned by ``yaw``."""
    person = sample_people(get_backend("capsule"), np.random.default_rng(0), [pose], variation=0.0)[0]
    return person.transformed(yaw, np.zeros(2))


def _camera_in_front(width: int = 240, distance: float = 4000.0) -> Camera:
    """A camera on -Y looking back at a standing person (who faces it)."""
    return Camera.look_at([0.0, -distance, 900.0], [0.0, 0.0, 900.0], width * 1.2, (width, width))


def test_capsule_body_is_upright_on_the_floor_and_left_is_left():
    person = _standing("arms_to_side")
    joints = person.joints["human36m"]
    assert person.points[:, 2].min() == pytest.approx(0.0, abs=1e-6)  # on the floor
    assert joints[H36M.index("Head"), 2] > joints[H36M.index("Neck"), 2] > joints[H36M.index("Pelvis"), 2]
    stature = person.shape[0]
    assert person.points[:, 2].max() == pytest.approx(stature, rel=0.03)
    # Body frame: the person faces -Y, so their left is +X; seen from the front it is on the image's right.
    assert joints[H36M.index("L_Wrist"), 0] > joints[H36M.index("R_Wrist"), 0] + 0.6 * stature
    uv = _camera_in_front().world_to_image(joints)
    assert uv[H36M.index("L_Shoulder"), 0] > uv[H36M.index("R_Shoulder"), 0]
    # The pose parameters mean the same as for Anny: measured back from the joints.
    lunge = _standing("lunge").joints["human36m"]
    measured = kinematics.measure_pose({n: lunge[H36M.index(n)] for n in H36M.names})
    params = POSE_LIBRARY["lunge"].params
    assert measured["L_knee_flex"] == pytest.approx(params["L_knee_flex"], abs=4)
    assert measured["R_knee_flex"] == pytest.approx(params["R_knee_flex"], abs=4)
    assert measured["L_hip_elev"] == pytest.approx(params["L_hip_elev"], abs=12)  # the pelvis tilts in a lunge


def test_capsule_collision_rejects_a_limb_through_the_body():
    backend = get_backend("capsule")
    rest = backend.rest(backend.sample_shapes(np.random.default_rng(0), 3))
    # Not clamped on purpose: the left thigh swung through the right one, the right arm driven through the chest.
    crossed = np.stack([
        pose_params({"L_hip_elev": 45, "L_hip_plane": 180, "R_hip_elev": 10}),
        pose_params({"R_shoulder_elev": 55, "R_shoulder_plane": 180, "R_elbow_flex": 5}),
        pose_params({}),
    ])  # fmt: skip
    posed = backend.pose(rest, crossed)
    assert has_self_intersection(backend.proxy_segments(posed), rest.radii).tolist() == [True, True, False]
    # Every library pose itself passes (a rejected variation falls back to it).
    for name in POSE_LIBRARY:
        posed = backend.pose(rest, np.stack([pose_params(name)] * len(rest.shapes)))
        assert not has_self_intersection(backend.proxy_segments(posed), rest.radii).any(), name


def test_moving_person_is_smooth_within_limits_and_on_the_floor():
    times = np.arange(50) / 25.0
    people = moving_person(get_backend("capsule"), np.random.default_rng(1), ["standing", "squat", "waving"],
                           np.array([0.0, 0.8, 1.6]), times)  # fmt: skip
    joints = np.stack([p.joints["human36m"] for p in people])
    assert np.linalg.norm(np.diff(joints, axis=0), axis=-1).max() < 120  # mm per frame at 25 fps
    assert limits.within_limits(np.stack([p.pose_params for p in people])).all()
    assert all(abs(p.points[:, 2].min()) < 1e-6 for p in people)
    assert joints[20, 0, 2] < joints[0, 0, 2] - 200  # the squat lowers the pelvis
    assert len({id(p.outfit) for p in people}) == 1  # one person, one outfit


def test_ray_cast_capsule_and_ellipsoid_depths_are_exact():
    rays = np.array([[0.0, 0.0, 1.0], [0.01, 0.0, 1.0], [0.3, 0.0, 1.0]])
    rays /= np.linalg.norm(rays, axis=1, keepdims=True)
    # A horizontal capsule 4 m ahead, radius 100 mm: the central ray hits its front at 3900 mm.
    a, b = np.array([-200.0, 0, 4000]), np.array([200.0, 0, 4000])
    t = capsule_hits(rays, a, b, 100.0)
    assert t[0] == pytest.approx(3900.0) and np.isinf(t[2])
    normals, along = capsule_normals(rays[:2] * t[:2, None], a, b)
    assert along[0] == pytest.approx(0.5) and normals[0] / np.linalg.norm(normals[0]) == pytest.approx([0, 0, -1])
    # Beyond the end the cap's sphere is hit, its normal pointing away from the end.
    t_end = capsule_hits(np.array([[0.0525, 0.0, 1.0]]) / np.linalg.norm([0.0525, 0.0, 1.0]), a, b, 100.0)
    normal, along = capsule_normals(np.array([[0.0525, 0.0, 1.0]]) / np.linalg.norm([0.0525, 0.0, 1.0]) * t_end, a, b)
    assert along[0] == 1.0 and normal[0, 0] > 0
    # A sphere as an ellipsoid: (k Z)^2 + (Z - 4000)^2 = 100^2 along the ray x = k z.
    t = ellipsoid_hits(rays, np.array([0.0, 0, 4000]), np.eye(3), np.full(3, 100.0))
    k = 0.01
    z = (2 * 4000 - np.sqrt(4 * 4000**2 - 4 * (1 + k**2) * (4000**2 - 100**2))) / (2 * (1 + k**2))
    assert t[0] == pytest.approx(3900.0) and t[1] * rays[1, 2] == pytest.approx(z) and np.isinf(t[2])


def test_rendered_capsule_person_matches_its_joints_and_occlusion_is_detected():
    sampler = FrameSampler(seed=5, bodies="capsule")
    front, back = _standing("arms_to_side"), _standing("standing")
    back = back.transformed(0.0, np.array([150.0, 900.0]))  # right behind the front person
    camera = _camera_in_front(width=320, distance=3500.0)
    frame = sampler.sample_frame(people=[front, back], camera=camera, place=False, outdoor_prob=0.0, clutter=(0, 0))
    result = render_frame(frame, degrade_image=False)
    assert result.rgb.shape == (320, 320, 3) and result.rgb.std() > 10
    pelvis = np.round(result.joints_img["human36m"][0, 0, :2]).astype(int)
    assert result.instance[pelvis[1], pelvis[0]] == 0  # the pelvis pixel shows the front person's body
    vis = result.joints_vis["human36m"]
    assert vis[0].all() and not vis[1, H36M.index("Pelvis")]  # the back person's pelvis is hidden
    # Depth at a visible joint is the body's surface, a few centimetres in front of the joint.
    j = result.joints_img["human36m"][0]
    gap = j[:, 2] - result.depth[np.round(j[:, 1]).astype(int), np.round(j[:, 0]).astype(int)]
    assert np.median(gap) > 0 and np.median(gap) < 150
    # Self-occlusion counts only when asked: arms held forward, seen from behind, are hidden by the back.
    behind = _standing("arms_forward", yaw=180.0)
    frame = sampler.sample_frame(people=[behind], camera=camera, place=False, outdoor_prob=0.0, clutter=(0, 0))
    result = render_frame(frame, degrade_image=False)
    own = joint_visibility(result.joints_img["human36m"], result.depth, result.instance, self_occlusion=True)
    assert result.joints_vis["human36m"][0].all() and not own[0, [H36M.index("L_Wrist"), H36M.index("R_Wrist")]].any()


def test_data_check_and_cli(tmp_path, h36m_root, capsys):
    root = h36m_root
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
    argv = ["data", "synth", "--out", str(out), "--format", "mpii", "--images", "2", "--image-size", "96", "80"]
    assert cli_main(argv + ["--workers", "1"]) == 0
    assert "wrote a synthetic mpii dataset" in capsys.readouterr().out
    assert check_dataset(out, image_sample=2).ok
    result = run_cli("data", "check", str(tmp_path / "nowhere"), check=False)
    assert result.returncode == 1 and "nowhere" in result.stderr and "Traceback" not in result.stderr
