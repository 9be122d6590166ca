"""The fitness web app (``convnextpose serve``): copy a trainer's pose with live 3D feedback.

Needs the ``app`` extra: ``pip install convnextpose[app]``. See docs/fitness.md. The app is built
by :func:`create_app` (:mod:`.server`) from adapters for the estimator (:mod:`.adapters`), upload
checks (:mod:`.uploads`), the inference queue (:mod:`.gate`), sessions (:mod:`.sessions`) and one
router per concern (:mod:`.routes`).
"""

from __future__ import annotations

from .adapters import estimator_from_model, read_pose, select_person
from .gate import InferenceGate
from .server import create_app
from .sessions import SessionStore

__all__ = ["InferenceGate", "SessionStore", "create_app", "estimator_from_model", "read_pose", "select_person"]
