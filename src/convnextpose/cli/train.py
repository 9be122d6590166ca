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
    from ..config import load_config, parse_int_range, parse_override

    overrides = dict(parse_override(o) for o in args.overrides)
    if args.gpu is not None:
        overrides["run.gpus"] = parse_int_range(args.gpu, "--gpu")
    if args.cpu:
        overrides["run.device"] = "cpu"
    overrides.update(extra or {})
    return load_config(args.cfg, overrides)


def _train_worker(cfg_dict: dict, resume: bool) -> None:
    from ..config import Config
    from ..engine import Trainer
    from ..engine.dist import cleanup_distributed

    logging.basicConfig(level=logging.INFO, format="%(message)s")
    try:
        Trainer(Config.from_dict(cfg_dict), resume=resume).fit()
    finally:
        cleanup_distributed()


def run(args: argparse.Namespace) -> int:
    if args.help_config:
        from ..config import describe_keys

        print(describe_keys())
        return 0
    from ..engine.dist import env_world_size, launch_local

    extra = {"model.init": args.init} if args.init else {}
    cfg = build_config(args, extra)
    gpus = cfg.run.gpus
    if len(gpus) > 1 and env_world_size() == 1 and cfg.run.device != "cpu":
        import torch

        if torch.cuda.device_count() < max(gpus) + 1:
            raise RuntimeError(f"--gpu {args.gpu}: this machine has {torch.cuda.device_count()} CUDA device(s)")
        logger.info("starting %d training processes, one per GPU %s", len(gpus), gpus)
        launch_local(_train_worker, len(gpus), (cfg.to_dict(), args.resume), devices=gpus)
    else:
        from ..engine import Trainer
        from ..engine.dist import cleanup_distributed

        try:
            history = Trainer(cfg, resume=args.resume).fit()
        finally:
            cleanup_distributed()
        if history:
            last = history[-1]
            logger.info(
                "done: epoch %d, loss %.5f; snapshots in %s", last["epoch"], last["loss"], cfg.run_dir / "model_dump"
            )
    return 0
