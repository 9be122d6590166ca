"""``convnextpose bench``: network latency and end-to-end frames per second on this machine."""

from __future__ import annotations

import argparse


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "bench",
        help="latency of eager / optimised PyTorch / ONNX Runtime FP32 and INT8, and end-to-end fps",
        description="Random-init weights (speed does not depend on them). Quick by default; for the full table "
        "run: convnextpose bench --variants xs s m l --repeats 30",
    )
    parser.add_argument("--variants", nargs="+", default=["xs"], help="variants to time (default: xs)")
    parser.add_argument("--batches", type=int, nargs="+", default=[1, 16])
    parser.add_argument(
        "--runtimes", nargs="+", default=None, help="subset of eager torch-fused torch-opt ort-fp32 ort-int8"
    )
    parser.add_argument("--repeats", type=int, default=20, help="timed calls per runtime at batch 1 (default 20)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--frames", type=int, default=60, help="frames for the end-to-end measurement")
    parser.add_argument("--no-e2e", action="store_true", help="skip the end-to-end measurement")
    parser.add_argument("--accuracy-checkpoint", default=None, help="trained checkpoint to measure INT8 accuracy on")
    parser.add_argument("--out", default="output/benchmarks", help="folder for inference.md/.json/.png")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..inference.benchmark import RUNTIMES, markdown_report, run_benchmark, write_report

    result = run_benchmark(
        variants=args.variants,
        batches=args.batches,
        runtimes=args.runtimes or RUNTIMES,
        repeats=args.repeats,
        threads=args.threads,
        end_to_end=not args.no_e2e,
        e2e_frames=args.frames,
        e2e_variant=args.variants[0],
        accuracy_checkpoint=args.accuracy_checkpoint,
    )
    print(markdown_report(result))
    paths = write_report(result, args.out)
    print("written: " + ", ".join(str(p) for p in paths.values()))
    return 0
