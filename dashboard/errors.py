"""Errors as JSON that name the problem: {"error": <kind>, "detail": <message>}.

codecnas errors map to HTTP statuses here, in one place, so that routes just raise them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from codec.images import ImageSourceError
from nas.errors import (
    CodecnasError,
    DuplicateError,
    InvalidValueError,
    NotFoundError,
    SpecError,
    StateConflictError,
    StorageError,
)

_STATUS: tuple[tuple[type[Exception], int, str], ...] = (
    (NotFoundError, 404, "not_found"),
    (DuplicateError, 409, "conflict"),
    (StateConflictError, 409, "conflict"),
    (SpecError, 422, "invalid_spec"),
    (InvalidValueError, 422, "invalid_value"),
    (ImageSourceError, 404, "image_unavailable"),
    (StorageError, 503, "storage_unavailable"),
    (CodecnasError, 500, "error"),
)
_HTTP_KINDS = {401: "unauthorized", 403: "forbidden", 404: "not_found", 405: "method_not_allowed"}


def error_body(kind: str, detail: str) -> dict[str, str]:
    return {"error": kind, "detail": detail}


def _describe(error: Mapping[str, Any]) -> str:
    """'query.limit: Input should be ... (got '0')': where, what, and the value at fault."""
    where = ".".join(str(part) for part in error.get("loc", ()))
    got = f" (got {error['input']!r:.80})" if "input" in error else ""
    return f"{where}: {error.get('msg')}{got}"


def install_error_handlers(app: FastAPI) -> None:
    async def codecnas_error(_request: Request, exc: Exception) -> JSONResponse:
        for kind, status, name in _STATUS:
            if isinstance(exc, kind):
                return JSONResponse(error_body(name, str(exc)), status_code=status)
        raise exc  # pragma: no cover - registered only for the kinds above

    for kind, _, _ in _STATUS:
        app.add_exception_handler(kind, codecnas_error)

    async def http_error(_request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, HTTPException)
        kind = _HTTP_KINDS.get(exc.status_code, "http_error")
        return JSONResponse(
            error_body(kind, str(exc.detail)), status_code=exc.status_code, headers=exc.headers
        )

    async def validation_error(_request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        errors = list(exc.errors())
        body = {
            **error_body("invalid_request", "; ".join(_describe(e) for e in errors)),
            "errors": jsonable_encoder(errors, custom_encoder={bytes: repr}),
        }
        return JSONResponse(body, status_code=422)

    app.add_exception_handler(HTTPException, http_error)
    app.add_exception_handler(RequestValidationError, validation_error)
