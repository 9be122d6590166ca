"""Speed of a synthetic body back-end (Anny meshes by default, or capsules): sampled and rendered images per second.

``python -m benchmarks bodies -- --workers 2 --frames 40 [--bodies capsule]`` runs one process per worker (one
thread each), every process sampling scenes and rendering them, and prints a Markdown table. Modes:

- ``crop``: a Human3.6M-style frame, only the person's crop rendered at the network input size (the training case);
- ``crop_multi``: three people (MuPoTS-style camera), the crop around one of them;
- ``full``: the whole 1000 x 1000 Human3.6M-style frame.

Each row gives wall-clock images/s over all workers and the CPU time per image (``process_time``), which does not
grow when other jobs share the cores; the load average is printed so the two can be compared.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import sys
import time

MODES = ("crop", "crop_multi", "full")


def _worker(args: tuple) -> dict:
    mode, seed, frames, size, warmup, bodies = args
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    import numpy as np
    import torch

    torch.set_num_threads(1)
    from convnextpose.synth.frames import FrameSampler
    from convnextpose.synth.render import render_frame

    scene = FrameSampler(seed=seed, bodies=bodies, batch_size=16)

    def one() -> None:
        if mode == "full":
            frame = scene.sample_frame(num_people=1, camera="h36m")
            render_frame(frame)
        elif mode == "crop":
            frame = scene.sample_frame(num_people=1, camera="h36m")
            render_frame(frame, crop=frame.person_box(0, 1.25), out_size=(size, size))
        else:
            frame = scene.sample_frame(num_people=3, camera="mupots")
            k = int(np.argmax([p.points[:, 2].max() for p in frame.people]))
            render_frame(frame, crop=frame.person_box(k, 1.25), out_size=(size, size))

    # Warm-up fills the texture pool and the pool of posed people, which later frames reuse.
    for _ in range(warmup):
        one()
    wall, cpu = time.perf_counter(), time.process_time()
    for _ in range(frames):
        one()
    return {"wall": time.perf_counter() - wall, "cpu": time.process_time() - cpu, "frames": frames}


def run(mode: str, workers: int, frames: int, size: int, warmup: int, seed: int, bodies: str = "anny") -> dict:
    jobs = [(mode, seed + k, frames, size, warmup, bodies) for k in range(workers)]
    if workers == 1:
        results = [_worker(jobs[0])]
    else:
        with mp.get_context("spawn").Pool(workers) as pool:
            results = pool.map(_worker, jobs)
    total = sum(r["frames"] for r in results)
    wall = max(r["wall"] for r in results)
    cpu = sum(r["cpu"] for r in results)
    return {
        "mode": mode,
        "workers": workers,
        "images": total,
        "images_per_s": total / wall,
        "cpu_ms_per_image": 1000 * cpu / total,
        "per_core_cpu": total / cpu,
    }


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="bench_bodies", description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=2, help="processes (one thread each)")
    parser.add_argument("--frames", type=int, default=30, help="timed images per worker and mode")
    parser.add_argument("--warmup", type=int, default=40, help="untimed images per worker first")
    parser.add_argument("--size", type=int, default=256, help="crop output size in pixels")
    parser.add_argument("--modes", default=",".join(MODES), help=f"comma-separated subset of {MODES}")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--bodies", choices=("anny", "capsule"), default="anny", help="body back-end")
    args = parser.parse_args(argv)
    if args.bodies == "anny":
        try:
            import anny  # noqa: F401
        except ImportError:
            print("skipped: the Anny backend needs the optional extra: pip install convnextpose[anny]")
            return 0
    modes = [m for m in args.modes.split(",") if m]
    unknown = sorted(set(modes) - set(MODES))
    if unknown:
        print(f"unknown modes {unknown}; choose from {MODES}", file=sys.stderr)
        return 2
    rows = [run(m, args.workers, args.frames, args.size, args.warmup, args.seed, args.bodies) for m in modes]
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"{args.bodies} bodies, {args.workers} worker process(es) x 1 thread, crops {args.size}x{args.size}, "
          f"{os.cpu_count()} CPUs, load average {load:.1f} at the end\n")  # fmt: skip
    print("| mode | images | images/s (wall, all workers) | CPU ms / image | images/s per core (CPU time) |")
    print("|---|---|---|---|---|")
    for r in rows:
        print(
            f"| {r['mode']} | {r['images']} | {r['images_per_s']:.1f} | {r['cpu_ms_per_image']:.0f} | "
            f"{r['per_core_cpu']:.1f} |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
