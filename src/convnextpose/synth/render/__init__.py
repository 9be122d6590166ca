"""Rendering frames of synthetic people: one interface (:func:`render_frame`) over the rasteriser (meshes) and the
ray-caster (capsule bodies, room and furniture)."""

from .frame import Frame, RenderResult, render_frame

__all__ = ["Frame", "RenderResult", "render_frame"]
