"""Learning-rate schedule: linear warm-up from 0, then a half-cosine down to a floor, per optimiser step."""

from __future__ import annotations

import math

import torch


def warmup_cosine_lr(step: int, total_steps: int, warmup_steps: int, base_lr: float, min_lr: float) -> float:
    """Learning rate for optimiser step ``step`` (0-based).

    Steps ``0 .. warmup_steps-1`` rise linearly, ``base_lr * (step + 1) / warmup_steps``; after them
    the rate follows ``min_lr + (base_lr - min_lr) * (1 + cos(pi * t)) / 2`` with ``t`` going from 0
    to 1 over the remaining steps, and stays at ``min_lr`` past ``total_steps``.
    """
    if warmup_steps > 0 and step < warmup_steps:
        return base_lr * (step + 1) / warmup_steps
    decay_steps = max(1, total_steps - warmup_steps)
    progress = min(1.0, (step - warmup_steps) / decay_steps)
    return min_lr + (base_lr - min_lr) * 0.5 * (1.0 + math.cos(math.pi * progress))


class WarmupCosineSchedule:
    """Sets the learning rate of every parameter group of an optimiser before each step.

    Its whole state is the step counter (``state_dict()`` -> ``{"step": int, ...}``), so a resumed
    run continues the curve exactly.
    """

    def __init__(
        self, optimizer: torch.optim.Optimizer, total_steps: int, warmup_steps: int, base_lr: float, min_lr: float
    ) -> None:
        self.optimizer = optimizer
        self.total_steps = int(total_steps)
        self.warmup_steps = int(warmup_steps)
        self.base_lr = float(base_lr)
        self.min_lr = float(min_lr)
        self.step_count = 0

    @property
    def lr(self) -> float:
        """The rate the next optimiser step uses."""
        return warmup_cosine_lr(self.step_count, self.total_steps, self.warmup_steps, self.base_lr, self.min_lr)

    def apply(self) -> float:
        """Write the current rate into the optimiser's groups; call before ``optimizer.step()``."""
        lr = self.lr
        for group in self.optimizer.param_groups:
            group["lr"] = lr
        return lr

    def advance(self) -> None:
        self.step_count += 1

    def state_dict(self) -> dict:
        return {
            "step": self.step_count,
            "total_steps": self.total_steps,
            "warmup_steps": self.warmup_steps,
            "base_lr": self.base_lr,
            "min_lr": self.min_lr,
        }

    def load_state_dict(self, state: dict) -> None:
        self.step_count = int(state["step"])
