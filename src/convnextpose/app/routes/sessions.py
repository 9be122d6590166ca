"""Sessions: create/read/delete, the trainer's reference image, the workout as JSON, live frames, reset."""

import math
from typing import Annotated, Any

import numpy as np
from fastapi import APIRouter, Request
from fastapi import Path as PathParam
from fastapi.responses import JSONResponse, Response

from ...fitness.angles import joint_angles, normalize_pose
from ...fitness.workout import Workout, WorkoutError, WorkoutStep
from ..adapters import select_person
from ..sessions import SESSION_ID_PATTERN
from ..state import image_size
from ..uploads import UploadError, content_type, read_body
from . import Context

router = APIRouter(prefix="/api/sessions")
SessionId = Annotated[str, PathParam(pattern=SESSION_ID_PATTERN)]


def number_param(request: Request, name: str, default: float, low: float, high: float) -> float:
    """Query parameter ``name`` as a finite number in [low, high] (422 otherwise), or ``default``."""
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
    """Query parameter ``name`` as true/false/1/0/yes/no (422 otherwise), or ``default``."""
    text = request.query_params.get(name)
    if text is None:
        return default
    if text.lower() not in ("true", "false", "1", "0", "yes", "no"):
        raise UploadError(422, f"query parameter {name}: expected true or false, got {text!r}")
    return text.lower() in ("true", "1", "yes")


@router.post("", status_code=201)
async def new_session(state: Context) -> dict[str, Any]:
    return state.sessions.create().state()


@router.get("/{session_id}")
async def get_session(session_id: SessionId, state: Context) -> dict[str, Any]:
    return state.sessions.get(session_id).state()


@router.delete("/{session_id}", status_code=204, response_class=Response, response_model=None)
async def delete_session(session_id: SessionId, state: Context) -> Response:
    state.sessions.delete(session_id)
    return Response(status_code=204)


@router.post("/{session_id}/reference")
async def reference(request: Request, session_id: SessionId, state: Context) -> dict[str, Any]:
    settings = state.settings
    session = state.sessions.get(session_id)
    hold_s = number_param(request, "hold_s", settings.default_hold_s, 0.0, 600.0)
    tolerance = number_param(request, "tolerance_deg", settings.tolerance_deg, 1.0, 90.0)
    append = bool_param(request, "append", False)
    align_yaw = bool_param(request, "align_yaw", True)
    allow_mirror = bool_param(request, "allow_mirror", False)
    image = await state.read_image(request, "trainer image")
    result = await state.estimate(image, drop_if_busy=False)
    assert result is not None  # only frames are dropped
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
    steps = session.workout.steps + [step] if append and session.workout is not None else [step]
    try:
        workout = Workout(steps, name="trainer", joint_set=person.joint_set.name)
    except WorkoutError:
        raise UploadError(
            422, "the trainer's pose is unclear: no limb could be measured; use a photo showing the whole body"
        ) from None
    session.start(workout, settings.min_confidence)
    angles = joint_angles(normalize_pose(person.joints_rel, person.joint_set), person.joint_set)
    return {
        "session": session.state(),
        "image_size": image_size(image),
        "pose": person.to_dict(scale),
        "joint_set": person.joint_set.name,
        "angles": {k: None if not math.isfinite(v) else round(v, 1) for k, v in angles.items()},
    }


@router.get("/{session_id}/workout")
async def get_workout(session_id: SessionId, state: Context) -> Response:
    session = state.sessions.get(session_id)
    if session.workout is None:
        raise UploadError(409, "this session has no workout yet: upload a trainer image or a workout first")
    return Response(
        session.workout.to_json(),
        media_type="application/json",
        headers={"Content-Disposition": 'attachment; filename="workout.json"'},
    )


@router.put("/{session_id}/workout")
async def put_workout(request: Request, session_id: SessionId, state: Context) -> dict[str, Any]:
    session = state.sessions.get(session_id)
    if content_type(request) != "application/json":
        raise UploadError(415, "send the workout as JSON (Content-Type application/json)")
    body = await read_body(request, state.settings.max_upload_bytes)
    try:
        workout = Workout.from_json(body)
    except WorkoutError as exc:
        raise UploadError(422, f"invalid workout: {exc}") from None
    session.start(workout, state.settings.min_confidence)
    return session.state()


@router.post("/{session_id}/reset")
async def reset(session_id: SessionId, state: Context) -> dict[str, Any]:
    session = state.sessions.get(session_id)
    if session.runner is not None:
        session.runner.reset()
    return session.state()


@router.post("/{session_id}/frame")
async def frame(request: Request, session_id: SessionId, state: Context) -> Response:
    session = state.sessions.get(session_id)
    if session.runner is None:
        raise UploadError(409, "no reference pose yet: upload a trainer image first")
    image = await state.read_image(request, "frame")
    result = await state.estimate(image, drop_if_busy=True)
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
    update = runner.update(state.clock(), live, None if person is None else person.confidence)
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
