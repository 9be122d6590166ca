"""The fitness web app (``convnextpose serve``): copy a trainer's pose with live 3D feedback.

Needs the ``app`` extra: ``pip install convnextpose[app]``. See docs/fitness.md.
"""

from __future__ import annotations

from .server import InferenceGate, SessionStore, create_app, estimator_from_model, read_pose, select_person

__all__ = ["InferenceGate", "SessionStore", "create_app", "estimator_from_model", "read_pose", "select_person"]
