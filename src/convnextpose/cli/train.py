"""``convnextpose train [--cfg NAME|YAML] [--gpu 0-1] [--continue] [key=value ...]``: train a network.

Several GPUs of one machine (``--gpu 0-1``): one process per GPU is started with
``torch.multiprocessing`` and they train together with DistributedDataParallel. Several machines:
start ``torchrun ... -m convnextpose train ...`` on each; the processes read torchrun's variables.
"""

from __future__ import annotations

import argparse
import logging

logger = logging.getLogger(__name__)


def add_common_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--cfg", "--config", dest="cfg", default=None, help="shipped config name or YAML path")
    parser.add_argument(
        "--gpu", "--gpus", dest="gpu", default=None, help="GPU ids, e.g. 0, 0-1 or 0,2 (default: GPU 0 if any)"
    )
    parser.add_argument("--cpu", action="store_true", help="run on the CPU even where CUDA is available")
    parser.add_argument("--help-config", action="store_true", help="list every config key with its default, then exit")
    parser.add_argument("overrides", nargs="*", metavar="key=value", help="config overrides, e.g. train.lr=5e-4")


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "train",
        help="train a network (config + key=value overrides; --continue resumes)",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_common_arguments(parser)
    parser.add_argument(
        "--continue", dest="resume", action="store_true", help="resume from the newest complete snapshot"
    )
    parser.add_argument("--init", default=None, help="initialise the weights from a checkpoint (sets model.init)")
    parser.set_defaults(func=run)


def build_config(args: argparse.Namespace, extra: dict | None = None):
    """Config from ``--cfg``, ``--gpu``/``--cpu`` and the positional overrides."""
    from ..config import load_config
    from ..config_values import parse_int_range, parse_override

    overrides = dict(parse_override(o) for o in args.overrides)
    if args.gpu is not None:
        overrides["run.gpus"] = parse_int_range(args.gpu, "--gpu")
    if args.cpu:
        overrides["run.device"] = "cpu"
    overrides.update(extra or {})
    return load_config(args.cfg, overrides)


def run(args: argparse.Namespace) -> int:
    if args.help_config:
        from ..config import describe_keys

        print(describe_keys())
        return 0
    from ..engine.launch import train

    cfg = build_config(args, {"model.init": args.init} if args.init else {})
    history = train(cfg, resume=args.resume)
    if history:
        last = history[-1]
        logger.info(
            "done: epoch %d, loss %.5f; snapshots in %s", last["epoch"], last["loss"], cfg.run_dir / "model_dump"
        )
    return 0
