"""Real photos behind the synthetic people: the folder, the crops, the composite, and a dataset written with them."""

from __future__ import annotations

from importlib.util import find_spec

import cv2
import numpy as np
import pytest

from convnextpose.cli import main as cli_main
from convnextpose.data.check import check_dataset
from convnextpose.synth import generate_dataset
from convnextpose.synth.camera import Camera
from convnextpose.synth.frames import FrameSampler
from convnextpose.synth.render import render_frame
from convnextpose.synth.scene.backgrounds import Backgrounds

COLOURS = {"red": (200, 40, 30), "green": (30, 170, 60), "blue": (40, 60, 190)}  # RGB


@pytest.fixture(scope="module")
def photos(tmp_path_factory):
    """Three small photos in nested folders: a colour each, with a vertical ramp, so crops can be told apart."""
    root = tmp_path_factory.mktemp("photos")
    for k, (name, rgb) in enumerate(COLOURS.items()):
        ramp = np.linspace(0.6, 1.0, 90 + 30 * k)[:, None, None]
        image = np.clip(np.array(rgb)[None, None] * ramp * np.ones((1, 160, 1)), 0, 255).astype(np.uint8)
        folder = root / ("indoor" if k else "") / name
        folder.mkdir(parents=True, exist_ok=True)
        cv2.imwrite(str(folder / f"{name}.{'png' if k == 2 else 'jpg'}"), image[:, :, ::-1])
    (root / "notes.txt").write_text("not a photo")
    return root


def _closest(pixel: np.ndarray) -> str:
    return min(
        COLOURS, key=lambda n: np.abs(np.asarray(COLOURS[n]) / max(COLOURS[n]) - pixel / max(pixel.max(), 1)).sum()
    )


def test_folder_is_searched_and_crops_are_reproducible(photos):
    backgrounds = Backgrounds(photos)
    assert len(backgrounds) == 3 and all(f.endswith((".jpg", ".png")) for f in backgrounds.files)
    a = backgrounds.sample(np.random.default_rng(1), (64, 48))
    b = backgrounds.sample(np.random.default_rng(1), (64, 48))
    assert a.shape == (48, 64, 3) and a.dtype == np.uint8 and np.array_equal(a, b)
    seen = {_closest(backgrounds.sample(np.random.default_rng(s), (64, 48))[24, 32].astype(float)) for s in range(40)}
    assert seen == set(COLOURS)  # every photo gets used


def test_missing_empty_and_unreadable_folders_are_named(tmp_path):
    with pytest.raises(FileNotFoundError, match="no folder"):
        Backgrounds(tmp_path / "nowhere")
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "readme.md").write_text("no photos here")
    with pytest.raises(ValueError, match=r"no \.jpg, \.jpeg, \.png file under .*empty"):
        Backgrounds(tmp_path / "empty")
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "photo.jpg").write_bytes(b"not a jpeg")
    with pytest.raises(ValueError, match=r"broken/photo\.jpg cannot be read"):
        Backgrounds(tmp_path / "broken").sample(np.random.default_rng(0), (32, 32))
    assert cli_main(["data", "synth", "--out", str(tmp_path / "x"), "--format", "mpii", "--images", "1",
                     "--backgrounds", str(tmp_path / "empty")]) == 1  # fmt: skip


@pytest.mark.parametrize(
    "bodies",
    [
        "capsule",
        pytest.param("anny", marks=[pytest.mark.slow, pytest.mark.skipif(not find_spec("anny"), reason="anny")]),
    ],
)
def test_people_are_composited_over_the_photo(photos, bodies):
    sampler = FrameSampler(seed=3, bodies=bodies, backgrounds=photos)
    people = sampler.sample_people(2, poses=["standing", "sitting"], variation=0.0)
    people = [people[0].transformed(0.0, np.array([-500.0, 0.0])), people[1].transformed(0.0, np.array([600.0, 0.0]))]
    camera = Camera.look_at([0.0, -4500.0, 1100.0], [0.0, 0.0, 800.0], 520.0, (320, 300))
    frame = sampler.sample_frame(people=people, camera=camera, place=False, degradation=0.0)
    assert frame.backdrop is not None and frame.backdrop.shape == (300, 320, 3) and len(frame.planes) == 1
    assert len(frame.boxes) == 1  # the seated person's seat, no furniture
    result = render_frame(frame)
    photo = (result.instance < 0) & np.isinf(result.depth)  # not a person, not the seat
    near_people = cv2.dilate((result.instance >= 0).astype(np.uint8), np.ones((5, 5), np.uint8)) > 0
    clear = photo & ~near_people  # the silhouettes' anti-aliased edges mix in the people
    clear[230:] = False  # below the feet the contact shadows darken it
    diff = np.abs(result.rgb.astype(int) - frame.backdrop.astype(int))[clear]
    assert np.percentile(diff, 95) <= 2  # shown as it is (not relit)
    # Both people are drawn with their own masks, and their joints are seen where nothing hides them.
    assert result.masks[0].sum() > 300 and result.masks[1].sum() > 300 and not (result.masks[0] & result.masks[1]).any()
    assert result.joints_vis["human36m"][0].all()
    # Around the standing person's feet the photo is darker: the contact shadow.
    darker = np.where(photo & ~near_people, frame.backdrop.astype(int).sum(-1) - result.rgb.astype(int).sum(-1), 0)
    x, y = result.joints_img["human36m"][0, [3, 6], :2].mean(0).round().astype(int)
    assert darker[y - 10 : y + 11, x - 20 : x + 21].max() > 15 and darker[:150].max() <= 6
    # The same seed and calls, the same backdrop.
    again = FrameSampler(seed=3, bodies=bodies, backgrounds=photos)
    again.sample_people(2, poses=["standing", "sitting"], variation=0.0)
    assert np.array_equal(again.sample_frame(people=people, camera=camera, place=False).backdrop, frame.backdrop)


def test_datasets_with_photos_pass_the_check_and_do_not_depend_on_workers(photos, tmp_path):
    opts = dict(
        subjects=(1, 9), actions=(2,), cameras=(1, 2), frames=2, image_size=96, progress=False, backgrounds=photos
    )
    a = generate_dataset("human36m", tmp_path / "a", degradation=0.0, **opts)
    b = generate_dataset("human36m", tmp_path / "b", degradation=0.0, workers=2, **opts)
    assert check_dataset(a, image_sample=4).ok
    files = sorted(p.relative_to(a) for p in a.rglob("*.jpg"))
    assert files and all((a / f).read_bytes() == (b / f).read_bytes() for f in files)
    corner = cv2.imread(str(a / files[0]))[2, 2, ::-1].astype(float)
    assert _closest(corner) in COLOURS and corner.max() > 100  # a photo, not a generated room
    root = generate_dataset("coco", tmp_path / "coco", images=2, image_size=96, progress=False, backgrounds=photos)
    assert check_dataset(root, image_sample=2).ok
    argv = ["data", "synth", "--out", str(tmp_path / "mupots"), "--format", "mupots", "--sequences", "1", "--frames",
            "2", "--image-size", "96", "--workers", "1", "--backgrounds", str(photos)]  # fmt: skip
    assert cli_main(argv) == 0 and check_dataset(tmp_path / "mupots", image_sample=2).ok
