"""Training and evaluation engine: :class:`Trainer`, :class:`Evaluator` and their helpers."""

from .evaluator import Evaluator
from .losses import pose_l1_loss
from .schedule import WarmupCosineSchedule, warmup_cosine_lr
from .trainer import Trainer

__all__ = ["Evaluator", "Trainer", "WarmupCosineSchedule", "pose_l1_loss", "warmup_cosine_lr"]
