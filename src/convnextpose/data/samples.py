"""Torch datasets of network inputs and targets: :class:`TrainSamples` and :class:`TestSamples`.

Mixing (as the release's ``MultipleDatasets``): the 3D sets are concatenated into one group and the
2D sets into another; when both exist, each group is stretched to the larger group's length N, so an
epoch has 2N samples, half from each group. Inside a stretched group, index j < n * (N // n) maps to
record j mod n and the remaining indices draw a record at random (n = the group's size). With only
3D (or only 2D) sets the epoch is their plain concatenation.

Randomness: every sample has its own generator seeded by ``(seed, epoch, index)``. So a sample does
not depend on which DataLoader worker draws it or in which order: two runs with the same seed give
identical batches for any ``num_workers``. The epoch lives in shared memory, so :meth:`set_epoch`
reaches worker processes (persistent ones too) if it is called before the epoch's iterator is made.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torch.utils.data import Dataset

from ..geometry import crop_transform
from ..image import IMAGENET_MEAN, IMAGENET_STD, normalize_crops, read_image, warp_crops
from ..joints import JointSet, get_joint_set, mapping_indices
from .augment import NO_AUGMENTATION, augment_crop, augment_joints, sample_augmentation
from .records import PoseDataset


class TrainSamples(Dataset):
    """Augmented training crops and heatmap-unit targets from one or more datasets.

    Args:
        datasets: loaded training sets; each is mapped onto ``joint_set`` by joint name (joints a set
            lacks get visibility 0 and target 0).
        joint_set: the network's joint set (the release uses the first 3D set's).
        input_size: (height, width) of the crop.
        depth_dim: depth bins D.
        output_size: (height, width) of the network's heatmap grid (``spec.output_size``); default
            ``input_size / 8``, the release's 2-upsampling head.
        augment: draw scale, rotation, flip, colour and occlusion (False: plain crops of the box).
        seed: base seed of every sample's generator.
        occlusion: allow synthetic occlusion when augmenting.
        depth_range_mm: depth extent around the root covered by the D bins.
        shares: per dataset, its share of each epoch (any positive numbers, normalised); an epoch is then as long
            as the datasets together, a set with a larger share than its size is cycled (then random records), one
            with a smaller share gives a random subset each epoch. None: the release's rule, the 3D sets and the 2D
            sets each half of an epoch (the smaller half cycled), whatever their sizes.

    Items are dicts: ``image`` (3, H, W) float32 normalised RGB; ``target`` (J, 3) float32 heatmap
    units (x, y in cells of the ``output_size`` grid, z in depth bins); ``target_vis`` (J,) float32;
    ``has_depth`` () float32 (0 for 2D-only sets).
    """

    def __init__(
        self,
        datasets: Sequence[PoseDataset],
        joint_set: str | JointSet,
        input_size: tuple[int, int] = (256, 256),
        depth_dim: int = 32,
        augment: bool = True,
        seed: int = 0,
        occlusion: bool = True,
        depth_range_mm: float = 2000.0,
        output_size: tuple[int, int] | None = None,
        shares: Sequence[float] | None = None,
    ) -> None:
        datasets = list(datasets)
        if not datasets:
            raise ValueError("TrainSamples needs at least one dataset")
        if len(input_size) != 2 or input_size[0] % 8 or input_size[1] % 8:
            raise ValueError(f"input_size must be (height, width), multiples of 8, got {input_size}")
        self.datasets = datasets
        self.joint_set = get_joint_set(joint_set)
        self.input_size = (int(input_size[0]), int(input_size[1]))
        self.depth_dim = int(depth_dim)
        self.output_size = None if output_size is None else (int(output_size[0]), int(output_size[1]))
        self.depth_range_mm = float(depth_range_mm)
        self.augment = bool(augment)
        self.occlusion = bool(occlusion)
        self.seed = int(seed)
        self._maps = [mapping_indices(ds.joint_set, self.joint_set) for ds in datasets]
        for ds, m in zip(datasets, self._maps):
            if not (m >= 0).any():
                raise ValueError(f"dataset {ds.name} shares no joint names with joint set {self.joint_set.name}")
        if shares is None:
            groups = [
                [i for i, d in enumerate(datasets) if d.has_depth and len(d)],
                [i for i, d in enumerate(datasets) if not d.has_depth and len(d)],
            ]
            self._groups = [g for g in groups if g]
        else:
            if len(shares) != len(datasets) or any(not share > 0 for share in shares):
                raise ValueError(f"shares: need one positive share per dataset ({len(datasets)}), got {list(shares)}")
            if empty := [d.name for d in datasets if not len(d)]:
                raise ValueError(f"shares: dataset(s) {empty} have no records to draw their share from")
            self._groups = [[i] for i in range(len(datasets))]
        if not self._groups:
            raise ValueError("TrainSamples: every dataset is empty")
        self._group_sizes = [sum(len(datasets[i]) for i in g) for g in self._groups]
        self._group_starts = [np.cumsum([0] + [len(datasets[i]) for i in g]) for g in self._groups]
        if shares is None:  # every group as long as the largest (one group: itself)
            self._group_lengths = [max(self._group_sizes)] * len(self._groups)
        else:
            total = sum(self._group_sizes)
            self._group_lengths = [max(1, round(total * share / sum(shares))) for share in shares]
        self._group_offsets = np.cumsum([0] + self._group_lengths)
        self._epoch = torch.zeros((), dtype=torch.int64).share_memory_()

    def __len__(self) -> int:
        return int(self._group_offsets[-1])

    def samples_per_epoch(self) -> dict[str, int]:
        """Samples each dataset gives an epoch, by dataset name (a group of the release's rule shares its samples
        between its datasets in proportion to their sizes)."""
        counts: dict[str, int] = {}
        for group, size, length in zip(self._groups, self._group_sizes, self._group_lengths):
            for i in group:
                name = self.datasets[i].name
                counts[name] = counts.get(name, 0) + round(length * len(self.datasets[i]) / size)
        return counts

    @property
    def epoch(self) -> int:
        return int(self._epoch.item())

    def set_epoch(self, epoch: int) -> None:
        """Use a new epoch's random draws (call before creating the epoch's DataLoader iterator)."""
        self._epoch.fill_(int(epoch))

    def locate(self, index: int, rng: np.random.Generator | None = None) -> tuple[int, int]:
        """(dataset number, record number) of a sample index; ``rng`` draws the stretched tail's records."""
        if not 0 <= index < len(self):
            raise IndexError(f"sample index {index} out of range for {len(self)} samples")
        group = int(np.searchsorted(self._group_offsets, index, side="right") - 1)
        j, n, length = index - int(self._group_offsets[group]), self._group_sizes[group], self._group_lengths[group]
        if j >= n * (length // n):  # past the whole passes over the group: a random record
            rng = rng if rng is not None else self.sample_rng(index)
            j = int(rng.integers(n))
        else:
            j %= n
        starts = self._group_starts[group]
        k = int(np.searchsorted(starts, j, side="right") - 1)
        return self._groups[group][k], int(j - starts[k])

    def sample_rng(self, index: int) -> np.random.Generator:
        """The generator of one sample in the current epoch."""
        return np.random.default_rng([self.seed, self.epoch, int(index)])

    def __getitem__(self, index: int) -> dict[str, torch.Tensor]:
        rng = self.sample_rng(index)
        ds_idx, rec_idx = self.locate(index, rng)
        dataset = self.datasets[ds_idx]
        record = dataset[rec_idx]
        image = read_image(record.image_path)
        height, width = image.shape[:2]
        aug = sample_augmentation(rng, record.bbox, width, height, self.occlusion) if self.augment else NO_AUGMENTATION
        crop = augment_crop(image, record.bbox, aug, self.input_size)
        target, vis = augment_joints(
            record.joints_img, record.joints_vis, float(record.root_cam[2]) if dataset.has_depth else 0.0,
            record.bbox, width, aug, dataset.joint_set.flip_permutation, self.input_size, self.depth_dim,
            self.depth_range_mm, self.output_size,
        )  # fmt: skip
        mapping = self._maps[ds_idx]
        present = mapping >= 0
        target = np.where(present[:, None], target[np.where(present, mapping, 0)], 0.0).astype(np.float32)
        vis = np.where(present, vis[np.where(present, mapping, 0)], 0.0).astype(np.float32)
        crop = (crop / 255.0 - IMAGENET_MEAN) / IMAGENET_STD
        return {
            "image": torch.from_numpy(np.ascontiguousarray(crop.transpose(2, 0, 1), dtype=np.float32)),
            "target": torch.from_numpy(target),
            "target_vis": torch.from_numpy(vis),
            "has_depth": torch.tensor(1.0 if dataset.has_depth else 0.0, dtype=torch.float32),
        }


class TestSamples(Dataset):
    """Un-augmented crops of each record's box, for evaluation.

    Args:
        dataset: a loaded test set.
        input_size: (height, width) of the crop.

    Items are dicts: ``image`` (3, H, W) float32 normalised RGB and ``index`` (int, the record index);
    decode predictions through ``dataset[index].bbox`` (see ``codec.decode_with_boxes``).
    """

    __test__ = False  # not a pytest test class, despite the name

    def __init__(self, dataset: PoseDataset, input_size: tuple[int, int] = (256, 256)) -> None:
        self.dataset = dataset
        self.input_size = (int(input_size[0]), int(input_size[1]))

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, index: int) -> dict:
        if not 0 <= index < len(self.dataset):
            raise IndexError(f"record index {index} out of range for {len(self.dataset)} records")
        record = self.dataset[index]
        image = read_image(record.image_path)
        trans = crop_transform(record.bbox, self.input_size)
        crop = normalize_crops(warp_crops(image, trans[None], self.input_size))[0]
        return {"image": torch.from_numpy(crop), "index": int(index)}
