"""``check_dataset``: what a dataset folder holds and what is wrong with it, as a Markdown report.

It loads every split with ``strict=False`` (all frames, ground truth and, where present, the
``bbox_root`` detections), so malformed records are listed instead of stopping at the first, then
checks that image files exist, decodes a sample of them and summarises joints, depths and boxes.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..image import read_image
from . import load_dataset
from .mupots import BBOX_ROOT_FILES
from .records import PoseDataset

logger = logging.getLogger(__name__)

# format -> file whose presence identifies it
MARKERS = {
    "human36m": "annotations/Human36M_subject*_data.json",
    "muco": "data/MuCo-3DHP.json",
    "mupots": "data/MuPoTS-3D.json",
    "mpii": "annotations/train.json",
    "coco": "annotations/person_keypoints_*2017.json",
}


@dataclass
class SplitSummary:
    """Figures of one loaded split (lengths mm, sizes px)."""

    name: str
    records: int
    images: int
    missing_images: int = 0
    skipped: dict[str, int] = field(default_factory=dict)
    rows: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class CheckReport:
    """Result of :func:`check_dataset`; ``ok`` is False when any problem was found."""

    root: Path
    format: str
    splits: list[SplitSummary] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_markdown(self, max_problems: int = 30) -> str:
        lines = [f"# {self.format} at {self.root}", ""]
        lines += [
            "| split | records | images | missing images | skipped as the release does |",
            "| --- | --- | --- | --- | --- |",
        ]
        for s in self.splits:
            skipped = ", ".join(f"{k}: {v}" for k, v in s.skipped.items()) or "-"
            lines.append(f"| {s.name} | {s.records} | {s.images} | {s.missing_images} | {skipped} |")
        for s in self.splits:
            if s.rows:
                lines += ["", f"## {s.name}", "", "| statistic | value |", "| --- | --- |"]
                lines += [f"| {k} | {v} |" for k, v in s.rows]
        lines += ["", f"## problems: {len(self.problems)}", ""]
        lines += [f"- {p}" for p in self.problems[:max_problems]]
        if len(self.problems) > max_problems:
            lines.append(f"- ... and {len(self.problems) - max_problems} more")
        if self.ok:
            lines.append("none")
        return "\n".join(lines)


def detect_format(root: str | Path) -> str:
    """The benchmark format of a folder, from its annotation files; ValueError if none matches."""
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"dataset folder not found: {root}")
    found = [fmt for fmt, pattern in MARKERS.items() if any(root.glob(pattern))]
    if len(found) != 1:
        expected = "; ".join(f"{f}: {p}" for f, p in MARKERS.items())
        what = "no known annotation file" if not found else f"several formats {found}"
        raise ValueError(f"{root}: {what}; pass the format explicitly (expected one of {expected})")
    return found[0]


def _loads(fmt: str, root: Path) -> list[tuple[str, dict]]:
    """(split label, load_dataset arguments) to check for a format."""
    if fmt == "human36m":
        subjects = sorted(int(p.name.split("subject")[1].split("_")[0]) for p in root.glob(MARKERS[fmt]))
        jobs = [("all subjects", {"split": "train", "subjects": subjects, "subsample": 1})]
        test_subjects = [s for s in subjects if s in (9, 11)]
        if test_subjects and (root / "bbox_root" / "bbox_root_human36m_output.json").is_file():
            jobs.append(
                ("test, detections", {"split": "test", "subjects": test_subjects, "subsample": 1, "use_gt_info": False})
            )
        return jobs
    if fmt == "muco":
        return [("train", {"split": "train"})]
    if fmt == "mupots":
        jobs = [("test", {"split": "test"})]
        if any((root / name).is_file() for name in BBOX_ROOT_FILES):
            jobs.append(("test, detections", {"split": "test", "use_gt_info": False}))
        return jobs
    if fmt == "mpii":
        return [("train", {"split": "train"})]
    jobs = []
    if (root / "annotations" / "person_keypoints_train2017.json").is_file():
        jobs.append(("train", {"split": "train"}))
    if (root / "annotations" / "person_keypoints_val2017.json").is_file():
        jobs.append(("test, detections", {"split": "test"}))
    return jobs


def _fmt(values: np.ndarray, unit: str = "") -> str:
    values = np.asarray(values, dtype=np.float64)
    values = values[np.isfinite(values)]
    if not len(values):
        return "-"
    return f"{values.min():.0f} / {np.median(values):.0f} / {values.max():.0f}{unit}"


def summarise(dataset: PoseDataset, label: str) -> SplitSummary:
    """Counts and statistics of one loaded split (no file access)."""
    paths = {r.image_path for r in dataset}
    summary = SplitSummary(label, len(dataset), len(paths), skipped=dict(dataset.skipped))
    if not len(dataset):
        return summary
    rows = summary.rows
    boxes = dataset.stack("bbox")
    rows.append(("box side min / median / max", _fmt(np.sqrt(boxes[:, 2] * boxes[:, 3]), " px")))
    joints = dataset.stack("joints_img")
    vis = dataset.stack("joints_vis") > 0
    width = np.array([r.meta.get("width", np.inf) for r in dataset])[:, None]
    height = np.array([r.meta.get("height", np.inf) for r in dataset])[:, None]
    inside = (joints[..., 0] >= 0) & (joints[..., 0] < width) & (joints[..., 1] >= 0) & (joints[..., 1] < height)
    rows.append(("visible joints", f"{vis.mean():.1%}"))
    if vis.any():
        rows.append(("visible joints inside the image", f"{inside[vis].mean():.1%}"))
    if dataset.has_depth:
        rows.append(("root depth min / median / max", _fmt(dataset.stack("root_cam")[:, 2], " mm")))
        cam = dataset.stack("joints_cam")
        annotated = np.abs(cam).sum(axis=(1, 2)) > 0
        if annotated.any():
            cam = cam[annotated]
            for a, b in dataset.joint_set.skeleton:
                length = np.linalg.norm(cam[:, a] - cam[:, b], axis=-1)
                names = dataset.joint_set.names
                rows.append((f"bone {names[a]}-{names[b]} mean (sd)", f"{length.mean():.0f} ({length.std():.0f}) mm"))
    return summary


def check_dataset(root: str | Path, format: str | None = None, image_sample: int = 20, seed: int = 0) -> CheckReport:
    """Check a dataset folder.

    Args:
        root: the dataset folder (e.g. ``data/Human36M``).
        format: "human36m", "muco", "mupots", "mpii" or "coco"; detected from the files when None.
        image_sample: how many images (per split) to decode; 0 skips decoding. Existence is checked for all.
        seed: which images are sampled.

    Returns:
        A :class:`CheckReport` (``ok`` is False if anything is wrong).
    """
    from . import dataset_key

    root = Path(root)
    fmt = dataset_key(format) if format else detect_format(root)
    report = CheckReport(root, fmt)
    rng = np.random.default_rng(seed)
    for label, args in _loads(fmt, root):
        split = args.pop("split")
        try:
            dataset = load_dataset(fmt, root, split, strict=False, **args)
        except (FileNotFoundError, ValueError) as exc:
            report.problems.append(f"{label}: {exc}")
            continue
        report.problems += dataset.problems
        summary = summarise(dataset, label)
        paths = sorted({r.image_path for r in dataset})
        missing = [p for p in paths if not p.is_file()]
        summary.missing_images = len(missing)
        report.problems += [f"{label}: image not found: {p}" for p in missing[:20]]
        if len(missing) > 20:
            report.problems.append(f"{label}: ... and {len(missing) - 20} more missing images")
        present = [p for p in paths if p.is_file()]
        for i in rng.permutation(len(present))[:image_sample]:
            try:
                read_image(present[i])
            except (OSError, ValueError) as exc:
                report.problems.append(f"{label}: {exc}")
        report.splits.append(summary)
    return report
