"""The page (``GET /``; its files are mounted under ``/static`` by create_app), its settings and health."""

from pathlib import Path
from typing import Any

from fastapi import APIRouter
from fastapi.responses import FileResponse

from ...fitness.angles import LIMBS
from . import Context

STATIC_DIR = Path(__file__).resolve().parents[1] / "static"

router = APIRouter()


@router.get("/", include_in_schema=False)
async def index() -> FileResponse:
    return FileResponse(STATIC_DIR / "index.html", media_type="text/html")


@router.get("/api/config")
async def config(state: Context) -> dict[str, Any]:
    joint_set, settings = state.joint_set, state.settings
    return {
        "joint_set": joint_set.name,
        "joint_names": list(joint_set.names),
        "skeleton": [list(b) for b in joint_set.skeleton],
        "sides": [joint_set.side(n) for n in joint_set.names],
        "root": joint_set.root_index,
        "limbs": {name: [joint_set.index(a), joint_set.index(b)] for name, (a, b) in LIMBS.items()},
        "max_upload_bytes": settings.max_upload_bytes,
        "max_pixels": settings.max_pixels,
        "frame_max_side": settings.frame_max_side,
        "default_hold_s": settings.default_hold_s,
        "tolerance_deg": settings.tolerance_deg,
        "model": settings.model,
    }


@router.get("/api/health")
async def health(state: Context) -> dict[str, Any]:
    gate = state.gate
    return {
        "status": "ok",
        "sessions": len(state.sessions),
        "in_flight": gate.in_flight,
        "processed": gate.processed,
        "dropped": gate.dropped,
        "refused": gate.refused,
    }
