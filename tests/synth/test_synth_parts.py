"""Parts of the synthetic pipeline that need no ``anny``: camera, rasteriser, pose maths, textures, degradations."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from convnextpose.geometry import cam2pixel, world2cam
from convnextpose.synth.camera import CAMERA_PRESETS, Camera, sample_camera
from convnextpose.synth.degrade import degrade, sample_degradation
from convnextpose.synth.people import collision, library, limits, motion
from convnextpose.synth.render.background import cast_background
from convnextpose.synth.render.raster import rasterize
from convnextpose.synth.scene.lighting import to_srgb8
from convnextpose.synth.scene.surfaces import Box, Plane
from convnextpose.synth.scene.textures import TexturePool, periodic_noise, wood_planks


def _cube(center, half):
    """A closed box mesh with counter-clockwise outward faces."""
    signs = np.array([[x, y, z] for x in (-1, 1) for y in (-1, 1) for z in (-1, 1)], float)
    verts = np.asarray(center) + signs * half
    quads = [(0, 1, 3, 2), (4, 6, 7, 5), (0, 4, 5, 1), (2, 3, 7, 6), (0, 2, 6, 4), (1, 5, 7, 3)]
    faces = []
    for a, b, c, d in quads:
        faces += [(a, b, c), (a, c, d)]
    faces = np.array(faces, np.int32)
    # Orient every face outwards.
    centroid = verts[faces].mean(1)
    normal = np.cross(verts[faces[:, 1]] - verts[faces[:, 0]], verts[faces[:, 2]] - verts[faces[:, 0]])
    flip = np.sum(normal * (centroid - center), 1) < 0
    faces[flip] = faces[flip][:, ::-1]
    return verts, faces


def test_import_hint_without_anny(monkeypatch):
    from convnextpose.synth.backends import INSTALL_HINT
    from convnextpose.synth.backends.anny.model import import_anny

    monkeypatch.setitem(sys.modules, "anny", None)
    with pytest.raises(ImportError, match=r"convnextpose\[anny\]"):
        import_anny()
    assert "pip install convnextpose[anny]" in INSTALL_HINT


def test_cache_dir_env(monkeypatch, tmp_path):
    from convnextpose.synth.backends.anny.model import anny_cache_dir

    monkeypatch.setenv("CONVNEXTPOSE_CACHE", str(tmp_path))
    assert anny_cache_dir() == tmp_path / "anny"
    monkeypatch.delenv("CONVNEXTPOSE_CACHE")
    assert anny_cache_dir().parts[-2:] == (".cache", "anny")


def test_camera_matches_project_geometry():
    cam = Camera.look_at([3000.0, -4000.0, 1500.0], [0.0, 0.0, 900.0], 1145.0, (1000, 1000), c=(512.0, 498.0))
    pts = np.random.default_rng(0).uniform(-800, 800, (20, 3)) + [0, 0, 900]
    ours = cam.project(cam.to_cam(pts))
    theirs = cam2pixel(world2cam(pts, cam.R, cam.t), cam.f, cam.c)
    np.testing.assert_allclose(ours, theirs, atol=1e-6)
    # y is down in the camera frame: a higher point has a smaller v.
    top, bottom = cam.project(cam.to_cam(np.array([[0, 0, 1800.0], [0, 0, 0.0]])))
    assert top[1] < bottom[1]
    np.testing.assert_allclose(cam.position, [3000, -4000, 1500], atol=1e-6)


def test_camera_crop_is_pixel_shift_and_scale():
    cam = Camera.look_at([0.0, -5000.0, 1500.0], [0.0, 0.0, 900.0], 1145.0, (1000, 1000))
    pts = cam.to_cam(np.random.default_rng(1).uniform(-500, 500, (10, 3)) + [0, 0, 900])
    full = cam.project(pts)
    crop = cam.crop((300, 200, 400, 400)).project(pts)
    np.testing.assert_allclose(crop[:, :2], full[:, :2] - [300, 200], atol=1e-9)
    half = cam.crop((300, 200, 400, 400), out_size=(200, 200)).project(pts)
    np.testing.assert_allclose(half[:, :2], (full[:, :2] - [300, 200] + 0.5) * 0.5 - 0.5, atol=1e-9)


@pytest.mark.parametrize("preset", sorted(CAMERA_PRESETS))
def test_camera_presets_look_at_target(preset):
    rng = np.random.default_rng(0)
    target = np.array([0.0, 0.0, 900.0])
    cam = sample_camera(preset, rng, target)
    uv = cam.project(cam.to_cam(target[None]))[0]
    assert uv[2] > 0
    assert 0 <= uv[0] < cam.width and 0 <= uv[1] < cam.height


def test_rasterize_cube_depth_and_coverage():
    cam = Camera.look_at([0.0, -3000.0, 0.0], [0.0, 0.0, 0.0], 500.0, (120, 100))
    verts, faces = _cube([0.0, 0.0, 0.0], 300.0)
    frags = rasterize(cam.project(cam.to_cam(verts)), faces, 120, 100)
    # Only the front face (y = -300, 2700 mm from the camera) is visible, as a square of 2*300/2700*500 = 111 px.
    np.testing.assert_allclose(frags.depth, 2700.0, atol=1e-2)
    side = 2 * 300 / 2700 * 500
    assert abs(len(frags.pixels) - min(side, 100) * side) < 4 * side
    np.testing.assert_allclose(frags.bary.sum(1), 1.0, atol=1e-5)


def test_rasterize_crop_equals_full_crop():
    cam = Camera.look_at([900.0, -2500.0, 700.0], [0.0, 0.0, 0.0], 400.0, (160, 120))
    verts, faces = _cube([0.0, 0.0, 0.0], 300.0)
    full = rasterize(cam.project(cam.to_cam(verts)), faces, 160, 120)
    box = (40, 30, 70, 50)
    sub = cam.crop(box)
    crop = rasterize(sub.project(sub.to_cam(verts)), faces, 70, 50)
    depth_full = np.full(160 * 120, np.inf, np.float32)
    depth_full[full.pixels] = full.depth
    depth_full = depth_full.reshape(120, 160)[30:80, 40:110]
    depth_crop = np.full(70 * 50, np.inf, np.float32)
    depth_crop[crop.pixels] = crop.depth
    depth_crop = depth_crop.reshape(50, 70)
    assert np.array_equal(np.isfinite(depth_full), np.isfinite(depth_crop))
    both = np.isfinite(depth_full)
    np.testing.assert_allclose(depth_full[both], depth_crop[both], rtol=1e-5)


def test_background_floor_depth_is_analytic():
    cam = Camera.look_at([0.0, -4000.0, 1500.0], [0.0, 0.0, 1300.0], 60.0, (80, 60))
    tex = wood_planks(np.random.default_rng(0), 64)
    floor = Plane(np.array([0.0, 0.0, 1.0]), 0.0, np.array([[1.0, 0, 0], [0, 1.0, 0]]), tex, np.zeros(3))
    bg = cast_background(cam, [floor], [Box(np.array([0.0, 0.0, 250.0]), np.array([250.0] * 3), 0.0, tex)])
    depth = bg["depth"].reshape(60, 80)
    kind = bg["kind"].reshape(60, 80)
    assert (kind == 2).any() and (kind == 0).any() and (kind == -1).any()  # box, floor and sky above the horizon
    # Floor points back-projected from their depth lie on Z = 0.
    sel = np.flatnonzero(bg["kind"] == 0)
    ys, xs = np.divmod(sel, 80)
    rays = cam.pixel_rays(xs, ys) * depth.reshape(-1)[sel, None]
    world = (rays - cam.t) @ cam.R
    np.testing.assert_allclose(world[:, 2], 0.0, atol=0.5)
    np.testing.assert_allclose(bg["floor_points"][:, 2], 0.0, atol=0.5)


def test_clamp_to_limits():
    params = library.pose_params("standing")
    params[limits.PARAM_INDEX["L_knee_flex"]] = 200
    params[limits.PARAM_INDEX["R_knee_flex"]] = -30
    params[limits.PARAM_INDEX["spine_twist"]] = 120
    params[limits.PARAM_INDEX["L_hip_plane"]] = 0  # abduction plane: at most 50 degrees
    params[limits.PARAM_INDEX["L_hip_elev"]] = 110
    params[limits.PARAM_INDEX["R_shoulder_plane"]] = 390  # wraps to 30
    assert not limits.within_limits(params)
    out = limits.clamp_to_limits(params)
    assert limits.within_limits(out)
    assert out[limits.PARAM_INDEX["L_knee_flex"]] == 150
    assert out[limits.PARAM_INDEX["R_knee_flex"]] == 0
    assert out[limits.PARAM_INDEX["spine_twist"]] == 45
    assert out[limits.PARAM_INDEX["L_hip_elev"]] == 50
    assert out[limits.PARAM_INDEX["R_shoulder_plane"]] == pytest.approx(30)
    for name in library.POSE_LIBRARY:
        assert limits.within_limits(library.pose_params(name)), name


def test_vary_pose_stays_in_limits():
    rng = np.random.default_rng(0)
    base = np.stack([library.pose_params(n) for n in library.POSE_LIBRARY])
    varied = limits.vary_pose(np.repeat(base, 20, 0), rng, scale=3.0)
    assert limits.within_limits(varied).all()
    assert np.abs(varied - np.repeat(base, 20, 0)).max() > 10


def test_ease_passes_the_keys_smoothly_and_planes_take_the_short_way():
    keys = np.array([[0.0, 170.0], [90.0, -170.0], [30.0, -170.0]])
    key_times = np.array([0.0, 1.0, 3.0])
    wrap = np.array([False, True])
    at_keys = motion.ease(keys, key_times, key_times, wrap)
    np.testing.assert_allclose(at_keys[:, 0], keys[:, 0])
    np.testing.assert_allclose((at_keys[:, 1] - keys[:, 1] + 180) % 360 - 180, 0, atol=1e-9)
    # Held before the first key and after the last.
    np.testing.assert_allclose(motion.ease(keys, key_times, [-1.0, 5.0], wrap)[:, 0], [0.0, 30.0])
    # 170 -> -170 degrees goes through 180, not through 0.
    assert motion.ease(keys, key_times, [0.5], wrap)[0, 1] == pytest.approx(180.0)
    assert motion.ease(keys, key_times, [0.5], wrap)[0, 0] == pytest.approx(45.0)
    # Smoothstep: no jumps, and it starts and stops slowly at every key.
    times = np.linspace(0, 3, 301)
    steps = np.abs(np.diff(motion.ease(keys, key_times, times, wrap)[:, 0]))
    assert steps.max() < 1.6 and steps[0] < 0.05 * steps.max() and steps[99] < 0.05 * steps.max()


def test_segment_distance_and_intersection():
    p0, p1 = np.array([0.0, 0, 0]), np.array([0.0, 0, 100])
    assert collision.segment_distance(p0, p1, np.array([50.0, 0, 50]), np.array([50.0, 10, 50])) == pytest.approx(50)
    assert collision.segment_distance(p0, p1, np.array([-10.0, 0, 200]), np.array([10.0, 0, 200])) == pytest.approx(100)
    crossing = collision.segment_distance(p0, p1, np.array([-50.0, 0, 50]), np.array([50.0, 0, 50]))
    assert crossing == pytest.approx(0, abs=1e-9)


def test_textures_tile_seamlessly():
    rng = np.random.default_rng(0)
    noise = periodic_noise(rng, 64, 8)
    wrap_jump = np.abs(noise[:, 0] - noise[:, -1]).mean()
    inner_jump = np.abs(np.diff(noise, axis=1)).mean()
    assert wrap_jump < 3 * inner_jump
    pool = TexturePool(rng, per_kind=2)
    made = [pool.get("wood", lambda r: wood_planks(r, 64)) for _ in range(5)]
    assert len({id(t) for t in made}) == 2


def test_degradations_change_the_image_but_keep_its_shape():
    rng = np.random.default_rng(0)
    img = to_srgb8(np.random.default_rng(1).random((48, 64, 3)).astype(np.float32))
    deg = sample_degradation(rng, 1.0)
    out = degrade(img, deg)
    assert out.shape == img.shape and out.dtype == np.uint8
    assert np.array_equal(degrade(img, deg), out)  # deterministic for a given degradation
    none = sample_degradation(rng, 0.0)
    assert np.array_equal(degrade(img, none), img)


def test_sensor_noise_is_gaussian_and_differs_between_frames():
    from convnextpose.synth.degrade import Degradation

    flat = np.full((120, 160, 3), 128, np.uint8)
    noisy = [degrade(flat, Degradation(noise_sigma=4.0, seed=s)).astype(np.float64) - 128 for s in (1, 2)]
    for n in noisy:
        # sigma * sqrt(0.3 + 128 / 255) = 3.58 levels at mid grey, about zero mean
        assert abs(n.std() - 4.0 * np.sqrt(0.3 + 128 / 255)) < 0.2 and abs(n.mean()) < 0.1
    assert abs(np.corrcoef(noisy[0].ravel(), noisy[1].ravel())[0, 1]) < 0.05  # two frames' noise is not shared
    assert np.array_equal(degrade(flat, Degradation(noise_sigma=4.0, seed=1)), (noisy[0] + 128).astype(np.uint8))


def test_prune_cache_keeps_the_compact_model(tmp_path):
    from convnextpose.synth.backends.anny.model import prune_anny_cache

    folder = tmp_path / "v14"
    folder.mkdir()
    for name, size in (("build_compact_model_data_a", 3), ("build_model_data_b", 5), ("load_data_c", 7)):
        (folder / f"{name}.safetensors").write_bytes(b"x" * size)
    assert prune_anny_cache(tmp_path) == 12
    assert [p.name for p in folder.iterdir()] == ["build_compact_model_data_a.safetensors"]
    other = tmp_path / "v13"
    other.mkdir()
    (other / "load_data_d.safetensors").write_bytes(b"x")
    assert prune_anny_cache(tmp_path) == 0  # nothing is deleted where no compact model exists


def test_writer_contexts_restore_opencv_threads_and_the_collector():
    import gc

    import cv2

    from convnextpose.synth.writers.common import gc_paused, single_threaded_opencv

    threads = cv2.getNumThreads()
    with single_threaded_opencv():
        assert cv2.getNumThreads() == 1
    assert cv2.getNumThreads() == threads
    assert gc.isenabled()
    with gc_paused():
        assert not gc.isenabled()
    assert gc.isenabled()
    gc.disable()
    try:
        with gc_paused():
            pass
        assert not gc.isenabled()  # a collector that was off stays off
    finally:
        gc.enable()
