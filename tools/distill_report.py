"""The numbers of a distilled model's card, in one run: how it compares with its teacher and the old starter.

    python tools/distill_report.py --student runs/distill/xs256_stage1/model_dump/snapshot_4.pth.tar \
        --teacher ../shared/fixtures/release_xs/snapshot_68.pth.tar --baseline xs-synthetic \
        --data runs/distill/data --out output/distill_report.md

1. Held-out synthetic people (``<data>/Human36M``, test split, ground-truth boxes and roots, flip test):
   protocol-2 MPJPE and PA-MPJPE of teacher, baseline and student (the Evaluator, as ``convnextpose test``).
2. Agreement with the teacher (:func:`convnextpose.inference.agreement.measure_agreement`): on those
   held-out crops (their ground-truth boxes) and on the shared single-person photos (the teacher finds
   the person; ``same_crop`` and ``end_to_end``), for baseline and student.

Writes a Markdown report (and ``.json`` beside it).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
PHOTOS = [f"single_person_{i}.png" for i in (1, 2, 3, 4)]


def held_out_errors(checkpoint: str, data_root: Path) -> dict[str, float]:
    """Protocol-2 MPJPE and PA-MPJPE (mm) on the held-out synthetic subjects."""
    from convnextpose.config import load_config
    from convnextpose.engine import Evaluator
    from convnextpose.engine.evaluator import load_test_network

    cfg = load_config(
        None,
        {
            "data.root": str(data_root), "data.test_set": "human36m", "data.protocol": 2, "data.workers": 0,
            "eval.flip_test": True, "eval.use_gt_info": True, "run.device": "cpu", "run.progress": False,
        },
    )  # fmt: skip
    result = Evaluator(cfg, run_dir=ROOT / "output" / "distill_report").evaluate(
        load_test_network(checkpoint, cfg), write=False
    )
    return {k: float(v) for k, v in result["summary"].items() if isinstance(v, (int, float))}


def held_out_crops(data_root: Path, count: int) -> tuple[list[str], list[list[float]]]:
    """Image paths and ground-truth boxes of ``count`` held-out people spread over the test split."""
    from convnextpose.data import load_dataset

    dataset = load_dataset("human36m", data_root / "Human36M", "test", protocol=2)
    step = max(1, len(dataset) // count)
    records = dataset.records[::step][:count]
    return [str(r.image_path) for r in records], [list(map(float, r.bbox)) for r in records]


def agreement_rows(name: str, result: dict) -> list[str]:
    rows = []
    for mode in ("same_crop", "end_to_end"):
        values = result.get(mode) or {}
        if values:
            rows.append(
                f"| {name} | {mode} | {values['pck@0.05']:.3f} | {values['pck@0.1']:.3f} | {values['mean_2d']:.3f} "
                f"| {values['mpjpe_rel_mm']:.1f} | {values['limb_spread']:.2f} |"
            )
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--student", required=True)
    parser.add_argument("--teacher", default=str(SHARED / "fixtures" / "release_xs" / "snapshot_68.pth.tar"))
    parser.add_argument("--baseline", default="xs-synthetic", help="the model the student replaces")
    parser.add_argument("--data", default="runs/distill/data", help="folder holding the held-out Human36M")
    parser.add_argument("--crops", type=int, default=64, help="held-out crops for the agreement (default 64)")
    parser.add_argument("--out", default="output/distill_report.md")
    args = parser.parse_args()

    from convnextpose.inference import PoseEstimator
    from convnextpose.inference.agreement import measure_agreement

    data_root = Path(args.data)
    models = {"teacher": args.teacher, "baseline": args.baseline, "student": args.student}
    report: dict = {"models": models, "held_out": {}, "agreement": {}}
    lines = ["## Held-out synthetic people (ground-truth boxes and roots, flip test)", ""]
    lines += [
        "| model | checkpoint | MPJPE (mm) | PA-MPJPE rigid (mm) | PA-MPJPE similarity (mm) |",
        "|---|---|---:|---:|---:|",
    ]
    for name, checkpoint in models.items():
        errors = held_out_errors(checkpoint, data_root)
        report["held_out"][name] = errors
        lines.append(f"| {name} | {checkpoint} | {errors['mpjpe']:.1f} | {errors['pa_mpjpe_rigid']:.1f} | "
                     f"{errors['pa_mpjpe_similarity']:.1f} |")  # fmt: skip
    teacher = PoseEstimator(args.teacher)
    images, boxes = held_out_crops(data_root, args.crops)
    photos = [SHARED / "images" / p for p in PHOTOS]
    header = ["| model | mode | PCK@0.05 | PCK@0.1 | mean 2D (box size) | 3D MPJPE to teacher (mm) | limb spread |", "|---|---|---:|---:|---:|---:|---:|"]  # fmt: skip
    sections = {"held-out synthetic crops": (images, boxes), "shared single-person photos": (photos, None)}
    for section, (section_images, section_boxes) in sections.items():
        lines += ["", f"## Agreement with the teacher: {section} ({len(section_images)})", "", *header]
        for name in ("baseline", "student"):
            result = measure_agreement(PoseEstimator(models[name]), teacher, section_images, section_boxes)
            report["agreement"].setdefault(section, {})[name] = {k: v for k, v in result.items() if k != "per_image"}
            lines += agreement_rows(name, result)
    text = "\n".join(lines) + "\n"
    print(text)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    out.with_suffix(".json").write_text(json.dumps(report, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
