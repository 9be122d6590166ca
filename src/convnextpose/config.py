"""One typed configuration for training and evaluation: dataclasses, YAML files and ``key=value`` overrides.

A configuration has one section per concern (``model``, ``data``, ``train``, ``eval``, ``run``).
It is built from the defaults below, then a YAML file (shipped name or path), then command-line
overrides such as ``train.lr=5e-4 data.train_sets=['human36m']``. Override values are parsed with
:func:`ast.literal_eval` (a bare word that is not a Python literal is taken as a string), checked
against the field's type, and unknown keys are rejected with "did you mean" suggestions. Nothing is
ever ``eval``-ed. The resolved configuration is written next to every run as ``config.yaml``.

Defaults follow the ConvNeXtPose release where it has a value (256x256 input, 32 depth bins, a 2 m
3D box, batch 32 per GPU, 25 epochs, flip test, ground-truth boxes and roots, drop path 0.1). The
optimiser is this project's choice, documented in ``docs/training.md``: AdamW, lr 1e-3 (the
release's base rate) with a linear warm-up of 1 epoch and a half-cosine decay per step to 1e-6,
weight decay 0.05 on convolution weights only (none on biases and batch-norm parameters).
"""

from __future__ import annotations

import dataclasses
import difflib
import os
import typing
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from .atomic import atomic_open
from .config_values import ConfigError, coerce, parse_override, type_name

SECTIONS = ("model", "data", "train", "distill", "eval", "run")
#: Dataset name -> its folder under ``data.root`` (the release's ``data/`` layout, plus ``Images/``: photos
#: without labels, for distillation).
DATASET_FOLDERS = {
    "human36m": "Human36M",
    "mpii": "MPII",
    "coco": "MSCOCO",
    "muco": "MuCo",
    "mupots": "MuPoTS",
    "images": "Images",
}


@dataclass
class ModelConfig:
    """The network."""

    variant: str = "xs"  # xs | s | m | l | test (the paper's networks; see `convnextpose info`)
    input_size: tuple[int, int] = (256, 256)  # (height, width) of the crop, multiples of 32
    depth_dim: int | None = None  # D, depth bins of the heatmap volume; None: the variant's (32 XS/S, 64 M/L)
    head_width: int | None = None  # channels of the head; None: the variant's
    upsample_layers: int | None = None  # head layers that upsample x2; None: the variant's (2 XS/S, 3 M/L)
    drop_path_rate: float = 0.1  # stochastic depth while training (the release's 0.1)
    init: str | None = None  # weights to start from: a release snapshot, ours, or a packaged name ("xs-synthetic")


@dataclass
class DataConfig:
    """Datasets and the input pipeline."""

    root: str = "data"  # folder holding Human36M/, MPII/, MSCOCO/, MuCo/, MuPoTS/
    train_sets: list[str] = field(default_factory=lambda: ["human36m", "mpii"])  # first 3D set fixes the joints
    test_set: str = "human36m"  # human36m | mupots | coco
    protocol: int = 2  # Human3.6M protocol: 1 (train S1,5,6,7,8,9; test S11) or 2 (train S1,5-8; test S9,11)
    bbox_3d_size: float = 2000.0  # mm, depth extent of the D bins around the root
    augment: bool = True  # scale/rotation/flip/colour augmentation while training
    occlusion: bool = True  # synthetic occlusion while training
    workers: int = 4  # DataLoader worker processes per training process
    train_options: dict[str, dict] = field(default_factory=dict)  # extra load_dataset() options per train set
    train_shares: dict[str, float] = field(default_factory=dict)  # epoch share per train set; {}: 3D, 2D sets half each
    test_options: dict[str, Any] = field(default_factory=dict)  # extra load_dataset() options for the test set


@dataclass
class TrainConfig:
    """Optimisation and checkpoints."""

    batch_size: int = 32  # per process (per GPU); the total batch is this times the number of processes
    end_epoch: int = 25  # epochs to train
    lr: float = 1e-3  # peak learning rate (AdamW), reached after the warm-up
    min_lr: float = 1e-6  # learning rate at the end of the half-cosine decay
    warmup_epochs: float = 1.0  # linear warm-up from 0, in epochs (fractions allowed)
    weight_decay: float = 0.05  # AdamW decoupled weight decay on convolution weights
    betas: tuple[float, float] = (0.9, 0.999)  # AdamW betas
    grad_clip_norm: float = 0.0  # clip the gradient norm to this; 0 disables
    mirror_tolerance: float = 0.0  # 0: the release's L1; up to 1: forgive left/right-swapped predictions (losses.py)
    amp: bool = True  # mixed precision (bfloat16/float16 autocast + GradScaler), CUDA only
    save_interval: int = 1  # write model_dump/snapshot_<epoch>.pth.tar every this many epochs (and the last)
    eval_interval: int = 0  # evaluate on the test set every this many epochs; 0: never while training
    log_interval: int = 50  # steps between log lines
    max_steps_per_epoch: int = 0  # stop each epoch after this many steps; 0: the whole epoch (smoke tests)


@dataclass
class DistillConfig:
    """Knowledge distillation from trained networks (``engine/distill.py``); off while ``teachers`` is empty."""

    teachers: list[str] = field(default_factory=list)  # checkpoints of teacher networks (any variant, input size)
    teacher_flip_test: bool = False  # teachers average with their prediction on the mirrored crop
    temperature: float = 1.0  # softmax temperature of the volume term (its KL is scaled by T^2)
    volume_weight: float = 1.0  # KL(teacher || student) of each joint's x, y and z marginals of the softmax volume
    coord_weight: float = 1.0  # L1 to the teachers' joints in heatmap units, the release's loss form
    feature_weight: float = 0.0  # normalised MSE of backbone stage outputs, through 1x1 adapters
    feature_stages: list[int] = field(default_factory=lambda: [3])  # backbone stages (0..3) matched
    gt_weight: float = 1.0  # ground-truth L1 where a sample has labels (0: teachers only)
    teacher_forcing: bool = False  # block-wise: each student stage / head layer reads the teacher's output before it


@dataclass
class EvalConfig:
    """Testing."""

    batch_size: int = 32  # per process
    flip_test: bool = True  # average with the prediction on the mirrored crop
    use_gt_info: bool = True  # ground-truth boxes and root depths; False: bbox_root_file
    bbox_root_file: str | None = None  # RootNet output JSON; None: the dataset's bbox_root/ default
    match_threshold_px: float = 40.0  # MuPoTS matching: a joint counts when |dx| and |dy| are below this (px)


@dataclass
class RunConfig:
    """Where and how a run executes."""

    output_dir: str = "output"  # runs go to <output_dir>/<name>/{log,model_dump,result,vis}
    name: str = ""  # run name; empty: the config file's stem, or "default"
    seed: int = 0  # base seed; every process adds its rank
    deterministic: bool = False  # deterministic algorithms (slower); exact resume holds on CPU either way
    device: str = "auto"  # auto | cpu | cuda | cuda:N
    gpus: list[int] = field(default_factory=list)  # GPU ids (`--gpu 0-1`); more than one launches one process each
    progress: bool = True  # tqdm progress bars on rank 0


@dataclass
class Config:
    """The whole configuration: one dataclass per concern."""

    model: ModelConfig = field(default_factory=ModelConfig)
    data: DataConfig = field(default_factory=DataConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    distill: DistillConfig = field(default_factory=DistillConfig)
    eval: EvalConfig = field(default_factory=EvalConfig)
    run: RunConfig = field(default_factory=RunConfig)

    def to_dict(self) -> dict[str, dict[str, Any]]:
        """Plain nested dict (lists instead of tuples), safe for YAML and ``torch.load(weights_only=True)``."""
        return _plain(dataclasses.asdict(self))

    @classmethod
    def from_dict(cls, values: dict[str, Any], source: str = "config") -> Config:
        """Defaults updated with ``values`` (nested sections); unknown keys and wrong types raise ConfigError."""
        cfg = cls()
        apply_mapping(cfg, values, source)
        return cfg

    def dataset_root(self, name: str) -> Path:
        """``<data.root>/<the dataset's folder>``, e.g. ``data/Human36M``."""
        return Path(self.data.root) / DATASET_FOLDERS[name]

    @property
    def run_dir(self) -> Path:
        """``<run.output_dir>/<run.name>``."""
        return Path(self.run.output_dir) / (self.run.name or "default")

    def describe(self) -> str:
        """The configuration as YAML text."""
        return yaml.safe_dump(self.to_dict(), sort_keys=False, default_flow_style=None)


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def _hints(section_cls: type) -> dict[str, Any]:
    return typing.get_type_hints(section_cls)


def all_keys() -> list[str]:
    """Every valid dotted key, e.g. ``train.lr``."""
    return [f"{s}.{f.name}" for s in SECTIONS for f in dataclasses.fields(_hints(Config)[s])]


def _resolve_key(key: str, source: str) -> tuple[str, str]:
    """``"train.lr"`` -> ("train", "lr"); a bare field name is accepted when exactly one section has it."""
    keys = all_keys()
    if key in keys:
        section, name = key.split(".", 1)
        return section, name
    if "." not in key:
        owners = [k for k in keys if k.split(".", 1)[1] == key]
        if len(owners) == 1:
            section, name = owners[0].split(".", 1)
            return section, name
        if len(owners) > 1:
            raise ConfigError(f"{source}: '{key}' is ambiguous; write one of {owners}")
    suggestions = difflib.get_close_matches(key, keys, n=3, cutoff=0.6)
    if not suggestions and "." in key:
        leaf = key.rsplit(".", 1)[1]
        suggestions = difflib.get_close_matches(leaf, [k.split(".", 1)[1] for k in keys], n=3, cutoff=0.6)
        suggestions = [k for k in keys if k.split(".", 1)[1] in suggestions]
    hint = f"; did you mean {' or '.join(repr(s) for s in suggestions)}?" if suggestions else ""
    raise ConfigError(f"{source}: unknown config key '{key}'{hint} (`convnextpose train --help-config` lists all)")


def set_value(cfg: Config, key: str, value: Any, source: str = "override") -> None:
    """Set one dotted key, type-checked."""
    section, name = _resolve_key(key, source)
    hint = _hints(type(getattr(cfg, section)))[name]
    setattr(getattr(cfg, section), name, coerce(value, hint, f"{source}: {section}.{name}"))


def apply_mapping(cfg: Config, values: dict[str, Any], source: str) -> Config:
    """Apply a nested ``{section: {field: value}}`` mapping (as read from YAML) to ``cfg``."""
    if not isinstance(values, dict):
        raise ConfigError(f"{source}: expected a mapping of sections {list(SECTIONS)}, got {type(values).__name__}")
    for section, entries in values.items():
        if section not in SECTIONS:
            suggestions = difflib.get_close_matches(str(section), SECTIONS, n=1)
            hint = f"; did you mean '{suggestions[0]}'?" if suggestions else ""
            raise ConfigError(f"{source}: unknown section '{section}'{hint} (sections: {', '.join(SECTIONS)})")
        if entries is None:
            continue
        if not isinstance(entries, dict):
            raise ConfigError(f"{source}: section '{section}' must be a mapping, got {entries!r}")
        for name, value in entries.items():
            set_value(cfg, f"{section}.{name}", value, source)
    return cfg


def shipped_configs() -> dict[str, Path]:
    """Name -> path of every YAML shipped in ``convnextpose/configs`` (names without ``.yaml``)."""
    root = Path(str(resources.files("convnextpose") / "configs"))
    return {p.stem: p for p in sorted(root.rglob("*.yaml"))}


def resolve_config_path(name_or_path: str | os.PathLike) -> Path:
    """A YAML path, or the name of a shipped config (with or without ``.yaml``)."""
    path = Path(name_or_path)
    if path.is_file():
        return path
    shipped = shipped_configs()
    stem = path.name[: -len(".yaml")] if path.name.endswith(".yaml") else path.name
    if stem in shipped:
        return shipped[stem]
    suggestions = difflib.get_close_matches(stem, list(shipped), n=3, cutoff=0.4)
    hint = f"; did you mean {' or '.join(suggestions)}?" if suggestions else ""
    raise FileNotFoundError(f"config {str(name_or_path)!r} is neither a file nor a shipped config{hint}")


def load_config(
    name_or_path: str | os.PathLike | None = None, overrides: list[str] | dict[str, Any] | None = None
) -> Config:
    """Defaults, then a YAML file (a path or a shipped config name), then overrides.

    Args:
        name_or_path: YAML file or shipped config name; None for the defaults alone.
        overrides: ``["train.lr=5e-4", ...]`` strings or a ``{dotted key: value}`` dict.

    Raises:
        FileNotFoundError: no such file or shipped config.
        ConfigError: unknown keys (with suggestions), wrong types, malformed YAML.
    """
    cfg = Config()
    if name_or_path is not None:
        path = resolve_config_path(name_or_path)
        try:
            values = yaml.safe_load(path.read_text()) or {}
        except yaml.YAMLError as exc:
            raise ConfigError(f"{path}: not valid YAML ({exc})") from None
        apply_mapping(cfg, values, str(path))
        if not cfg.run.name:
            cfg.run.name = path.stem
    items = overrides.items() if isinstance(overrides, dict) else (parse_override(o) for o in overrides or [])
    for key, value in items:
        set_value(cfg, key, value, "override")
    if not cfg.run.name:
        cfg.run.name = "default"
    validate(cfg)
    return cfg


def validate(cfg: Config) -> Config:
    """Cross-field checks with messages that say what is allowed."""
    from .models.convnextpose import VARIANTS, normalize_variant_name

    try:
        normalize_variant_name(cfg.model.variant)
    except ValueError:
        raise ConfigError(
            f"model.variant: unknown variant {cfg.model.variant!r}; choose one of {sorted(VARIANTS)}"
        ) from None
    if any(s <= 0 or s % 32 for s in cfg.model.input_size):
        raise ConfigError(f"model.input_size: each side must be a positive multiple of 32, got {cfg.model.input_size}")
    checks = [
        ("model.depth_dim", cfg.model.depth_dim is None or cfg.model.depth_dim > 0, "must be positive"),
        (
            "model.upsample_layers",
            cfg.model.upsample_layers is None or 0 <= cfg.model.upsample_layers <= 3,
            "must be 0..3 (the head has three layers)",
        ),
        ("model.drop_path_rate", 0.0 <= cfg.model.drop_path_rate < 1.0, "must be in [0, 1)"),
        ("data.protocol", cfg.data.protocol in (1, 2), "must be 1 or 2"),
        ("data.train_sets", len(cfg.data.train_sets) > 0, "needs at least one dataset"),
        ("data.bbox_3d_size", cfg.data.bbox_3d_size > 0, "must be positive"),
        ("data.workers", cfg.data.workers >= 0, "must be >= 0"),
        ("train.batch_size", cfg.train.batch_size > 0, "must be positive"),
        ("train.end_epoch", cfg.train.end_epoch > 0, "must be positive"),
        ("train.lr", cfg.train.lr > 0, "must be positive"),
        ("train.min_lr", 0 <= cfg.train.min_lr <= cfg.train.lr, "must be in [0, train.lr]"),
        ("train.warmup_epochs", cfg.train.warmup_epochs >= 0, "must be >= 0"),
        ("train.weight_decay", cfg.train.weight_decay >= 0, "must be >= 0"),
        ("train.mirror_tolerance", 0.0 <= cfg.train.mirror_tolerance <= 1.0, "must be in [0, 1]"),
        ("train.save_interval", cfg.train.save_interval > 0, "must be positive"),
        ("train.eval_interval", cfg.train.eval_interval >= 0, "must be >= 0"),
        ("train.max_steps_per_epoch", cfg.train.max_steps_per_epoch >= 0, "must be >= 0"),
        ("eval.batch_size", cfg.eval.batch_size > 0, "must be positive"),
        ("distill.temperature", cfg.distill.temperature > 0, "must be positive"),
        ("distill.feature_stages", set(cfg.distill.feature_stages) <= {0, 1, 2, 3}, "must be backbone stages 0..3"),
    ]
    for name in ("volume_weight", "coord_weight", "feature_weight", "gt_weight"):
        checks.append((f"distill.{name}", getattr(cfg.distill, name) >= 0, "must be >= 0"))
    for key, ok, message in checks:
        if not ok:
            section, name = key.split(".")
            raise ConfigError(f"{key} {message}, got {getattr(getattr(cfg, section), name)!r}")
    known_sets = ("human36m", "muco", "mupots", "mpii", "coco", "images")
    for name in [*cfg.data.train_sets, cfg.data.test_set]:
        if name not in known_sets:
            suggestions = difflib.get_close_matches(name, known_sets, n=1)
            hint = f"; did you mean '{suggestions[0]}'?" if suggestions else ""
            raise ConfigError(f"data: unknown dataset {name!r}{hint} (choose from {', '.join(known_sets)})")
    if shares := cfg.data.train_shares:
        if set(shares) != set(cfg.data.train_sets) or any(not v > 0 for v in shares.values()):
            raise ConfigError(
                f"data.train_shares: give every train set ({', '.join(cfg.data.train_sets)}) a positive share, "
                f"got {shares}"
            )
    if cfg.distill.teacher_forcing and (len(cfg.distill.teachers) != 1 or cfg.distill.feature_weight <= 0):
        raise ConfigError(
            "distill.teacher_forcing: needs exactly one teacher in distill.teachers and distill.feature_weight > 0 "
            "(the stage outputs are what the student's backbone learns from)"
        )
    if cfg.data.train_sets == ["images"] and not cfg.distill.teachers:
        raise ConfigError("data.train_sets: 'images' has no labels; it needs distill.teachers to learn from")
    if cfg.data.test_set not in ("human36m", "mupots", "coco"):
        raise ConfigError(f"data.test_set: {cfg.data.test_set!r} has no test split; use human36m, mupots or coco")
    return cfg


def save_config(cfg: Config, path: str | os.PathLike) -> Path:
    """Write ``cfg`` as YAML atomically (temporary file, then rename)."""
    with atomic_open(path) as handle:
        handle.write(cfg.describe())
    return Path(path)


def describe_keys() -> str:
    """Every key with its type, default and comment, for ``--help-config``."""
    import inspect
    import re

    lines = []
    for section in SECTIONS:
        cls = _hints(Config)[section]
        source = inspect.getsource(cls)
        comments = dict(re.findall(r"^\s+(\w+):[^#\n]*#\s*(.*)$", source, flags=re.M))
        defaults = _plain(dataclasses.asdict(cls()))
        for f in dataclasses.fields(cls):
            hint = type_name(_hints(cls)[f.name])
            lines.append(f"{section}.{f.name} ({hint}) = {defaults[f.name]!r}  # {comments.get(f.name, '')}")
    return "\n".join(lines)
