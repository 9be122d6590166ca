"""What the tests share: the one reader of ../shared, markers, fixtures and helpers.

Test modules never import each other; what two of them need lives here. Helpers are imported with
``from conftest import ...``; fixtures are found by name.

- ``../shared``: :func:`shared_path` (skips cleanly when absent), :func:`photo_labels`, the
  ``official_checkpoint`` fixture.
- Markers: ``slow`` tests run with ``--runslow`` (``make test-all``, CI); ``gpu`` tests need CUDA.
- Tiny generated datasets, one generation per session: ``h36m_root``, ``muco_root``, ``mupots_root``,
  ``mpii_root``, ``coco_root``; :func:`annotations_copy` to corrupt a copy.
- Models and training: ``tiny_model``, ``one_torch_thread``, :func:`randomize_batchnorms`,
  :class:`RandomSamples`, :func:`tiny_cfg`.
- :func:`run_cli` (the command line in a subprocess), :func:`release_box` (the release's box
  processing, written out independently), :func:`assert_h36m_release_layout`,
  :func:`assert_skeleton_follows_the_person`.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

SHARED_DIR = Path(__file__).resolve().parents[1].parent / "shared"
ASSETS_DIR = Path(__file__).resolve().parent / "assets"


def shared_path(*parts: str) -> Path:
    """A file under ``../shared`` beside the checkout; skips the test cleanly when it is absent."""
    path = SHARED_DIR.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"{path} not available (../shared is absent)")
    return path


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--runslow", action="store_true", default=False, help="run tests marked slow")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    skip_slow = pytest.mark.skip(reason="slow: use --runslow")
    skip_gpu = pytest.mark.skip(reason="needs CUDA")
    for item in items:
        if "slow" in item.keywords and not config.getoption("--runslow"):
            item.add_marker(skip_slow)
        if "gpu" in item.keywords and not torch.cuda.is_available():
            item.add_marker(skip_gpu)


@pytest.fixture
def tiny_model():
    """The registered ``test`` variant: 64x64 input, 18 joints, 8x8x32 heatmaps, in eval mode."""
    from convnextpose import build_model

    torch.manual_seed(0)
    return build_model("test").eval()


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(0)


@pytest.fixture(scope="session")
def official_checkpoint() -> Path:
    """The release's XS snapshot (``../shared/fixtures/official_checkpoint/snapshot_24.pth.tar``)."""
    return shared_path("fixtures", "official_checkpoint", "snapshot_24.pth.tar")


@pytest.fixture
def one_torch_thread():
    """Tiny networks gain nothing from threads, and on a busy machine oversubscribed threads crawl.

    A module asks for it with ``pytestmark = pytest.mark.usefixtures("one_torch_thread")``.
    """
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


# --------------------------------------------------------------------------- tiny generated datasets

# Small but complete: every Human3.6M subject (so both protocols load), two cameras, frames 0 and 5.
TINY = {
    "human36m": {"actions": (2,), "cameras": (1, 2), "frames": 2, "frame_stride": 5, "image_size": 160},
    "muco": {"images": 6, "image_size": 192},
    "mupots": {"sequences": (1, 7), "frames": 2, "image_size": 192},
    "mpii": {"images": 6, "image_size": 192},
    "coco": {"images": 6, "image_size": 192},
}


def _generated(fmt: str, factory: pytest.TempPathFactory) -> Path:
    from convnextpose.synth import generate_dataset

    return generate_dataset(fmt, factory.mktemp(f"synth_{fmt}"), seed=0, progress=False, **TINY[fmt])


def _dataset_fixture(fmt: str):
    @pytest.fixture(scope="session")
    def root(tmp_path_factory) -> Path:
        """A tiny generated folder of this format, in the release's layout (once per session, seed 0)."""
        return _generated(fmt, tmp_path_factory)

    return root


h36m_root = _dataset_fixture("human36m")
muco_root = _dataset_fixture("muco")
mupots_root = _dataset_fixture("mupots")
mpii_root = _dataset_fixture("mpii")
coco_root = _dataset_fixture("coco")


def annotations_copy(src: Path, dst: Path) -> Path:
    """A writable copy of a dataset folder with image folders linked, for corrupting annotations."""
    dst.mkdir(parents=True, exist_ok=True)
    for item in src.iterdir():
        if item.is_dir() and item.name in ("images", "MultiPersonTestSet", "augmented_set", "unaugmented_set"):
            (dst / item.name).symlink_to(item, target_is_directory=True)
        elif item.is_dir():
            annotations_copy(item, dst / item.name)
        else:
            shutil.copy2(item, dst / item.name)
    return dst


H36M_IMAGE_KEYS = {
    "id",
    "file_name",
    "width",
    "height",
    "subject",
    "action_idx",
    "subaction_idx",
    "cam_idx",
    "frame_idx",
}
# Keys the release's conversion script (tool/Human36M/h36m2coco.py) also writes; the loader does not need them.
H36M_OPTIONAL_IMAGE_KEYS = {"action_name"}
H36M_OPTIONAL_ANNOTATION_KEYS = {"keypoints_vis"}


def assert_h36m_release_layout(root: Path) -> None:
    """The release's Human3.6M layout, whoever wrote it: files, keys, names, shapes, global ids."""
    import cv2

    ids = []
    data_files = sorted((root / "annotations").glob("Human36M_subject*_data.json"))
    assert data_files, f"no Human36M_subject*_data.json under {root}"
    for data_file in data_files:
        subject = int(re.fullmatch(r"Human36M_subject(\d+)_data\.json", data_file.name).group(1))
        data, cams, joints = (
            json.loads((root / "annotations" / f"Human36M_subject{subject}_{k}.json").read_text())
            for k in ("data", "camera", "joint_3d")
        )
        assert set(data) == {"images", "annotations"} and len(data["images"]) == len(data["annotations"])
        for im in data["images"]:
            assert H36M_IMAGE_KEYS <= set(im) <= H36M_IMAGE_KEYS | H36M_OPTIONAL_IMAGE_KEYS and im["subject"] == subject
            m = re.fullmatch(r"(s_(\d\d)_act_(\d\d)_subact_(\d\d)_ca_(\d\d))/\1_(\d{6})\.jpg", im["file_name"])
            assert m, im["file_name"]
            assert [int(g) for g in m.groups()[1:]] == [
                subject, im["action_idx"], im["subaction_idx"], im["cam_idx"], im["frame_idx"] + 1
            ]  # fmt: skip
            image = cv2.imread(str(root / "images" / im["file_name"]))
            assert image is not None and image.shape == (im["height"], im["width"], 3)
            assert str(im["cam_idx"]) in cams
            frame = joints[str(im["action_idx"])][str(im["subaction_idx"])][str(im["frame_idx"])]
            assert np.array(frame).shape == (17, 3)
            ids.append(im["id"])
        for ann in data["annotations"]:
            assert {"id", "image_id", "bbox"} <= set(ann) <= {"id", "image_id", "bbox"} | H36M_OPTIONAL_ANNOTATION_KEYS
            assert len(ann["bbox"]) == 4
        for cam in cams.values():
            assert set(cam) == {"R", "t", "f", "c"}
            rot = np.array(cam["R"])
            assert rot.shape == (3, 3) and np.allclose(rot @ rot.T, np.eye(3), atol=1e-6)
            assert np.array(cam["t"]).shape == (3,) and len(cam["f"]) == 2 and len(cam["c"]) == 2
    assert len(set(ids)) == len(ids)  # image ids are global across subjects


def release_box(box, width, height) -> np.ndarray:
    """The release's ``process_bbox`` for a square input, written out here apart from the package's."""
    x, y, w, h = box
    x1, y1 = max(0.0, x), max(0.0, y)
    x2, y2 = min(width - 1.0, x1 + max(0.0, w - 1)), min(height - 1.0, y1 + max(0.0, h - 1))
    w, h = x2 - x1, y2 - y1
    side = max(w, h) * 1.25
    return np.array([x1 + w / 2 - side / 2, y1 + h / 2 - side / 2, side, side])


# --------------------------------------------------------------------------- training


def randomize_batchnorms(model: torch.nn.Module, seed: int = 0) -> torch.nn.Module:
    """Give every BN non-trivial statistics and affine parameters, so folding has work to do."""
    generator = torch.Generator().manual_seed(seed)
    for module in model.modules():
        if isinstance(module, torch.nn.BatchNorm2d):
            n = module.num_features
            module.running_mean.copy_(torch.rand(n, generator=generator) * 2 - 1)
            module.running_var.copy_(torch.rand(n, generator=generator) * 1.5 + 0.5)
            module.weight.data.copy_(torch.rand(n, generator=generator) + 0.5)
            module.bias.data.copy_(torch.rand(n, generator=generator) - 0.5)
    return model.eval()


class RandomSamples(torch.utils.data.Dataset):
    """Fixed random crops and targets, plus noise from the global NumPy RNG (so its state matters)."""

    def __init__(self, n=8, joints=18, size=64, seed=0, interrupt_at=None):
        rng = np.random.default_rng(seed)
        self.images = rng.normal(size=(n, 3, size, size)).astype(np.float32)
        self.targets = rng.uniform(1, 7, size=(n, joints, 3)).astype(np.float32)
        self.targets[..., 2] *= 4
        self.vis = (rng.uniform(size=(n, joints)) > 0.1).astype(np.float32)
        self.epoch = 0
        self.interrupt_at = interrupt_at  # (epoch, item count): raise KeyboardInterrupt there
        self.calls = 0

    def set_epoch(self, epoch):
        self.epoch = epoch
        self.calls = 0

    def __len__(self):
        return len(self.images)

    def __getitem__(self, i):
        self.calls += 1
        if self.interrupt_at is not None and (self.epoch, self.calls) == self.interrupt_at:
            raise KeyboardInterrupt
        noise = np.random.normal(scale=0.1, size=self.images[i].shape).astype(np.float32)
        return {
            "image": torch.from_numpy(self.images[i] + noise),
            "target": torch.from_numpy(self.targets[i]),
            "target_vis": torch.from_numpy(self.vis[i]),
            "has_depth": torch.tensor(float(i % 3 != 0)),
        }


def tiny_cfg(tmp_path, name="run", **extra):
    """A CPU training config of the ``test`` variant at 64x64, writing under ``tmp_path/name``."""
    from convnextpose.config import load_config

    overrides = {
        "model.variant": "test",
        "model.input_size": (64, 64),
        "model.drop_path_rate": 0.2,
        "train.batch_size": 4,
        "train.end_epoch": 3,
        "train.lr": 2e-3,
        "train.warmup_epochs": 0.5,
        "data.workers": 0,
        "run.output_dir": str(tmp_path),
        "run.name": name,
        "run.device": "cpu",
        "run.progress": False,
        "run.deterministic": True,
    }
    overrides.update(extra)
    return load_config(None, overrides)


# --------------------------------------------------------------------------- the command line and photos


def run_cli(
    *args: str, check: bool = True, timeout: float = 300, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess:
    """``convnextpose ARGS`` in a subprocess, as a user runs it; with ``check``, a failure shows its output.

    ``env``: variables to set on top of this process's environment.
    """
    result = subprocess.run(
        [sys.executable, "-m", "convnextpose", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=None if env is None else {**os.environ, **env},
    )
    if check and result.returncode != 0:
        raise AssertionError(f"convnextpose {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result


def photo_labels() -> dict[str, dict]:
    """Hand labels of the shared single-person photos (``tests/assets/shared_photo_labels.json``)."""
    labels = json.loads((ASSETS_DIR / "shared_photo_labels.json").read_text())
    return {name: value for name, value in labels.items() if name != "about"}


def skeleton_errors(joint_names, joints_img, label: dict) -> dict[str, float]:
    """Distance of each hand-labelled joint from the predicted one, in units of the labelled box's longer side."""
    predicted = dict(zip(joint_names, np.asarray(joints_img, dtype=np.float64)))
    size = max(label["box"][2:])
    return {
        name: float(np.linalg.norm(predicted[name] - np.asarray(xy)) / size) for name, xy in label["joints"].items()
    }


def assert_skeleton_follows_the_person(joint_names, joints_img, label: dict, source: str, pck: float = 0.1) -> None:
    """The skeleton a person would call right on a labelled photo of someone facing the camera.

    - every labelled joint within ``pck`` of the box size but at most one;
    - left and right not swapped: each predicted L_/R_ wrist, elbow, knee and ankle is nearer its own
      label than the other side's, and the person's left lies on the image's right;
    - every joint inside the labelled person box grown by 15%.
    """
    errors = skeleton_errors(joint_names, joints_img, label)
    far = {k: round(v, 3) for k, v in errors.items() if v >= pck}
    assert len(far) <= 1, f"{source}: joints off their labels by >= {pck} of the box: {far}"
    predicted = dict(zip(joint_names, np.asarray(joints_img, dtype=np.float64)))
    for part in ("Wrist", "Elbow", "Knee", "Ankle"):
        left, right = predicted["L_" + part], predicted["R_" + part]
        own = np.linalg.norm(left - label["joints"]["L_" + part]) + np.linalg.norm(right - label["joints"]["R_" + part])
        swapped = np.linalg.norm(left - label["joints"]["R_" + part]) + np.linalg.norm(
            right - label["joints"]["L_" + part]
        )
        assert own < swapped, f"{source}: {part}s swapped left/right"
    assert predicted["L_Shoulder"][0] > predicted["R_Shoulder"][0], f"{source}: shoulders swapped"
    x, y, w, h = label["box"]
    low, high = np.array([x - 0.15 * w, y - 0.15 * h]), np.array([x + 1.15 * w, y + 1.15 * h])
    points = np.asarray(joints_img, dtype=np.float64)
    outside = [n for n, p in zip(joint_names, points) if not ((p >= low) & (p <= high)).all()]
    assert not outside, f"{source}: joints outside the person's box: {outside}"
