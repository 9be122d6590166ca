"""Training and testing on the configured devices: in this process, under torchrun, or one process per GPU.

    >>> from convnextpose.config import load_config
    >>> from convnextpose.engine.launch import test, train
    >>> cfg = load_config("convnextpose_s_1xb32-25e_h36m-p2-mpii", {"run.gpus": [0, 1]})  # doctest: +SKIP
    >>> train(cfg)  # two processes, one per GPU, DistributedDataParallel  # doctest: +SKIP
    >>> test(cfg, "20-24")  # doctest: +SKIP

Both go through :func:`~convnextpose.engine.dist.launch`; what runs in each process is below.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from ..config import Config
from . import dist
from .evaluator import Evaluator
from .trainer import Trainer


def train(cfg: Config, resume: bool = False) -> list[dict[str, float]] | None:
    """:meth:`Trainer.fit <convnextpose.engine.Trainer.fit>` on the configured devices.

    Returns:
        The per-epoch history, or None when new processes did the training.
    """
    return dist.launch(_fit, cfg, resume)


def test(
    cfg: Config, checkpoints: str | os.PathLike | list[tuple[int | None, str | os.PathLike]] | None = None
) -> list[dict[str, Any]] | None:
    """:meth:`Evaluator.evaluate_checkpoints <convnextpose.engine.Evaluator.evaluate_checkpoints>` on the
    configured devices (each process scores its share of the test set).

    Args:
        checkpoints: as ``evaluate_checkpoints`` takes them; resolved here, before any process starts, so a
            missing snapshot is reported once.

    Returns:
        The results, or None when new processes did the testing.
    """
    from .snapshots import resolve_test_checkpoints

    if checkpoints is None or isinstance(checkpoints, (str, os.PathLike)):
        checkpoints = resolve_test_checkpoints(cfg.run_dir / "model_dump", checkpoints)
    return dist.launch(_evaluate, cfg, [(epoch, str(path)) for epoch, path in checkpoints])


def _fit(cfg: Config, resume: bool) -> list[dict[str, float]]:
    return Trainer(cfg, resume=resume).fit()


def _evaluate(cfg: Config, checkpoints: list[tuple[int | None, str]]) -> list[dict[str, Any]]:
    dist.init_distributed(dist.select_device(cfg).type)
    return Evaluator(cfg).evaluate_checkpoints([(epoch, Path(path)) for epoch, path in checkpoints])
