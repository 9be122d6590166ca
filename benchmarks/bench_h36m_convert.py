"""Raw Human3.6M conversion speed: frames per second of ``convert_h36m`` (decode, JPEG, write).

``python -m benchmarks h36m_convert [-- --quick] [-- --frames N --image-size PX --workers N]``: writes a
synthetic raw set (one subject, Directions, both subactions, four cameras, 1000 px frames as the real
videos' 1000 x 1000/1002) with ``generate_human36m_raw``, then converts it with 1 and with ``--workers``
processes, every frame kept, and with ``--workers`` processes keeping every 5th frame, the fastest of
``--repeat`` runs each. Frames/s counts video frames read (at stride 5, one in five is written). Prints a Markdown table and writes it to ``output/benchmarks/h36m_convert.md``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
from pathlib import Path


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks h36m_convert")
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke run")
    parser.add_argument("--frames", type=int, default=None, help="frames per sequence")
    parser.add_argument("--image-size", type=int, default=None, help="frame width px")
    parser.add_argument("--workers", type=int, default=min(2, os.cpu_count() or 1), help="conversion processes")
    parser.add_argument("--repeat", type=int, default=3, help="conversions per setting; the fastest counts")
    args = parser.parse_args(argv)
    frames = args.frames or (4 if args.quick else 25)
    size = args.image_size or (256 if args.quick else 1000)

    from convnextpose.data import convert_h36m, generate_human36m_raw

    selection = {"subjects": (1,), "actions": (2,), "subactions": (1, 2), "cameras": (1, 2, 3, 4)}
    rows = []
    work = Path(tempfile.mkdtemp(prefix="bench_h36m_convert_"))
    try:
        start = time.perf_counter()
        raw = generate_human36m_raw(
            work / "raw", frames=frames, image_size=size, workers=args.workers, progress=False, **selection
        )
        rows.append(("synthetic raw set", f"{time.perf_counter() - start:.1f} s", f"8 videos x {frames} frames"))
        runs = [(workers, 1) for workers in sorted({1, args.workers})] + [(args.workers, 5)]
        for workers, stride in runs:
            best = float("inf")
            for attempt in range(args.repeat):  # the best of a few: the machine is shared
                out = work / f"Human36M_{workers}_{stride}_{attempt}"
                start = time.perf_counter()
                convert_h36m(raw, out, workers=workers, stride=stride, progress=False, **selection)
                best = min(best, time.perf_counter() - start)
                shutil.rmtree(out)
            rate = 8 * frames / best  # video frames read per second
            setting = f"{8 * frames} video frames {size}x{size}(+2) px, stride {stride}, JPEG q90"
            rows.append((f"convert_h36m, {workers} process{'es' * (workers > 1)}", f"{rate:.1f} frames/s", setting))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    lines = ["| measurement | value | setting |", "| --- | --- | --- |"] + [f"| {a} | {b} | {c} |" for a, b, c in rows]
    table = "\n".join(lines)
    print(table)
    out_dir = Path("output") / "benchmarks"
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "h36m_convert.md").write_text(f"cpu count: {os.cpu_count()}\n\n{table}\n")
    return 0
