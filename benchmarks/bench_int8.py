"""INT8 cost and speed of trained checkpoints, and where the INT8 error comes from.

    python -m benchmarks int8 -- --checkpoints ../shared/fixtures/release_xs/snapshot_68.pth.tar xs-synthetic
    python -m benchmarks int8 -- --checkpoints CKPT --steps --layers --real-photos FOLDER

For each checkpoint, in one run: the INT8 model ``convnextpose export --format onnx-int8`` writes,
against the FP32 model, on held-out generated people (the export's own check, with more crops), on
the shared single-person photos (PCK@0.05 of the INT8 joints against the FP32 joints, box size from
tests/assets/shared_photo_labels.json; 2D, depth and root-relative 3D shift) and, with
``--real-photos``, on the people the FP32 estimator finds in a folder of photos; then ms per call at
batch 1 and 16 of the eager network, ONNX Runtime FP32 and INT8, timed interleaved
(:func:`convnextpose.inference.benchmark.time_interleaved`) with the spread over rounds.

``--steps`` adds the held-out cost of each step from the earlier INT8 recipe to the current one,
``--layers`` the per-layer comparison (:mod:`convnextpose.export.int8_errors`). Writes
``output/benchmarks/int8.{md,json}``.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
LABELS = REPO / "tests" / "assets" / "shared_photo_labels.json"

# Each step adds one change to the previous one; the last is export_onnx_int8's default.
STEPS = [
    ("earlier recipe: stick figures, 7-bit weights, all INT8",
     {"calibration": "stick", "equalize": False, "reduce_range": True, "float_layers": (), "method": "minmax"}),
    ("+ generated people to calibrate on", {"equalize": False, "reduce_range": True, "float_layers": (), "method": "minmax"}),
    ("+ residual streams equalised", {"reduce_range": True, "float_layers": (), "method": "minmax"}),
    ("+ 8-bit weights", {"float_layers": (), "method": "minmax"}),
    ("+ stem in float", {"float_layers": ("stem",), "method": "minmax"}),
    ("+ first stage in float", {"method": "minmax"}),
    ("+ ranges at the 99.999th percentile, not min/max (the default)", {}),
    ("  the default, calibrated on the stick figures", {"calibration": "stick"}),
    ("  the default with 7-bit weights (--reduce-range)", {"reduce_range": True}),
    ("  the default, entropy ranges", {"method": "entropy"}),
]  # fmt: skip


def shared_photos() -> tuple[list[np.ndarray], list[list[float]]]:
    """The four shared single-person photos and their hand-labelled person boxes (empty if ../shared is absent)."""
    from convnextpose.image import read_image

    labels = json.loads(LABELS.read_text(encoding="utf-8"))
    names = [n for n in sorted(labels) if n.startswith("single_person_") and (SHARED / "images" / n).is_file()]
    return [read_image(SHARED / "images" / n) for n in names], [labels[n]["box"] for n in names]


def real_crops(folder: str, checkpoint: str, size: tuple[int, int], count: int) -> np.ndarray:
    """Crops of the people the FP32 estimator finds in a folder of photos (every 5th image, in name order)."""
    from convnextpose.export.calibration import image_files, person_crops
    from convnextpose.image import read_image
    from convnextpose.inference import PoseEstimator

    estimator = PoseEstimator(checkpoint, detector="hog", fallback_to_frame=False)
    crops: list[np.ndarray] = []
    for path in image_files(folder)[::5]:
        image = read_image(path)
        boxes = [person.box for person in estimator.predict(image)]
        crops.extend(person_crops(image, np.reshape(boxes, (-1, 4)), size))
        if len(crops) >= count:
            break
    return np.stack(crops[:count])


def pixel_noise_cost(fp32: Path, crops: np.ndarray, seed: int = 0) -> dict[str, float]:
    """How far the FP32 model's own joints move when each pixel value changes by -1, 0 or +1 at random.

    A yardstick for the INT8 figures: uint8 pixels are themselves a quantisation, one grey level apart.
    """
    from convnextpose.export.onnx_export import make_session, run_session

    rng = np.random.default_rng(seed)
    noisy = np.clip(crops.astype(np.int16) + rng.integers(-1, 2, crops.shape), 0, 255).astype(np.uint8)
    session = make_session(fp32)
    a, b = run_session(session, crops)[0], run_session(session, noisy)[0]
    return {
        "mean_xy": float(np.linalg.norm(a[..., :2] - b[..., :2], axis=-1).mean()),
        "mean_z": float(np.abs(a[..., 2] - b[..., 2]).mean()),
    }


def time_models(model: Any, models: dict[str, Path], size: tuple[int, int], batches, repeats, threads) -> list[dict]:
    """ms per call of eager PyTorch and each ONNX model on generated people, interleaved per batch size."""
    from convnextpose.export.calibration import generated_people
    from convnextpose.export.onnx_export import make_session
    from convnextpose.inference.benchmark import _ort_runner, _torch_runner, time_interleaved

    sessions = {name: make_session(path, threads=threads) for name, path in models.items()}
    rows = []
    for batch in batches:
        data = generated_people(batch, size, seed=2)
        runners = {"eager": _torch_runner(model, data, channels_last=False)}
        runners.update({name: _ort_runner(session, data) for name, session in sessions.items()})
        block = 3 if batch == 1 else 2
        calls = repeats if batch == 1 else max(6, repeats // 4)
        samples = time_interleaved(runners, calls, block=block)
        # Speed-up per round (the same moment for all runtimes): the spread shows the machine's noise.
        rounds = [
            np.median(samples["eager"][r : r + block]) / np.median(samples["ort-int8"][r : r + block])
            for r in range(0, calls, block)
        ]
        rows.append(
            {
                "batch": batch,
                **{f"{name}_ms": float(np.median(v)) for name, v in samples.items()},
                **{f"{name}_range_ms": [float(min(v)), float(max(v))] for name, v in samples.items()},
                "int8_speedup": float(np.median(samples["eager"]) / np.median(samples["ort-int8"])),
                "int8_speedup_rounds": [float(np.percentile(rounds, 10)), float(np.percentile(rounds, 90))],
                "calls": calls,
            }
        )
    return rows


def run_steps(model: Any, workdir: Path, held_out: np.ndarray, extra: dict[str, np.ndarray]) -> list[dict]:
    """The held-out cost of each entry of :data:`STEPS`."""
    from convnextpose.export import export_onnx, export_onnx_int8, int8_cost
    from convnextpose.export.calibration import calibration_crops, generated_calibration_images, generated_people

    size = model.spec.input_size
    fp32 = workdir / "steps.onnx"
    export_onnx(model, fp32, input_format="pixels")
    people = generated_people(32, size)
    stick = calibration_crops(generated_calibration_images(32, size), size)
    rows = []
    for label, options in STEPS:
        options = dict(options)
        calibration = stick if options.pop("calibration", "people") == "stick" else people
        int8 = workdir / "step.int8.onnx"
        export_onnx_int8(model, int8, calibration, held_out=held_out[:0], **options)
        row = {"step": label, "held_out": int8_cost(fp32, int8, held_out).to_dict()}
        row.update({name: int8_cost(fp32, int8, crops).to_dict() for name, crops in extra.items()})
        rows.append(row)
        logging.info("%s: %.3f cells", label, row["held_out"]["mean_xy"])
    return rows


def run_layers(model: Any, workdir: Path, held_out: np.ndarray) -> dict[str, Any]:
    """Per-part activation errors of the default INT8 model, and the cost of quantising each part alone."""
    from convnextpose.export import export_onnx_int8, fuse_model
    from convnextpose.export.calibration import generated_people
    from convnextpose.export.equalize import stream_ranges
    from convnextpose.export.int8_errors import compare_activations, errors_by_part, isolated_costs

    calibration = generated_people(32, model.spec.input_size)
    ranges = stream_ranges(fuse_model(model), calibration)
    out: dict[str, Any] = {"stream_spread": [float(r.max() / r.median()) for r in ranges]}
    for name, options in (("all INT8", {"float_layers": ()}), ("default", {})):
        fp32, int8 = workdir / "layers.onnx", workdir / "layers.int8.onnx"
        export_onnx_int8(model, int8, calibration, held_out=held_out[:0], fp32_path=fp32, **options)
        rows, tail = compare_activations(fp32, int8, held_out[:8])
        out[name] = {"parts": errors_by_part(rows), "tail": tail}
        if name == "all INT8":
            isolated = isolated_costs(
                fp32, calibration, held_out, ["stem", "stage0", "stage1", "stage2", "stage3", "head"]
            )
            out["isolated"] = {part: cost.to_dict() for part, cost in isolated.items()}
            kinds = isolated_costs(fp32, calibration, held_out, ["depthwise", "pointwise", "downsample"])
            out["isolated"].update({kind: cost.to_dict() for kind, cost in kinds.items()})
    return out


def markdown(results: list[dict[str, Any]], machine: dict[str, Any]) -> str:
    from convnextpose.export.layer_names import PARTS

    lines = [
        f"Machine: {machine['cpu']}, {machine['cores']} cores, {machine['threads']} threads; torch {machine['torch']}, "
        f"onnxruntime {machine['onnxruntime']}; load average before {machine['load_average_before']}, "
        f"after {machine.get('load_average_after')}.",
        "",
        "| checkpoint | input | held-out people: 2D shift, cells (crop px) | depth shift, bins (mm) | photos: PCK@0.05 "
        "vs FP32 | photos: 2D px / 3D mm | batch | eager ms | ORT FP32 ms | ORT INT8 ms | INT8 vs eager (rounds p10-p90) "
        "| ORT INT8, every layer, ms |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        cost, photos = r["accuracy"]["held_out"], r["accuracy"].get("photos")
        for k, t in enumerate(r["timings"]):
            first = k == 0
            lines.append(
                "| " + " | ".join([
                    Path(r["checkpoint"]).name if first else "",
                    "x".join(map(str, r["accuracy"]["input_size"])) if first else "",
                    f"{cost['mean_xy']:.3f} ({cost['mean_xy_px']:.2f}), max {cost['max_xy']:.2f}" if first else "",
                    f"{cost['mean_z']:.3f} ({cost['mean_z_mm']:.1f})" if first else "",
                    f"{100 * photos['pck']:.1f} %" if first and photos else "",
                    f"{photos['mean_xy_px']:.2f} / {photos['mean_3d_mm']:.1f}" if first and photos else "",
                    str(t["batch"]),
                    *(f"{t[f'{n}_ms']:.2f} ({t[f'{n}_range_ms'][0]:.1f}-{t[f'{n}_range_ms'][1]:.1f})"
                      for n in ("eager", "ort-fp32", "ort-int8")),
                    f"{t['int8_speedup']:.2f}x ({t['int8_speedup_rounds'][0]:.2f}-{t['int8_speedup_rounds'][1]:.2f})",
                    f"{t['ort-int8-all_ms']:.2f}" if "ort-int8-all_ms" in t else "",
                ]) + " |"
            )  # fmt: skip
    for r in results:
        name = Path(r["checkpoint"]).name
        noise = r["pixel_noise"]
        lines += ["", f"{name}, FP32 joints under +-1 grey-level pixel noise (the yardstick): "
                  + ", ".join(f"{k} {v['mean_xy']:.3f} cells / {v['mean_z']:.3f} bins" for k, v in noise.items())]  # fmt: skip
        if r.get("real"):
            c = r["real"]
            lines += ["", f"{name}, {c['crops']} people found in --real-photos: 2D shift {c['mean_xy']:.3f} cells "
                      f"({c['mean_xy_px']:.2f} crop px), depth {c['mean_z']:.3f} bins."]  # fmt: skip
        if r.get("steps"):
            extra = [k for k in r["steps"][0] if k not in ("step", "held_out")]
            header = ["step", "generated people", *extra]
            lines += ["", f"{name}: held-out cost of each step (2D cells / depth bins):", "",
                      "| " + " | ".join(header) + " |", "|---" * len(header) + "|"]  # fmt: skip
            for s in r["steps"]:
                cells = [f"{s[k]['mean_xy']:.3f} / {s[k]['mean_z']:.3f}" for k in ("held_out", *extra)]
                lines.append(f"| {s['step']} | " + " | ".join(cells) + " |")
        if r.get("layers"):
            lay = r["layers"]
            lines += ["", f"{name}: relative error of the last quantised tensor of each part (all INT8 / default), "
                      "and the held-out 2D shift with only that part quantised:", "",
                      "| part | all INT8 | default | only this part quantised, cells |", "|---|---|---|---|"]  # fmt: skip
            for part, cost in lay["isolated"].items():
                errors = [lay[k]["parts"].get(part) for k in ("all INT8", "default")]
                cells = [f"{e['last']:.3f}" if e else "float" if part in PARTS else "" for e in errors]
                lines.append(f"| {part} | {cells[0]} | {cells[1]} | {cost['mean_xy']:.3f} |")
            spread = ", ".join(f"{v:.1f}x" for v in lay["stream_spread"])
            lines += ["", f"Widest channel of each stage's residual stream over its median channel: {spread}."]
            tail = lay["default"]["tail"]
            lines += ["", f"The quantised soft-argmax tail by itself (INT8 joints vs a float soft-argmax of the INT8 "
                      f"logits): {tail['mean_xy']:.1e} cells mean, {tail['max_xy']:.1e} max."]  # fmt: skip
    return "\n".join(lines) + "\n"


def main(argv: list[str]) -> int:
    from convnextpose.atomic import write_bytes_atomic
    from convnextpose.export import export_onnx_int8
    from convnextpose.export.calibration import generated_people
    from convnextpose.export.onnx_int8 import int8_cost
    from convnextpose.inference.benchmark import int8_accuracy, machine_info, steady_allocator
    from convnextpose.models import load_model

    parser = argparse.ArgumentParser(prog="python -m benchmarks int8")
    default_release = SHARED / "fixtures" / "release_xs" / "snapshot_68.pth.tar"
    parser.add_argument("--checkpoints", nargs="+", default=[str(default_release), "xs-synthetic"])
    parser.add_argument("--held-out", type=int, default=48, help="held-out generated people (default 48)")
    parser.add_argument("--batches", type=int, nargs="+", default=[1, 16])
    parser.add_argument("--repeats", type=int, default=30, help="timed calls per runtime at batch 1")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--real-photos", default=None, help="a folder of photos of people for a real held-out set")
    parser.add_argument("--steps", action="store_true", help="also the cost of each step of the INT8 recipe")
    parser.add_argument("--layers", action="store_true", help="also the per-layer comparison")
    parser.add_argument("--out", default="output/benchmarks")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")

    import torch

    torch.set_num_threads(args.threads)
    machine = machine_info(args.threads)
    machine["steady_allocator"] = steady_allocator()
    photos, boxes = shared_photos() if LABELS.is_file() else ([], [])
    results = []
    with tempfile.TemporaryDirectory(prefix="convnextpose-int8-bench-") as tmp:
        for checkpoint in args.checkpoints:
            workdir = Path(tmp)
            model = load_model(checkpoint).eval()
            size = model.spec.input_size
            held_out = generated_people(args.held_out, size, seed=1)
            logging.info("%s: INT8 export and accuracy", checkpoint)
            accuracy = int8_accuracy(checkpoint, workdir, photos, boxes if photos else None, held_out=held_out)
            result: dict[str, Any] = {"checkpoint": str(checkpoint), "accuracy": accuracy}
            result["pixel_noise"] = {"held_out": pixel_noise_cost(workdir / "accuracy.onnx", held_out)}
            extra = {}
            if args.real_photos:
                extra["real photos"] = real_crops(args.real_photos, checkpoint, size, args.held_out)
                fp32, int8 = workdir / "accuracy.onnx", workdir / "accuracy.int8.onnx"
                result["real"] = int8_cost(fp32, int8, extra["real photos"]).to_dict()
                result["pixel_noise"]["real"] = pixel_noise_cost(fp32, extra["real photos"])
            logging.info("%s: timing", checkpoint)
            models = {"ort-fp32": workdir / "accuracy.onnx", "ort-int8": workdir / "accuracy.int8.onnx"}
            models["ort-int8-all"] = workdir / "all.int8.onnx"  # every layer INT8: what the float layers cost
            export_onnx_int8(model, models["ort-int8-all"], generated_people(32, size), held_out[:0], float_layers=())
            result["timings"] = time_models(model, models, size, args.batches, args.repeats, args.threads)
            if args.steps:
                result["steps"] = run_steps(model, workdir, held_out, extra)
            if args.layers:
                result["layers"] = run_layers(model, workdir, held_out)
            results.append(result)
    machine["load_average_after"] = [round(v, 2) for v in os.getloadavg()] if hasattr(os, "getloadavg") else None
    report = markdown(results, machine)
    print(report)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    write_bytes_atomic(out / "int8.md", report.encode())
    write_bytes_atomic(out / "int8.json", json.dumps({"machine": machine, "results": results}, indent=1).encode())
    print(f"written: {out / 'int8.md'}, {out / 'int8.json'}")
    return 0


if __name__ == "__main__":
    import sys

    sys.exit(main(sys.argv[1:]))
