"""``convnextpose quickstart``: generate a small synthetic Human3.6M set, train ConvNeXtPose-XS on it on this
machine's CPU, test on held-out subjects, and compare with predicting the training set's mean pose.

Training starts from the packaged synthetic starter weights (``xs-synthetic``), as the release starts from an
ImageNet backbone, and the table shows those weights before training too; ``--from-scratch`` starts from random
weights instead.

Everything goes under ``--out`` (default ``output/quickstart``): ``data/Human36M`` (the generated
set, in the real Human3.6M layout) and the run (``config.yaml``, ``log/``, ``model_dump/``, ``result/``).
"""

from __future__ import annotations

import argparse
import logging
import time
from pathlib import Path

logger = logging.getLogger(__name__)

CONFIG = "convnextpose_xs_1xb16-3e_synth-h36m"
TRAIN_SUBJECTS = (1, 5, 6, 7, 8)
TEST_SUBJECTS = (9, 11)
# Ten actions with distinct poses (standing, sitting, arms raised, walking), so the mean pose is a fair baseline.
ACTIONS = (2, 4, 5, 6, 7, 9, 10, 12, 14, 15)


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "quickstart",
        help="train and test a small model on generated data, on the CPU, in a few minutes",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--out", default="output/quickstart", help="folder for the data and the run")
    parser.add_argument("--frames", type=int, default=16, help="frames per sequence (10 actions x 4 cameras each)")
    parser.add_argument("--image-size", type=int, default=256, help="side of the generated images, px")
    parser.add_argument("--workers", type=int, default=2, help="processes rendering the data")
    parser.add_argument(
        "--from-scratch", action="store_true", help="start from random weights instead of the packaged starter"
    )
    parser.add_argument("overrides", nargs="*", metavar="key=value", help=f"overrides of the {CONFIG} config")
    parser.set_defaults(func=run)


def mean_pose_baseline(train_dataset, test_dataset, protocol: int = 2) -> dict:
    """Human3.6M figures of predicting the training set's mean root-relative pose for every test sample."""
    import numpy as np

    from ..metrics.protocols import evaluate_human36m

    root = train_dataset.joint_set.root_index
    train = np.stack([r.joints_cam for r in train_dataset.records])
    mean_pose = (train - train[:, root : root + 1]).mean(axis=0)
    gt = np.stack([r.joints_cam for r in test_dataset.records])
    pred = np.broadcast_to(mean_pose, gt.shape) + gt[:, root : root + 1]
    actions = [int(r.meta["action_idx"]) for r in test_dataset.records]
    return evaluate_human36m(pred, gt, actions, protocol, test_dataset.joint_set)


def run(args: argparse.Namespace) -> int:
    import torch

    from ..config import load_config
    from ..config_values import parse_override
    from ..engine import Evaluator, Trainer
    from ..synth import generate_dataset

    start = time.perf_counter()
    out = Path(args.out)
    data_root = out / "data"
    overrides = {
        "data.root": str(data_root),
        "run.output_dir": str(out),
        "run.device": "cpu",
    }
    if args.from_scratch:
        overrides["model.init"] = None
    overrides.update(dict(parse_override(o) for o in args.overrides))
    cfg = load_config(CONFIG, overrides)
    print(
        f"1/4 generating a synthetic Human3.6M set in {data_root / 'Human36M'}: subjects "
        f"{', '.join(map(str, TRAIN_SUBJECTS))} to train on, {', '.join(map(str, TEST_SUBJECTS))} held out",
        flush=True,
    )
    generate_dataset(
        "human36m",
        cfg.dataset_root("human36m"),
        seed=cfg.run.seed,
        subjects=TRAIN_SUBJECTS + TEST_SUBJECTS,
        actions=ACTIONS,
        frames=args.frames,
        frame_stride=25,
        image_size=args.image_size,
        workers=args.workers,
        progress=False,
    )
    generated = time.perf_counter()
    print(f"    done in {generated - start:.0f} s", flush=True)

    threads = torch.get_num_threads()
    print(
        f"2/4 training ConvNeXtPose-{cfg.model.variant.upper()} at {cfg.model.input_size[0]}x{cfg.model.input_size[1]} "
        f"for {cfg.train.end_epoch} epochs on the CPU ({threads} threads), starting from "
        f"{cfg.model.init or 'random weights'}; run folder {cfg.run_dir}",
        flush=True,
    )
    trainer = Trainer(cfg)
    evaluator = Evaluator(cfg)
    logging.getLogger("convnextpose.engine.evaluator").setLevel(logging.WARNING)
    before = None
    if cfg.model.init:
        print(f"    testing the starting weights ({cfg.model.init}) first, for comparison", flush=True)
        before = evaluator.evaluate(trainer.model, tag="init", checkpoint=str(cfg.model.init))["summary"]
    history = trainer.fit()
    trained = time.perf_counter()
    print(
        f"    done in {trained - generated:.0f} s; loss {history[0]['loss']:.3f} -> {history[-1]['loss']:.3f}",
        flush=True,
    )

    print(
        f"3/4 testing on the held-out subjects {', '.join(map(str, TEST_SUBJECTS))} (flip test, ground-truth boxes)",
        flush=True,
    )
    result = evaluator.evaluate(trainer.model, epoch=cfg.train.end_epoch - 1)
    print(result["table"])
    tested = time.perf_counter()

    print("4/4 comparing with predicting the training set's mean pose (root-relative) for everyone", flush=True)
    baseline = mean_pose_baseline(trainer.train_samples.datasets[0], evaluator.dataset, cfg.data.protocol)
    name = f"ConvNeXtPose-{cfg.model.variant.upper()}"
    rows = [("mean training pose", baseline["overall"])]
    if before is not None:
        rows.append((f"{cfg.model.init}, untrained", before))
    rows.append((f"{name}, trained", result["summary"]))
    print(f"\n{'held-out subjects, mm':<28}{'MPJPE':>10}{'PA-MPJPE rigid':>18}{'PA-MPJPE similarity':>22}")
    for label, row in rows:
        print(f"{label:<28}{row['mpjpe']:>10.1f}{row['pa_mpjpe_rigid']:>18.1f}{row['pa_mpjpe_similarity']:>22.1f}")
    gain = 1.0 - result["summary"]["mpjpe"] / baseline["overall"]["mpjpe"]
    pa_gain = 1.0 - result["summary"]["pa_mpjpe_similarity"] / baseline["overall"]["pa_mpjpe_similarity"]
    print(
        f"\nAgainst the mean pose, the trained network's error is {100 * gain:.0f}% lower without alignment and "
        f"{100 * pa_gain:.0f}% lower after similarity alignment ({result['num_samples']} test crops).\n"
        f"Total time {time.perf_counter() - start:.0f} s (data {generated - start:.0f} s, "
        f"training {trained - generated:.0f} s, test {tested - trained:.0f} s)."
    )
    print(f"Snapshots: {cfg.run_dir / 'model_dump'}; results: {cfg.run_dir / 'result'}")
    print(f"Test again: convnextpose test --run {cfg.run_dir} --test-epoch {cfg.train.end_epoch - 1}")
    return 0
