"""What every route shares: the settings, the inference gate, the sessions, and running the estimator."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..image import ImageError
from ..joints import JointSet
from .adapters import PoseView, read_pose
from .gate import InferenceGate
from .sessions import SessionStore
from .uploads import UploadError, read_image, shrink

logger = logging.getLogger(__name__)


@dataclass
class AppSettings:
    """Limits and defaults of the app (see :func:`~convnextpose.app.create_app`)."""

    max_upload_bytes: int = 8 * 1024 * 1024
    max_pixels: int = 40_000_000
    max_side: int = 1280
    max_queued_frames: int = 1
    max_queued_images: int = 32
    max_sessions: int = 64
    session_ttl_s: float = 1800.0
    min_confidence: float = 0.1
    min_reference_joints: float = 0.6
    default_hold_s: float = 3.0
    tolerance_deg: float = 15.0
    frame_max_side: int = 480
    model: str = ""


@dataclass
class AppState:
    """The app's state, on ``app.state.context``; routes get it with ``Depends(routes.context)``."""

    settings: AppSettings
    gate: InferenceGate
    sessions: SessionStore
    joint_set: JointSet  # of poses that do not name their joints
    clock: Callable[[], float] = field(default=time.monotonic)

    async def read_image(self, request: Any, what: str) -> np.ndarray:
        """The request's image, checked (:func:`~convnextpose.app.uploads.read_image`)."""
        return await read_image(request, what, self.settings.max_upload_bytes, self.settings.max_pixels)

    async def estimate(self, image: np.ndarray, drop_if_busy: bool) -> tuple[list[PoseView], float] | None:
        """Every person in ``image`` (run at most ``max_side`` px) and the factor back to its px; None if dropped.

        Raises:
            UploadError: 503 busy; 400 the estimator refused the image; 500 its output is not understood.
        """
        small, scale = shrink(image, self.settings.max_side)
        try:
            raw = await self.gate.run(small, drop_if_busy)
        except UploadError:  # busy: passed on as it is
            raise
        except (ImageError, ValueError) as exc:
            raise UploadError(400, f"could not process the image: {exc}") from None
        if raw is None:
            return None
        try:
            return [read_pose(p, self.joint_set) for p in raw], scale
        except (TypeError, ValueError) as exc:
            logger.exception("estimator output not understood")
            raise UploadError(500, f"estimator output not understood: {exc}") from None


def image_size(image: np.ndarray) -> list[int]:
    """[width, height] px, as the page expects."""
    return [int(image.shape[1]), int(image.shape[0])]
