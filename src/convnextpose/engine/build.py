"""What a training run is made of, built from its config: the network (fresh or from ``model.init``), the optimiser,
the training samples and their loader."""

from __future__ import annotations

import logging
import random
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset, Sampler

from ..config import Config
from ..joints import JointSet
from ..models.checkpoint import CheckpointError, load_state_dict_file
from ..models.convnextpose import VARIANTS, ConvNeXtPose, ModelSpec, normalize_variant_name

logger = logging.getLogger(__name__)


def network_kwargs(cfg: Config, joint_set: JointSet) -> dict[str, Any]:
    """:class:`ConvNeXtPose` arguments of the configured variant for ``joint_set`` (``model.*`` keys that are
    set override the variant's values)."""
    variant = VARIANTS[normalize_variant_name(cfg.model.variant)]
    kwargs: dict[str, Any] = {
        "depths": variant.depths,
        "dims": variant.dims,
        "head_width": variant.head_width,
        "upsample_layers": variant.upsample_layers,
        "depth_dim": variant.depth_dim,
        **variant.extra,
        "input_size": tuple(cfg.model.input_size),
        "drop_path_rate": cfg.model.drop_path_rate,
        "joint_set": joint_set.name,
        "num_joints": joint_set.num_joints,
    }
    for key in ("head_width", "upsample_layers", "depth_dim"):
        if getattr(cfg.model, key) is not None:
            kwargs[key] = getattr(cfg.model, key)
    return kwargs


def build_network(cfg: Config, joint_set: JointSet) -> ConvNeXtPose:
    """The configured variant for ``joint_set``, randomly initialised or from ``model.init``."""
    model = ConvNeXtPose(**network_kwargs(cfg, joint_set))
    if cfg.model.init:
        load_weights(model, cfg.model.init)
    return model


def load_weights(model: ConvNeXtPose, path: str | Path) -> None:
    """Copy a checkpoint's network weights (release ``module.`` keys or ours) into ``model``, strictly.

    Raises:
        CheckpointError: missing/unexpected keys or shapes that differ, naming them.
    """
    state, _meta = load_state_dict_file(path)
    expected = model.state_dict()
    missing = sorted(set(expected) - set(state))
    unexpected = sorted(set(state) - set(expected))
    wrong = sorted(k for k in set(state) & set(expected) if tuple(state[k].shape) != tuple(expected[k].shape))
    if missing or unexpected or wrong:
        parts = []
        for label, keys in (("missing", missing), ("unexpected", unexpected), ("shape mismatch", wrong)):
            if keys:
                parts.append(f"{label}: {keys[:4]}" + (" ..." if len(keys) > 4 else ""))
        raise CheckpointError(
            f"{path}: does not fit model.variant={model.spec.depths}/{model.spec.dims} with "
            f"{model.spec.num_joints} joints x {model.spec.depth_dim} bins ({'; '.join(parts)})"
        )
    model.load_state_dict({k: v.to(expected[k].dtype) for k, v in state.items()})


def build_optimizer(model: torch.nn.Module, cfg: Config) -> torch.optim.AdamW:
    """AdamW with weight decay on convolution weights and none on biases and batch-norm parameters."""
    decay, no_decay = [], []
    for _name, param in model.named_parameters():
        if not param.requires_grad:
            continue
        (decay if param.ndim > 1 else no_decay).append(param)
    groups = [
        {"params": decay, "weight_decay": cfg.train.weight_decay},
        {"params": no_decay, "weight_decay": 0.0},
    ]
    return torch.optim.AdamW(groups, lr=cfg.train.lr, betas=tuple(cfg.train.betas))


def build_train_samples(cfg: Config, model_spec: ModelSpec | None = None, log: bool = True) -> tuple[Dataset, JointSet]:
    """The training samples of ``data.train_sets`` (augmented as configured) and their output joints: the first 3D
    set's, else the first set's.

    Args:
        model_spec: the network the samples are for (default: the configured variant).
        log: say how many samples each set gives.
    """
    from ..data import TrainSamples, load_dataset

    datasets = []
    for name in cfg.data.train_sets:
        options = dict(cfg.data.train_options.get(name, {}))
        if name == "human36m":
            options.setdefault("protocol", cfg.data.protocol)
        datasets.append(load_dataset(name, cfg.dataset_root(name), "train", **options))
    three_d = [d for d in datasets if d.has_depth]
    joint_set = (three_d or datasets)[0].joint_set
    spec = ModelSpec(**network_kwargs(cfg, joint_set)) if model_spec is None else model_spec
    samples = TrainSamples(
        datasets,
        joint_set,
        input_size=spec.input_size,
        depth_dim=spec.depth_dim,
        output_size=spec.output_size,
        augment=cfg.data.augment,
        seed=cfg.run.seed,
        occlusion=cfg.data.occlusion,
        depth_range_mm=cfg.data.bbox_3d_size,
        shares=[cfg.data.train_shares[name] for name in cfg.data.train_sets] if cfg.data.train_shares else None,
    )
    if log:
        sizes = ", ".join(f"{d.name} {len(d)}" for d in datasets)
        drawn = ", ".join(f"{name} {count}" for name, count in samples.samples_per_epoch().items())
        logger.info(
            "training on %s samples per epoch (%s; records: %s); output joints: %s",
            len(samples), drawn, sizes, joint_set.name,
        )  # fmt: skip
    return samples, joint_set


def _seed_worker(worker_id: int) -> None:
    seed = torch.initial_seed() % 2**32
    np.random.seed(seed)
    random.seed(seed)


def build_train_loader(
    samples: Dataset, sampler: Sampler, cfg: Config, device: torch.device, generator: torch.Generator
) -> DataLoader:
    """The training DataLoader: ``train.batch_size`` per process, ``data.workers`` workers seeded from ``generator``,
    the last partial batch dropped whenever the shard holds at least one full batch."""
    batch = cfg.train.batch_size
    return DataLoader(
        samples,
        batch_size=batch,
        sampler=sampler,
        num_workers=cfg.data.workers,
        pin_memory=device.type == "cuda",
        drop_last=len(sampler) >= batch,
        worker_init_fn=_seed_worker,
        generator=generator,
        persistent_workers=False,
    )
