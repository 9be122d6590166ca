"""Sessions: one trainee's workout in progress, kept in memory, bounded and expiring."""

from __future__ import annotations

import secrets
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..fitness.workout import Workout, WorkoutRunner
from .uploads import UploadError

SESSION_ID_PATTERN = r"^[A-Za-z0-9_-]{16,64}$"


@dataclass
class Session:
    """One trainee's workout in progress."""

    session_id: str
    created: float
    last_used: float
    workout: Workout | None = None
    runner: WorkoutRunner | None = None
    frames: int = 0
    meta: dict[str, Any] = field(default_factory=dict)

    def state(self) -> dict[str, Any]:
        steps = self.workout.steps if self.workout else []
        runner = self.runner
        return {
            "session_id": self.session_id,
            "steps": [{"name": s.name, "hold_s": s.hold_s} for s in steps],
            "step_index": runner.step_index if runner else 0,
            "finished": bool(runner and runner.finished),
            "frames": self.frames,
        }

    def start(self, workout: Workout, min_confidence: float) -> None:
        """Make ``workout`` the session's, from its first step."""
        self.workout = workout
        self.runner = WorkoutRunner(workout, compare_options={"min_confidence": min_confidence})


class SessionStore:
    """Sessions in memory: at most ``max_sessions``; idle ones expire after ``ttl_s``; when full the
    least recently used one is evicted."""

    def __init__(self, max_sessions: int, ttl_s: float, clock: Callable[[], float]) -> None:
        self.max_sessions = max(1, int(max_sessions))
        self.ttl_s = float(ttl_s)
        self.clock = clock
        self._sessions: OrderedDict[str, Session] = OrderedDict()

    def __len__(self) -> int:
        return len(self._sessions)

    def _expire(self) -> None:
        now = self.clock()
        for sid in [s for s, v in self._sessions.items() if now - v.last_used > self.ttl_s]:
            del self._sessions[sid]

    def create(self) -> Session:
        self._expire()
        while len(self._sessions) >= self.max_sessions:
            self._sessions.popitem(last=False)
        now = self.clock()
        session = Session(secrets.token_urlsafe(16), now, now)
        self._sessions[session.session_id] = session
        return session

    def get(self, session_id: str) -> Session:
        """The session, marked as used now.

        Raises:
            UploadError: 404 unknown or expired.
        """
        self._expire()
        session = self._sessions.get(session_id)
        if session is None:
            raise UploadError(404, "unknown or expired session; create one with POST /api/sessions")
        session.last_used = self.clock()
        self._sessions.move_to_end(session_id)
        return session

    def delete(self, session_id: str) -> None:
        if self._sessions.pop(session_id, None) is None:
            raise UploadError(404, "unknown or expired session")
