"""Temporal smoothing of joint trajectories with the One Euro filter.

The One Euro filter (Casiez, Roussel and Vogel, CHI 2012) is a first-order low-pass filter whose
cut-off frequency rises with the signal's speed: slow motion is smoothed strongly (jitter goes),
fast motion hardly at all (little lag). Two parameters tune it: ``min_cutoff`` (Hz, the cut-off at
rest: lower means smoother) and ``beta`` (how fast the cut-off grows with speed, in Hz per unit/s:
higher means less lag). Both depend on the units of the signal; the defaults suit joints in mm at
video frame rates.
"""

from __future__ import annotations

import math

import numpy as np


def _smoothing_factor(cutoff: np.ndarray | float, dt: float) -> np.ndarray:
    """Exponential-smoothing weight of a first-order low-pass filter with this cut-off (Hz) and step (s)."""
    tau = 1.0 / (2.0 * math.pi * np.asarray(cutoff, dtype=np.float64))
    return 1.0 / (1.0 + tau / dt)


class OneEuroFilter:
    """One Euro filter over arrays of any fixed shape, e.g. (J, 3) joints of one person.

    Each element is filtered independently. Non-finite inputs pass through as they are and leave
    that element's state untouched, so a joint missing for a frame does not poison later frames.

    Args:
        min_cutoff: cut-off frequency at zero speed, Hz (> 0).
        beta: speed coefficient, Hz per (unit/s) (>= 0); 0 gives a plain low-pass filter.
        d_cutoff: cut-off frequency for the speed estimate, Hz (> 0).
        freq: sampling rate used when no timestamps are given, Hz (> 0).
    """

    def __init__(self, min_cutoff: float = 1.0, beta: float = 0.01, d_cutoff: float = 1.0, freq: float = 30.0) -> None:
        for name, value in (("min_cutoff", min_cutoff), ("d_cutoff", d_cutoff), ("freq", freq)):
            if not (math.isfinite(value) and value > 0):
                raise ValueError(f"{name} must be a positive number, got {value}")
        if not (math.isfinite(beta) and beta >= 0):
            raise ValueError(f"beta must be >= 0, got {beta}")
        self.min_cutoff = float(min_cutoff)
        self.beta = float(beta)
        self.d_cutoff = float(d_cutoff)
        self.freq = float(freq)
        self.reset()

    def reset(self) -> None:
        """Forget the past: the next input is returned unchanged and starts a new trajectory."""
        self._value: np.ndarray | None = None
        self._speed: np.ndarray | None = None
        self._time: float | None = None

    def __call__(self, value: np.ndarray, timestamp: float | None = None) -> np.ndarray:
        """Filter one sample.

        Args:
            value: array of the shape of the first sample.
            timestamp: seconds; default the previous timestamp plus ``1 / freq``. Must increase.

        Returns:
            The filtered sample, float64, same shape.
        """
        x = np.asarray(value, dtype=np.float64)
        if self._value is None:
            self._value = x.copy()
            self._speed = np.zeros_like(x)
            self._time = 0.0 if timestamp is None else float(timestamp)
            return x.copy()
        if x.shape != self._value.shape:
            raise ValueError(f"sample of shape {x.shape}; this filter tracks shape {self._value.shape} (reset() first)")
        time = self._time + 1.0 / self.freq if timestamp is None else float(timestamp)
        dt = time - self._time
        if not dt > 0:
            raise ValueError(f"timestamps must increase: {timestamp} after {self._time}")
        finite = np.isfinite(x)
        # Elements seen for the first time (state NaN) start at the new value.
        fresh = finite & ~np.isfinite(self._value)
        previous = np.where(fresh, x, self._value)
        speed = np.where(finite, (x - previous) / dt, 0.0)
        alpha_d = _smoothing_factor(self.d_cutoff, dt)
        speed_hat = np.where(finite, alpha_d * speed + (1.0 - alpha_d) * self._speed, self._speed)
        cutoff = self.min_cutoff + self.beta * np.abs(speed_hat)
        alpha = _smoothing_factor(cutoff, dt)
        smoothed = alpha * x + (1.0 - alpha) * previous
        self._value = np.where(finite, smoothed, self._value)
        self._speed = speed_hat
        self._time = time
        return np.where(finite, smoothed, x)


class PoseSmoother:
    """One Euro filters for many tracked people, keyed by track id.

    Args:
        **filter_args: passed to each :class:`OneEuroFilter`.
    """

    def __init__(self, **filter_args: float) -> None:
        self.filter_args = filter_args
        OneEuroFilter(**filter_args)  # validate once, up front
        self._filters: dict[object, OneEuroFilter] = {}

    def __call__(self, key: object, value: np.ndarray, timestamp: float | None = None) -> np.ndarray:
        """Filter ``value`` on the trajectory named ``key`` (created on first use)."""
        if key not in self._filters:
            self._filters[key] = OneEuroFilter(**self.filter_args)
        return self._filters[key](value, timestamp)

    def keep_only(self, keys: set[object] | list[object]) -> None:
        """Drop the trajectories not in ``keys`` (people who left the scene)."""
        keys = set(keys)
        for key in list(self._filters):
            if key not in keys:
                del self._filters[key]

    def reset(self) -> None:
        self._filters.clear()
