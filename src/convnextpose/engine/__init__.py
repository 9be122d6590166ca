"""Training and evaluation engine: :class:`Trainer`, :class:`Evaluator` and their helpers."""

from .evaluator import Evaluator
from .losses import mirror_tolerant_l1_loss, pose_l1_loss
from .schedule import WarmupCosineSchedule, warmup_cosine_lr
from .trainer import Trainer

__all__ = [
    "Evaluator",
    "Trainer",
    "WarmupCosineSchedule",
    "mirror_tolerant_l1_loss",
    "pose_l1_loss",
    "warmup_cosine_lr",
]
