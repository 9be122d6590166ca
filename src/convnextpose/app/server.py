"""The fitness web app: upload a trainer's photo, then copy the pose in front of a camera.

:func:`create_app` builds a FastAPI app around any *estimator* (:mod:`.adapters`): a callable
``image (H, W, 3) uint8 RGB -> list of poses``.

Safety (docs/fitness.md, "Safety limits"): request bodies are capped (413) while they stream in;
uploads must decode as JPEG/PNG/WebP/BMP, checked on the bytes, never the name (another media type:
415; a corrupt or non-image body: 400) within a pixel limit; the client never names a file. One
inference runs at a time (:mod:`.gate`): at most ``max_queued_frames`` live frames wait for it and
a frame arriving while they do is dropped at once (429); single images wait in line, up to
``max_queued_images``, beyond which they are refused with 503 and ``Retry-After``.

Endpoints (JSON unless said otherwise), one router per concern (:mod:`.routes`):

- ``GET /``: the page; ``GET /static/...``: its script and style.
- ``GET /api/config``: joint set, skeleton and limits, for the page; ``GET /api/health``: counters.
- ``POST /api/pose``: image -> every person's pose (no session).
- ``POST /api/sessions`` -> ``{"session_id"}``; ``GET``/``DELETE /api/sessions/{id}``.
- ``POST /api/sessions/{id}/reference``: trainer image -> the reference pose (a one-step workout,
  or one more step with ``append=true``).
- ``GET``/``PUT /api/sessions/{id}/workout``: the session's workout as workout JSON.
- ``POST /api/sessions/{id}/frame``: camera frame -> score, errors, cues, hold timer.
- ``POST /api/sessions/{id}/reset``: start the workout again.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..fitness.angles import check_joint_set
from ..joints import JointSet
from .adapters import Estimator
from .gate import InferenceGate
from .sessions import SessionStore
from .state import AppSettings, AppState
from .uploads import UploadError

STATIC_DIR = Path(__file__).resolve().parent / "static"
#: uvicorn settings ``convnextpose serve`` runs the app with: more open connections than this are
#: answered 503 by uvicorn itself, so it stays above the default image queue (32) plus live frames.
SERVER_OPTIONS = {"limit_concurrency": 64, "timeout_keep_alive": 15}
INSTALL_HINT = "the fitness app needs FastAPI and uvicorn: pip install convnextpose[app]"
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' blob: data:; media-src 'self' blob: mediastream:; "
        "style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'"
    ),
    "Permissions-Policy": "camera=(self)",
}


def create_app(
    estimator: Estimator | Any,
    *,
    joint_set: str | JointSet | None = None,
    max_upload_bytes: int = 8 * 1024 * 1024,
    max_pixels: int = 40_000_000,
    max_queued_frames: int = 1,
    max_queued_images: int = 32,
    max_sessions: int = 64,
    session_ttl_s: float = 1800.0,
    min_confidence: float = 0.1,
    default_hold_s: float = 3.0,
    tolerance_deg: float = 15.0,
    clock: Callable[[], float] = time.monotonic,
    model: str = "",
) -> Any:
    """Build the fitness app.

    Args:
        estimator: callable ``image (H, W, 3) uint8 RGB -> list of poses`` (see :mod:`.adapters`),
            or an object with such a ``predict`` method (a PoseEstimator).
        joint_set: joint set of poses without ``joint_names``; default the estimator's
            ``joint_set`` attribute, else Human3.6M.
        max_upload_bytes: largest request body (413 above it).
        max_pixels: largest decoded image (413 above it).
        max_queued_frames: live frames that may wait while one is processed; more are dropped (429).
        max_queued_images: single images (``/api/pose``, trainer images) that may wait their turn; more are
            refused with 503 and ``Retry-After``. The default lets a small batch script send 32 at once.
        max_sessions, session_ttl_s: session store bounds.
        min_confidence: joints below this confidence count as missing (reference and live).
        default_hold_s, tolerance_deg: defaults for a trainer image's hold time and tolerance.
        clock: monotonic seconds for the hold timer and session expiry (injectable for tests).
        model: a description shown on the page.

    Returns:
        A ``fastapi.FastAPI`` instance; run it with uvicorn (``convnextpose serve`` does).
    """
    try:
        from fastapi import FastAPI, Request
        from fastapi.responses import JSONResponse, Response
        from fastapi.staticfiles import StaticFiles

        from .routes import pages, pose, sessions
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(INSTALL_HINT) from exc

    estimator_joint_set = getattr(estimator, "joint_set", None)
    if not callable(estimator) and hasattr(estimator, "predict"):
        estimator = estimator.predict
    if not callable(estimator):
        raise TypeError("estimator must be a callable image -> poses, or have a predict method")
    settings = AppSettings(
        max_upload_bytes=int(max_upload_bytes),
        max_pixels=int(max_pixels),
        max_queued_frames=int(max_queued_frames),
        max_queued_images=int(max_queued_images),
        max_sessions=int(max_sessions),
        session_ttl_s=float(session_ttl_s),
        min_confidence=float(min_confidence),
        default_hold_s=float(default_hold_s),
        tolerance_deg=float(tolerance_deg),
        model=model or getattr(estimator, "description", type(estimator).__name__),
    )
    state = AppState(
        settings=settings,
        gate=InferenceGate(estimator, settings.max_queued_frames, settings.max_queued_images),
        sessions=SessionStore(settings.max_sessions, settings.session_ttl_s, clock),
        joint_set=check_joint_set(joint_set or estimator_joint_set or "human36m"),
        clock=clock,
    )

    app = FastAPI(title="ConvNeXtPose fitness", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.context = state
    app.state.settings, app.state.gate, app.state.sessions = state.settings, state.gate, state.sessions

    @app.exception_handler(UploadError)
    async def _upload_error(_: Request, exc: UploadError) -> JSONResponse:
        return JSONResponse({"detail": exc.message}, status_code=exc.status, headers=exc.headers)

    @app.middleware("http")
    async def _headers(request: Request, call_next: Callable) -> Response:
        response = await call_next(request)
        response.headers.update(SECURITY_HEADERS)
        return response

    for module in (pages, pose, sessions):
        app.include_router(module.router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    return app
