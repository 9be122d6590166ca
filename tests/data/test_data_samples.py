"""Training samples: flip correctness, augmentation ranges, determinism across workers, mixing of 3D and 2D sets."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader

from convnextpose.data import PoseDataset, TrainSamples, load_dataset
from convnextpose.data.augment import Augmentation, augment_crop, augment_joints, sample_augmentation
from convnextpose.image import read_image
from convnextpose.joints import get_joint_set, map_joints


@pytest.fixture(scope="module")
def h36m_test(h36m_root):
    return load_dataset("human36m", h36m_root, "test", protocol=2, subsample=1)


@pytest.mark.parametrize("rotation, scale", [(0.0, 1.0), (17.0, 0.85)])
def test_flipped_sample_is_the_mirror_with_left_and_right_swapped(h36m_test, rotation, scale):
    record = h36m_test[3]
    image = read_image(record.image_path)
    joint_set = h36m_test.joint_set
    perm = joint_set.flip_permutation
    plain = Augmentation(scale=scale, rotation=rotation)
    # Mirroring the image turns a counter-clockwise rotation into a clockwise one.
    flipped = Augmentation(scale=scale, rotation=-rotation, flip=True)
    args = (record.joints_img, record.joints_vis, record.root_cam[2], record.bbox, image.shape[1])
    target, vis = augment_joints(*args, plain, perm, (64, 64))
    target_f, vis_f = augment_joints(*args, flipped, perm, (64, 64))
    mirrored = target.copy()
    mirrored[:, 0] = 64 / 8 - target[:, 0]  # the crop mirrors about its centre, x -> W - x
    assert np.allclose(target_f[perm], mirrored, atol=1e-4)
    assert np.array_equal(vis_f[perm], vis)
    # Left joints of the flipped sample sit where the right joints of the plain one are mirrored to.
    left, right = joint_set.index("L_Wrist"), joint_set.index("R_Wrist")
    assert target_f[left, 0] == pytest.approx(8 - target[right, 0], abs=1e-4)
    crop = augment_crop(image, record.bbox, plain, (64, 64))
    crop_f = augment_crop(image, record.bbox, flipped, (64, 64))
    # Pixel u of the flipped crop samples the same image point as pixel 64 - u of the plain crop.
    assert np.abs(crop_f[:, 1:] - crop[:, :0:-1]).mean() < 1.0


def test_augmentation_draws_stay_in_the_release_ranges():
    rng = np.random.default_rng(0)
    box = np.array([100.0, 100.0, 300.0, 300.0])
    draws = [sample_augmentation(rng, box, 1000, 1000) for _ in range(2000)]
    scales = np.array([d.scale for d in draws])
    rotations = np.array([d.rotation for d in draws])
    assert scales.min() >= 0.75 and scales.max() <= 1.25
    assert np.abs(rotations).max() <= 60 and 0.35 < (rotations == 0).mean() < 0.45
    assert 0.45 < np.mean([d.flip for d in draws]) < 0.55
    colors = np.array([d.color_scale for d in draws])
    assert colors.min() >= 0.8 and colors.max() <= 1.2
    occluders = [d.occlusion for d in draws if d.occlusion is not None]
    assert 0.45 < len(occluders) / len(draws) < 0.55
    for x, y, w, h in occluders:
        # Centred inside the box (the release's formula lets a very tall or wide one overhang it), in the image.
        assert box[0] <= x + w / 2 <= box[0] + box[2] and box[1] <= y + h / 2 <= box[1] + box[3]
        assert x >= 0 and y >= 0 and x + w < 1000 and y + h < 1000
        assert w * h <= 0.7 * box[2] * box[3] + 1
    assert max(h / box[3] for _, _, _, h in occluders) > 1.0
    assert all(
        d.occlusion is None for d in (sample_augmentation(rng, box, 1000, 1000, occlusion=False) for _ in range(50))
    )


def _batches(samples, workers, **kw):
    loader = DataLoader(samples, batch_size=4, num_workers=workers, **kw)
    return [{k: v.clone() for k, v in b.items()} for b in loader]


def _same(a, b):
    return all(torch.equal(x[k], y[k]) for x, y in zip(a, b) for k in x) and len(a) == len(b)


def test_batches_are_identical_for_any_number_of_workers_and_follow_the_epoch(h36m_test):
    make = lambda seed=0: TrainSamples([h36m_test], "human36m", input_size=(64, 64), seed=seed)  # noqa: E731
    serial = _batches(make(), 0)
    assert _same(serial, _batches(make(), 2))
    assert _same(serial, _batches(make(), 0))
    assert not _same(serial, _batches(make(seed=1), 0))
    later = make()
    later.set_epoch(1)
    epoch1 = _batches(later, 0)
    assert not _same(serial, epoch1)
    # set_epoch reaches persistent workers through shared memory.
    persistent = make()
    loader = DataLoader(persistent, batch_size=4, num_workers=2, persistent_workers=True)
    first = [{k: v.clone() for k, v in b.items()} for b in loader]
    persistent.set_epoch(1)
    second = [{k: v.clone() for k, v in b.items()} for b in loader]
    assert _same(first, serial) and _same(second, epoch1)


def _as_2d(dataset: PoseDataset, count: int) -> PoseDataset:
    """A 2D-only MPII-joint dataset made of the first records (depth dropped), for mixing."""
    records = []
    for r in dataset.records[:count]:
        joints, _ = map_joints(r.joints_img, "human36m", "mpii")
        joints = joints.copy()
        joints[:, 2] = 0.0
        records.append(
            dataclasses.replace(
                r,
                joints_img=joints,
                joints_vis=np.ones(16, np.float32),
                joints_cam=np.zeros((16, 3)),
                root_cam=np.zeros(3),
            )
        )
    return PoseDataset("mpii", get_joint_set("mpii"), False, dataset.root, records)


def test_3d_and_2d_sets_are_drawn_equally_and_mapped_by_joint_name(h36m_test):
    two_d = _as_2d(h36m_test, 3)
    samples = TrainSamples([h36m_test, two_d], "human36m", input_size=(64, 64), augment=False)
    n3 = len(h36m_test)
    assert len(samples) == 2 * n3
    assert [samples.locate(i) for i in range(n3)] == [(0, i) for i in range(n3)]
    stretched = [samples.locate(n3 + j) for j in range(n3)]
    cycles = 3 * (n3 // 3)  # whole passes over the small group, then random records
    assert stretched[:cycles] == [(1, j % 3) for j in range(cycles)]
    assert all(d == 1 and 0 <= k < 3 for d, k in stretched[cycles:])
    item_3d, item_2d = samples[0], samples[n3]
    assert item_3d["has_depth"].item() == 1.0 and item_2d["has_depth"].item() == 0.0
    h36m = get_joint_set("human36m")
    missing = [h36m.index(n) for n in ("Torso", "Nose")]  # joints MPII does not annotate
    assert (item_2d["target_vis"][missing] == 0).all() and (item_2d["target"][missing] == 0).all()
    present = [h36m.index(n) for n in ("Pelvis", "L_Wrist", "Head")]
    assert torch.allclose(item_2d["target"][present, :2], samples[0]["target"][present, :2], atol=1e-4)
    assert torch.allclose(item_2d["target"][present, 2], torch.tensor(16.0))  # no depth: mid-range, masked
    with pytest.raises(IndexError):
        samples[len(samples)]
    with pytest.raises(ValueError, match="multiples of 8"):
        TrainSamples([h36m_test], "human36m", input_size=(60, 64))


def test_shares_set_each_datasets_part_of_an_epoch(h36m_test):
    two_d = _as_2d(h36m_test, 3)
    n3 = len(h36m_test)
    default = TrainSamples([h36m_test, two_d], "human36m", input_size=(64, 64), augment=False)
    assert default.samples_per_epoch() == {"human36m": n3, "mpii": n3}  # the release's rule: half each
    # A small 2D set asked for a quarter of the epoch: the epoch is as long as the sets together.
    quarter = TrainSamples([h36m_test, two_d], "human36m", input_size=(64, 64), augment=False, shares=[3, 1])
    total = n3 + 3
    assert quarter.samples_per_epoch() == {"human36m": round(total * 3 / 4), "mpii": round(total / 4)}
    drawn = [quarter.locate(i)[0] for i in range(len(quarter))]
    assert drawn.count(1) == round(total / 4)
    assert drawn.count(0) == round(total * 3 / 4) == len(quarter) - drawn.count(1)
    # A share below a set's size draws a random subset of it, different each epoch.
    small = TrainSamples([h36m_test, two_d], "human36m", input_size=(64, 64), augment=False, shares=[1, 2])
    first = [small.locate(i) for i in range(len(small)) if small.locate(i)[0] == 0]
    assert len(first) == round(total / 3) < n3 and len(first) >= 3, (len(first), n3)
    small.set_epoch(1)
    other = [small.locate(i) for i in range(len(small)) if small.locate(i)[0] == 0]
    assert first != other
    with pytest.raises(ValueError, match="one positive share per dataset"):
        TrainSamples([h36m_test, two_d], "human36m", shares=[1.0])
    with pytest.raises(ValueError, match="one positive share per dataset"):
        TrainSamples([h36m_test, two_d], "human36m", shares=[1.0, 0.0])
