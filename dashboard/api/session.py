"""Who am I, and a login cookie for browsing a read-protected dashboard."""

from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException, Request, Response
from pydantic import BaseModel

from dashboard.auth import COOKIE_NAME, header_token, reader
from dashboard.deps import app_settings
from dashboard.schemas.common import ERROR_RESPONSES
from nas.storage.access import Role, TokenRecord

router = APIRouter(prefix="/api/session", tags=["session"], responses=ERROR_RESPONSES)


class SessionOut(BaseModel):
    authenticated: bool
    name: str | None
    role: Role | None
    read_requires_token: bool


def _session(request: Request, token: TokenRecord | None) -> SessionOut:
    return SessionOut(
        authenticated=token is not None,
        name=None if token is None else token.name,
        role=None if token is None else token.role,
        read_requires_token=app_settings(request).read_requires_token,
    )


@router.get("", response_model=SessionOut)
def whoami(request: Request, token: TokenRecord | None = Depends(reader)) -> SessionOut:
    return _session(request, token)


@router.post("", response_model=SessionOut)
def log_in(
    request: Request, response: Response, token: TokenRecord | None = Depends(header_token)
) -> SessionOut:
    """Check the header's token and keep it in an HttpOnly cookie, for page reads only."""
    if token is None:
        raise HTTPException(401, "log in with a token in the Authorization: Bearer header")
    secret = request.headers["authorization"].split(" ", 1)[1].strip()
    response.set_cookie(COOKIE_NAME, secret, httponly=True, samesite="strict", path="/")
    return _session(request, token)


@router.delete("", response_model=SessionOut)
def log_out(request: Request, response: Response) -> SessionOut:
    response.delete_cookie(COOKIE_NAME, path="/")
    return _session(request, None)
