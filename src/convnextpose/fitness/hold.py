"""Hold timer: a pose counts as matched once it has been held within tolerance for N seconds.

The timer is driven by timestamps the caller supplies (seconds, any origin, never decreasing), so it
works the same on live video, recorded video and in tests. A short dip out of tolerance (one noisy
frame) does not restart the hold if it lasts no longer than ``grace_s``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

__all__ = ["HoldStatus", "HoldTimer"]

OUT, HOLDING, MATCHED = "out", "holding", "matched"


@dataclass(frozen=True)
class HoldStatus:
    """Where the hold stands after an update.

    Attributes:
        state: ``"out"`` (not within tolerance), ``"holding"`` (within, counting) or ``"matched"``.
        held_s: seconds held so far (``hold_s`` once matched).
        hold_s: seconds needed.
        within: whether this update was within tolerance.
    """

    state: str
    held_s: float
    hold_s: float
    within: bool

    @property
    def matched(self) -> bool:
        return self.state == MATCHED

    @property
    def remaining_s(self) -> float:
        return max(0.0, self.hold_s - self.held_s)

    @property
    def progress(self) -> float:
        """0..1 fraction of the hold done."""
        return 1.0 if self.hold_s <= 0 else min(1.0, self.held_s / self.hold_s)

    def to_dict(self) -> dict[str, Any]:
        return {
            "state": self.state,
            "matched": self.matched,
            "within": self.within,
            "held_s": round(self.held_s, 2),
            "hold_s": round(self.hold_s, 2),
            "remaining_s": round(self.remaining_s, 2),
            "progress": round(self.progress, 3),
        }


class HoldTimer:
    """State machine ``out -> holding -> matched``; ``matched`` stays until :meth:`reset`.

    Args:
        hold_s: seconds the pose must be held (0 matches on the first frame within tolerance).
        grace_s: a dip out of tolerance no longer than this keeps the hold going; the time spent
            out of tolerance does not count as held.

    Example:
        >>> timer = HoldTimer(hold_s=2.0)
        >>> timer.update(0.0, True).state, timer.update(1.0, True).state, timer.update(2.0, True).state
        ('holding', 'holding', 'matched')
    """

    def __init__(self, hold_s: float, grace_s: float = 0.5) -> None:
        if not (math.isfinite(hold_s) and hold_s >= 0):
            raise ValueError(f"hold_s must be a finite number >= 0, got {hold_s}")
        if not (math.isfinite(grace_s) and grace_s >= 0):
            raise ValueError(f"grace_s must be a finite number >= 0, got {grace_s}")
        self.hold_s = float(hold_s)
        self.grace_s = float(grace_s)
        self.reset()

    def reset(self) -> None:
        """Back to ``out``, forgetting any hold in progress and the last timestamp."""
        self._state = OUT
        self._held = 0.0  # seconds within tolerance in the current hold
        self._last_t: float | None = None
        self._last_within_t: float | None = None
        self._previous_within = False

    @property
    def state(self) -> str:
        return self._state

    def status(self, within: bool = False) -> HoldStatus:
        return HoldStatus(self._state, self.hold_s if self._state == MATCHED else self._held, self.hold_s, within)

    def update(self, t: float, within: bool) -> HoldStatus:
        """Feed one observation.

        Args:
            t: timestamp in seconds; must be finite and not earlier than the previous one.
            within: whether the pose at ``t`` is within tolerance.

        Raises:
            ValueError: a non-finite or decreasing timestamp.
        """
        t = float(t)
        if not math.isfinite(t):
            raise ValueError(f"timestamp must be finite, got {t}")
        if self._last_t is not None and t < self._last_t:
            raise ValueError(f"timestamps must not decrease: got {t} after {self._last_t}")
        previous_t, self._last_t = self._last_t, t
        if self._state == MATCHED:
            return self.status(bool(within))
        if within:
            if self._state != HOLDING:
                self._state, self._held = HOLDING, 0.0
            elif self._previous_within and previous_t is not None:
                # Only time between two in-tolerance observations counts, so a dip adds nothing.
                self._held += t - previous_t
            self._previous_within, self._last_within_t = True, t
            if self._held >= self.hold_s - 1e-9:
                self._state, self._held = MATCHED, self.hold_s
        else:
            self._previous_within = False
            short_dip = self._last_within_t is not None and t - self._last_within_t <= self.grace_s
            if not (self._state == HOLDING and short_dip):
                self._state, self._held, self._last_within_t = OUT, 0.0, None
        return self.status(bool(within))
