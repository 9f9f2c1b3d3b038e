"""Who is calling: tokens from the Authorization header (or, for reads only, a cookie).

Writes take the token from the ``Authorization: Bearer`` header only: a browser sends cookies
with cross-site form posts, headers it does not, so a cookie can never change anything (no CSRF).
The cookie exists so that a person can browse a read-protected dashboard after logging in once.
Missing or unknown token: 401. Known token without the needed role: 403.
"""

from __future__ import annotations

from collections.abc import Callable

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from dashboard.deps import app_settings, app_store
from nas.storage import CampaignStore
from nas.storage.access import Role, TokenRecord

COOKIE_NAME = "codecnas_token"
_bearer = HTTPBearer(auto_error=False, description="a token from `codecnas token create`")
_CHALLENGE = {"WWW-Authenticate": "Bearer"}


def _unknown() -> HTTPException:
    return HTTPException(401, "token not recognised (unknown or revoked)", headers=_CHALLENGE)


def header_token(
    credentials: HTTPAuthorizationCredentials | None = Depends(_bearer),
    store: CampaignStore = Depends(app_store),
) -> TokenRecord | None:
    """The token of the Authorization header; None without one; 401 for an unknown one."""
    if credentials is None:
        return None
    record = store.authenticate(credentials.credentials)
    if record is None:
        raise _unknown()
    return record


def reader(
    request: Request,
    token: TokenRecord | None = Depends(header_token),
    store: CampaignStore = Depends(app_store),
) -> TokenRecord | None:
    """Reads: open, or any valid token when the setting asks for one (header or cookie)."""
    if token is None and COOKIE_NAME in request.cookies:
        token = store.authenticate(request.cookies[COOKIE_NAME])
    if token is None and app_settings(request).read_requires_token:
        raise HTTPException(401, "reading needs a token on this server", headers=_CHALLENGE)
    return token


def require(*roles: Role) -> Callable[..., TokenRecord]:
    """A dependency that admits only header tokens with one of ``roles``."""
    names = " or ".join(r.value for r in roles)

    def check(token: TokenRecord | None = Depends(header_token)) -> TokenRecord:
        if token is None:
            raise HTTPException(
                401, f"this needs a token with role {names} (Authorization: Bearer)", _CHALLENGE
            )
        if token.role not in roles:
            raise HTTPException(
                403, f"token {token.name!r} has role {token.role.value}; this needs {names}"
            )
        return token

    return check


admin = require(Role.ADMIN)
rater = require(Role.ADMIN, Role.VIEWER)
