"""The app's HTTP routes, one ``APIRouter`` per concern: the page and its data, single images, sessions.

These modules import FastAPI at the top: only :func:`~convnextpose.app.create_app` imports them.
"""

from typing import Annotated

from fastapi import Depends, Request

from ..state import AppState


def context(request: Request) -> AppState:
    """FastAPI dependency: the app's :class:`~convnextpose.app.state.AppState`."""
    return request.app.state.context


#: A route parameter ``state: Context`` receives the app's state.
Context = Annotated[AppState, Depends(context)]
