"""``POST /api/pose``: one image -> every person's pose, no session (queued under load, see app.gate)."""

from typing import Any

from fastapi import APIRouter, Request

from ..state import image_size
from . import Context

router = APIRouter()


@router.post("/api/pose")
async def pose(request: Request, state: Context) -> dict[str, Any]:
    image = await state.read_image(request, "image")
    result = await state.estimate(image, drop_if_busy=False)
    assert result is not None  # only frames are dropped
    people, scale = result
    return {"image_size": image_size(image), "people": [p.to_dict(scale) for p in people]}
