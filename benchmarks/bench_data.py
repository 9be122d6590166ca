"""Data pipeline speed: synthetic generation, annotation indexing, and training samples per second.

``python -m benchmarks data [-- --quick] [-- --samples N --frames N --index-frames N]``: generates a
Human3.6M set (1000x1000 images), times the loader + augmentation of ``TrainSamples`` in one process
(one DataLoader worker's throughput), then indexes an annotation-only Human3.6M set of many thousand
annotations. Prints a Markdown table and writes it to ``output/benchmarks/data.md``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
from pathlib import Path


def _table(rows: list[tuple[str, str, str]]) -> str:
    lines = ["| measurement | value | setting |", "| --- | --- | --- |"]
    lines += [f"| {a} | {b} | {c} |" for a, b, c in rows]
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks data")
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke run")
    parser.add_argument("--frames", type=int, default=None, help="frames per sequence of the rendered set")
    parser.add_argument("--image-size", type=int, default=1000)
    parser.add_argument("--samples", type=int, default=None, help="training samples to time")
    parser.add_argument("--index-frames", type=int, default=None, help="frames per sequence of the indexing set")
    parser.add_argument("--workers", type=int, default=min(2, os.cpu_count() or 1), help="generator processes")
    args = parser.parse_args(argv)
    frames = args.frames or (2 if args.quick else 8)
    samples = args.samples or (20 if args.quick else 200)
    index_frames = args.index_frames or (10 if args.quick else 100)

    from convnextpose.data import TrainSamples, load_dataset
    from convnextpose.synth import generate_dataset

    rows = []
    work = Path(tempfile.mkdtemp(prefix="bench_data_"))
    try:
        rendered = work / "Human36M"
        gen = dict(subjects=(1, 9), actions=(2, 14), frames=frames, image_size=args.image_size, progress=False)
        start, cpu = time.perf_counter(), time.process_time()
        generate_dataset("human36m", rendered, workers=1, **gen)
        elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
        images = 2 * 2 * 4 * frames
        rows.append(
            ("generator, 1 process", f"{images / elapsed:.1f} images/s", f"{images} images {args.image_size}px")
        )
        # CPU time barely depends on what else runs on the machine (wall time does): compare runs by it.
        rows.append(("generator, 1 process, CPU time", f"{1000 * cpu / images:.0f} ms/image", "the same"))
        if args.workers > 1:
            start = time.perf_counter()
            generate_dataset("human36m", work / "Human36M_parallel", workers=args.workers, **gen)
            elapsed = time.perf_counter() - start
            rows.append(
                (f"generator, {args.workers} processes", f"{images / elapsed:.1f} images/s", f"{images} images")
            )

        dataset = load_dataset("human36m", rendered, "train", subjects=(1,), subsample=1)
        for augment in (True, False):
            train = TrainSamples([dataset], "human36m", input_size=(256, 256), augment=augment, seed=0)
            train[0]  # warm up
            start = time.perf_counter()
            for i in range(samples):
                train[i % len(train)]
            rate = samples / (time.perf_counter() - start)
            what = "augmented" if augment else "plain crop"
            rows.append(
                (f"TrainSamples, {what}", f"{rate:.1f} samples/s per worker", f"256x256 from {args.image_size}px JPEG")
            )

        index_root = work / "Human36M_index"
        start, cpu = time.perf_counter(), time.process_time()
        generate_dataset(
            "human36m", index_root, subjects=(1, 5, 6, 7, 8), actions=tuple(range(2, 17)), subactions=(1, 2),
            frames=index_frames, render=False, bbox_root=False, progress=False,
        )  # fmt: skip
        annotations = 5 * 15 * 2 * 4 * index_frames
        size_mb = sum(p.stat().st_size for p in (index_root / "annotations").iterdir()) / 1e6
        elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
        rows.append(("annotation-only generation", f"{elapsed:.1f} s ({cpu:.1f} s CPU)", f"{annotations} annotations"))
        os.environ["CONVNEXTPOSE_CACHE"] = str(work / "cache")
        for subsample, cache, label in ((1, False, ""), (5, False, ""), (1, True, ", cached reload")):
            if cache:  # fill the cache, then time a reload
                load_dataset("human36m", index_root, "train", protocol=2, subsample=subsample, cache=True)
            start = time.perf_counter()
            indexed = load_dataset("human36m", index_root, "train", protocol=2, subsample=subsample, cache=cache)
            elapsed = time.perf_counter() - start
            rows.append(
                (f"index Human3.6M train, subsample {subsample}{label}",
                 f"{elapsed:.2f} s ({len(indexed) / elapsed:,.0f} records/s)",
                 f"{annotations} annotations, {size_mb:.0f} MB JSON")
            )  # fmt: skip
    finally:
        shutil.rmtree(work, ignore_errors=True)
    table = _table(rows)
    print(table)
    out = Path("output") / "benchmarks"
    out.mkdir(parents=True, exist_ok=True)
    (out / "data.md").write_text(f"cpu count: {os.cpu_count()}\n\n{table}\n")
    return 0
