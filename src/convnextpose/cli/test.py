"""``convnextpose test --test-epoch 20-21 [--cfg NAME|YAML | --run DIR] [--gpu 0-1] [key=value ...]``.

Scores snapshots of a run (one epoch, a range or a list) or any checkpoint file on the configured
test set, prints a table and writes ``<run_dir>/result/<snapshot>/`` (metrics JSON and the
release's result files).
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from .train import add_common_arguments

logger = logging.getLogger(__name__)


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "test",
        help="evaluate snapshots or a checkpoint on the test set (MPJPE, PA-MPJPE, 3DPCK, AUC)",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_common_arguments(parser)
    parser.add_argument(
        "--test-epoch",
        "--test_epoch",
        dest="test_epoch",
        default=None,
        help="epoch N, range N-M, list N,M, or a checkpoint path (default: newest snapshot)",
    )
    parser.add_argument("--run", default=None, help="run directory (reads its config.yaml) instead of --cfg")
    parser.set_defaults(func=run)


def load_test_config(args: argparse.Namespace):
    """The run's own config.yaml with ``--run``, else ``--cfg`` (or the defaults), then overrides."""
    from .train import build_config

    if args.run is not None:
        run_dir = Path(args.run)
        if not (run_dir / "config.yaml").is_file():
            raise FileNotFoundError(f"--run {run_dir}: no config.yaml there (is it a training run directory?)")
        args.cfg = str(run_dir / "config.yaml")
        return build_config(args, {"run.output_dir": str(run_dir.parent), "run.name": run_dir.name})
    return build_config(args)


def run(args: argparse.Namespace) -> int:
    if args.help_config:
        from ..config import describe_keys

        print(describe_keys())
        return 0
    from ..engine.launch import test

    test(load_test_config(args), args.test_epoch)
    return 0
