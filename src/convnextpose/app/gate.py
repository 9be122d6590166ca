"""One inference at a time, in arrival order, with bounded waiting: what the app does under load.

Live camera frames are worth nothing late: a frame is dropped at once (429) when ``1 +
max_queued_frames`` calls are already running or waiting. Single images (``POST /api/pose``, a
trainer's photo) are worth waiting for: up to ``max_queued_images`` of them wait their turn, so a
small batch script sending a few images at once gets every answer; beyond that the server answers
503 with ``Retry-After`` (seconds, from the recent time per inference) instead of piling up work.

Waiting happens on the event loop (no thread is held by a waiting request); the estimator runs in
a worker thread. The gate belongs to one event loop, as an ASGI server runs an app.
"""

from __future__ import annotations

import asyncio
import math
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from .uploads import UploadError


class InferenceGate:
    """Runs the estimator for one request at a time; see the module docstring for the rules.

    Args:
        estimator: callable ``image -> poses``.
        max_queued_frames: live frames that may wait while another call runs; more are dropped.
        max_queued_images: single images that may wait; more are refused with 503 + Retry-After.
    """

    def __init__(
        self, estimator: Callable[[np.ndarray], Sequence[Any]], max_queued_frames: int = 1, max_queued_images: int = 32
    ) -> None:
        self.estimator = estimator
        self.max_frames = 1 + max(0, int(max_queued_frames))
        self.max_images = 1 + max(0, int(max_queued_images))
        self.in_flight = 0  # running or waiting
        self.dropped = 0  # frames dropped (429)
        self.refused = 0  # images refused (503)
        self.processed = 0
        self.seconds_per_call = 0.0  # moving average, for Retry-After
        self._running = False
        self._waiters: deque[asyncio.Future] = deque()
        self._lock = threading.Lock()  # the estimator itself is never called twice at once

    def retry_after(self) -> int:
        """Whole seconds until the calls already running or waiting should be done (at least 1)."""
        return max(1, math.ceil(self.seconds_per_call * self.in_flight))

    async def run(self, image: np.ndarray, drop_if_busy: bool) -> Sequence[Any] | None:
        """The estimator's output, or None when the frame was dropped (``drop_if_busy``).

        Raises:
            UploadError: 503 with a ``Retry-After`` header when ``max_queued_images`` are already waiting.
        """
        from starlette.concurrency import run_in_threadpool

        if self.in_flight >= (self.max_frames if drop_if_busy else self.max_images):
            if drop_if_busy:
                self.dropped += 1
                return None
            self.refused += 1
            seconds = self.retry_after()
            raise UploadError(
                503,
                f"server busy: {self.in_flight} images are being processed or waiting; try again in {seconds} s",
                {"Retry-After": str(seconds)},
            )
        self.in_flight += 1
        try:
            await self._acquire()
            try:
                start = time.perf_counter()
                result = await run_in_threadpool(self._call, image)
                elapsed = time.perf_counter() - start
                self.seconds_per_call = elapsed if not self.processed else 0.8 * self.seconds_per_call + 0.2 * elapsed
            finally:
                self._release()
        finally:
            self.in_flight -= 1
        self.processed += 1
        return result

    def _call(self, image: np.ndarray) -> Sequence[Any]:
        with self._lock:
            return self.estimator(image)

    async def _acquire(self) -> None:
        """Wait for the turn, first come first served."""
        if not self._running and not self._waiters:
            self._running = True
            return
        turn = asyncio.get_running_loop().create_future()
        self._waiters.append(turn)
        try:
            await turn
        except asyncio.CancelledError:
            if turn.done() and not turn.cancelled():  # the turn came just as the request went away
                self._release()
            elif turn in self._waiters:
                self._waiters.remove(turn)
            raise

    def _release(self) -> None:
        """Hand the turn to the first request still waiting, else mark the estimator free."""
        while self._waiters:
            turn = self._waiters.popleft()
            if not turn.done():
                turn.set_result(None)
                return
        self._running = False
