"""The Anny body backend end to end (skipped when the optional ``anny`` extra is not installed).

The first run builds Anny's model cache (1-2 minutes, once per machine; see docs/data.md); afterwards this file
takes about 20-30 s on 2 CPU cores.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from convnextpose.joints import get_joint_set
from convnextpose.synth.backends.anny.backend import AnnyBackend
from convnextpose.synth.backends.anny.joint_map import JointRegressor
from convnextpose.synth.backends.anny.model import load_anny
from convnextpose.synth.camera import Camera
from convnextpose.synth.frames import FrameSampler
from convnextpose.synth.people import collision, kinematics, library, limits
from convnextpose.synth.people.anthropometry import PLAUSIBLE_RANGES_MM, bone_length_report, bone_lengths
from convnextpose.synth.people.landmarks import joint_definition_table
from convnextpose.synth.render.frame import render_frame

pytest.importorskip("anny")
pytestmark = pytest.mark.slow  # Anny's model cache takes minutes to build on a new machine

H36M = get_joint_set("human36m")
MUCO = get_joint_set("muco")


@pytest.fixture(scope="module")
def body():
    import torch

    torch.set_num_threads(2)
    return load_anny()


@pytest.fixture(scope="module")
def backend(body):
    return AnnyBackend(body=body)


ANNY = None


@pytest.fixture(scope="module", autouse=True)
def _anny_backend(backend):
    global ANNY
    ANNY = backend


@pytest.fixture(scope="module")
def shapes(body):
    """Eight random adults plus Anny's average body."""
    phen = body.sample_phenotypes(8, np.random.default_rng(0))
    mean = np.full((1, 6), 0.5, np.float32)
    mean[0, 1] = 0.8  # adult age
    return np.concatenate([mean, phen])


def _posed(body, shapes, params):
    rest_v, rest_h = body.rest(shapes)
    out = body.forward(ANNY.rotations(params, body.reference_heads(shapes)), shapes)
    return out, rest_v, rest_h


def _front_frame(scene, person, size=(240, 240), distance=3500.0):
    """One person facing a camera in front of them (the person faces -Y)."""
    person = person.transformed(0.0, np.zeros(2))
    top = float(person.points[:, 2].max())
    cam = Camera.look_at([0.0, -distance, top * 0.55], [0.0, 0.0, top * 0.5], 0.9 * size[1], size)
    return scene.sample_frame(people=[person], camera=cam, place=False, outdoor_prob=0.0, clutter=(0, 0))


@pytest.fixture(scope="module")
def scene(backend):
    return FrameSampler(seed=0, bodies=backend)


def test_joint_sets_and_documentation(body):
    for name, js in (("human36m", H36M), ("muco", MUCO)):
        reg = JointRegressor(body, name)
        assert reg.bone_weights.shape == (js.num_joints, body.num_bones)
        rows = joint_definition_table(name)
        assert [r[0] for r in rows] == list(js.names)
        assert all(len(r[1]) > 10 for r in rows)


def test_bone_lengths_plausible(body, shapes):
    out, _, _ = _posed(body, shapes, np.stack([library.pose_params("standing")] * len(shapes)))
    joints = JointRegressor(body, "human36m")(out.bone_heads, out.vertices)
    assert joints.shape == (len(shapes), 18, 3)
    for (a, b), (lo, hi) in PLAUSIBLE_RANGES_MM.items():
        for pair in ((a, b), (a.replace("R_", "L_"), b.replace("R_", "L_"))):
            lengths = bone_lengths(joints, [pair])
            assert np.all((lengths > lo) & (lengths < hi)), (pair, lengths.ravel())
    report = bone_length_report(joints)
    assert np.all((report.mean / report.reference > 0.65) & (report.mean / report.reference < 1.5))
    assert "H36M skeleton" in report.to_markdown()
    # Thorax is the mean of the shoulders, as the dataset defines it.
    np.testing.assert_allclose(
        joints[:, H36M.index("Thorax")],
        joints[:, [H36M.index("L_Shoulder"), H36M.index("R_Shoulder")]].mean(1),
        atol=1e-3,
    )
    muco = JointRegressor(body, "muco")(out.bone_heads, out.vertices)
    assert np.all(muco[:, MUCO.index("Head_top"), 2] > muco[:, MUCO.index("Head"), 2] + 60)
    assert np.all(muco[:, MUCO.index("Head"), 2] > muco[:, MUCO.index("Thorax"), 2] + 100)


def test_left_right_sides(body, shapes, scene):
    out, _, _ = _posed(body, shapes, np.stack([library.pose_params("arms_to_side")] * len(shapes)))
    joints = JointRegressor(body, "muco")(out.bone_heads, out.vertices)
    # Body frame: the person faces -Y, so their left is +X.
    for name in ("Shoulder", "Elbow", "Wrist", "Hip", "Knee", "Ankle", "Hand", "Toe"):
        assert np.all(joints[:, MUCO.index("L_" + name), 0] > joints[:, MUCO.index("R_" + name), 0] + 20), name
    # Seen from the front, the person's left is on the right of the image.
    person = scene.sample_people(1, poses=["arms_to_side"], variation=0.0)[0]
    result = render_frame(_front_frame(scene, person), degrade_image=False)
    u = result.joints_img["human36m"][0, :, 0]
    for name in ("Shoulder", "Wrist", "Hip", "Ankle"):
        assert u[H36M.index("L_" + name)] > u[H36M.index("R_" + name)] + 3, name


def test_joint_limits_clamp_the_posed_body(body, shapes):
    raw = library.pose_params({"L_knee_flex": 175, "R_elbow_flex": 170, "L_hip_elev": 35, "R_hip_elev": 20})
    clamped = limits.clamp_to_limits(raw)
    assert clamped[limits.PARAM_INDEX["L_knee_flex"]] == 150 and clamped[limits.PARAM_INDEX["R_elbow_flex"]] == 150
    out, _, _ = _posed(body, shapes[:3], np.stack([clamped] * 3))
    joints = JointRegressor(body, "human36m")(out.bone_heads, out.vertices)
    measured = kinematics.measure_pose({n: joints[:, H36M.index(n)] for n in H36M.names})
    np.testing.assert_allclose(measured["L_knee_flex"], 150, atol=4)
    np.testing.assert_allclose(measured["R_elbow_flex"], 150, atol=4)
    np.testing.assert_allclose(measured["L_hip_elev"], 35, atol=3)
    np.testing.assert_allclose(measured["R_hip_elev"], 20, atol=3)


def test_library_poses_pass_and_crossed_pose_fails(body, shapes, scene):
    names = sorted(library.POSE_LIBRARY)
    bodies = shapes[:3]
    params = np.stack([library.pose_params(n) for n in names for _ in bodies])
    phen = np.concatenate([bodies] * len(names))
    out, rest_v, rest_h = _posed(body, phen, params)
    radii = scene.backend.capsule_radii(rest_v, rest_h)
    hits = collision.has_self_intersection(scene.backend.proxy_segments(out), radii).reshape(len(names), len(bodies))
    assert not hits.any(), [n for n, h in zip(names, hits) if h.any()]
    # Not clamped on purpose: the left thigh swung through the right one, the right arm driven through the chest.
    crossed = [
        library.pose_params({"L_hip_elev": 45, "L_hip_plane": 180, "R_hip_elev": 10}),
        library.pose_params({"R_shoulder_elev": 55, "R_shoulder_plane": 180, "R_elbow_flex": 5}),
    ]
    out, rest_v, rest_h = _posed(body, bodies[:1].repeat(2, 0), np.stack(crossed))
    radii = scene.backend.capsule_radii(rest_v, rest_h)
    assert collision.has_self_intersection(scene.backend.proxy_segments(out), radii).all()


def test_rendered_depth_agrees_with_joint_depth(scene):
    frame = scene.sample_frame(num_people=1, camera="h36m", image_size=(400, 400), poses=["walking_left_step"])
    result = render_frame(frame, degrade_image=False)
    assert result.rgb.shape == (400, 400, 3) and result.rgb.dtype == np.uint8
    assert result.depth.shape == (400, 400) and result.masks.shape == (1, 400, 400)
    j = result.joints_img["human36m"][0]
    vis = result.joints_vis["human36m"][0]
    assert vis.sum() >= 12
    u, v = np.round(j[vis, 0]).astype(int), np.round(j[vis, 1]).astype(int)
    surface = result.depth[v, u]
    # A joint lies inside the body, so the rendered surface at its pixel is in front of it: by less than a limb's
    # thickness for most joints, more where the person's own arm or leg passes in front (still "visible").
    gap = j[vis, 2] - surface
    assert np.all(gap > -30), gap
    assert np.mean(gap < 250) >= 0.75, gap
    assert np.median(gap) < 150, gap
    assert result.masks[0, v, u].mean() > 0.6
    np.testing.assert_allclose(result.joints_cam["human36m"][0, :, 2], j[:, 2], rtol=1e-6)
    record = json.loads(json.dumps(result.to_dict()))
    assert len(record["people"]) == 1 and len(record["people"][0]["joints_cam_muco"]) == 21
    x, y, w, h = result.bboxes[0]
    ys, xs = np.nonzero(result.masks[0])
    assert xs.min() >= x - 2 and xs.max() <= x + w + 2 and ys.min() >= y - 2 and ys.max() <= y + h + 2


def test_two_people_occlusion_order(scene):
    near, far = scene.sample_people(2, poses=["arms_to_side", "standing"], variation=0.0)
    near = near.transformed(0.0, np.array([0.0, -1200.0]))
    far = far.transformed(0.0, np.array([150.0, 800.0]))
    cam = Camera.look_at([0.0, -5200.0, 1000.0], [0.0, 0.0, 900.0], 300.0, (240, 240))
    frame = scene.sample_frame(people=[far, near], camera=cam, place=False, outdoor_prob=0.0, clutter=(0, 0))
    result = render_frame(frame, degrade_image=False)
    m_far, m_near = result.masks
    assert m_near.sum() > m_far.sum() > 0
    assert not (m_far & m_near).any()
    # Where the far person's own surface hides behind the near one, the instance map says "near".
    z_far = result.joints_img["human36m"][0, :, 2].mean()
    z_near = result.joints_img["human36m"][1, :, 2].mean()
    assert z_near < z_far
    np.testing.assert_array_equal(result.instance == 1, m_near)
    assert np.all(result.depth[m_near] < z_far - 500)
    # The far person's torso is behind the near one: those joints are flagged hidden.
    vis_far = result.joints_vis["human36m"][0]
    assert not vis_far[H36M.index("Torso")] and not vis_far[H36M.index("Pelvis")]
    assert result.joints_vis["human36m"][1].all()


def test_same_seed_same_frame(backend):
    a = FrameSampler(seed=5, bodies=backend).sample_frame(num_people=2, camera="mupots", image_size=(200, 200))
    b = FrameSampler(seed=5, bodies=backend).sample_frame(num_people=2, camera="mupots", image_size=(200, 200))
    ra, rb = render_frame(a), render_frame(b)
    assert np.array_equal(ra.rgb, rb.rgb)
    assert np.array_equal(ra.depth, rb.depth)
    np.testing.assert_array_equal(ra.joints_cam["muco"], rb.joints_cam["muco"])
    c = FrameSampler(seed=6, bodies=backend).sample_frame(num_people=2, camera="mupots", image_size=(200, 200))
    assert not np.array_equal(render_frame(c).rgb, ra.rgb)


def test_crop_render_equals_crop_of_full_render(scene):
    frame = scene.sample_frame(num_people=1, camera="h36m", image_size=(500, 500), clutter=(3, 3))
    full = render_frame(frame, degrade_image=False)
    x0, y0, w, h = frame.person_box(0, scale=1.2)
    x0, y0 = max(x0, 0), max(y0, 0)
    w, h = min(w, 500 - x0), min(h, 500 - y0)
    crop = render_frame(frame, crop=(x0, y0, w, h), degrade_image=False)
    ref_rgb = full.rgb[y0 : y0 + h, x0 : x0 + w].astype(int)
    ref_depth = full.depth[y0 : y0 + h, x0 : x0 + w]
    ref_mask = full.masks[:, y0 : y0 + h, x0 : x0 + w]
    assert crop.rgb.shape == (h, w, 3)
    # Masks and depth: identical up to a handful of silhouette pixels where float32 edge tests round differently.
    assert (crop.masks != ref_mask).mean() < 1e-3
    same = (crop.masks[0] == ref_mask[0]) & np.isfinite(ref_depth)
    np.testing.assert_allclose(crop.depth[same], ref_depth[same], rtol=1e-4, atol=0.5)
    # RGB: equal inside; the one-pixel anti-aliasing seam at the crop border may differ.
    inner = np.abs(crop.rgb.astype(int) - ref_rgb)[2:-2, 2:-2]
    assert np.percentile(inner, 99.5) <= 2 and inner.mean() < 0.2
    np.testing.assert_allclose(
        crop.joints_img["human36m"][..., :2], full.joints_img["human36m"][..., :2] - [x0, y0], atol=1e-3
    )
    # Resampled crops keep the joints consistent with the crop camera.
    small = render_frame(frame, crop=(x0, y0, w, h), out_size=(128, 128))
    assert small.rgb.shape == (128, 128, 3)
    expect = (full.joints_img["human36m"][..., :2] - [x0, y0] + 0.5) * [128 / w, 128 / h] - 0.5
    np.testing.assert_allclose(small.joints_img["human36m"][..., :2], expect, atol=1e-3)


def test_sequence_is_smooth(scene):
    frames = scene.sample_sequence(num_keys=2, frames_per_transition=6, poses=["standing", "squat"])
    assert len(frames) == 7
    joints = np.stack([f.people[0].joints_h36m for f in frames])
    steps = np.linalg.norm(np.diff(joints, axis=0), axis=-1).max(1)
    assert steps.max() < 250, steps
    assert all(f.camera is frames[0].camera for f in frames)
    # The squat lowers the pelvis.
    assert joints[-1, 0, 2] < joints[0, 0, 2] - 200
