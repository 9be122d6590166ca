"""The fitness web app: upload a trainer's photo, then copy the pose in front of a camera.

:func:`create_app` builds a FastAPI app around any *estimator*: a callable ``image (H, W, 3) uint8
RGB -> list of poses``, each pose an object (or dict) with ``joints_img`` (J, 2) px,
``joints_rel`` (J, 3) mm root-relative camera frame (or ``joints_cam``, camera frame), and optionally
``confidence`` (J,), ``box`` [x, y, w, h] and ``joint_names``. A
:class:`~convnextpose.inference.PoseEstimator` fits through :func:`estimator_from_model`; tests
inject a fake.

Safety (docs/fitness.md, "Safety limits"): request bodies are capped (413) while they stream in;
uploads must decode as JPEG/PNG/WebP/BMP (checked on the bytes, never the name, 415) within a
pixel limit; the client never names a file; at most one inference runs at a time and at most
``max_queued_frames`` frames wait for it: a frame arriving while the queue is full is dropped at
once (429) instead of piling up.

Endpoints (JSON unless said otherwise):

- ``GET /``: the page; ``GET /static/...``: its script and style.
- ``GET /api/config``: joint set, skeleton and limits, for the page.
- ``POST /api/pose``: image -> every person's pose (no session).
- ``POST /api/sessions`` -> ``{"session_id"}``; ``GET``/``DELETE /api/sessions/{id}``.
- ``POST /api/sessions/{id}/reference``: trainer image -> the reference pose (a one-step workout,
  or one more step with ``append=true``).
- ``GET``/``PUT /api/sessions/{id}/workout``: the session's workout as workout JSON.
- ``POST /api/sessions/{id}/frame``: camera frame -> score, errors, cues, hold timer.
- ``POST /api/sessions/{id}/reset``: start the workout again.
"""

# No ``from __future__ import annotations`` here: FastAPI reads the endpoint annotations at run time,
# and ``Request`` is imported inside create_app so that FastAPI stays an optional dependency.
import io
import logging
import math
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from ..fitness.angles import LIMBS, check_joint_set, joint_angles, normalize_pose
from ..fitness.workout import Workout, WorkoutError, WorkoutRunner, WorkoutStep
from ..image import ImageError, decode_image_bytes
from ..joints import JOINT_SETS, JointSet

logger = logging.getLogger(__name__)

STATIC_DIR = Path(__file__).resolve().parent / "static"
INSTALL_HINT = "the fitness app needs FastAPI and uvicorn: pip install convnextpose[app]"
ALLOWED_FORMATS = ("JPEG", "PNG", "WEBP", "BMP")
SESSION_ID_PATTERN = r"^[A-Za-z0-9_-]{16,64}$"

Estimator = Callable[[np.ndarray], Sequence[Any]]


class UploadError(Exception):
    """A request the server refuses; becomes an HTTP error with ``status`` and ``message``."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


# --------------------------------------------------------------------------- estimator adapters


def estimator_from_model(
    model: Any,
    backend: str = "torch",
    device: str = "cpu",
    detector: str | Callable | None = "auto",
    horizontal_fov_deg: float | None = 60.0,
    threads: int | None = None,
) -> Estimator:
    """Wrap a :class:`~convnextpose.inference.PoseEstimator` as the app's estimator callable.

    Args:
        model: a PoseEstimator, or what it accepts (module, checkpoint path, shipped-weights name,
            ``.onnx`` file).
        backend, device, detector, threads: passed to PoseEstimator when ``model`` is not one.
            The default detector, ``"auto"``, finds a single person from the whole frame and OpenCV's
            HOG box, re-cropped around the network's joints (a selfie view is often too close for HOG).
        horizontal_fov_deg: field of view used for the focal length of every image (phone and
            laptop cameras are near 60 degrees); None keeps the estimator's default.
    """
    from ..inference import PoseEstimator

    estimator = model
    if not isinstance(model, PoseEstimator):
        estimator = PoseEstimator(model, backend=backend, device=device, detector=detector, threads=threads)

    def estimate(image: np.ndarray) -> Sequence[Any]:
        focal = None
        if horizontal_fov_deg:
            focal = image.shape[1] / 2.0 / math.tan(math.radians(horizontal_fov_deg) / 2.0)
        return estimator.predict(image, focal=focal)

    estimate.joint_set = estimator.joint_set  # type: ignore[attr-defined]
    estimate.description = f"{type(estimator).__name__} ({getattr(estimator.backend, 'name', backend)})"  # type: ignore[attr-defined]
    return estimate


@dataclass
class PoseView:
    """One person as the app uses it; its JSON keeps the names, so each array says its frame.

    Attributes:
        joints_img: (J, 2) px in the uploaded image.
        joints_rel: (J, 3) mm, camera axes, root joint at the origin.
        confidence: (J,) in [0, 1].
        box: (4,) [x, y, w, h] px, or None.
    """

    joints_img: np.ndarray
    joints_rel: np.ndarray
    confidence: np.ndarray
    box: np.ndarray | None
    joint_set: JointSet

    def to_dict(self, scale: float = 1.0) -> dict[str, Any]:
        def rows(array: np.ndarray, decimals: int) -> list:
            return [[None if not math.isfinite(v) else round(float(v), decimals) for v in row] for row in array]

        return {
            "joints_img": rows(self.joints_img * scale, 1),
            "joints_rel": rows(self.joints_rel, 1),
            "confidence": [round(float(c), 3) if math.isfinite(c) else 0.0 for c in self.confidence],
            "box": None if self.box is None else [round(float(v) * scale, 1) for v in self.box],
        }


# Names of 0.1 (PersonPose and this app's JSON), still read: new name -> old name.
_OLD_NAMES = {"joints_img": "joints_2d", "joints_rel": "joints_3d_rel", "joints_cam": "joints_3d"}


def _field(pose: Any, name: str) -> Any:
    for key in (name, _OLD_NAMES.get(name)):
        if key is None:
            continue
        value = pose.get(key) if isinstance(pose, Mapping) else getattr(pose, key, None)
        if value is not None:
            return value
    return None


def _joint_set_of(pose: Any, default: JointSet) -> JointSet:
    names = _field(pose, "joint_names")
    if names is None:
        return default
    names = tuple(names)
    for joint_set in JOINT_SETS.values():
        if joint_set.names == names:
            return joint_set
    raise ValueError(f"the estimator's joints {list(names)[:5]}... match no known joint set")


def read_pose(pose: Any, default: JointSet) -> PoseView:
    """Normalise one estimator output (PersonPose, dict or similar) to a :class:`PoseView`."""
    joint_set = _joint_set_of(pose, default)
    joints_img = np.asarray(_field(pose, "joints_img"), dtype=np.float64)
    rel = _field(pose, "joints_rel")
    if rel is None:
        joints_cam = np.asarray(_field(pose, "joints_cam"), dtype=np.float64)
        rel = joints_cam - joints_cam[joint_set.root_index]
    joints_rel = np.asarray(rel, dtype=np.float64)
    confidence = _field(pose, "confidence")
    confidence = np.ones(len(joint_set)) if confidence is None else np.asarray(confidence, dtype=np.float64)
    box = _field(pose, "box")
    expected = {"joints_img": (len(joint_set), 2), "joints_rel": (len(joint_set), 3), "confidence": (len(joint_set),)}
    for name, value in (("joints_img", joints_img), ("joints_rel", joints_rel), ("confidence", confidence)):
        if value.shape != expected[name]:
            raise ValueError(f"estimator returned {name} of shape {value.shape}, expected {expected[name]}")
    return PoseView(joints_img, joints_rel, confidence, None if box is None else np.asarray(box, float), joint_set)


def select_person(poses: Sequence[PoseView]) -> PoseView | None:
    """The trainee: the person with the largest box (or 2D joint extent), None if nobody."""

    def area(pose: PoseView) -> float:
        if pose.box is not None and np.isfinite(pose.box).all():
            return float(pose.box[2] * pose.box[3])
        pts = pose.joints_img[np.isfinite(pose.joints_img).all(axis=1)]
        return float(np.prod(pts.max(axis=0) - pts.min(axis=0))) if len(pts) else 0.0

    return max(poses, key=area) if poses else None


# --------------------------------------------------------------------------- uploads


def check_image(data: bytes, max_pixels: int, what: str = "upload") -> np.ndarray:
    """Decode uploaded bytes to RGB uint8 after checking format and size from the header.

    Raises:
        UploadError: 400 empty, 415 not a JPEG/PNG/WebP/BMP image, 413 too many pixels.
    """
    if not data:
        raise UploadError(400, f"{what}: empty body; send an image")
    width = height = None
    try:
        from PIL import Image

        with Image.open(io.BytesIO(data)) as header:  # reads the header only, decodes nothing
            fmt, (width, height) = header.format, header.size
        if fmt not in ALLOWED_FORMATS:
            raise UploadError(415, f"{what}: {fmt} images are not accepted; send JPEG, PNG, WebP or BMP")
    except ImportError:  # pragma: no cover - Pillow comes with matplotlib
        pass
    except UploadError:
        raise
    except Exception:
        raise UploadError(
            415, f"{what}: not an image (JPEG, PNG, WebP or BMP); the bytes could not be decoded"
        ) from None
    if width is not None and width * height > max_pixels:
        raise UploadError(413, f"{what}: {width}x{height} pixels is more than the limit of {max_pixels:,}")
    try:
        image = decode_image_bytes(data, what)
    except ImageError:
        raise UploadError(415, f"{what}: not a decodable image (JPEG, PNG, WebP or BMP)") from None
    if image.shape[0] * image.shape[1] > max_pixels:
        raise UploadError(413, f"{what}: {image.shape[1]}x{image.shape[0]} pixels is more than the limit")
    return image


def shrink(image: np.ndarray, max_side: int) -> tuple[np.ndarray, float]:
    """Downscale so the longer side is at most ``max_side``; returns the image and original/new scale."""
    height, width = image.shape[:2]
    factor = max(height, width) / float(max_side)
    if factor <= 1.0:
        return image, 1.0
    size = (max(1, round(width / factor)), max(1, round(height / factor)))
    return cv2.resize(image, size, interpolation=cv2.INTER_AREA), width / size[0]


# --------------------------------------------------------------------------- state


class InferenceGate:
    """One inference at a time, with a bounded wait.

    Frames are dropped as soon as ``1 + max_queued_frames`` calls are running or waiting, so a slow
    model costs dropped frames, not memory. Reference images (rare, user-initiated) may wait
    behind frames, up to ``max_queued_references`` of them.

    The counters are only touched on the event loop thread; the estimator runs in a worker thread
    under a lock.
    """

    def __init__(self, estimator: Estimator, max_queued_frames: int = 1, max_queued_references: int = 4) -> None:
        self.estimator = estimator
        self.max_frames = 1 + max(0, int(max_queued_frames))
        self.max_references = 1 + max(0, int(max_queued_references))
        self.in_flight = 0
        self.dropped = 0
        self.processed = 0
        self._lock = threading.Lock()

    def _call(self, image: np.ndarray) -> Sequence[Any]:
        with self._lock:
            return self.estimator(image)

    async def run(self, image: np.ndarray, drop_if_busy: bool) -> Sequence[Any] | None:
        """The estimator's output, or None when the frame was dropped (``drop_if_busy``).

        Raises:
            UploadError: 503 when too many reference images are already waiting.
        """
        from starlette.concurrency import run_in_threadpool

        limit = self.max_frames if drop_if_busy else self.max_frames + self.max_references
        if self.in_flight >= limit:
            if drop_if_busy:
                self.dropped += 1
                return None
            raise UploadError(503, "server busy: too many images waiting; try again in a moment")
        self.in_flight += 1
        try:
            result = await run_in_threadpool(self._call, image)
        finally:
            self.in_flight -= 1
        self.processed += 1
        return result


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


@dataclass
class AppSettings:
    """Limits and defaults of the app (see :func:`create_app`)."""

    max_upload_bytes: int = 8 * 1024 * 1024
    max_pixels: int = 40_000_000
    max_side: int = 1280
    max_queued_frames: int = 1
    max_sessions: int = 64
    session_ttl_s: float = 1800.0
    min_confidence: float = 0.1
    min_reference_joints: float = 0.6
    default_hold_s: float = 3.0
    tolerance_deg: float = 15.0
    frame_max_side: int = 480
    model: str = ""


# --------------------------------------------------------------------------- the app


def create_app(
    estimator: Estimator | Any,
    *,
    joint_set: str | JointSet | None = None,
    max_upload_bytes: int = 8 * 1024 * 1024,
    max_pixels: int = 40_000_000,
    max_queued_frames: int = 1,
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
        estimator: callable ``image (H, W, 3) uint8 RGB -> list of poses`` (see the module
            docstring), or an object with such a ``predict`` method (a PoseEstimator).
        joint_set: joint set of poses without ``joint_names``; default the estimator's
            ``joint_set`` attribute, else Human3.6M.
        max_upload_bytes: largest request body (413 above it).
        max_pixels: largest decoded image (413 above it).
        max_queued_frames: frames that may wait while one is processed; more are dropped (429).
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
        from fastapi import Path as PathParam
        from fastapi.responses import FileResponse, JSONResponse, Response
        from fastapi.staticfiles import StaticFiles
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(INSTALL_HINT) from exc

    estimator_joint_set = getattr(estimator, "joint_set", None)
    if not callable(estimator) and hasattr(estimator, "predict"):
        estimator = estimator.predict
    if not callable(estimator):
        raise TypeError("estimator must be a callable image -> poses, or have a predict method")
    default_set = check_joint_set(joint_set or estimator_joint_set or "human36m")
    settings = AppSettings(
        max_upload_bytes=int(max_upload_bytes),
        max_pixels=int(max_pixels),
        max_queued_frames=int(max_queued_frames),
        max_sessions=int(max_sessions),
        session_ttl_s=float(session_ttl_s),
        min_confidence=float(min_confidence),
        default_hold_s=float(default_hold_s),
        tolerance_deg=float(tolerance_deg),
        model=model or getattr(estimator, "description", type(estimator).__name__),
    )
    gate = InferenceGate(estimator, settings.max_queued_frames)
    sessions = SessionStore(settings.max_sessions, settings.session_ttl_s, clock)

    app = FastAPI(title="ConvNeXtPose fitness", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.settings, app.state.gate, app.state.sessions = settings, gate, sessions
    sid_param = PathParam(pattern=SESSION_ID_PATTERN)

    @app.exception_handler(UploadError)
    async def _upload_error(_: Request, exc: UploadError) -> JSONResponse:
        return JSONResponse({"detail": exc.message}, status_code=exc.status)

    @app.middleware("http")
    async def _headers(request: Request, call_next: Callable) -> Response:
        response = await call_next(request)
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "no-referrer"
        response.headers["Content-Security-Policy"] = (
            "default-src 'self'; img-src 'self' blob: data:; media-src 'self' blob: mediastream:; "
            "style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'"
        )
        response.headers["Permissions-Policy"] = "camera=(self)"
        return response

    # ---- request helpers

    async def read_body(request: Request) -> bytes:
        limit = settings.max_upload_bytes
        declared = request.headers.get("content-length")
        if declared is not None:
            if not declared.isdigit():
                raise UploadError(400, "bad Content-Length header")
            if int(declared) > limit:
                raise UploadError(413, f"upload of {int(declared):,} bytes is over the limit of {limit:,} bytes")
        chunks, total = [], 0
        async for chunk in request.stream():
            total += len(chunk)
            if total > limit:  # a body without Content-Length, or one that lied about it
                raise UploadError(413, f"upload is over the limit of {limit:,} bytes")
            chunks.append(chunk)
        return b"".join(chunks)

    async def read_image(request: Request, what: str) -> np.ndarray:
        """The image of a request: the raw body (image/*), or the 'image' field of a multipart form."""
        from starlette.requests import Request as StarletteRequest

        content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        raw = content_type.startswith("image/") or content_type in ("application/octet-stream", "")
        if not raw and content_type != "multipart/form-data":
            raise UploadError(
                415, f"{what}: send the image as the body (Content-Type image/jpeg, ...) or as multipart field 'image'"
            )
        body = await read_body(request)
        if content_type == "multipart/form-data":
            sent = False

            async def replay() -> dict[str, Any]:
                nonlocal sent
                if sent:
                    return {"type": "http.disconnect"}
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}

            try:
                form = await StarletteRequest(request.scope, replay).form(max_files=2, max_fields=10)
            except Exception:
                raise UploadError(400, f"{what}: malformed multipart form") from None
            upload = form.get("image")
            if upload is None or isinstance(upload, str):
                raise UploadError(400, f"{what}: the multipart form needs a file field named 'image'")
            data = await upload.read()
            await form.close()
        else:
            data = body
        return check_image(data, settings.max_pixels, what)

    async def estimate(image: np.ndarray, drop_if_busy: bool) -> tuple[list[PoseView], float] | None:
        small, scale = shrink(image, settings.max_side)
        try:
            raw = await gate.run(small, drop_if_busy)
        except UploadError:  # busy: passed on as it is
            raise
        except (ImageError, ValueError) as exc:
            raise UploadError(400, f"could not process the image: {exc}") from None
        if raw is None:
            return None
        try:
            return [read_pose(p, default_set) for p in raw], scale
        except (TypeError, ValueError) as exc:
            logger.exception("estimator output not understood")
            raise UploadError(500, f"estimator output not understood: {exc}") from None

    def image_size(image: np.ndarray) -> list[int]:
        return [int(image.shape[1]), int(image.shape[0])]

    # ---- pages

    @app.get("/", include_in_schema=False)
    async def index() -> FileResponse:
        return FileResponse(STATIC_DIR / "index.html", media_type="text/html")

    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")

    @app.get("/api/config")
    async def config() -> dict[str, Any]:
        return {
            "joint_set": default_set.name,
            "joint_names": list(default_set.names),
            "skeleton": [list(b) for b in default_set.skeleton],
            "sides": [default_set.side(n) for n in default_set.names],
            "root": default_set.root_index,
            "limbs": {name: [default_set.index(a), default_set.index(b)] for name, (a, b) in LIMBS.items()},
            "max_upload_bytes": settings.max_upload_bytes,
            "max_pixels": settings.max_pixels,
            "frame_max_side": settings.frame_max_side,
            "default_hold_s": settings.default_hold_s,
            "tolerance_deg": settings.tolerance_deg,
            "model": settings.model,
        }

    @app.get("/api/health")
    async def health() -> dict[str, Any]:
        return {
            "status": "ok",
            "sessions": len(sessions),
            "in_flight": gate.in_flight,
            "processed": gate.processed,
            "dropped": gate.dropped,
        }

    @app.post("/api/pose")
    async def pose(request: Request) -> dict[str, Any]:
        image = await read_image(request, "image")
        result = await estimate(image, drop_if_busy=False)
        assert result is not None
        people, scale = result
        return {"image_size": image_size(image), "people": [p.to_dict(scale) for p in people]}

    # ---- sessions

    @app.post("/api/sessions", status_code=201)
    async def new_session() -> dict[str, Any]:
        return sessions.create().state()

    @app.get("/api/sessions/{session_id}")
    async def get_session(session_id: str = sid_param) -> dict[str, Any]:
        return sessions.get(session_id).state()

    @app.delete("/api/sessions/{session_id}", status_code=204, response_class=Response, response_model=None)
    async def delete_session(session_id: str = sid_param) -> Response:
        sessions.delete(session_id)
        return Response(status_code=204)

    def number_param(request: Request, name: str, default: float, low: float, high: float) -> float:
        text = request.query_params.get(name)
        if text is None:
            return default
        try:
            value = float(text)
        except ValueError:
            raise UploadError(422, f"query parameter {name}: expected a number, got {text!r}") from None
        if not (math.isfinite(value) and low <= value <= high):
            raise UploadError(422, f"query parameter {name}: expected a number in [{low}, {high}], got {text}")
        return value

    def bool_param(request: Request, name: str, default: bool) -> bool:
        text = request.query_params.get(name)
        if text is None:
            return default
        if text.lower() not in ("true", "false", "1", "0", "yes", "no"):
            raise UploadError(422, f"query parameter {name}: expected true or false, got {text!r}")
        return text.lower() in ("true", "1", "yes")

    def start_workout(session: Session, workout: Workout) -> None:
        session.workout = workout
        session.runner = WorkoutRunner(workout, compare_options={"min_confidence": settings.min_confidence})

    @app.post("/api/sessions/{session_id}/reference")
    async def reference(request: Request, session_id: str = sid_param) -> dict[str, Any]:
        session = sessions.get(session_id)
        hold_s = number_param(request, "hold_s", settings.default_hold_s, 0.0, 600.0)
        tolerance = number_param(request, "tolerance_deg", settings.tolerance_deg, 1.0, 90.0)
        append = bool_param(request, "append", False)
        align_yaw = bool_param(request, "align_yaw", True)
        allow_mirror = bool_param(request, "allow_mirror", False)
        image = await read_image(request, "trainer image")
        result = await estimate(image, drop_if_busy=False)
        assert result is not None
        people, scale = result
        person = select_person(people)
        if person is None:
            raise UploadError(422, "no person found in the trainer image; use a photo showing one whole person")
        if append and session.workout is not None and person.joint_set.name != session.workout.joint_set:
            raise UploadError(409, "cannot append: the estimator's joint set differs from the session's workout")
        confident = np.isfinite(person.joints_rel).all(axis=1) & (person.confidence >= settings.min_confidence)
        if confident.mean() < settings.min_reference_joints:
            raise UploadError(
                422,
                f"the trainer's pose is unclear: only {int(confident.sum())} of {len(confident)} joints were found "
                "with confidence; use a sharper photo showing the whole body",
            )
        step = WorkoutStep(
            pose=person.joints_rel.copy(),
            name=f"pose {len(session.workout.steps) + 1 if append and session.workout else 1}",
            hold_s=hold_s,
            confidence=np.clip(np.nan_to_num(person.confidence), 0.0, 1.0),
            tolerance_deg=tolerance,
            align_yaw=align_yaw,
            allow_mirror=allow_mirror,
        )
        if append and session.workout is not None:
            steps = session.workout.steps + [step]
        else:
            steps = [step]
        try:
            workout = Workout(steps, name="trainer", joint_set=person.joint_set.name)
        except WorkoutError:
            raise UploadError(
                422, "the trainer's pose is unclear: no limb could be measured; use a photo showing the whole body"
            ) from None
        start_workout(session, workout)
        angles = joint_angles(normalize_pose(person.joints_rel, person.joint_set), person.joint_set)
        return {
            "session": session.state(),
            "image_size": image_size(image),
            "pose": person.to_dict(scale),
            "joint_set": person.joint_set.name,
            "angles": {k: None if not math.isfinite(v) else round(v, 1) for k, v in angles.items()},
        }

    @app.get("/api/sessions/{session_id}/workout")
    async def get_workout(session_id: str = sid_param) -> Response:
        session = sessions.get(session_id)
        if session.workout is None:
            raise UploadError(409, "this session has no workout yet: upload a trainer image or a workout first")
        return Response(
            session.workout.to_json(),
            media_type="application/json",
            headers={"Content-Disposition": 'attachment; filename="workout.json"'},
        )

    @app.put("/api/sessions/{session_id}/workout")
    async def put_workout(request: Request, session_id: str = sid_param) -> dict[str, Any]:
        session = sessions.get(session_id)
        content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if content_type != "application/json":
            raise UploadError(415, "send the workout as JSON (Content-Type application/json)")
        body = await read_body(request)
        try:
            workout = Workout.from_json(body)
        except WorkoutError as exc:
            raise UploadError(422, f"invalid workout: {exc}") from None
        start_workout(session, workout)
        return session.state()

    @app.post("/api/sessions/{session_id}/reset")
    async def reset(session_id: str = sid_param) -> dict[str, Any]:
        session = sessions.get(session_id)
        if session.runner is not None:
            session.runner.reset()
        return session.state()

    @app.post("/api/sessions/{session_id}/frame")
    async def frame(request: Request, session_id: str = sid_param) -> Response:
        session = sessions.get(session_id)
        if session.runner is None:
            raise UploadError(409, "no reference pose yet: upload a trainer image first")
        image = await read_image(request, "frame")
        result = await estimate(image, drop_if_busy=True)
        if result is None:
            return JSONResponse({"detail": "server busy: frame dropped", "dropped": True}, status_code=429)
        people, scale = result
        person = select_person(people)
        if session.runner is None:  # the session was reset or deleted while the frame was processed
            raise UploadError(409, "no reference pose any more")
        runner = session.runner
        if person is not None and person.joint_set.name != runner.workout.joint_set:
            raise UploadError(409, "the estimator's joint set differs from the session's workout")
        live = None if person is None else person.joints_rel
        update = runner.update(clock(), live, None if person is None else person.confidence)
        session.frames += 1
        payload = update.to_dict(include_poses=True)
        payload.update(
            {
                "person": person is not None,
                "image_size": image_size(image),
                "pose": None if person is None else person.to_dict(scale),
                "dropped": False,
            }
        )
        if person is None:
            payload["comparison"] = {"score": None, "cues": ["Step into view of the camera"]}
        return JSONResponse(payload)

    return app
