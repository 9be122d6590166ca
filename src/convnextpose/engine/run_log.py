"""What a training run reports: ``log/train.log``, TensorBoard scalars (when installed) and the progress bar."""

from __future__ import annotations

import logging
import math
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)


def format_terms(stats: dict[str, float]) -> str:
    """``coord 0.12, distill_volume 0.40`` from an epoch's ``loss_<term>`` means."""
    return ", ".join(f"{k.removeprefix('loss_')} {v:.4f}" for k, v in stats.items() if k.startswith("loss_"))


def format_hms(seconds: float) -> str:
    """``1:02:03`` for 3723 seconds; ``?`` when not finite."""
    if not math.isfinite(seconds):
        return "?"
    seconds = int(seconds)
    return f"{seconds // 3600:d}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"


class RunLog:
    """The package's log lines copied into ``<log_dir>/train.log``, and TensorBoard scalars beside it.

    Only the main process of a run opens one; :meth:`close` detaches both (idempotent).
    """

    def __init__(self, log_dir: Path) -> None:
        package_logger = logging.getLogger("convnextpose")
        self._handler: logging.Handler | None = logging.FileHandler(Path(log_dir) / "train.log")
        self._handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
        package_logger.addHandler(self._handler)
        if package_logger.level == logging.NOTSET or package_logger.level > logging.INFO:
            package_logger.setLevel(logging.INFO)
        self.tensorboard: Any = None
        try:
            from torch.utils.tensorboard import SummaryWriter
        except ImportError:
            logger.debug("TensorBoard is not installed: scalars go to the text log only")
        else:
            self.tensorboard = SummaryWriter(str(log_dir))

    def scalars(self, step: int, values: dict[str, float]) -> None:
        """TensorBoard scalars at ``step``, e.g. ``{"train/loss": 0.12}``."""
        if self.tensorboard is not None:
            for name, value in values.items():
                self.tensorboard.add_scalar(name, value, step)

    def close(self) -> None:
        """Flush and detach the log file and the TensorBoard writer."""
        if self._handler is not None:
            logging.getLogger("convnextpose").removeHandler(self._handler)
            self._handler.close()
            self._handler = None
        if self.tensorboard is not None:
            self.tensorboard.close()
            self.tensorboard = None


def progress_bar(total: int, epoch: int, last_epoch: int) -> Any:
    """A tqdm bar for one epoch's steps (gone when the epoch ends)."""
    from tqdm import tqdm

    return tqdm(total=total, desc=f"epoch {epoch}/{last_epoch}", leave=False, dynamic_ncols=True)
