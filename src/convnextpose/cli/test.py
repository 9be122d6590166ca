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


def checkpoints_to_test(cfg, test_epoch: str | None) -> list[tuple[int | None, Path]]:
    from ..engine.snapshots import list_snapshots, resolve_test_checkpoints

    model_dump = cfg.run_dir / "model_dump"
    if test_epoch is None:
        found = list_snapshots(model_dump)
        if not found:
            raise FileNotFoundError(f"no snapshots in {model_dump}; pass --test-epoch N or a checkpoint path")
        return [found[0]]
    return resolve_test_checkpoints(model_dump, test_epoch)


def load_for_test(path: Path, cfg):
    """Network from any checkpoint; release snapshots (no stored spec) take the input size, and the depth bins and
    upsampling count where set, from cfg (otherwise they are inferred from the tensors)."""
    from ..models import load_model
    from ..models.checkpoint import read_checkpoint

    payload = read_checkpoint(path)
    if "model_spec" in payload:
        return load_model(path)
    return load_model(
        path,
        depth_dim=cfg.model.depth_dim,
        upsample_layers=cfg.model.upsample_layers,
        input_size=tuple(cfg.model.input_size),
    )


def test_checkpoints(cfg, checkpoints: list[tuple[int | None, Path]]) -> list[dict]:
    """Evaluate each checkpoint with one Evaluator; returns the results (rank 0 prints the tables)."""
    from ..engine import Evaluator
    from ..engine.dist import is_main_process

    evaluator = Evaluator(cfg)
    results = []
    for epoch, path in checkpoints:
        model = load_for_test(path, cfg)
        tag = f"snapshot_{epoch}" if epoch is not None else Path(path).name.split(".")[0]
        if is_main_process():
            print(f"\n== {path} ==", flush=True)
        result = evaluator.evaluate(model, epoch=epoch, tag=tag, checkpoint=str(path))
        if is_main_process():
            if not logging.getLogger("convnextpose").isEnabledFor(logging.INFO):
                print(result["table"])
            print(f"results: {cfg.run_dir / 'result' / tag}", flush=True)
        results.append(result)
    return results


def _test_worker(cfg_dict: dict, checkpoints: list) -> None:
    from ..config import Config
    from ..engine.dist import cleanup_distributed, init_distributed, select_device

    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    cfg = Config.from_dict(cfg_dict)
    try:
        init_distributed(select_device(cfg).type)
        test_checkpoints(cfg, [(e, Path(p)) for e, p in checkpoints])
    finally:
        cleanup_distributed()


def run(args: argparse.Namespace) -> int:
    if args.help_config:
        from ..config import describe_keys

        print(describe_keys())
        return 0
    from ..engine.dist import cleanup_distributed, env_world_size, init_distributed, launch_local, select_device

    cfg = load_test_config(args)
    checkpoints = checkpoints_to_test(cfg, args.test_epoch)
    gpus = cfg.run.gpus
    if len(gpus) > 1 and env_world_size() == 1 and cfg.run.device != "cpu":
        launch_local(_test_worker, len(gpus), (cfg.to_dict(), [(e, str(p)) for e, p in checkpoints]), devices=gpus)
        return 0
    try:
        init_distributed(select_device(cfg).type)
        test_checkpoints(cfg, checkpoints)
    finally:
        cleanup_distributed()
    return 0
